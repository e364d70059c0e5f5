// The translator: the x86-facing API the instruction semantics (frontend/*.ts) are written against. It extends the
// IR builder with guest registers, operands, effective addresses, the stack, lazy flags and block exits.
//
// Conventions for semantics authors:
// - Values of 1, 2 or 4 bytes are T32 temps, 8-byte values T64. Operand reads return zero-extended values;
//   arithmetic results may carry garbage above their size: writes and flag formulas mask.
// - Precise exceptions: do every memory access and every check that can fault before the first write to guest
//   state (registers, flags, RIP) of the instruction. Memory stores come after loads; a store that can fault comes
//   before register updates (push stores, then updates RSP).
// - An instruction that transfers control ends the block with jump()/branch(); everything else falls through.
import { Cond, Op } from '../ir/ops.ts';
import { IrBuilder, type Label, type T, type T32, type T64 } from '../ir/builder.ts';
import { OpKind, RegClass, type Instruction, type Operand } from '../../decoder/types.ts';
import * as L from '../layout.ts';
import { codeBits, cplOf, stackBytes, type CodeSize } from '../mode.ts';
import {
  CC_USES_SRC2, CcKind, STATUS, Sized, ccFromState, ccOp, ccToState, ccUses, cfOf, ofOf, pfOf, sfOf, statusFlags, zfOf, type CcUnion, type CcValues,
} from './flags.ts';
import { H_CC_FLAGS } from './cc-helper.ts';
import { u64 } from '../words.ts';
import { Vec } from '../fault.ts';

const SS = 2;

/**
 * Read-modify-write instructions: their memory destination is read with write intent, so a read-only or absent
 * page faults as a write (#PF W=1) before anything is read, as the hardware does (copy-on-write depends on it).
 * Shifts and rotates count even by 0, which still faults as a write.
 */
const RMW = new Set([
  'add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'inc', 'dec', 'neg', 'not', 'shl', 'shr', 'sar', 'rol', 'ror',
  'rcl', 'rcr', 'shld', 'shrd', 'xadd', 'xchg', 'cmpxchg',
]);

/**
 * A code address inside or near the block: an offset in bytes from the block's first instruction (a number, the
 * usual case: see Translator), or, rarely, an absolute RIP (a bigint, already wrapped) that no offset can express
 * exactly: in 64-bit code a 16-bit target of a block above 2^53; in 16-bit code the target of a branch with a 32-bit
 * operand size beyond 0xFFFF (offsets there wrap at 16 bits). See relTarget.
 */
export type CodeTarget = number | bigint;

const TWO32 = 4294967296;

export class Translator extends IrBuilder {
  readonly codeBits: CodeSize;
  /** Stack pointer width in bytes (SS.B, or 8 in 64-bit mode). */
  readonly stackSize: 2 | 4 | 8;
  readonly cpl: number;
  /** The instruction being translated. */
  i!: Instruction;
  /**
   * Code addresses are offsets from the block's first instruction (its RIP as the int32 words baseLo/baseHi), so
   * translation does its RIP arithmetic on numbers: `off` is the current instruction's, `nextOff` the one after it
   * (off + length, unwrapped). An offset becomes a RIP — base + offset wrapped to the code size (IP/EIP/RIP
   * arithmetic wraps at 16, 32 or 64 bits) — only where one is emitted (ripw, constRip, exitAt).
   */
  off = 0;
  nextOff = 0;
  private readonly baseLo: number;
  private readonly baseHi: number;
  /** Below 64-bit code: the base within the code size (IP arithmetic keeps only those bits), as a number. */
  private readonly baseIp: number;
  /**
   * Offsets below this one are RIPs without wrap-around (base + offset < 2^codeBits); Infinity when far away.
   * 0 if the first instruction's RIP itself is beyond the code size (IP arithmetic wraps from the first on).
   */
  readonly ipLimit: number;
  /** The words of the last RIP computed by ripw(). */
  ripLo = 0;
  ripHi = 0;
  /** Set when the instruction ended the block (a control transfer, or a state change that needs a new lookup). */
  ended = false;
  /**
   * Flags whose producing operation is known at translation time (this block), else null; where paths merged,
   * possibly one of several known operations recorded in the state block.
   */
  private cc: CcValues | CcUnion | null = null;
  /**
   * Superblocks (set by block.ts, an offset): a conditional branch forward to an offset in [nextOff + 1, superEnd)
   * does not end the block; translation goes on along the fall-through path and the taken path waits in `pending`
   * until translation reaches its target (mergeAt) or the block ends (a plain exit then). 0: off. It is never
   * above ipLimit, so pending targets do not wrap.
   */
  superEnd = 0;
  /** Forward branches waiting for their target: offset, label, and the flags state of each branch to it. */
  readonly pending: { off: number; label: Label; cc: (CcValues | CcUnion | null)[] }[] = [];

