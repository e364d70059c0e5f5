// Builds IR programs (ops.ts). Temps are typed at the TypeScript level (T32 / T64) so the front end cannot mix
// widths by accident; every value gets a fresh temp (single assignment), which keeps the JIT's register
// allocation trivial and the interpreter's temp file simple.
import { A, Cond, OPS, OP_LEN, Op } from './ops.ts';
import { RIP } from '../layout.ts';

export type T32 = number & { readonly __w: 32 };
export type T64 = number & { readonly __w: 64 };
export type T = T32 | T64;
export type Label = number & { readonly __label: true };

export interface Program {
  code: Int32Array;
  /** Width of each temp: 32 or 64. */
  widths: Uint8Array;
  labels: number;
  /** For each label, the index of the op after its LABEL. */
  labelAt: Int32Array;
}

/** Per op, the operand kinds that must be temps of one width (0: any, 32, 64). */
const OP_WIDTHS: Uint8Array[] = OPS.map((d) =>
  Uint8Array.from(d.args, (k) => (k === A.S32 || k === A.D32 ? 32 : k === A.S64 || k === A.D64 ? 64 : 0)));

/**
 * Scratch buffers for programs being built, reused across builders (building allocates nothing per op): a builder
 * takes one when it is created and gives it back in finish(); a builder that never finishes just drops it.
 */
interface Scratch {
  code: Int32Array;
  widths: Uint8Array;
  known: Int32Array;
}
const pool: Scratch[] = [];
const NO_WORDS = new Int32Array(0);
const FIRST_BRANCH = Math.min(Op.LABEL, Op.BR, Op.BRNZ, Op.BRZ);
const LAST_BRANCH = Math.max(Op.LABEL, Op.BR, Op.BRNZ, Op.BRZ);
if (LAST_BRANCH - FIRST_BRANCH !== 3) throw new Error('builder: label and branch ops are not contiguous');
/**
 * Finished programs are views into shared 128 KiB slabs: allocating a typed array costs about a microsecond here,
 * which matters when code is translated over and over (self-modifying code), and each one adds to the external
 * memory V8's GC counts. A slab lives as long as any program in it. With 8 KiB slabs (one per ~6 blocks of kernel
 * code) translating took 18 us a block; with 128 KiB slabs, 12.
 */
const SLAB_WORDS = 32768;
let slab = new Int32Array(SLAB_WORDS);
let slabAt = 0;

/** Byte sizes of ST8..ST64. */
const ST_SIZE = [1, 2, 4, 8];
if (Op.ST64 - Op.ST8 !== 3) throw new Error('builder: state stores are not contiguous');
/** State words a builder remembers at most (the registers and lazy-flag fields a few instructions touch). */
const KNOWN_MAX = 24;

/** Per condition, the one true exactly when it is false. */
const OPPOSITE: readonly Cond[] = [
  Cond.NE, Cond.EQ, Cond.GEU, Cond.GTU, Cond.LEU, Cond.LTU, Cond.GES, Cond.GTS, Cond.LES, Cond.LTS,
];

export class IrBuilder {
  private words: Int32Array;
  private nWords = 0;
  /** Where the last op starts (-1: none since reset). */
  private lastOp = -1;
  // Temp 0 is never handed out, so no temp is falsy (a `t ? ... : ...` on a temp cannot misfire).
  private widthList: Uint8Array;
  private nTemps = 1;
  private nLabels = 0;
  /** Where each label was placed (the word after its LABEL op), how many were, and whether there are branches. */
  private labelPos: number[] = [];
  private labelsPlaced = 0;
  private branches = false;
  /**
   * State-block words whose value a temp holds since they were last stored or loaded on this straight-line path:
   * (offset, size 4 or 8, temp) triples. A load of the same offset and size reuses the temp instead of emitting an
   * op. A store to overlapping bytes, a label (paths merge), a helper call (helpers may write any state) and
   * INSN (it writes RIP) forget what they may change.
   */
  private known: Int32Array;
  private nKnown = 0;

