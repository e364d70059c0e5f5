// Block translation: decode guest code from the current RIP and lower each instruction through its semantics,
// until a control transfer, a serialising instruction, a page boundary or the size limit.
import { decode, newInstruction } from '../../decoder/decode.ts';
import { Attr, Invalid } from '../../decoder/types.ts';
import type { Program } from '../ir/builder.ts';
import { GuestFault, Vec } from '../fault.ts';
import { codeBits } from '../mode.ts';
import { Translator } from './translator.ts';
import { SEMANTICS } from './registry.ts';
import { carryHi } from '../words.ts';
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
const SUPER_REACH = 256;

// What fetchWindow fetched into `window`: the physical page of its first byte, how many bytes are from that page,
// and, for 16 bytes that reach the next page, that page (-1: none) or the fault its fetch raised.
let winPage0 = 0;
let winPage1 = -1;
let winInFirst = 0;
let winFault: GuestFault | undefined;

/**
 * Translates the block at `lin`/`rip`. With `superblocks` (the default), forward conditional branches within reach
 * do not end it (Translator.superEnd); without, a block is straight-line code, as traces that list a block's
 * instructions in address order expect.
 *
 * Addresses inside the block are offsets from its first instruction (numbers: see Translator): the block stays on
 * its first page (plus one straddling instruction) and does not go past the wrap-around of IP/EIP/RIP, so offset
 * `off` is at linear address lin + off and at RIP rip + off.
 */
export function translateBlock(
  h: BlockHost, lin: bigint, rip: bigint, mode: number, maxInsns = MAX_BLOCK_INSNS, superblocks = true,
): TranslatedBlock {
  const t = new Translator(mode, Number(rip & 0xffffffffn) | 0, Number((rip >> 32n) & 0xffffffffn) | 0);
  const bits = codeBits(mode);
  const linLo = Number(lin & 0xffffffffn) | 0;
  const linHi = Number((lin >> 32n) & 0xffffffffn) | 0;
  const pages: number[] = [];
  // forward branch targets must stay on the block's first page
  const pageEnd = maxInsns > 1 && superblocks ? 4096 - (linLo & 0xfff) : 0;
  const ipLimit = t.ipLimit;
  let n = 0;
  const spans: number[] = [];
  let off = 0; // of the next instruction
  let firstPage = -1;
  let winOff = -1; // where the window was fetched; -1: none, or it holds bytes of two pages
  while (n < maxInsns) {
    if (t.pending.length) t.mergeAt(off);
    // the next instruction from the window if at least 16 bytes of it are still ahead, else a new window
    let at = -1;
    if (winOff >= 0 && off >= winOff) {
      at = off - winOff;
      if (at + 16 > winInFirst) at = -1;
    }
    if (at < 0) {
      // the linear address: lin + off (wrapping at 2^32 outside 64-bit code)
      const lo = (linLo + off) | 0;
      const hi = bits === 64 ? carryHi(linLo, linHi, off) : 0; // (linHi is 0 below 64-bit code)
      if (!fetchWindow(h, lo, hi, n === 0)) break; // the next instruction's fetch would fault: it starts a block of its own
      winOff = winPage1 < 0 && !winFault ? off : -1;
      at = 0;
    }
    const inFirstPage = winInFirst - at;
    decode(window, at, bits, insn);
    if (insn.invalid === Invalid.Truncated) break; // bytes beyond the window (cannot happen with 16 bytes)
    const page0 = winPage0;
    if (firstPage < 0) firstPage = page0;
    else if (page0 !== firstPage) break; // keep blocks within one page (plus a straddling instruction)
    const straddles = insn.length > inFirstPage;
    if (straddles && winPage1 < 0) {
      // The instruction continues on the next page, which could not be fetched.
      if (n > 0) break;
      throw winFault ?? new GuestFault(Vec.PF, 0);
    }
    // Past a pending forward branch only the base integer ISA: x87/MMX/SSE translation keeps per-block state
    // (fpu-guard.ts) that holds only for code every path goes through.
    if (t.pending.length && (insn.feature !== '' || (insn.map === 0 && ((insn.opcode & 0xf8) === 0xd8 || insn.opcode === 0x9b)))) {
      break;
    }
    if (!pages.includes(page0)) pages.push(page0);
    if (straddles && !pages.includes(winPage1)) pages.push(winPage1);
    const start = page0 * 4096 + ((linLo + off) & 0xfff);
    const end = start + Math.min(insn.length, inFirstPage);
    if (!spans.length) spans.push(start, end);
    else {
      if (start < spans[0]!) spans[0] = start;
      if (end > spans[1]!) spans[1] = end;
    }
    if (straddles) {
      const p1 = winPage1 * 4096;
      spans.push(p1, p1 + insn.length - inFirstPage);
    }
    t.begin(insn, off);
    const next = t.nextOff;
    // (an instruction after which the IP wraps around ends the block: the code there is elsewhere)
    t.superEnd = next >= ipLimit ? 0 : Math.min(next + SUPER_REACH, pageEnd, ipLimit);
    if (insn.invalid !== Invalid.None) {
      t.fault(insn.invalid === Invalid.TooLong ? Vec.GP : Vec.UD, insn.invalid === Invalid.TooLong ? 0 : -1);
    } else {
      const fn = SEMANTICS.get(insn.mnemonic);
      if (fn) fn(t);
      else {
        h.onUnimplemented?.(insn.mnemonic, t.rip);
        t.fault(Vec.UD);
      }
    }
    n++;
    if (!t.ended && insn.attrs & Attr.SERIAL) t.endBlock();
    if (t.ended) {
      // This path ends; translation goes on at the nearest target of a pending forward branch, if any.
      let to = -1;
      for (const p of t.pending) if (p.off >= next && (to < 0 || p.off < to)) to = p.off;
      if (to < 0) break;
      off = to;
      continue;
    }
    off = next;
    if (next >= ipLimit) break;
  }
  if (!t.ended) t.exitAt(off);
  t.exitPending();
  return { prog: t.finish(), pages, spans, insns: n };
}

