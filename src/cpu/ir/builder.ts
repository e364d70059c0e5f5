// Builds IR programs (ops.ts). Temps are typed at the TypeScript level (T32 / T64) so the front end cannot mix
// widths by accident; every value gets a fresh temp (single assignment), which keeps the JIT's register
// allocation trivial and the interpreter's temp file simple.
import { A, Cond, OPS, Op } from './ops.ts';

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

export class IrBuilder {
  private words: number[] = [];
  // Temp 0 is never handed out, so no temp is falsy (a `t ? ... : ...` on a temp cannot misfire).
  private widthList: number[] = [32];
  private nLabels = 0;

  get size(): number {
    return this.words.length;
  }

  reset(): void {
    this.words.length = 0;
    this.widthList.length = 1;
    this.nLabels = 0;
  }

  finish(): Program {
    const code = Int32Array.from(this.words);
    const labelAt = new Int32Array(this.nLabels).fill(-1);
    for (let pc = 0; pc < code.length; pc += 1 + OPS[code[pc]!]!.args.length) {
      if (code[pc] === Op.LABEL) labelAt[code[pc + 1]!] = pc + 2;
    }
    // Branches are forward-only: the interpreter and the JIT's structured control flow rely on it.
    for (let pc = 0; pc < code.length; pc += 1 + OPS[code[pc]!]!.args.length) {
      const o = code[pc]!;
      const l = o === Op.BR ? code[pc + 1]! : o === Op.BRNZ || o === Op.BRZ ? code[pc + 2]! : -1;
      if (l >= 0 && !(labelAt[l]! > pc)) throw new Error(`IR: branch at ${pc} to label ${l} is not forward`);
    }
    return { code, widths: Uint8Array.from(this.widthList), labels: this.nLabels, labelAt };
  }

  t32(): T32 {
    this.widthList.push(32);
    return (this.widthList.length - 1) as T32;
  }
  t64(): T64 {
    this.widthList.push(64);
    return (this.widthList.length - 1) as T64;
  }
  widthOf(t: T): 32 | 64 {
    return this.widthList[t] as 32 | 64;
  }

  /** Appends an op with its operand words (checked against the op table in development builds of the tests). */
  emit(op: number, ...args: number[]): void {
    const def = OPS[op]!;
    if (args.length !== def.args.length) throw new Error(`${def.name}: ${args.length} operands, wants ${def.args.length}`);
    for (let i = 0; i < args.length; i++) {
      const k = def.args[i]!;
      const v = args[i]!;
      if ((k === A.S32 || k === A.D32) && this.widthList[v] !== 32) throw new Error(`${def.name}: operand ${i} is not an i32 temp`);
      if ((k === A.S64 || k === A.D64) && this.widthList[v] !== 64) throw new Error(`${def.name}: operand ${i} is not an i64 temp`);
    }
    this.words.push(op, ...args);
  }

  // ---- constants and moves ----
  const32(v: number): T32 {
    const d = this.t32();
    this.emit(Op.MOVI32, d, v | 0);
    return d;
  }
  const64(v: bigint | number): T64 {
    const b = BigInt.asUintN(64, BigInt(v));
    const d = this.t64();
    this.emit(Op.MOVI64, d, Number(b & 0xffffffffn) | 0, Number(b >> 32n) | 0);
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
    this.emit(op, d, a, b);
    return d;
  }
  bin64(op: number, a: T64, b: T64): T64 {
    const d = this.t64();
    this.emit(op, d, a, b);
    return d;
  }
  un32(op: number, a: T32): T32 {
    const d = this.t32();
    this.emit(op, d, a);
    return d;
  }
  un64(op: number, a: T64): T64 {
    const d = this.t64();
    this.emit(op, d, a);
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
    this.emit(Op.ZEXT32TO64, d, a);
    return d;
  }
  sext64(a: T32): T64 {
    const d = this.t64();
    this.emit(Op.SEXT32TO64, d, a);
    return d;
  }
  lo32(a: T64): T32 {
    const d = this.t32();
    this.emit(Op.LO32, d, a);
    return d;
  }
  hi32(a: T64): T32 {
    const d = this.t32();
    this.emit(Op.HI32, d, a);
    return d;
  }
  pair64(lo: T32, hi: T32): T64 {
    const d = this.t64();
    this.emit(Op.PAIR64, d, lo, hi);
    return d;
  }

