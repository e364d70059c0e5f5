// The software CPU: architectural state in the shared WebAssembly.Memory, the memory path (segmentation, paging,
// TLB), the translation cache and the run loop. What instructions do is defined once, in the front end's IR.
import type { GuestMemory } from '../machine/memory.ts';
import type { IrHost } from './ir/interp.ts';
import { interpret } from './ir/interp.ts';
import type { Program } from './ir/builder.ts';
import * as L from './layout.ts';
import { fpuStateFromImage, fpuStateToImage } from './fpu-state.ts';
import { fxrstorImage, fxsaveImage } from './fpu/image.ts';
import { Access, Mmu, TLB_SIZE, type MmuHost } from './mmu.ts';
import { GuestFault } from './fault.ts';
import { MODE_KEYS, ModeBits, makeMode } from './mode.ts';
import { ATTR_DB, ATTR_L, packAttr, unpackAttr } from './segattr.ts';
import { GPR_NAMES, type CpuState, type SegmentState } from './state.ts';
import { MAX_BLOCK_INSNS, translateBlock } from './frontend/block.ts';
import { H_CC_FLAGS } from './frontend/cc-helper.ts';
import { HELPERS } from './ir/helpers.ts';
import { deliverException, deliverInterrupt } from './system/deliver.ts';
import { MSR_TSC, readTsc, writeTsc } from './system/msr.ts';
import { fpuReset } from './fpu/regs.ts';
import { carryHi, u64 } from './words.ts';

/** Whether physical [start, end) pairs `spans` meet [addr, end). */
function overlaps(spans: number[], addr: number, end: number): boolean {
  for (let i = 0; i < spans.length; i += 2) if (spans[i]! < end && addr < spans[i + 1]!) return true;
  return false;
}

/** Slots of the table of recently found blocks in front of the translation cache (Cpu.recent). */
const RECENT_SIZE = 4096;
const recentSlot = (phys: number, mode: number): number => (phys ^ (phys >>> 12) ^ mode) & (RECENT_SIZE - 1);

/** Thrown through a running block when it writes to its own code (see Cpu.codeWritten). */
const SMC_RESTART = { smcRestart: true };

/**
 * The JIT's jump cache after the TLB (src/jit/jump-cache.ts): per entry the RIP (8 bytes) and mode word (4) of the
 * compiled block its table slot holds.
 */
export const JUMP_CACHE_OFFSET = L.STATE_SIZE + TLB_SIZE;
export const JUMP_CACHE_ENTRIES = 4096;
export const JUMP_CACHE_ENTRY = 16;

/** Bytes the CPU needs after guest RAM in the memory (state block, TLB, jump cache). */
export const CPU_EXTRA_BYTES = JUMP_CACHE_OFFSET + JUMP_CACHE_ENTRIES * JUMP_CACHE_ENTRY;

/** What the board gives the CPU: port I/O and physical MMIO. */
export interface CpuBus {
  ioRead(port: number, size: number): number;
  ioWrite(port: number, size: number, value: number): void;
  mmioRead(addr: number, size: number): number;
  mmioWrite(addr: number, size: number, value: number): void;
}

export enum Stop {
  /** The instruction budget ran out. */
  Budget = 'budget',
  /** HLT with interrupts disabled (nothing can wake the CPU). */
  Halt = 'halt',
  /** HLT waiting for an interrupt. */
  Idle = 'idle',
  /** Triple fault. */
  Shutdown = 'shutdown',
  /** Something outside asked the CPU to stop (requestStop). */
  Requested = 'requested',
}

export interface Block {
  prog: Program;
  /** Cache key: physical address * MODE_KEYS + mode word. */
  key: number;
  /** The mode word it was translated for. */
  mode: number;
  /** Another block translated from the same physical address in another mode (the cache's chain). */
  sameAddr?: Block;
  /** Physical pages the block's code came from. */
  pages: number[];
  /** Its code bytes, as physical [start, end) pairs (TranslatedBlock.spans). */
  spans: number[];
  /** Times the block ran in the interpreter (the JIT's hotness counter). */
  hits: number;
  /** The block compiled by the JIT: runs it to its exit like interpret() does. */
  compiled?: () => void;
  /** The RIP it was translated for (the same physical code can be reached at other RIPs: aliases, CS bases). */
  rip: bigint;
  /** The same RIP as two int32 halves, for the lookup fast path. */
  ripLo: number;
  ripHi: number;
  /** Instructions in the block. */
  insns: number;
  /** For a block whose last instruction continues on the next linear page: that page and where it mapped. */
  lin2?: bigint;
  phys2?: number;
}