  /** A translator for a block in `mode` whose first instruction is at RIP ripHi:ripLo (int32 words). */
  constructor(readonly mode: number, ripLo = 0, ripHi = 0) {
    super();
    this.codeBits = codeBits(mode);
    this.stackSize = stackBytes(mode);
    this.cpl = cplOf(mode);
    this.baseLo = ripLo | 0;
    this.baseHi = ripHi | 0;
    const u = ripLo >>> 0;
    if (this.codeBits === 64) {
      this.baseIp = 0;
      this.ipLimit = this.baseHi === -1 ? TWO32 - u : Infinity;
    } else {
      this.baseIp = this.codeBits === 32 ? u : u & 0xffff;
      this.ipLimit = this.baseHi !== 0 || this.baseIp !== u ? 0 : (this.codeBits === 32 ? TWO32 : 0x10000) - u;
    }
  }

  /** Starts the instruction at offset `off`. */
  begin(i: Instruction, off: number): void {
    this.i = i;
    this.off = off;
    this.nextOff = off + i.length;
    if (off === 0) this.insnw(this.baseLo, this.baseHi, i.length); // (as given, even beyond the code size)
    else {
      this.ripw(off);
      this.insnw(this.ripLo, this.ripHi, i.length);
    }
  }

  /**
   * The RIP at offset `off` (any integer of magnitude below 2^52): base + off wrapped to the code size, as int32
   * words in ripLo/ripHi.
   */
  ripw(off: number): void {
    if (this.codeBits === 64) {
      const s = (this.baseLo >>> 0) + off;
      const carry = Math.floor(s / TWO32);
      this.ripLo = (s - carry * TWO32) | 0;
      this.ripHi = (this.baseHi + carry) | 0;
    } else {
      const s = this.baseIp + off;
      this.ripLo = this.codeBits === 32 ? s | 0 : s & 0xffff;
      this.ripHi = 0;
    }
  }

  /** The RIP at `to` (an offset, wrapped to the code size; or an absolute RIP, as is: see CodeTarget) as a T64. */
  constRip(to: CodeTarget): T64 {
    if (typeof to !== 'number') return this.const64(to);
    this.ripw(to);
    return this.const64w(this.ripLo, this.ripHi);
  }

  /** Exits the block to `to` (see constRip). */
  exitAt(to: CodeTarget): void {
    if (typeof to !== 'number') return this.exitTo(to);
    this.ripw(to);
    this.exitTow(this.ripLo, this.ripHi);
  }

  /** The RIP at offset `off` as a bigint (for what needs one: helpers, hooks; not per instruction). */
  ripAt(off: number): bigint {
    this.ripw(off);
    return u64(this.ripLo, this.ripHi);
  }

  /** The current instruction's RIP (as translation was given it for the first instruction), as a bigint. */
  get rip(): bigint {
    if (this.off !== 0) return this.ripAt(this.off);
    return u64(this.baseLo, this.baseHi);
  }

  /** The RIP after the current instruction, wrapped to the code size, as a bigint. Prefer nextOff. */
  get next(): bigint {
    return this.ripAt(this.nextOff);
  }

