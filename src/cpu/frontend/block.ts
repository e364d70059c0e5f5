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
  /**
   * The physical bytes it was translated from, as [start, end) pairs: one per page of `pages` (on the first page
   * the span from its first to its last decoded byte; a superblock's skipped bytes are inside it).
   */
  spans: number[];
  insns: number;
}

/** Code bytes: up to WINDOW from RAM in one page (instructions are decoded from it while 16 bytes are ahead). */
const WINDOW = 64;
const window = new Uint8Array(WINDOW);
const insn = newInstruction();

/** Superblocks: a forward conditional branch at most this many bytes ahead continues the block (Translator.superEnd). */
const SUPER_REACH = 256n;

/**
 * Translates the block at `lin`/`rip`. With `superblocks` (the default), forward conditional branches within reach
 * do not end it (Translator.superEnd); without, a block is straight-line code, as traces that list a block's
 * instructions in address order expect.
 */
export function translateBlock(
  h: BlockHost, lin: bigint, rip: bigint, mode: number, maxInsns = MAX_BLOCK_INSNS, superblocks = true,
): TranslatedBlock {
  const t = new Translator(mode);
  const bits = codeBits(mode);
  const pages: number[] = [];
  // forward branch targets must stay on the block's first page
  const pageEnd = maxInsns > 1 && superblocks ? rip + BigInt(4096 - Number(lin & 0xfffn)) : 0n;
  let n = 0;
  const spans: number[] = [];
  let curLin = lin;
  let curRip = rip;
  let firstPage = -1;
  let fetched: Fetched | null = null; // the window, fetched at winLin
  let winLin = 0n;
  while (n < maxInsns) {
    t.mergeAt(curRip);
    // the next instruction from the window if at least 16 bytes of it are still ahead, else a new window
    let at = -1;
    if (fetched && curLin >= winLin && fetched.pages.length === 1) {
      at = Number(curLin - winLin);
      if (at + 16 > fetched.bytesInFirstPage) at = -1;
    }
    if (at < 0) {
      const f = fetchWindow(h, curLin, n === 0);
      if (!f) break; // the next instruction's fetch would fault: it starts a block of its own
      fetched = f;
      winLin = curLin;
      at = 0;
    }
    if (!fetched) break;
    const inFirstPage = fetched.bytesInFirstPage - at;
    decode(window, at, bits, insn);
    if (insn.invalid === Invalid.Truncated) break; // bytes beyond the window (cannot happen with 16 bytes)
    const page0 = fetched.pages[0]!;
    if (firstPage < 0) firstPage = page0;
    else if (page0 !== firstPage) break; // keep blocks within one page (plus a straddling instruction)
    if (insn.length > inFirstPage && fetched.pages.length < 2) {
      // The instruction continues on the next page, which could not be fetched.
      if (n > 0) break;
      throw fetched.secondFault ?? new GuestFault(Vec.PF, 0);
    }
    // Past a pending forward branch only the base integer ISA: x87/MMX/SSE translation keeps per-block state
    // (fpu-guard.ts) that holds only for code every path goes through.
    if (t.pending.length && (insn.feature !== '' || (insn.map === 0 && ((insn.opcode & 0xf8) === 0xd8 || insn.opcode === 0x9b)))) {
      break;
    }
    if (!pages.includes(page0)) pages.push(page0);
    if (insn.length > inFirstPage && !pages.includes(fetched.pages[1]!)) pages.push(fetched.pages[1]!);
    const start = page0 * 4096 + Number(curLin & 0xfffn);
    const end = start + Math.min(insn.length, inFirstPage);
    if (!spans.length) spans.push(start, end);
    else {
      if (start < spans[0]!) spans[0] = start;
      if (end > spans[1]!) spans[1] = end;
    }
    if (insn.length > inFirstPage) {
      const p1 = fetched.pages[1]! * 4096;
      spans.push(p1, p1 + insn.length - inFirstPage);
    }
    t.begin(insn, curRip);
    const reach = t.next + SUPER_REACH;
    t.superEnd = reach < pageEnd ? reach : pageEnd;
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
    n++;
    if (!t.ended && insn.attrs & Attr.SERIAL) t.endBlock();
    if (t.ended) {
      // This path ends; translation goes on at the nearest target of a pending forward branch, if any.
      let to = -1n;
      for (const p of t.pending) if (p.addr >= t.next && (to < 0n || p.addr < to)) to = p.addr;
      if (to < 0n) break;
      curLin = BigInt.asUintN(bits === 64 ? 64 : 32, curLin + (to - curRip));
      curRip = to;
      continue;
    }
    curRip = t.next;
    curLin = BigInt.asUintN(bits === 64 ? 64 : 32, curLin + BigInt(insn.length));
  }
  if (!t.ended) t.exitTo(curRip);
  t.exitPending();
  return { prog: t.finish(), pages, spans, insns: n };
}

interface Fetched {
  pages: number[];
  bytesInFirstPage: number;
  secondFault?: GuestFault;
}

/**
 * Copies code bytes at linear `lin` into `window`: up to WINDOW bytes of RAM on its page, else (MMIO, or less
 * than 16 bytes left on the page) 16 bytes, translating the second page only if they reach it. Returns null if
 * the first page faults and this is not the block's first instruction.
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
  const n0 = Math.min(inPage >= 16 && p0 + WINDOW <= h.ramSize ? WINDOW : 16, inPage);
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
  if (phys + n <= h.ramSize) {
    const u8 = h.u8;
    for (let i = 0; i < n; i++) window[at + i] = u8[phys + i]!;
  } else for (let i = 0; i < n; i++) window[at + i] = h.mmioRead(phys + i, 1) & 0xff;
}