/**
 * A block with every field present from the start: blocks then share one hidden class, and the run loop's
 * property accesses stay monomorphic (adding `compiled` or `lin2` later gave them several; V8 deoptimised it).
 */
function newBlock(
  prog: Program, key: number, mode: number, pages: number[], spans: number[], rip: bigint, ripLo: number, ripHi: number,
  insns: number,
): Block {
  return {
    prog, key, mode, sameAddr: undefined, pages, spans, hits: 0, compiled: undefined, rip, ripLo, ripHi, insns,
    lin2: undefined, phys2: undefined,
  };
}

/** A compiler tier plugged into the run loop (src/jit). */
export interface BlockCompiler {
  /** Interpreter runs of a block before it is compiled (0: compile before the first run). */
  threshold: number;
  compile(cpu: Cpu, block: Block): (() => void) | undefined;
  /**
   * While compiled code runs (possibly a chain of blocks): the block that called out and the index of its
   * instruction doing so, for the self-modifying-code check; undefined otherwise.
   */
  locate?(): { block: Block; index: number } | undefined;
  /** A block was dropped (code written, cache flushed): forget anything compiled from it. */
  dropped(block: Block): void;
}

const SEG_ORDER = ['es', 'cs', 'ss', 'ds', 'fs', 'gs', 'ldtr', 'tr'] as const;

export class Cpu implements IrHost, MmuHost {
  u8!: Uint8Array;
  u16!: Uint16Array;
  i32!: Int32Array;
  dv!: DataView;
  readonly stateBase: number;
  readonly ramSize: number;
  readonly mmu: Mmu;
  icount = 0;
  /** The icount at which the current run() stops (compiled code chains blocks only below it). */
  runEnd = 0;
  hi64 = 0;
  /** Set by requestStop(): the run loop returns at the next block boundary. */
  private stopRequested = false;
  /** A triple fault happened. */
  shutdown = false;
  /** Pending external interrupt vector (from the interrupt controller), or -1. Taken when EFLAGS.IF allows. */
  pendingIrq = -1;
  /** The interrupt controller's acknowledge cycle (INTA): the vector to deliver now (-1: it went away). */
  irqAck?: () => number;
  /** Called when the CPU accepts an external interrupt, with its vector. */
  onIrqAck?: (vector: number) => void;
  /** A non-maskable interrupt is pending; NMIs are blocked from delivery until the next IRET. */
  nmiPending = false;
  nmiBlocked = false;
  /** STI (setting IF) or MOV/POP SS ran: no interrupt before the next instruction. */
  irqShadow = false;
  /** MSRs without a home in the state block. */
  readonly msrs = new Map<number, bigint>();
  /** The JIT tier, if enabled. */
  jit?: BlockCompiler;
  /** Instruction trace hooks for --trace. */
  onBlock?: (rip: bigint, prog: Program) => void;
  onException?: (vector: number, errorCode: number, rip: bigint) => void;
  /** A block was translated: its linear start address, RIP, mode word and instruction count. */
  onTranslate?: (lin: bigint, rip: bigint, mode: number, insns: number) => void;
  /** An instruction with no semantics was met (it raises #UD). */
  onUnimplemented?: (mnemonic: string, rip: bigint) => void;

  /**
   * Translated blocks by physical address of their first byte (an integer V8 hashes fast, where the combined key
   * would be a heap number), each with a chain of the blocks at that address in other modes (rare).
   */
  private readonly cache = new Map<number, Block>();
  private cached = 0;
  /**
   * In front of `cache`: the block last found at each slot of a direct-mapped table (by physical address and mode),
   * since the run loop looks up a block per block it runs (a Map lookup here costs ~90 ns, this ~10).
   */
  private readonly recent: (Block | undefined)[] = new Array(RECENT_SIZE).fill(undefined);
  /** The block running now and the instruction count when it started (self-modifying code detection). */
  private running: Block | undefined;
  private runningStart = 0;
  /** The next block is translated one instruction long and not cached (after a write into the running block). */
  private singleInsnNext = false;
  private readonly pageBlocks = new Map<number, Set<Block>>();
  private s: number; // state base in i32 units