  /**
   * The target of a relative branch: the next instruction's address plus `disp`, by the operand size (SDM JMP/Jcc/
   * CALL/LOOP: EIP = tempEIP with a 32-bit one, tempEIP AND 0xFFFF with a 16-bit one): cut to 16 bits with a 16-bit
   * operand size, else wrapped to 64 bits in 64-bit code and to 32 bits below it — also in 16-bit code, where a
   * 66-prefixed branch (`calll`, `jmpl`, 66 0F 8x...) can reach beyond 0xFFFF (and then fails the CS limit check
   * at the lookup of the target, as real mode's 64 KiB limit has it). An offset, unless no number can be one
   * exactly: a 16-bit target in 64-bit code of a block above 2^53, or such a 32-bit target beyond 0xFFFF in 16-bit
   * code (offsets there wrap at 16 bits). For 16/32-bit code the offset is that of the wrapped address, so it
   * compares with other offsets as the addresses do.
   */
  relTarget(disp: number): CodeTarget {
    const o = this.nextOff + disp;
    const cut = this.i.opSize === 2;
    if (this.codeBits !== 64) {
      const s = this.baseIp + o;
      if (cut) return (s & 0xffff) - this.baseIp;
      if (this.codeBits === 32) return (s >>> 0) - this.baseIp;
      // 16-bit code, 32-bit operand size: the next IP (wrapped at 16 bits, as ripw has it) plus disp, mod 2^32
      const v = (((this.baseIp + this.nextOff) & 0xffff) + disp) >>> 0;
      return v <= 0xffff ? v - this.baseIp : BigInt(v);
    }
    if (!cut) return o; // (ripw wraps it mod 2^64)
    const v = ((this.baseLo >>> 0) + o) & 0xffff;
    return this.baseHi === 0 ? v - (this.baseLo >>> 0) : BigInt(v);
  }

  /**
   * Outside 64-bit mode a near branch whose new EIP/IP is beyond the CS limit raises #GP(0) at the branch, before
   * it changes anything (SDM JMP/Jcc/CALL/RET/LOOP); `taken` (0/1): only if the branch is taken. `target`: a known
   * target (relTarget); limitCheckTo checks a computed one.
   */
  limitCheck(target: CodeTarget, taken?: T32): void {
    if (this.codeBits === 64) return;
    const eip = typeof target === 'number' ? (this.baseIp + target) | 0 : Number(target & 0xffffffffn) | 0;
    this.checkEip(this.const32(eip), taken);
  }

  /** limitCheck for a computed target (zero-extended from the operand size). */
  limitCheckTo(target: T64): void {
    if (this.codeBits === 64) return;
    this.checkEip(this.lo32(target));
  }

  private checkEip(eip: T32, taken?: T32): void {
    let beyond = this.setcc32(Cond.GTU, eip, this.ld32(L.segOff(1) + L.SEG_LIMIT));
    if (taken !== undefined) beyond = this.bin32(Op.AND32, beyond, taken);
    const ok = this.label();
    this.brz(beyond, ok);
    this.raise(Vec.GP, 0);
    this.place(ok);
  }

  sized(size: number): Sized {
    return new Sized(this, size);
  }

  // ---------------------------------------------------------------------------------------------------------
  // General-purpose registers (decoder register ids: class GPR, index 0-15, or 16-19 for AH CH DH BH)

  reg(id: number, size: number): T {
    const idx = id & 0xff;
    if (size === 8) return this.ld64(L.gprOff(idx));
    if (size === 4) return this.ld32(L.gprOff(idx));
    if (size === 2) return this.ld16(L.gprOff(idx));
    return idx >= 16 ? this.ld8(L.gprOff(idx - 16) + 1) : this.ld8(L.gprOff(idx));
  }

  /** Writes a GPR with x86's rules: 8/16-bit writes merge, 32-bit writes zero the upper half. */
  setReg(id: number, size: number, v: T): void {
    const idx = id & 0xff;
    if (size === 8) this.st64(L.gprOff(idx), v as T64);
    else if (size === 4) this.st64(L.gprOff(idx), this.zext64(v as T32));
    else if (size === 2) this.st16(L.gprOff(idx), v as T32);
    else if (idx >= 16) this.st8(L.gprOff(idx - 16) + 1, v as T32);
    else this.st8(L.gprOff(idx), v as T32);
  }