  constructor() {
    const s = pool.pop();
    this.words = s?.code ?? new Int32Array(1024);
    this.widthList = s?.widths ?? new Uint8Array(256);
    this.widthList[0] = 32;
    this.known = s?.known ?? new Int32Array(KNOWN_MAX * 3);
  }

  get size(): number {
    return this.nWords;
  }

  reset(): void {
    if (this.words === NO_WORDS) {
      // finished: the widths array belongs to the program now
      this.widthList = new Uint8Array(256);
      this.widthList[0] = 32;
      this.known = new Int32Array(KNOWN_MAX * 3);
    }
    this.nWords = 0;
    this.lastOp = -1;
    this.nTemps = 1;
    this.nLabels = 0;
    this.labelPos = [];
    this.labelsPlaced = 0;
    this.branches = false;
    this.nKnown = 0;
  }

  finish(): Program {
    this.check();
    // code, label positions and temp widths, in one piece of a slab
    const n = this.nWords, nl = this.nLabels;
    const need = n + nl + ((this.nTemps + 3) >> 2);
    if (slabAt + need > slab.length) {
      slab = new Int32Array(Math.max(need, SLAB_WORDS));
      slabAt = 0;
    }
    const all = slab.subarray(slabAt, slabAt + need);
    const allOff = slabAt;
    slabAt += (need + 1) & ~1;
    all.set(this.words.subarray(0, n));
    const code = all.subarray(0, n);
    const labelAt = all.subarray(n, n + nl).fill(-1);
    const widths = new Uint8Array(slab.buffer, (allOff + n + nl) * 4, this.nTemps);
    widths.set(this.widthList.subarray(0, this.nTemps));
    const BR = Op.BR, BRNZ = Op.BRNZ, BRZ = Op.BRZ;
    if (this.labelsPlaced) for (let l = 0; l < nl; l++) if (this.labelPos[l] !== undefined) labelAt[l] = this.labelPos[l]!;
    // Branches are forward-only: the interpreter and the JIT's structured control flow rely on it.
    for (let pc = 0; this.branches && pc < code.length; pc += 1 + OP_LEN[code[pc]!]!) {
      const o = code[pc]!;
      const l = o === BR ? code[pc + 1]! : o === BRNZ || o === BRZ ? code[pc + 2]! : -1;
      if (l >= 0 && !(labelAt[l]! > pc)) throw new Error(`IR: branch at ${pc} to label ${l} is not forward`);
    }
    // The scratch buffers go back to the pool; the builder keeps working (on new ones) if it is used again.
    if (pool.length < 4) pool.push({ code: this.words, widths: this.widthList, known: this.known });
    this.words = NO_WORDS;
    this.widthList = widths;
    this.known = NO_WORDS; // (remembers nothing until reset)
    this.nKnown = 0;
    return { code, widths, labels: this.nLabels, labelAt };
  }

  private newTemp(w: 32 | 64): number {
    if (this.nTemps === this.widthList.length) {
      const b = new Uint8Array(Math.max(256, this.widthList.length * 2));
      b.set(this.widthList);
      this.widthList = b;
    }
    this.widthList[this.nTemps] = w;
    return this.nTemps++;
  }

  t32(): T32 {
    return this.newTemp(32) as T32;
  }
  t64(): T64 {
    return this.newTemp(64) as T64;
  }
  widthOf(t: T): 32 | 64 {
    return this.widthList[t] as 32 | 64;
  }

  /**
   * Appends an op with its `n` operand words a..e: emit without an array. (Small enough for V8 to inline at its
   * many call sites: called, it would box every operand word outside the small-integer range, such as the halves
   * of kernel addresses. finish() checks the operands against the op table.)
   */
  private put(op: number, n: number, a: number, b = 0, c = 0, d = 0, e = 0): void {
    const k = this.nWords;
    if (k + 6 > this.words.length) this.grow();
    const words = this.words;
    if (op <= LAST_BRANCH && op >= FIRST_BRANCH) {
      // (labels and branches are recorded for finish())
      if (op === Op.LABEL) {
        this.labelPos[a] = k + 2;
        this.labelsPlaced++;
      } else this.branches = true;
    }
    this.lastOp = k;
    words[k] = op;
    words[k + 1] = a;
    words[k + 2] = b;
    words[k + 3] = c;
    words[k + 4] = d;
    words[k + 5] = e;
    this.nWords = k + 1 + n;
  }

