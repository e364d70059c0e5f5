// The notation of the opcode tables, and its parser.
//
// A table is an opcode map: an array of 256 nodes, or a sparse `{ [opcode]: node }` object. A node is
//   - null                        undefined encoding (#UD)
//   - an entry string             "mnemonic op1,op2,... @tag ... #feature"
//   - a switch                    built with the helpers below, choosing a sub-node by one property of the encoding
//
// Entry strings use the operand notation of the Intel SDM, Volume 2, Appendix A ("Opcode Map"), so a reader can
// check a table line against the manual: an addressing method (upper case) followed by an operand type (lower case).
//
// Addressing methods
//   A  far pointer immediate (ptr16:16 / ptr16:32)        O  memory offset (moffs), no ModRM
//   B  GPR in VEX.vvvv                                     P  MMX register in ModRM.reg
//   C  control register in ModRM.reg                       Q  MMX register or memory in ModRM.rm
//   D  debug register in ModRM.reg                         R  GPR in ModRM.rm, mod=3 only
//   E  GPR or memory in ModRM.rm                           S  segment register in ModRM.reg
//   G  GPR in ModRM.reg                                    U  XMM/YMM/ZMM register in ModRM.rm, mod=3 only
//   H  XMM/YMM/ZMM register in VEX.vvvv                    V  XMM/YMM/ZMM register in ModRM.reg
//   I  immediate                                           W  XMM/YMM/ZMM register or memory in ModRM.rm
//   J  relative branch offset                              X  memory DS:rSI (string source; segment overridable)
//   L  XMM/YMM register in imm8[7:4] (is4)                 Y  memory ES:rDI (string destination)
//   M  memory in ModRM.rm, mod!=3 only                     N  MMX register in ModRM.rm, mod=3 only
// Extensions of kemu's own:
//   Z     GPR in the low 3 bits of the opcode (+ REX.B): push/pop/xchg/mov/bswap r
//   KG    opmask register in ModRM.reg      KE  opmask register or memory in ModRM.rm
//   KR    opmask register in ModRM.rm (mod=3)   KH  opmask register in VEX.vvvv
//   BNDG  MPX bound register in ModRM.reg  BNDE bound register or memory in ModRM.rm
//   MVX / MVY / MVZ  VSIB memory (gathers/scatters): index is an XMM / YMM / ZMM register
//   ST (x87 st(0)) and STi (x87 st(i), i = ModRM.rm), written as is
//
// Operand types (sizes in bytes; "opsize" is the effective operand size 2/4/8)
//   b 1   w 2   d 4   q 8   t 10 (x87 80-bit)   dq 16   qq 32   o 64 (512-bit)
//   v opsize   z 2 if opsize is 2, else 4 (immediates sign-extend to opsize)   y 4, or 8 if opsize is 8
//   p far pointer: 2 + opsize (m16:16, m16:32, m16:64)   s pseudo-descriptor: 6, or 10 in 64-bit mode
//   a two opsize values in memory (BOUND)   e x87 environment (14/28, printed unsized)   st x87 state (94/108)
//   x vector length: 16, 32 (VEX.L=1), 64 (EVEX.L'L=2)   h half of x   qu quarter of x   oc eighth of x
//   ps pd  packed (= x)   ss 4   sd 8   pi 8 (MMX)   si 4
//   bs imm8 sign-extended to opsize (83 /x, 6B, 6A)
//   (none) unsized memory (lea, clflush, prefetch, xsave ...) — written "M" alone
// Fixed operands, written as is:
//   AL CL DL BL AH CH DH BH AX CX DX BX SP BP SI DI EAX ECX EDX EBX ESP EBP ESI EDI RAX ... R15 (absolute registers)
//   rAX rCX rDX rBX rSP rBP rSI rDI: opsize-sized register   eAX ...: 2 or 4 bytes (z)
//   ES CS SS DS FS GS   ST0 (= st)   XMM0 (implicit blend mask)   1 (the constant 1 of the shift-by-one forms)
//
// Tags after the operands: @name sets an Attr bit (see types.ts: @lock @rep @repcc @d64 @f64 @i64 @o64 @priv @io
// @fault @jmp @jcc @call @ret @int @serial @a16 @hle @bnd @notrack @stack @str); #name names the CPUID feature.
// EVEX-only tags (what EVEX.b means for the entry; without them EVEX.b=1 is #UD):
//   @bcst   on a memory operand: embedded broadcast of one element of 4 << EVEX.W bytes   @bcst2  ... of 2 bytes (FP16)
//   @er     on a register form: static rounding ({rn-sae} ...), vector length 512
//   @sae    on a register form: suppress all exceptions ({sae}), vector length 512
//   @e1 @e2 @e4 @e8  disp8*N scales by this element size instead of the memory operand size (compress/expand)
//
// Switch nodes (helpers below) and what their cases are:
//   reg(c0..c7)     ModRM.reg                    rm(c0..c7)   ModRM.rm (reached only with mod=3)
//   mod(mem, reg)   ModRM.mod != 3 / == 3        pfx(none, p66, pF3, pF2)  mandatory prefix or VEX/EVEX pp
//   pfxOpt(none, p66, pF3, pF2)  as pfx(), but an undefined case falls back (the prefix is then not mandatory)
//   osz(o16, o32, o64)  effective operand size   asz(a16, a32, a64)  effective address size
//   mode(legacy, long, m16?)  16/32-bit mode vs 64-bit mode; m16, if given, is taken in 16-bit mode instead of legacy
//   W(w0, w1)       REX.W / VEX.W / EVEX.W       L(l0, l1, l2) VEX.L / EVEX.L'L
//   B(b0, b1)       REX.B (only 90: nop vs xchg r8,rAX)
//   suffix({byte: node})  3DNow!: the imm8 after the ModRM/SIB/displacement selects the operation
// osz() sees the operand size from 66/REX.W before @d64/@f64 apply: in 64-bit mode REX.W gives o64, 66 gives o16,
// neither gives o32 (so `9C` is o32 there: objdump's `pushf`; `66 9C` o16: `pushfw`).
// Near branches follow AMD64 (this CPU model is AMD Zen): @d64, so 66 makes them 16-bit, as objdump decodes them.
// A mandatory prefix selected by pfx() is consumed: it is not also an operand-size or repeat prefix.

