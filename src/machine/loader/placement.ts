// Bookkeeping of what a loader puts where in guest RAM: every range is claimed once, so a kernel that would land on
// the page tables or a module that would not fit gives a LoaderError naming both, instead of silent corruption.

import type { GuestMemory } from '../memory.js';
import { LoaderError } from './error.js';

export interface Region {
  start: number;
  /** Exclusive. */
  end: number;
  what: string;
  /** Claims of one group (the kernel's own segments) may overlap each other. */
  group?: string;
}

const hex = (v: number | bigint): string => '0x' + v.toString(16);
const alignUp = (v: number, a: number): number => Math.ceil(v / a) * a;

export class Placement {
  readonly regions: Region[] = [];

  constructor(readonly mem: GuestMemory) {}

  /** Claims [start, start+size) for `what`; throws if it leaves RAM or overlaps an earlier claim. */
  claim(start: number | bigint, size: number, what: string, group?: string): number {
    const ram = this.mem.ramSize;
    const last = BigInt(start) + BigInt(size) - 1n;
    if (last >= BigInt(ram)) {
      throw new LoaderError(`${what} at ${hex(start)}-${hex(last)} does not fit in guest RAM (${hex(ram)} bytes)`);
    }
    const s = Number(start);
    const other = this.overlap(s, size, group);
    if (other) {
      const where = `${hex(other.start)}-${hex(other.end - 1)}`;
      throw new LoaderError(`${what} at ${hex(s)}-${hex(last)} overlaps ${other.what} at ${where}`);
    }
    this.regions.push({ start: s, end: s + size, what, group });
    return s;
  }

  private overlap(start: number, size: number, group?: string): Region | undefined {
    if (size === 0) return undefined;
    const end = start + size;
    return this.regions.find((r) => start < r.end && r.start < end && (group === undefined || r.group !== group));
  }

  /** Claims the lowest `align`-aligned free range of `size` bytes inside [lo, hi). */
  alloc(size: number, align: number, lo: number, hi: number, what: string): number {
    let at = alignUp(lo, align);
    for (;;) {
      if (at + size > hi) {
        throw new LoaderError(`no room for ${what} (${size} bytes) between ${hex(lo)} and ${hex(hi)} in guest RAM`);
      }
      const other = this.overlap(at, size);
      if (!other) return this.claim(at, size, what);
      at = alignUp(other.end, align);
    }
  }

  /** Allocates and writes bytes. */
  put(data: Uint8Array, align: number, lo: number, hi: number, what: string): number {
    const at = this.alloc(data.length, align, lo, hi, what);
    this.mem.write(at, data);
    return at;
  }

  /** Allocates and writes a NUL-terminated UTF-8 string. */
  putString(text: string, lo: number, hi: number, what: string): number {
    const enc = new TextEncoder().encode(text);
    const buf = new Uint8Array(enc.length + 1);
    buf.set(enc);
    return this.put(buf, 1, lo, hi, what);
  }

  /** Allocates a zeroed block. */
  zeroed(size: number, align: number, lo: number, hi: number, what: string): number {
    const at = this.alloc(size, align, lo, hi, what);
    this.mem.fill(at, size);
    return at;
  }

  /** End of the highest claim (0 when nothing is claimed). */
  get top(): number {
    return this.regions.reduce((m, r) => Math.max(m, r.end), 0);
  }
}