  // ---- comparisons ----
  setcc32(c: Cond, a: T32, b: T32): T32 {
    const d = this.t32();
    this.emit(Op.SETCC32, d, c, a, b);
    return d;
  }
  setcc64(c: Cond, a: T64, b: T64): T32 {
    const d = this.t32();
    this.emit(Op.SETCC64, d, c, a, b);
    return d;
  }
  select32(c: T32, a: T32, b: T32): T32 {
    const d = this.t32();
    this.emit(Op.SELECT32, d, c, a, b);
    return d;
  }
  select64(c: T32, a: T64, b: T64): T64 {
    const d = this.t64();
    this.emit(Op.SELECT64, d, c, a, b);
    return d;
  }

  // ---- CPU state ----
  ld8(off: number): T32 {
    const d = this.t32();
    this.emit(Op.LD8, d, off);
    return d;
  }
  ld16(off: number): T32 {
    const d = this.t32();
    this.emit(Op.LD16, d, off);
    return d;
  }
  ld32(off: number): T32 {
    const d = this.t32();
    this.emit(Op.LD32, d, off);
    return d;
  }
  ld64(off: number): T64 {
    const d = this.t64();
    this.emit(Op.LD64, d, off);
    return d;
  }
  st8(off: number, v: T32): void {
    this.emit(Op.ST8, off, v);
  }
  st16(off: number, v: T32): void {
    this.emit(Op.ST16, off, v);
  }
  st32(off: number, v: T32): void {
    this.emit(Op.ST32, off, v);
  }
  st64(off: number, v: T64): void {
    this.emit(Op.ST64, off, v);
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
      this.emit(forWrite ? Op.LDMW64 : Op.LDM64, d, seg, addr);
      return d;
    }
    const d = this.t32();
    const i = size === 1 ? 0 : size === 2 ? 1 : 2;
    this.emit((forWrite ? [Op.LDMW8, Op.LDMW16, Op.LDMW32] : [Op.LDM8, Op.LDM16, Op.LDM32])[i]!, d, seg, addr);
    return d;
  }
  stm(size: 1 | 2 | 4 | 8, seg: number, addr: T64, v: T): void {
    this.emit(size === 1 ? Op.STM8 : size === 2 ? Op.STM16 : size === 4 ? Op.STM32 : Op.STM64, seg, addr, v);
  }

  // ---- control flow ----
  label(): Label {
    return this.nLabels++ as Label;
  }
  place(l: Label): void {
    this.emit(Op.LABEL, l);
  }
  br(l: Label): void {
    this.emit(Op.BR, l);
  }
  brnz(c: T32, l: Label): void {
    this.emit(Op.BRNZ, c, l);
  }
  brz(c: T32, l: Label): void {
    this.emit(Op.BRZ, c, l);
  }

  /** Calls helper `h` (helpers.ts) with up to three temps; returns its result temp of the given width, if any. */
  call(h: number, args: T[], result: 0 | 32 | 64 = 0): T {
    if (args.length > 3) throw new Error('helpers take at most three arguments');
    const d = result === 0 ? -1 : result === 32 ? this.t32() : this.t64();
    this.emit(Op.CALL, d, h, args[0] ?? -1, args[1] ?? -1, args[2] ?? -1);
    return d as T;
  }

  raise(vector: number, errorCode = -1): void {
    this.emit(Op.RAISE, vector, errorCode);
  }
  insn(rip: bigint, length: number): void {
    const r = BigInt.asUintN(64, rip);
    this.emit(Op.INSN, Number(r & 0xffffffffn) | 0, Number(r >> 32n) | 0, length);
  }
  exit(rip: T64): void {
    this.emit(Op.EXIT, rip);
  }
  exitTo(rip: bigint): void {
    const r = BigInt.asUintN(64, rip);
    this.emit(Op.EXITI, Number(r & 0xffffffffn) | 0, Number(r >> 32n) | 0);
  }
}