  /** The board's port I/O and MMIO; every access may raise an interrupt or stop the machine (breakChain). */
  readonly bus: CpuBus;

  constructor(readonly memory: GuestMemory, bus: CpuBus) {
    if (memory.extraSize < CPU_EXTRA_BYTES) throw new Error(`the CPU needs ${CPU_EXTRA_BYTES} bytes reserved after RAM`);
    this.bus = {
      ioRead: (port, size) => (this.breakChain(), bus.ioRead(port, size)),
      ioWrite: (port, size, value) => (this.breakChain(), bus.ioWrite(port, size, value)),
      mmioRead: (addr, size) => (this.breakChain(), bus.mmioRead(addr, size)),
      mmioWrite: (addr, size, value) => (this.breakChain(), bus.mmioWrite(addr, size, value)),
    };
    this.stateBase = memory.extraBase;
    this.ramSize = memory.ramSize;
    this.s = this.stateBase >> 2;
    this.refreshViews();
    this.mmu = new Mmu(this);
    fpuReset(this); // x87/SSE state and XCR0 as after RESET
  }

  refreshViews(): void {
    const buf = this.memory.memory.buffer;
    this.u8 = new Uint8Array(buf);
    this.u16 = new Uint16Array(buf);
    this.i32 = new Int32Array(buf);
    this.dv = new DataView(buf);
  }

  // ---------------------------------------------------------------------------------------------------------
  // State block access

  get32(off: number): number {
    return this.i32[this.s + (off >> 2)]!;
  }
  set32(off: number, v: number): void {
    this.i32[this.s + (off >> 2)] = v;
  }
  get64(off: number): bigint {
    return this.dv.getBigUint64(this.stateBase + off, true);
  }
  set64(off: number, v: bigint): void {
    this.dv.setBigUint64(this.stateBase + off, BigInt.asUintN(64, v), true);
  }

  get rip(): bigint {
    return this.get64(L.RIP);
  }
  set rip(v: bigint) {
    this.set64(L.RIP, v);
  }

  /** An interrupt or NMI is pending and could be taken now (at an instruction boundary outside any shadow). */
  interruptible(): boolean {
    return (this.nmiPending && !this.nmiBlocked) || (this.pendingIrq >= 0 && (this.get32(L.EFLAGS) & 0x200) !== 0);
  }

  /**
   * Something the run loop checks between blocks may have changed (see L.CHAIN_BREAK): compiled code returns to
   * it at the next block boundary instead of chaining on.
   */
  breakChain(): void {
    this.i32[this.s + (L.CHAIN_BREAK >> 2)] = 1;
  }

  /** Recomputes the mode word from CR0, EFER, EFLAGS, CS and SS (after anything that changes them). */
  updateMode(): void {
    const cr0 = this.get32(L.CR0);
    const efer = this.get32(L.EFER);
    const eflags = this.get32(L.EFLAGS);
    const csAttr = this.get32(L.segOff(1) + L.SEG_ATTR);
    const ssAttr = this.get32(L.segOff(2) + L.SEG_ATTR);
    const lma = (efer & (1 << 10)) !== 0;
    const pe = (cr0 & 1) !== 0;
    const vm = pe && (eflags & 0x20000) !== 0;
    const code = lma && csAttr & ATTR_L ? 64 : csAttr & ATTR_DB && !vm ? 32 : 16;
    const stack = code === 64 ? 8 : ssAttr & ATTR_DB && !vm ? 4 : 2;
    const cpl = !pe ? 0 : vm ? 3 : this.get32(L.CPL) & 3;
    const ac = pe && cpl === 3 && (cr0 & (1 << 18)) !== 0 && (eflags & (1 << 18)) !== 0;
    const flags = (pe ? ModeBits.PE : 0) | (cr0 & 0x80000000 ? ModeBits.PG : 0) | (vm ? ModeBits.VM86 : 0) | (lma ? ModeBits.LMA : 0) |
      (ac ? ModeBits.AC : 0) | (eflags & 0x100 ? ModeBits.TF : 0);
    const mode = makeMode(code, stack, cpl, flags);
    if (mode !== this.get32(L.MODE) || this.interruptible()) this.breakChain();
    this.set32(L.MODE, mode);
  }