  private grow(): void {
    const words = new Int32Array(Math.max(1024, (this.nWords + 6) * 2));
    words.set(this.words.subarray(0, this.nWords));
    this.words = words;
  }

  /** The widths of each op's temps, as the op table says (put does not check them). */
  private check(): void {
    const c = this.words, wl = this.widthList;
    for (let pc = 0; pc < this.nWords; pc += 1 + OP_LEN[c[pc]!]!) {
      const op = c[pc]!;
      const w = OP_WIDTHS[op];
      if (!w) throw new Error(`IR: bad opcode ${op} at ${pc}`);
      for (let i = 0; i < w.length; i++) {
        if (w[i] && wl[c[pc + 1 + i]!] !== w[i]) throw new Error(`${OPS[op]!.name}: operand ${i} is not an i${w[i]} temp`);
      }
    }
  }

  /** Appends an op with its operand words (checked against the op table). */
  emit(op: number, ...args: number[]): void {
    if (args.length !== OP_LEN[op]) throw new Error(`${OPS[op]!.name}: ${args.length} operands, wants ${OP_LEN[op]}`);
    if (op >= Op.ST8 && op <= Op.ST64) this.stored(args[0]!, ST_SIZE[op - Op.ST8]!, -1);
    else if (op === Op.LABEL || op === Op.CALL) this.nKnown = 0;
    else if (op === Op.INSN) this.stored(RIP, 8, -1);
    this.put(op, args.length, args[0] ?? 0, args[1], args[2], args[3], args[4]);
  }

  // ---- constants and moves ----
  const32(v: number): T32 {
    const d = this.t32();
    this.put(Op.MOVI32, 2, d, v | 0);
    return d;
  }
  /** A 64-bit constant: a bigint or an integral number (wrapped to 64 bits, two's complement). */
  const64(v: bigint | number): T64 {
    if (typeof v === 'number' && Number.isSafeInteger(v)) {
      // (without BigInt: translation makes these for every displacement and stack adjustment)
      return this.const64w(v | 0, Math.floor(v / 4294967296) | 0);
    }
    const b = BigInt.asUintN(64, BigInt(v));
    return this.const64w(Number(b & 0xffffffffn) | 0, Number(b >> 32n) | 0);
  }
  /** A 64-bit constant from its low and high 32-bit words. */
  const64w(lo: number, hi: number): T64 {
    const d = this.t64();
    this.put(Op.MOVI64, 3, d, lo | 0, hi | 0);
    return d;
  }
  mov32(a: T32): T32 {
    return this.un32(Op.MOV32, a);
  }
  mov64(a: T64): T64 {
    return this.un64(Op.MOV64, a);
  }

  // ---- generic unary/binary emitters ----
  bin32(op: number, a: T32, b: T32): T32 {
    const d = this.t32();
    this.put(op, 3, d, a, b);
    return d;
  }
  bin64(op: number, a: T64, b: T64): T64 {
    const d = this.t64();
    this.put(op, 3, d, a, b);
    return d;
  }
  un32(op: number, a: T32): T32 {
    const d = this.t32();
    this.put(op, 2, d, a);
    return d;
  }
  un64(op: number, a: T64): T64 {
    const d = this.t64();
    this.put(op, 2, d, a);
    return d;
  }