  gpr(index: number, size: number): T {
    return this.reg(index, size);
  }
  setGpr(index: number, size: number, v: T): void {
    this.setReg(index, size, v);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Operands

  /** The effective address (segment offset) of a memory operand, wrapped to the address size, as a T64. */
  ea(o: Operand): T64 {
    const as = this.i.addrSize;
    if (o.base === ((RegClass.RIP << 8) | 0)) {
      // next RIP + disp, wrapped to the address size (only 64-bit code has RIP-relative addressing)
      this.ripw(this.nextOff + o.disp);
      return this.const64w(this.ripLo, as === 8 ? this.ripHi : 0);
    }
    if (as === 8) {
      let a: T64 | null = o.base >= 0 ? (this.reg(o.base, 8) as T64) : null;
      if (o.index >= 0) {
        let x = this.reg(o.index, 8) as T64;
        if (o.scale > 1) x = this.bin64(Op.SHL64, x, this.const64(Math.log2(o.scale)));
        a = a !== null ? this.bin64(Op.ADD64, a, x) : x;
      }
      if (o.wide !== 0n) return a === null ? this.const64(o.wide) : this.bin64(Op.ADD64, a, this.const64(o.wide));
      if (a === null) return this.const64(o.disp);
      return o.disp === 0 ? a : this.bin64(Op.ADD64, a, this.const64(o.disp));
    }
    let a: T32 | null = o.base >= 0 ? (this.reg(o.base, 4) as T32) : null;
    if (o.index >= 0) {
      let x = this.reg(o.index, 4) as T32;
      if (o.scale > 1) x = this.bin32(Op.SHL32, x, this.const32(Math.log2(o.scale)));
      a = a !== null ? this.bin32(Op.ADD32, a, x) : x;
    }
    const disp = this.const32(o.disp);
    a = a !== null ? (o.disp !== 0 ? this.bin32(Op.ADD32, a, disp) : a) : disp;
    if (as === 2) a = this.zext16(a);
    return this.zext64(a);
  }

  /** Reads operand `n` of the current instruction (GPR, segment selector, memory, immediate). */
  src(n: number): T {
    return this.read(this.i.operands[n]!);
  }

  read(o: Operand): T {
    switch (o.kind) {
      case OpKind.Reg: {
        const cls = o.reg >> 8;
        if (cls === RegClass.GPR) return this.reg(o.reg, o.size);
        if (cls === RegClass.SEG) return this.ld32(L.segOff(o.reg & 0xff) + L.SEG_SEL);
        throw new Error(`read of register class ${cls} is not a GPR operand`);
      }
      case OpKind.Mem:
        if (o === this.i.operands[0] && RMW.has(this.i.mnemonic)) return this.load(o.size, o.seg, this.ea(o), true);
        return this.load(o.size, o.seg, this.ea(o));
      case OpKind.Imm:
        return this.imm(o);
      default:
        throw new Error(`operand kind ${o.kind} cannot be read as a value`);
    }
  }

  /** An immediate as a value of its operand size (sign-extended from its encoding). */
  imm(o: Operand): T {
    if (o.size === 8) return this.const64(o.wide !== 0n ? o.wide : o.imm);
    return this.const32(o.imm);
  }

  /** Writes operand `n` (GPR or memory). */
  dst(n: number, v: T): void {
    this.write(this.i.operands[n]!, v);
  }

  write(o: Operand, v: T): void {
    if (o.kind === OpKind.Reg && o.reg >> 8 === RegClass.GPR) this.setReg(o.reg, o.size, v);
    else if (o.kind === OpKind.Mem) this.store(o.size, o.seg, this.ea(o), v);
    else throw new Error(`operand kind ${o.kind} cannot be written`);
  }

  /** Loads 1, 2, 4 (T32) or 8 (T64) bytes from seg:offset; `forWrite` for read-modify-write destinations. */
  load(size: number, seg: number, addr: T64, forWrite = false): T {
    if (size !== 1 && size !== 2 && size !== 4 && size !== 8) throw new Error(`load of ${size} bytes`);
    return this.ldm(size, seg, addr, forWrite);
  }
  store(size: number, seg: number, addr: T64, v: T): void {
    if (size !== 1 && size !== 2 && size !== 4 && size !== 8) throw new Error(`store of ${size} bytes`);
    this.stm(size, seg, addr, v);
  }


  // ---------------------------------------------------------------------------------------------------------
  // Stack

  /** The stack pointer as a T64 offset (SP/ESP zero-extended outside 64-bit stacks). */
  sp(): T64 {
    if (this.stackSize === 8) return this.reg(4, 8) as T64;
    return this.zext64(this.stackSize === 4 ? (this.reg(4, 4) as T32) : (this.reg(4, 2) as T32));
  }

  /** Offsets `sp` by `delta` bytes, wrapped to the stack size. */
  spAdd(sp: T64, delta: number): T64 {
    const v = this.bin64(Op.ADD64, sp, this.const64(delta));
    if (this.stackSize === 8) return v;
    const lo = this.lo32(v);
    return this.zext64(this.stackSize === 2 ? this.zext16(lo) : lo);
  }

  setSp(v: T64): void {
    if (this.stackSize === 8) this.setReg(4, 8, v);
    else this.setReg(4, this.stackSize, this.lo32(v));
  }

  /** Pushes `size` bytes: the store (which may fault) happens before RSP changes. */
  push(v: T, size: number): void {
    const sp = this.spAdd(this.sp(), -size);
    this.store(size, SS, sp, v);
    this.setSp(sp);
  }

  /** Pops `size` bytes; RSP is updated by the caller-visible order: value read first, then RSP. */
  pop(size: number): T {
    const sp = this.sp();
    const v = this.load(size, SS, sp);
    this.setSp(this.spAdd(sp, size));
    return v;
  }

  /** Reads the value `pop` would return, without moving RSP (for instructions that must check before popping). */
  peek(size: number, offset = 0): T {
    const sp = offset ? this.spAdd(this.sp(), offset) : this.sp();
    return this.load(size, SS, sp);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Flags

  /** Records a flag-setting operation (lazily: flags are computed only when read). */
  setFlags(kind: CcKind, size: number, dst: T, src: T, src2?: T, src1?: T): void {
    // (a src2 the kind's formulas never read is not made: it would be an op of every such instruction)
    const v: CcValues = { kind, size, dst, src, src2: src2 ?? (ccUses(kind) & CC_USES_SRC2 ? this.sized(size).c(0) : src) };
    if (src1 !== undefined) v.src1 = src1;
    this.cc = v;
    ccToState(this, v);
  }

  /** The lazy-flag operands, known statically or loaded from state through the helper. */
  private ccValues(): CcValues {
    if (this.cc && !('ops' in this.cc)) return this.cc;
    // Unknown producer (an earlier block): materialise the status flags once, then use them as EFLAGS-kind.
    const flags = this.call(H_CC_FLAGS, [], 32) as T32;
    const v: CcValues = { kind: CcKind.EFLAGS, size: 4, dst: flags, src: flags, src2: flags, local: true };
    this.cc = v;
    return v;
  }

  /** A flag (0/1) computed by `f` from the flags state: selected on CC_OP where paths with different producers merged. */
  private flagOf(f: (v: CcValues) => T32): T32 {
    const u = this.cc;
    if (!u || !('ops' in u)) return f(this.ccValues());
    const op = this.ld32(L.CC_OP);
    const n = u.ops.length;
    let r = f(ccFromState(this, u.ops[n - 1]!));
    for (let i = n - 2; i >= 0; i--) {
      r = this.select32(this.setcc32(Cond.EQ, op, this.const32(u.ops[i]!)), f(ccFromState(this, u.ops[i]!)), r);
    }
    return r;
  }

  /** The flags state where paths with these states merge. */
  private static mergeCc(states: (CcValues | CcUnion | null)[]): CcValues | CcUnion | null {
    const first = states[0]!;
    if (states.every((c) => c === first)) return first;
    const ops: number[] = [];
    for (const c of states) {
      if (!c || ('ops' in c ? false : c.local)) return null;
      for (const op of 'ops' in c ? c.ops : [ccOp(c.kind, c.size)]) if (!ops.includes(op)) ops.push(op);
    }
    return ops.length <= 3 ? { ops } : null;
  }

  /** The six status flags in EFLAGS positions. */
  status(): T32 {
    return statusFlags(this, this.ccValues());
  }

  /** The whole EFLAGS register. */
  flags(): T32 {
    return this.bin32(Op.OR32, this.bin32(Op.AND32, this.ld32(L.EFLAGS), this.const32(~STATUS)), this.status());
  }

  /**
   * Writes EFLAGS bits selected by `mask` from `v` (popf, iret, sahf ...). Status bits become the lazy EFLAGS
   * kind; the others go to the EFLAGS word. Bit 1 stays set.
   */
  setFlagsWord(v: T32, mask: number): void {
    const statusMask = mask & STATUS;
    if (statusMask) {
      let st = this.bin32(Op.AND32, v, this.const32(statusMask));
      if (statusMask !== STATUS) {
        const keep = this.bin32(Op.AND32, this.status(), this.const32(STATUS & ~statusMask));
        st = this.bin32(Op.OR32, st, keep);
      }
      this.setFlags(CcKind.EFLAGS, 4, st, st, st);
    }
    const other = mask & ~STATUS;
    if (other) {
      const old = this.bin32(Op.AND32, this.ld32(L.EFLAGS), this.const32(~other));
      const nv = this.bin32(Op.OR32, old, this.bin32(Op.AND32, v, this.const32(other)));
      this.st32(L.EFLAGS, this.bin32(Op.OR32, nv, this.const32(2)));
    }
  }

  cf(): T32 {
    return this.flagOf((v) => cfOf(this, v));
  }

  /** Evaluates condition code `cc` (0-15 in jcc/setcc/cmovcc encoding order) to 0/1. */
  cond(cc: number): T32 {
    return this.flagOf((v) => this.condOf(v, cc));
  }

  private condOf(v: CcValues, cc: number): T32 {
    const neg = cc & 1;
    let r: T32;
    const s = this.sized(v.size);
    if (v.kind === CcKind.SUB && cc >= 2 && (cc < 4 || cc > 5) && (cc < 8 || cc > 11)) {
      // After cmp/sub the conditions are comparisons of the original operands (but e/ne: the difference is zero,
      // one compare where a == b would add the operand back first).
      const src1 = v.src1 ?? s.add(v.dst, v.src);
      const a = s.mask(src1), b = s.mask(v.src);
      const sa = s.sext(src1), sb = s.sext(v.src);
      switch (cc >> 1) {
        case 1: r = s.setcc(Cond.LTU, a, b); break; // b / ae
        case 3: r = s.setcc(Cond.LEU, a, b); break; // be / a
        case 6: r = s.setcc(Cond.LTS, sa, sb); break; // l / ge
        default: r = s.setcc(Cond.LES, sa, sb); break; // le / g
      }
    } else {
      switch (cc >> 1) {
        case 0: r = ofOf(this, v); break;
        case 1: r = cfOf(this, v); break;
        case 2: r = zfOf(this, v); break;
        case 3: r = this.bin32(Op.OR32, cfOf(this, v), zfOf(this, v)); break;
        case 4: r = sfOf(this, v); break;
        case 5: r = pfOf(this, v); break;
        case 6: r = this.bin32(Op.XOR32, sfOf(this, v), ofOf(this, v)); break;
        default: r = this.bin32(Op.OR32, zfOf(this, v), this.bin32(Op.XOR32, sfOf(this, v), ofOf(this, v))); break;
      }
    }
    return neg ? this.not01(r) : r;
  }

  /** Forgets statically known flags (after a helper that may have changed them). */
  flagsUnknown(): void {
    this.cc = null;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Control flow

  /** Ends the block, continuing at a computed RIP. */
  jump(target: T64): void {
    this.exit(target);
    this.ended = true;
  }

  /** Ends the block, continuing at a known address (an offset, or an absolute RIP: see CodeTarget). */
  jumpTo(target: CodeTarget): void {
    this.exitAt(target);
    this.ended = true;
  }

  /**
   * Ends the block with a two-way branch on `c` (non-zero: taken); or, in a superblock, a forward branch within
   * reach waits for translation to reach its target and the block goes on (see superEnd).
   */
  branch(c: T32, taken: CodeTarget, notTaken: CodeTarget = this.nextOff): void {
    if (notTaken === this.nextOff && typeof taken === 'number' && taken > this.nextOff && taken < this.superEnd) {
      let p = null;
      for (const x of this.pending) if (x.off === taken) p = x;
      if (!p) this.pending.push((p = { off: taken, label: this.label(), cc: [] }));
      p.cc.push(this.cc);
      this.brnz(c, p.label);
      return;
    }
    const l = this.label();
    this.brz(c, l);
    this.exitAt(taken);
    this.place(l);
    this.exitAt(notTaken);
    this.ended = true;
  }

  /**
   * Superblocks: translation reached offset `off`, the target of pending forward branches: their paths join the
   * current one (if it did not end) here. Returns whether there were any.
   */
  mergeAt(off: number): boolean {
    const pending = this.pending;
    let i = 0;
    while (i < pending.length && pending[i]!.off !== off) i++;
    if (i === pending.length) return false;
    const p = pending[i]!;
    pending.splice(i, 1);
    this.place(p.label);
    this.cc = Translator.mergeCc(this.ended ? p.cc : [...p.cc, this.cc]);
    this.ended = false;
    return true;
  }

  /** Superblocks, at the end of the block: pending forward branches become exits to their targets. */
  exitPending(): void {
    if (!this.pending.length) return;
    for (const p of this.pending.splice(0)) {
      this.place(p.label);
      this.exitAt(p.off);
    }
  }

  /** Ends the block after this instruction without a control transfer (mode or translation state changed). */
  endBlock(): void {
    this.exitAt(this.nextOff);
    this.ended = true;
  }

  /** Raises an exception at this instruction and ends the block. */
  fault(vector: number, errorCode = -1): void {
    this.raise(vector, errorCode);
    this.ended = true;
  }
}