import { Attr } from './types.ts';

export type SwKind = 'reg' | 'rm' | 'mod' | 'pfx' | 'pfxopt' | 'osz' | 'asz' | 'mode' | 'W' | 'L' | 'B' | 'suffix';
export interface Switch {
  sw: SwKind;
  c: Node[];
}
export type Node = string | null | undefined | Switch | Entry;
export type OpcodeMap = Node[] | { [opcode: number]: Node };

const sw = (kind: SwKind, c: Node[]): Switch => ({ sw: kind, c });
export const reg = (...c: Node[]): Switch => sw('reg', pad(c, 8));
export const rm = (...c: Node[]): Switch => sw('rm', pad(c, 8));
export const mod = (mem: Node, reg: Node): Switch => sw('mod', [mem, reg]);
export const pfx = (none: Node, p66?: Node, pF3?: Node, pF2?: Node): Switch => sw('pfx', [none, p66, pF3, pF2]);
/**
 * Like pfx(), for opcodes where a prefix is mandatory only in some cases: an `undefined` case means that prefix
 * selects nothing here — F3/F2 fall back to the 66-or-none case, 66 to the none case and stays the operand-size
 * prefix. (`null` still means #UD.)
 */
export const pfxOpt = (none: Node, p66?: Node, pF3?: Node, pF2?: Node): Switch => sw('pfxopt', [none, p66, pF3, pF2]);
export const osz = (o16: Node, o32: Node, o64?: Node): Switch => sw('osz', [o16, o32, o64 ?? o32]);
export const asz = (a16: Node, a32: Node, a64?: Node): Switch => sw('asz', [a16, a32, a64 ?? a32]);
export const mode = (legacy: Node, long: Node, m16?: Node): Switch => sw('mode', [legacy, long, m16]);
export const W = (w0: Node, w1: Node): Switch => sw('W', [w0, w1]);
export const L = (l0: Node, l1?: Node, l2?: Node): Switch => sw('L', [l0, l1, l2]);
export const B = (b0: Node, b1: Node): Switch => sw('B', [b0, b1]);
/** 3DNow!: the byte after the ModRM operand bytes is an opcode suffix; cases by its value. */
export const suffix = (cases: Record<number, Node>): Switch => sw('suffix', Array.from({ length: 256 }, (_, i) => cases[i] ?? null));