  // ---- width changes ----
  zext8(a: T32): T32 {
    return this.un32(Op.ZEXT8, a);
  }
  zext16(a: T32): T32 {
    return this.un32(Op.ZEXT16, a);
  }
  sext8(a: T32): T32 {
    return this.un32(Op.SEXT8, a);
  }
  sext16(a: T32): T32 {
    return this.un32(Op.SEXT16, a);
  }
  zext64(a: T32): T64 {
    const d = this.t64();
    this.put(Op.ZEXT32TO64, 2, d, a);
    return d;
  }
  sext64(a: T32): T64 {
    const d = this.t64();
    this.put(Op.SEXT32TO64, 2, d, a);
    return d;
  }
  lo32(a: T64): T32 {
    const d = this.t32();
    this.put(Op.LO32, 2, d, a);
    return d;
  }
  hi32(a: T64): T32 {
    const d = this.t32();
    this.put(Op.HI32, 2, d, a);
    return d;
  }
  pair64(lo: T32, hi: T32): T64 {
    const d = this.t64();
    this.put(Op.PAIR64, 3, d, lo, hi);
    return d;
  }

  // ---- comparisons ----
  setcc32(c: Cond, a: T32, b: T32): T32 {
    const d = this.t32();
    this.put(Op.SETCC32, 4, d, c, a, b);
    return d;
  }
  setcc64(c: Cond, a: T64, b: T64): T32 {
    const d = this.t32();
    this.put(Op.SETCC64, 4, d, c, a, b);
    return d;
  }
  /**
   * 1 - x for a 0/1 value: a comparison just made is made with the opposite condition instead (nothing can have
   * used its result yet), so a branch on it stays one compare-and-branch in compiled code, not setcc, xor, test.
   */
  not01(x: T32): T32 {
    const k = this.lastOp;
    const w = this.words;
    if (k >= 0 && (w[k] === Op.SETCC32 || w[k] === Op.SETCC64) && w[k + 1] === x) {
      w[k + 2] = OPPOSITE[w[k + 2]!]!;
      return x;
    }
    return this.bin32(Op.XOR32, x, this.const32(1));
  }
  select32(c: T32, a: T32, b: T32): T32 {
    const d = this.t32();
    this.put(Op.SELECT32, 4, d, c, a, b);
    return d;
  }
  select64(c: T32, a: T64, b: T64): T64 {
    const d = this.t64();
    this.put(Op.SELECT64, 4, d, c, a, b);
    return d;
  }

  // ---- CPU state ----
  /** The temp known to hold the state word at `off` of `size` bytes (4 or 8), or -1. */
  private knownAt(off: number, size: number): number {
    const k = this.known;
    for (let i = 0; i < this.nKnown; i += 3) if (k[i] === off && k[i + 1] === size) return k[i + 2]!;
    return -1;
  }
  /** `size` bytes at `off` were written: forget what overlaps them; then `t` (unless -1) holds them. */
  private stored(off: number, size: number, t: number): void {
    const k = this.known;
    let n = this.nKnown;
    for (let i = 0; i < n; ) {
      if (k[i]! < off + size && off < k[i]! + k[i + 1]!) {
        n -= 3;
        k[i] = k[n]!;
        k[i + 1] = k[n + 1]!;
        k[i + 2] = k[n + 2]!;
      } else i += 3;
    }
    if (t >= 0 && n < k.length) {
      k[n] = off;
      k[n + 1] = size;
      k[n + 2] = t;
      n += 3;
    }
    this.nKnown = n;
  }
  ld8(off: number): T32 {
    const d = this.t32();
    this.put(Op.LD8, 2, d, off);
    return d;
  }
  ld16(off: number): T32 {
    const d = this.t32();
    this.put(Op.LD16, 2, d, off);
    return d;
  }
  ld32(off: number): T32 {
    const known = this.knownAt(off, 4);
    if (known >= 0) return known as T32;
    const d = this.t32();
    this.put(Op.LD32, 2, d, off);
    this.stored(off, 4, d);
    return d;
  }
  ld64(off: number): T64 {
    const known = this.knownAt(off, 8);
    if (known >= 0) return known as T64;
    const d = this.t64();
    this.put(Op.LD64, 2, d, off);
    this.stored(off, 8, d);
    return d;
  }
  st8(off: number, v: T32): void {
    this.put(Op.ST8, 2, off, v);
    this.stored(off, 1, -1);
  }
  st16(off: number, v: T32): void {
    this.put(Op.ST16, 2, off, v);
    this.stored(off, 2, -1);
  }
  st32(off: number, v: T32): void {
    this.put(Op.ST32, 2, off, v);
    this.stored(off, 4, v);
  }
  st64(off: number, v: T64): void {
    this.put(Op.ST64, 2, off, v);
    this.stored(off, 8, v);
  }

