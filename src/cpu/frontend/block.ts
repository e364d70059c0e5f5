// Block translation: decode guest code from the current RIP and lower each instruction through its semantics,
// until a control transfer, a serialising instruction, a page boundary or the size limit.
import { decode, newInstruction } from '../../decoder/decode.ts';
import { Attr, Invalid } from '../../decoder/types.ts';
import type { Program } from '../ir/builder.ts';
import { GuestFault, Vec } from '../fault.ts';
import { codeBits } from '../mode.ts';
import { Translator } from './translator.ts';
import { SEMANTICS } from './registry.ts';
import './semantics.ts';

/** Longest block, in instructions. */
export const MAX_BLOCK_INSNS = 64;

export interface BlockHost {
  u8: Uint8Array;
  ramSize: number;
  /** Linear code address -> physical (faults like an instruction fetch). */
  fetchPhys(lo: number, hi: number): number;
  /** Reads a physical byte outside RAM (code in ROM/MMIO is unusual but legal). */
  mmioRead(addr: number, size: number): number;
  onUnimplemented?: (mnemonic: string, rip: bigint) => void;
}

export interface TranslatedBlock {
  prog: Program;
  /** Physical 4 KiB pages the block's code bytes came from. */
  pages: number[];
  insns: number;
}

const window = new Uint8Array(16);
const insn = newInstruction();

export function translateBlock(h: BlockHost, lin: bigint, rip: bigint, mode: number, maxInsns = MAX_BLOCK_INSNS): TranslatedBlock {
  const t = new Translator(mode);
  const bits = codeBits(mode);
  const pages = new Set<number>();
  const wrapLin = (v: bigint) => (bits === 64 ? BigInt.asUintN(64, v) : BigInt.asUintN(32, v));
  let n = 0;
  let curLin = lin;
  let curRip = rip;
  let firstPage = -1;
  for (; n < maxInsns; n++) {
    const fetched = fetchWindow(h, curLin, n === 0);
    if (!fetched) break; // the next instruction's fetch would fault: it starts a block of its own
    decode(window, 0, bits, insn);
    if (insn.invalid === Invalid.Truncated) break; // bytes beyond the window (cannot happen with 16 bytes)
    const page0 = fetched.pages[0]!;
    if (firstPage < 0) firstPage = page0;
    else if (page0 !== firstPage) break; // keep blocks within one page (plus a straddling instruction)
    if (insn.length > fetched.bytesInFirstPage && fetched.pages.length < 2) {
      // The instruction continues on the next page, which could not be fetched.
      if (n > 0) break;
      throw fetched.secondFault ?? new GuestFault(Vec.PF, 0);
    }
    pages.add(page0);
    if (insn.length > fetched.bytesInFirstPage) pages.add(fetched.pages[1]!);
    t.begin(insn, curRip);
    if (insn.invalid !== Invalid.None) {
      t.fault(insn.invalid === Invalid.TooLong ? Vec.GP : Vec.UD, insn.invalid === Invalid.TooLong ? 0 : -1);
    } else {
      const fn = SEMANTICS.get(insn.mnemonic);
      if (fn) fn(t);
      else {
        h.onUnimplemented?.(insn.mnemonic, curRip);
        t.fault(Vec.UD);
      }
    }
    if (t.ended) {
      n++;
      break;
    }
    curRip = t.next;
    curLin = wrapLin(curLin + BigInt(insn.length));
    if (insn.attrs & Attr.SERIAL) {
      t.endBlock();
      n++;
      break;
    }
  }
  if (!t.ended) t.exitTo(curRip);
  return { prog: t.finish(), pages: [...pages], insns: n };
}

interface Fetched {
  pages: number[];
  bytesInFirstPage: number;
  secondFault?: GuestFault;
}

/**
 * Copies up to 16 code bytes at linear `lin` into `window`, translating the second page only if the window
 * reaches it. Returns null if the first page faults and this is not the block's first instruction.
 */
function fetchWindow(h: BlockHost, lin: bigint, first: boolean): Fetched | null {
  const lo = Number(lin & 0xffffffffn) | 0;
  const hi = Number(lin >> 32n) | 0;
  let p0: number;
  try {
    p0 = h.fetchPhys(lo, hi);
  } catch (e) {
    if (first || !(e instanceof GuestFault)) throw e;
    return null;
  }
  const inPage = 4096 - (lo & 0xfff);
  const n0 = Math.min(16, inPage);
  copyPhys(h, p0, 0, n0);
  const out: Fetched = { pages: [Math.floor(p0 / 4096)], bytesInFirstPage: n0 };
  if (n0 < 16) {
    const next = lin + BigInt(inPage);
    try {
      const p1 = h.fetchPhys(Number(next & 0xffffffffn) | 0, Number((next >> 32n) & 0xffffffffn) | 0);
      copyPhys(h, p1, n0, 16 - n0);
      out.pages.push(Math.floor(p1 / 4096));
    } catch (e) {
      if (!(e instanceof GuestFault)) throw e;
      out.secondFault = e;
      window.fill(0, n0);
    }
  }
  return out;
}

function copyPhys(h: BlockHost, phys: number, at: number, n: number): void {
  if (phys + n <= h.ramSize) window.set(h.u8.subarray(phys, phys + n), at);
  else for (let i = 0; i < n; i++) window[at + i] = h.mmioRead(phys + i, 1) & 0xff;
}