function pad(c: Node[], n: number): Node[] {
  if (c.length > n) throw new Error(`switch with ${c.length} cases, at most ${n}`);
  while (c.length < n) c.push(null);
  return c;
}

// ---------------------------------------------------------------------------------------------------------------
// Parsed form

/** How an operand is located. */
export enum Loc {
  Fixed, // a fixed register (reg holds the id template) or the constant 1
  ModReg, // ModRM.reg
  ModRm, // ModRM.rm: register or memory
  ModRmReg, // ModRM.rm, register only (R, U, N, KR, STi)
  ModRmMem, // ModRM.rm, memory only (M)
  Vvvv, // VEX.vvvv
  Is4, // imm8[7:4]
  OpLow3, // low 3 bits of the opcode
  Imm,
  Rel,
  Far,
  Moffs,
  StrSrc, // DS:rSI
  StrDst, // ES:rDI
  Vsib, // memory with a vector index
  Const1,
}

/** Register file an operand's register comes from. */
export enum Rf {
  None,
  Gpr,
  Seg,
  Cr,
  Dr,
  Mmx,
  Vec, // XMM/YMM/ZMM, picked by size
  Xmm, // always XMM whatever the size (scalar forms and fixed XMM0)
  St,
  K,
  Bnd,
}

/** Operand size rule. */
export enum Sz {
  Fixed, // `bytes` holds it
  V,
  Z,
  Y,
  P,
  S,
  A,
  X,
  Half,
  Quarter,
  Eighth,
  Bs, // imm8 sign-extended to opsize
  None,
}

export interface OperandSpec {
  text: string;
  loc: Loc;
  rf: Rf;
  sz: Sz;
  bytes: number;
  /** For Loc.Fixed: register index (GPR index, segment index...). */
  fixed: number;
  /** For vector VSIB: the index register size class (16, 32, 64). */
  vsib: number;
}

/** Entry.bcst value meaning "element of 4 << EVEX.W bytes". */
export const BCST_BY_W = -1;

export interface Entry {
  mnemonic: string;
  operands: OperandSpec[];
  attrs: number;
  feature: string;
  /** EVEX embedded broadcast: 0 none, BCST_BY_W, or a fixed element size. */
  bcst: number;
  /** EVEX.b on a register form: static rounding ('er') or suppress-all-exceptions ('sae'). */
  rounding: '' | 'er' | 'sae';
  /** EVEX disp8*N override (element size of compress/expand); 0: the memory operand size. */
  disp8N: number;
  /** The source text, for error messages and table dumps. */
  text: string;
}

const TYPE_BYTES: Record<string, number> = { b: 1, w: 2, d: 4, q: 8, t: 10, dq: 16, qq: 32, o: 64, ss: 4, sd: 8, pi: 8, si: 4, e: 0, st: 0 };
const TYPE_RULE: Record<string, Sz> = {
  v: Sz.V, z: Sz.Z, y: Sz.Y, p: Sz.P, s: Sz.S, a: Sz.A, x: Sz.X, ps: Sz.X, pd: Sz.X, h: Sz.Half, qu: Sz.Quarter,
  oc: Sz.Eighth, bs: Sz.Bs,
};