  get mode(): number {
    return this.get32(L.MODE);
  }

  getState(): CpuState {
    const seg = (i: number): SegmentState => {
      const o = L.segOff(i);
      return unpackAttr(this.get32(o + L.SEG_SEL), this.get64(o + L.SEG_BASE), this.get32(o + L.SEG_LIMIT) >>> 0, this.get32(o + L.SEG_ATTR));
    };
    const eflags = this.flags();
    return {
      gpr: GPR_NAMES.map((_, i) => this.get64(L.gprOff(i))),
      rip: this.rip,
      rflags: BigInt(eflags >>> 0),
      es: seg(0), cs: seg(1), ss: seg(2), ds: seg(3), fs: seg(4), gs: seg(5), ldtr: seg(6), tr: seg(7),
      gdtr: { base: this.get64(L.GDTR_BASE), limit: this.get32(L.GDTR_LIMIT) },
      idtr: { base: this.get64(L.IDTR_BASE), limit: this.get32(L.IDTR_LIMIT) },
      cr0: this.get64(L.CR0), cr2: this.get64(L.CR2), cr3: this.get64(L.CR3), cr4: this.get64(L.CR4),
      cr8: this.get64(L.CR8), efer: this.get64(L.EFER),
      dr: [0, 1, 2, 3, 4, 5].map((i) => this.get64(L.DR + 8 * i)),
      msrs: new Map([...this.stateMsrs()].concat([...this.msrs], [[MSR_TSC, readTsc(this)]])),
      halted: this.halted,
      fpu: fpuStateFromImage(fxsaveImage(this)),
      xcr0: this.get64(L.XCR0) | 1n, // bit 0 (x87) is always set
      events: { interruptShadow: this.irqShadow, nmiPending: this.nmiPending, nmiMasked: this.nmiBlocked },
    };
  }

  setState(st: CpuState): void {
    st.gpr.forEach((v, i) => this.set64(L.gprOff(i), v));
    this.rip = st.rip;
    this.setFlagsWord(Number(st.rflags & 0xffffffffn));
    SEG_ORDER.forEach((name, i) => {
      const g = st[name];
      const o = L.segOff(i);
      this.set64(o + L.SEG_BASE, g.base);
      this.set32(o + L.SEG_LIMIT, g.limit | 0);
      this.set32(o + L.SEG_SEL, g.selector);
      this.set32(o + L.SEG_ATTR, packAttr(g));
    });
    this.set64(L.GDTR_BASE, st.gdtr.base);
    this.set32(L.GDTR_LIMIT, st.gdtr.limit);
    this.set64(L.IDTR_BASE, st.idtr.base);
    this.set32(L.IDTR_LIMIT, st.idtr.limit);
    this.set64(L.CR0, st.cr0);
    this.set64(L.CR2, st.cr2);
    this.set64(L.CR3, st.cr3);
    this.set64(L.CR4, st.cr4);
    this.set64(L.CR8, st.cr8);
    this.set64(L.EFER, st.efer);
    st.dr.forEach((v, i) => this.set64(L.DR + 8 * i, v));
    this.msrs.clear();
    for (const [k, v] of st.msrs) {
      if (k === MSR_TSC) writeTsc(this, v);
      else if (!this.setStateMsr(k, v)) this.msrs.set(k, v);
    }
    this.halted = st.halted;
    if (st.fpu) fxrstorImage(this, fpuStateToImage(st.fpu));
    if (st.xcr0 !== undefined) this.set64(L.XCR0, st.xcr0);
    this.irqShadow = st.events?.interruptShadow ?? false;
    this.nmiPending = st.events?.nmiPending ?? false;
    this.nmiBlocked = st.events?.nmiMasked ?? false;
    this.singleStepPending = false; // (a pending single-step trap is not part of the neutral state)
    // CPL: SS.DPL is the architectural CPL holder (CS.RPL may differ for conforming code).
    const pe = (st.cr0 & 1n) !== 0n;
    this.set32(L.CPL, pe ? st.ss.dpl : 0);
    this.updateMode();
    this.mmu.flushAll();
  }