/**
 * Copies code bytes at linear hi:lo into `window`: up to WINDOW bytes of RAM on its page, else (MMIO, or less
 * than 16 bytes left on the page) 16 bytes, translating the second page only if they reach it. Returns false if
 * the first page faults and this is not the block's first instruction.
 */
function fetchWindow(h: BlockHost, lo: number, hi: number, first: boolean): boolean {
  let p0: number;
  try {
    p0 = h.fetchPhys(lo, hi);
  } catch (e) {
    if (first || !(e instanceof GuestFault)) throw e;
    return false;
  }
  const inPage = 4096 - (lo & 0xfff);
  const n0 = Math.min(inPage >= 16 && p0 + WINDOW <= h.ramSize ? WINDOW : 16, inPage);
  copyPhys(h, p0, 0, n0);
  winPage0 = Math.floor(p0 / 4096);
  winPage1 = -1;
  winInFirst = n0;
  winFault = undefined;
  if (n0 < 16) {
    // the next page, at lin + inPage
    try {
      const p1 = h.fetchPhys((lo + inPage) | 0, carryHi(lo, hi, inPage));
      copyPhys(h, p1, n0, 16 - n0);
      winPage1 = Math.floor(p1 / 4096);
    } catch (e) {
      if (!(e instanceof GuestFault)) throw e;
      winFault = e;
      window.fill(0, n0);
    }
  }
  return true;
}

function copyPhys(h: BlockHost, phys: number, at: number, n: number): void {
  if (phys + n <= h.ramSize) {
    const u8 = h.u8;
    for (let i = 0; i < n; i++) window[at + i] = u8[phys + i]!;
  } else for (let i = 0; i < n; i++) window[at + i] = h.mmioRead(phys + i, 1) & 0xff;
}