const METHODS: Record<string, [Loc, Rf]> = {
  A: [Loc.Far, Rf.None],
  B: [Loc.Vvvv, Rf.Gpr],
  C: [Loc.ModReg, Rf.Cr],
  D: [Loc.ModReg, Rf.Dr],
  E: [Loc.ModRm, Rf.Gpr],
  G: [Loc.ModReg, Rf.Gpr],
  H: [Loc.Vvvv, Rf.Vec],
  I: [Loc.Imm, Rf.None],
  J: [Loc.Rel, Rf.None],
  L: [Loc.Is4, Rf.Vec],
  M: [Loc.ModRmMem, Rf.None],
  N: [Loc.ModRmReg, Rf.Mmx],
  O: [Loc.Moffs, Rf.None],
  P: [Loc.ModReg, Rf.Mmx],
  Q: [Loc.ModRm, Rf.Mmx],
  R: [Loc.ModRmReg, Rf.Gpr],
  S: [Loc.ModReg, Rf.Seg],
  U: [Loc.ModRmReg, Rf.Vec],
  V: [Loc.ModReg, Rf.Vec],
  W: [Loc.ModRm, Rf.Vec],
  X: [Loc.StrSrc, Rf.None],
  Y: [Loc.StrDst, Rf.None],
  Z: [Loc.OpLow3, Rf.Gpr],
  KG: [Loc.ModReg, Rf.K],
  KE: [Loc.ModRm, Rf.K],
  KR: [Loc.ModRmReg, Rf.K],
  KH: [Loc.Vvvv, Rf.K],
  BNDG: [Loc.ModReg, Rf.Bnd],
  BNDE: [Loc.ModRm, Rf.Bnd],
  MVX: [Loc.Vsib, Rf.None],
  MVY: [Loc.Vsib, Rf.None],
  MVZ: [Loc.Vsib, Rf.None],
};

const GPR_NAMES: Record<string, [number, number]> = {};
['AL', 'CL', 'DL', 'BL'].forEach((n, i) => (GPR_NAMES[n] = [i, 1]));
['AH', 'CH', 'DH', 'BH'].forEach((n, i) => (GPR_NAMES[n] = [16 + i, 1]));
['AX', 'CX', 'DX', 'BX', 'SP', 'BP', 'SI', 'DI'].forEach((n, i) => {
  GPR_NAMES[n] = [i, 2];
  GPR_NAMES['E' + n] = [i, 4];
  GPR_NAMES['R' + n] = [i, 8];
});
for (let i = 8; i < 16; i++) GPR_NAMES[`R${i}`] = [i, 8];
const SEGS = ['ES', 'CS', 'SS', 'DS', 'FS', 'GS'];

function spec(text: string, loc: Loc, rf: Rf, sz: Sz, bytes = 0, fixed = 0, vsib = 0): OperandSpec {
  return { text, loc, rf, sz, bytes, fixed, vsib };
}

export function parseOperand(t: string): OperandSpec {
  if (t === '1') return spec(t, Loc.Const1, Rf.None, Sz.Fixed, 1);
  if (t === 'ST' || t === 'ST0') return spec(t, Loc.Fixed, Rf.St, Sz.Fixed, 10, 0);
  if (t === 'STi') return spec(t, Loc.ModRmReg, Rf.St, Sz.Fixed, 10);
  if (t === 'XMM0') return spec(t, Loc.Fixed, Rf.Xmm, Sz.Fixed, 16, 0);
  const g = GPR_NAMES[t];
  if (g) return spec(t, Loc.Fixed, Rf.Gpr, Sz.Fixed, g[1], g[0]);
  const s = SEGS.indexOf(t);
  if (s >= 0) return spec(t, Loc.Fixed, Rf.Seg, Sz.Fixed, 2, s);
  const m = /^([re])(AX|CX|DX|BX|SP|BP|SI|DI)$/.exec(t);
  if (m) return spec(t, Loc.Fixed, Rf.Gpr, m[1] === 'r' ? Sz.V : Sz.Z, 0, ['AX', 'CX', 'DX', 'BX', 'SP', 'BP', 'SI', 'DI'].indexOf(m[2]!));
  const mm = /^([A-Z]+)([a-z]*)$/.exec(t);
  if (!mm) throw new Error(`bad operand '${t}'`);
  const method = METHODS[mm[1]!];
  if (!method) throw new Error(`unknown addressing method in '${t}'`);
  const type = mm[2]!;
  let [loc, rf] = method;
  let sz: Sz;
  let bytes = 0;
  if (type === '') {
    if (loc !== Loc.ModRmMem && loc !== Loc.Vsib) throw new Error(`operand '${t}' needs a type`);
    sz = Sz.None;
  } else if (type in TYPE_RULE) {
    sz = TYPE_RULE[type]!;
  } else if (type in TYPE_BYTES) {
    sz = Sz.Fixed;
    bytes = TYPE_BYTES[type]!;
  } else throw new Error(`unknown operand type in '${t}'`);
  // Scalar vector operands live in XMM registers whatever their memory size.
  if (rf === Rf.Vec && sz === Sz.Fixed && bytes <= 16) rf = Rf.Xmm;
  const vsib = loc === Loc.Vsib ? { MVX: 16, MVY: 32, MVZ: 64 }[mm[1] as 'MVX' | 'MVY' | 'MVZ'] : 0;
  if (sz === Sz.Bs && loc !== Loc.Imm) throw new Error(`'bs' is for immediates: '${t}'`);
  return spec(t, loc, rf, sz, bytes, 0, vsib);
}