  private static readonly MSR_SLOTS: [number, number][] = [
    [0xc0000081, L.STAR], [0xc0000082, L.LSTAR], [0xc0000083, L.CSTAR], [0xc0000084, L.SFMASK],
    [0xc0000102, L.KERNEL_GS_BASE], [0xc0000103, L.TSC_AUX], [0x174, L.SYSENTER_CS], [0x175, L.SYSENTER_ESP],
    [0x176, L.SYSENTER_EIP],
  ];
  private *stateMsrs(): Iterable<[number, bigint]> {
    for (const [msr, off] of Cpu.MSR_SLOTS) yield [msr, this.get64(off)];
  }
  private setStateMsr(msr: number, v: bigint): boolean {
    const slot = Cpu.MSR_SLOTS.find(([m]) => m === msr);
    if (!slot) return false;
    this.set64(slot[1], v);
    return true;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Flags outside translated code (state dumps, interrupt delivery)

  /** The whole EFLAGS value (materialising lazy flags). */
  flags(): number {
    const status = HELPERS[H_CC_FLAGS]!.fn(this) as number; // the lazy-flags formulas, as translated code uses them
    return (this.get32(L.EFLAGS) & ~0x8d5) | status | 2;
  }

  /**
   * Sets EFLAGS (status flags become the lazy EFLAGS kind). The i64 fields CC_SRC/CC_DST/CC_SRC2 are written as
   * int32 halves (low word at the offset, little-endian as everywhere in the state block): the status flags are
   * non-negative, so the high words are 0. No BigInts: this runs on every IRET, POPF and event delivery.
   */
  setFlagsWord(v: number): void {
    const f = v & 0x8d5;
    this.set32(L.EFLAGS, (v & ~0x8d5) | 2);
    this.set32(L.CC_OP, 0);
    this.set32(L.CC_SRC, f);
    this.set32(L.CC_SRC + 4, 0);
    this.set32(L.CC_DST, f);
    this.set32(L.CC_DST + 4, 0);
    this.set32(L.CC_SRC2, f);
    this.set32(L.CC_SRC2 + 4, 0);
  }

  halted = false;
  /** A single-step #DB trap is due before the next instruction. */
  singleStepPending = false;
  /** Events delivered through the IVT/IDT so far (an instruction that entered a handler takes no single-step trap). */
  deliveries = 0;

  requestStop(): void {
    this.stopRequested = true;
    this.breakChain();
  }

  // ---------------------------------------------------------------------------------------------------------
  // IrHost: guest memory through segmentation and paging

  private get user(): boolean {
    return (this.get32(L.MODE) & ModeBits.CPL_MASK) === 3 << ModeBits.CPL_SHIFT;
  }

  read(size: number, seg: number, lo: number, hi: number, forWrite = false): number {
    const mmu = this.mmu;
    const access = forWrite ? Access.Write : Access.Read;
    mmu.segment(seg, lo, hi, size, access);
    if (this.get32(L.MODE) & ModeBits.AC) this.alignmentCheck(size);
    return mmu.readLinear(mmu.linLo, mmu.linHi, size, this.user, access);
  }

  /**
   * With alignment checks on (CR0.AM, EFLAGS.AC, CPL 3) a misaligned data access raises #AC(0): after the segment
   * and canonical checks of the access, before paging (the priorities the hardware shows). The linear address is
   * the one segment() just computed. (JIT'd code takes this path for every access in that mode.)
   */
  private alignmentCheck(size: number): void {
    if (size !== 1 && this.mmu.linLo & (size - 1)) throw new GuestFault(17, 0);
  }

  read64(seg: number, lo: number, hi: number, forWrite = false): number {
    const mmu = this.mmu;
    const access = forWrite ? Access.Write : Access.Read;
    mmu.segment(seg, lo, hi, 8, access);
    if (this.get32(L.MODE) & ModeBits.AC) this.alignmentCheck(8);
    const l = mmu.linLo, h = mmu.linHi, user = this.user;
    if ((l & 0xfff) <= 4088) {
      const p = mmu.translate(l, h, access, user);
      if (p + 8 <= this.ramSize) {
        this.hi64 = this.dv.getInt32(p + 4, true);
        return this.dv.getInt32(p, true);
      }
      this.hi64 = mmu.physRead(p + 4, 4) | 0;
      return mmu.physRead(p, 4) | 0;
    }
    // crossing a page: both pages are translated (lower first, as the hardware reports) before the data moves
    this.checkSplit(l, h, access, user);
    const nlo = ((l >>> 0) + 4) | 0;
    const nhi = carryHi(l, h, 4);
    const loWord = mmu.readLinear(l, h, 4, user, access);
    this.hi64 = mmu.readLinear(nlo, nhi, 4, user, access) | 0;
    return loWord | 0;
  }

  write(size: number, seg: number, lo: number, hi: number, v: number): void {
    const mmu = this.mmu;
    mmu.segment(seg, lo, hi, size, Access.Write);
    if (this.get32(L.MODE) & ModeBits.AC) this.alignmentCheck(size);
    mmu.writeLinear(mmu.linLo, mmu.linHi, size, v, this.user);
  }

  write64(seg: number, lo: number, hi: number, vlo: number, vhi: number): void {
    const mmu = this.mmu;
    mmu.segment(seg, lo, hi, 8, Access.Write);
    if (this.get32(L.MODE) & ModeBits.AC) this.alignmentCheck(8);
    const l = mmu.linLo, h = mmu.linHi, user = this.user;
    const nlo = ((l >>> 0) + 4) | 0;
    const nhi = carryHi(l, h, 4);
    if ((l & 0xfff) > 4088) this.checkSplit(l, h, Access.Write, user); // faults before the first half lands
    mmu.writeLinear(l, h, 4, vlo, user);
    mmu.writeLinear(nlo, nhi, 4, vhi, user);
  }

  /** Translates both pages of an 8-byte access that crosses a page, the lower one first (its fault wins). */
  private checkSplit(l: number, h: number, access: Access, user: boolean): void {
    const split = 4096 - (l & 0xfff);
    this.mmu.translate(l, h, access, user);
    const nlo = ((l >>> 0) + split) | 0;
    const nhi = carryHi(l, h, split);
    this.mmu.translate(nlo, nhi, access, user);
  }

  raise(vector: number, errorCode: number): never {
    throw new GuestFault(vector, errorCode);
  }

  mmioRead(addr: number, size: number): number {
    return this.bus.mmioRead(addr, size);
  }
  mmioWrite(addr: number, size: number, value: number): void {
    this.bus.mmioWrite(addr, size, value);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Translation cache

  /**
   * A write is about to hit `size` bytes at physical `addr`, on a page that holds translated code (all within
   * that page): drops the translations made from those bytes, as QEMU does, not every one on the page (Linux
   * patches single instructions in pages full of code: alternatives, jump labels, static calls). The page stays
   * write-protected while other translations remain on it. If the running block is dropped and instructions
   * after the writing one remain in it, the write must not happen yet: the block is abandoned before it (the
   * instruction has changed no register yet) and its instruction runs again as a block of its own, so the
   * instructions after it are fetched anew (x86 self-modifying code takes effect at once).
   */
  codeWritten(addr: number, size: number): void {
    const page = Math.floor(addr / 4096);
    const end = addr + size;
    const blocks = this.pageBlocks.get(page);
    let hit: Block[] | undefined;
    if (blocks) {
      for (const b of blocks) if (overlaps(b.spans, addr, end)) (hit ??= []).push(b);
    }
    if (!blocks || blocks.size === (hit?.length ?? 0)) {
      this.pageBlocks.delete(page);
      this.mmu.unmarkCode(page);
    }
    // (compiled code may have chained past the block the run loop entered: it says which block is running)
    const at = this.jit?.locate?.();
    const r = at ? at.block : this.running;
    const done = at ? at.index + 1 : this.icount - this.runningStart; // instructions started in `r`
    const abandon = r !== undefined && done < r.insns && overlaps(r.spans, addr, end);
    if (!hit && !abandon) return;
    this.breakChain();
    if (hit) for (const b of hit) this.dropBlock(b);
    if (abandon) {
      this.singleInsnNext = true;
      throw SMC_RESTART;
    }
  }

  private cacheGet(phys: number, mode: number): Block | undefined {
    const slot = recentSlot(phys, mode);
    const r = this.recent[slot];
    if (r !== undefined && r.key === phys * MODE_KEYS + mode) return r;
    let b = this.cache.get(phys);
    while (b !== undefined && b.mode !== mode) b = b.sameAddr;
    if (b !== undefined) this.recent[slot] = b;
    return b;
  }

  private cacheDelete(b: Block): void {
    const phys = Math.floor(b.key / MODE_KEYS);
    const slot = recentSlot(phys, b.mode);
    if (this.recent[slot] === b) this.recent[slot] = undefined;
    let head = this.cache.get(phys);
    if (head === b) {
      if (b.sameAddr) this.cache.set(phys, b.sameAddr);
      else this.cache.delete(phys);
    } else {
      while (head && head.sameAddr !== b) head = head.sameAddr;
      if (!head) return;
      head.sameAddr = b.sameAddr;
    }
    b.sameAddr = undefined;
    this.cached--;
  }

  private dropBlock(b: Block): void {
    this.cacheDelete(b);
    for (const p of b.pages) this.pageBlocks.get(p)?.delete(b);
    this.jit?.dropped(b);
  }

  flushTranslations(): void {
    if (this.jit) {
      for (const head of this.cache.values()) for (let b: Block | undefined = head; b; b = b.sameAddr) this.jit.dropped(b);
    }
    this.cache.clear();
    this.recent.fill(undefined);
    this.cached = 0;
    for (const p of this.pageBlocks.keys()) this.mmu.unmarkCode(p);
    this.pageBlocks.clear();
  }

  get translationCount(): number {
    return this.cached;
  }

  /**
   * Up to `n` code bytes at a linear address, read as instruction fetch would (for traces and reports); stops at a
   * page that cannot be fetched (the rest stays zero). Never faults.
   */
  peekCode(lin: bigint, n = 15): Uint8Array {
    const bytes = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const a = lin + BigInt(i);
      let p: number;
      try {
        p = this.fetchPhys(Number(a & 0xffffffffn) | 0, Number((a >> 32n) & 0xffffffffn) | 0);
      } catch {
        break;
      }
      bytes[i] = p < this.ramSize ? this.u8[p]! : 0;
    }
    return bytes;
  }

  /** Translates the linear code address (lo, hi) for execution at the current privilege. */
  fetchPhys(lo: number, hi: number): number {
    return this.mmu.translate(lo, hi, Access.Exec, this.user);
  }

  private lookup(): Block {
    // The hit path stays in int32 arithmetic: this runs once per executed block.
    const i32 = this.i32;
    const s = this.s;
    const mode = i32[s + (L.MODE >> 2)]!;
    const ripLo = i32[s + (L.RIP >> 2)]!;
    const ripHi = i32[s + (L.RIP >> 2) + 1]!;
    let lo: number;
    let hi: number;
    if ((mode & 3) === 2) {
      // 64-bit code: RIP must be canonical
      if (ripHi >> 15 !== 0 && ripHi >> 15 !== -1) throw new GuestFault(13, 0);
      lo = ripLo;
      hi = ripHi;
    } else {
      const cs = s + (L.segOff(1) >> 2);
      if (ripHi !== 0 || ripLo >>> 0 > i32[cs + (L.SEG_LIMIT >> 2)]! >>> 0) throw new GuestFault(13, 0);
      lo = (ripLo + i32[cs + (L.SEG_BASE >> 2)]!) | 0;
      hi = 0;
    }
    const phys = this.mmu.translate(lo, hi, Access.Exec, (mode & ModeBits.CPL_MASK) === ModeBits.CPL_MASK);
    let b = this.cacheGet(phys, mode);
    if (b) {
      if (b.ripLo === ripLo && b.ripHi === ripHi && (b.lin2 === undefined || this.probeFetch(b.lin2) === b.phys2)) return b;
      this.dropBlock(b);
    }
    const rip = this.rip;
    const lin = u64(lo, hi);
    if (this.singleInsnNext) {
      this.singleInsnNext = false;
      const t = translateBlock(this, lin, rip, mode, 1);
      return newBlock(t.prog, -1, mode, [], t.spans, rip, ripLo, ripHi, t.insns);
    }
    // (traces list a block's instructions in address order: no superblocks then)
    const t = translateBlock(this, lin, rip, mode, MAX_BLOCK_INSNS, !this.onTranslate && !this.onBlock);
    this.onTranslate?.(lin, rip, mode, t.insns);
    b = newBlock(t.prog, phys * MODE_KEYS + mode, mode, t.pages, t.spans, rip, ripLo, ripHi, t.insns);
    if (t.pages.length > 1) {
      b.lin2 = (lin & ~0xfffn) + 0x1000n;
      b.phys2 = t.pages[1]!;
    }
    b.sameAddr = this.cache.get(phys);
    this.cache.set(phys, b);
    this.cached++;
    for (const p of t.pages) {
      let set = this.pageBlocks.get(p);
      if (!set) this.pageBlocks.set(p, (set = new Set()));
      set.add(b);
      this.mmu.markCode(p);
    }
    return b;
  }

  /** The physical page a linear code page maps to now, or -1 if fetching from it would fault. */
  private probeFetch(lin: bigint): number {
    try {
      return Math.floor(this.fetchPhys(Number(lin & 0xffffffffn) | 0, Number((lin >> 32n) & 0xffffffffn) | 0) / 4096);
    } catch (e) {
      if (e instanceof GuestFault) return -1;
      throw e;
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Run loop

  /** Delivers a pending NMI, or a pending external interrupt if EFLAGS.IF is set. */
  private takeInterrupt(): void {
    if (this.nmiPending && !this.nmiBlocked) {
      this.nmiPending = false;
      this.nmiBlocked = true;
      this.halted = false;
      deliverInterrupt(this, 2, true);
    } else if (this.pendingIrq >= 0 && this.get32(L.EFLAGS) & 0x200) {
      let v = this.pendingIrq;
      this.pendingIrq = -1;
      this.halted = false;
      if (this.irqAck) v = this.irqAck();
      this.onIrqAck?.(v);
      if (v >= 0) deliverInterrupt(this, v);
    }
  }

  /** Runs exactly one instruction (or takes one event), e.g. one another backend could not run. */
  runOne(): Stop {
    this.singleInsnNext = true;
    return this.run(1);
  }

  /** Runs until `budget` more instructions have retired or something stops the CPU. */
  run(budget: number): Stop {
    const end = this.icount + budget;
    this.runEnd = end;
    this.stopRequested = false;
    while (this.icount < end) {
      if (this.shutdown) return Stop.Shutdown;
      if (this.singleStepPending) {
        this.singleStepPending = false;
        this.set32(L.DR + 32, this.get32(L.DR + 32) | 0x4000); // DR6.BS
        this.onException?.(1, -1, this.rip);
        deliverException(this, 1, -1);
        continue;
      }
      if ((this.nmiPending && !this.nmiBlocked) || (this.pendingIrq >= 0 && this.get32(L.EFLAGS) & 0x200)) {
        // after STI or MOV SS exactly one more instruction runs before the interrupt
        if (this.irqShadow) this.singleInsnNext = true;
        else this.takeInterrupt();
      }
      this.irqShadow = false;
      if (this.shutdown) return Stop.Shutdown;
      if (this.halted) return this.get32(L.EFLAGS) & 0x200 ? Stop.Idle : Stop.Halt;
      try {
        const singleStep = (this.i32[this.s + (L.MODE >> 2)]! & ModeBits.TF) !== 0;
        const deliveries = this.deliveries;
        if (singleStep) this.singleInsnNext = true; // EFLAGS.TF: one instruction, then the #DB trap below
        const b = this.lookup();
        this.onBlock?.(this.rip, b.prog);
        this.running = b;
        this.runningStart = this.icount;
        this.i32[this.s + (L.CHAIN_BREAK >> 2)] = 0;
        if (b.compiled) b.compiled();
        else {
          const jit = this.jit;
          if (jit && b.key >= 0 && b.hits++ >= jit.threshold && (b.compiled = jit.compile(this, b))) b.compiled();
          else interpret(b.prog, this);
        }
        this.running = undefined;
        // The single-step trap comes after an instruction that started with TF set (RIP is the next one), also when
        // it cleared TF (popf); not when it entered a handler (INT n). It is taken at the next boundary, so a stop
        // requested by this instruction (a device exit) sees the state before it, as KVM does.
        if (singleStep && this.deliveries === deliveries && !this.halted) this.singleStepPending = true;
      } catch (e) {
        this.running = undefined;
        if (e === SMC_RESTART) continue;
        if (!(e instanceof GuestFault)) throw e;
        this.onException?.(e.vector, e.errorCode, this.rip);
        deliverException(this, e.vector, e.errorCode);
      }
      if (this.stopRequested) return Stop.Requested;
    }
    return Stop.Budget;
  }
}