  // ---- guest memory ----
  /**
   * Loads `size` bytes (1, 2, 4: zero-extended into an i32; 8: an i64) from seg:addr. seg -1 = linear.
   * `forWrite`: the destination of a read-modify-write, checked as a write (a #PF then has W=1).
   */
  ldm(size: 1 | 2 | 4, seg: number, addr: T64, forWrite?: boolean): T32;
  ldm(size: 8, seg: number, addr: T64, forWrite?: boolean): T64;
  ldm(size: 1 | 2 | 4 | 8, seg: number, addr: T64, forWrite?: boolean): T;
  ldm(size: 1 | 2 | 4 | 8, seg: number, addr: T64, forWrite = false): T {
    if (size === 8) {
      const d = this.t64();
      this.put(forWrite ? Op.LDMW64 : Op.LDM64, 3, d, seg, addr);
      return d;
    }
    const d = this.t32();
    const i = size === 1 ? 0 : size === 2 ? 1 : 2;
    this.put((forWrite ? [Op.LDMW8, Op.LDMW16, Op.LDMW32] : [Op.LDM8, Op.LDM16, Op.LDM32])[i]!, 3, d, seg, addr);
    return d;
  }
  stm(size: 1 | 2 | 4 | 8, seg: number, addr: T64, v: T): void {
    this.put(size === 1 ? Op.STM8 : size === 2 ? Op.STM16 : size === 4 ? Op.STM32 : Op.STM64, 3, seg, addr, v);
  }

  // ---- control flow ----
  label(): Label {
    return this.nLabels++ as Label;
  }
  place(l: Label): void {
    this.put(Op.LABEL, 1, l);
    this.nKnown = 0;
  }
  br(l: Label): void {
    this.put(Op.BR, 1, l);
  }
  brnz(c: T32, l: Label): void {
    this.put(Op.BRNZ, 2, c, l);
  }
  brz(c: T32, l: Label): void {
    this.put(Op.BRZ, 2, c, l);
  }

  /** Calls helper `h` (helpers.ts) with up to three temps; returns its result temp of the given width, if any. */
  call(h: number, args: T[], result: 0 | 32 | 64 = 0): T {
    if (args.length > 3) throw new Error('helpers take at most three arguments');
    const d = result === 0 ? -1 : result === 32 ? this.t32() : this.t64();
    this.put(Op.CALL, 5, d, h, args[0] ?? -1, args[1] ?? -1, args[2] ?? -1);
    this.nKnown = 0;
    return d as T;
  }

  raise(vector: number, errorCode = -1): void {
    this.put(Op.RAISE, 2, vector, errorCode);
  }
  insn(rip: bigint, length: number): void {
    const r = BigInt.asUintN(64, rip);
    this.insnw(Number(r & 0xffffffffn) | 0, Number(r >> 32n) | 0, length);
  }
  /** INSN with the instruction's RIP as low and high 32-bit words. */
  insnw(lo: number, hi: number, length: number): void {
    this.put(Op.INSN, 3, lo | 0, hi | 0, length);
    this.stored(RIP, 8, -1);
  }
  exit(rip: T64): void {
    this.put(Op.EXIT, 1, rip);
  }
  exitTo(rip: bigint): void {
    const r = BigInt.asUintN(64, rip);
    this.exitTow(Number(r & 0xffffffffn) | 0, Number(r >> 32n) | 0);
  }
  /** EXITI to the RIP given as low and high 32-bit words. */
  exitTow(lo: number, hi: number): void {
    this.put(Op.EXITI, 2, lo | 0, hi | 0);
  }
}