const ATTR_TAGS: Record<string, number> = {
  lock: Attr.LOCK, rep: Attr.REP, repcc: Attr.REPCC, d64: Attr.D64, f64: Attr.F64, i64: Attr.I64, o64: Attr.O64,
  priv: Attr.PRIV, io: Attr.IO, fault: Attr.FAULT, jmp: Attr.JMP, jcc: Attr.JCC, call: Attr.CALL, ret: Attr.RET,
  int: Attr.INT, serial: Attr.SERIAL, a16: Attr.A16, hle: Attr.XACQ, bnd: Attr.BND, notrack: Attr.NOTRACK,
  stack: Attr.STACK, str: Attr.STR,
};

const entryCache = new Map<string, Entry>();

/** Parses an entry string; throws with the text on any error (tables are checked when they load). */
export function parseEntry(text: string): Entry {
  const hit = entryCache.get(text);
  if (hit) return hit;
  const words = text.trim().split(/\s+/);
  const mnemonic = words.shift();
  if (!mnemonic) throw new Error(`empty table entry`);
  let attrs = 0;
  let feature = '';
  let operands: OperandSpec[] = [];
  let bcst = 0;
  let rounding: Entry['rounding'] = '';
  let disp8N = 0;
  try {
    for (const w of words) {
      if (w === '@bcst') bcst = BCST_BY_W;
      else if (w === '@bcst2') bcst = 2;
      else if (w === '@er' || w === '@sae') rounding = w.slice(1) as 'er' | 'sae';
      else if (/^@e[1248]$/.test(w)) disp8N = Number(w.slice(2));
      else if (w.startsWith('@')) {
        const a = ATTR_TAGS[w.slice(1)];
        if (a === undefined) throw new Error(`unknown tag ${w}`);
        attrs |= a;
      } else if (w.startsWith('#')) {
        feature = w.slice(1);
      } else {
        if (operands.length) throw new Error(`operands must be one comma-separated word`);
        operands = w.split(',').map(parseOperand);
      }
    }
  } catch (e) {
    throw new Error(`table entry '${text}': ${(e as Error).message}`);
  }
  for (const o of operands) {
    if (o.loc === Loc.ModRmReg) attrs |= Attr.MOD3;
    if (o.loc === Loc.ModRmMem || o.loc === Loc.Vsib) attrs |= Attr.MEMONLY;
  }
  const entry: Entry = { mnemonic, operands, attrs, feature, bcst, rounding, disp8N, text };
  entryCache.set(text, entry);
  return entry;
}

/** Merges two maps that fill different slots (or different prefix cases of one slot); overlaps are errors. */
export function mergeMaps(...maps: OpcodeMap[]): Node[] {
  const out: Node[] = new Array(256).fill(null);
  for (const m of maps) {
    for (let op = 0; op < 256; op++) {
      const n = (m as Record<number, Node>)[op];
      if (n === null || n === undefined) continue;
      out[op] = mergeNode(out[op], n, op);
    }
  }
  return out;
}

function mergeNode(a: Node, b: Node, op: number): Node {
  if (a === null || a === undefined) return b;
  if (b === null || b === undefined) return a;
  if (typeof a === 'object' && typeof b === 'object' && 'sw' in a && 'sw' in b && a.sw === b.sw) {
    return { sw: a.sw, c: a.c.map((x, i) => mergeNode(x, b.c[i], op)) };
  }
  throw new Error(`opcode ${op.toString(16)}: two tables define the same encoding`);
}
