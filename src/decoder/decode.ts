// The decode engine: prefixes, REX/VEX/EVEX, the walk through the table switches, ModRM/SIB/displacement,
// immediates, and operand construction from the table's operand specs. Never throws on any input; never reads
// more than 15 bytes.
import {
  Attr, Flag, Invalid, OpKind, OpMap, Pfx, RegClass, STATUS_FLAGS, WalkUse,
  type Instruction, type Mode, type Operand,
} from './types.ts';
import { BCST_BY_W, Loc, Rf, Sz, parseEntry, type Entry, type Node, type OperandSpec, type SwKind } from './notation.ts';
import { LEGACY, VEX, EVEX } from './tables/index.ts';
import { FLAG_EFFECTS } from './flags.ts';
import { RIP } from './regs.ts';

// ---------------------------------------------------------------------------------------------------------------
// Compiled tables: strings parsed once into entries, switches into numeric-kind nodes.

const enum K { Reg, Rm, Mod, Pfx, PfxOpt, Osz, Asz, Mode, W, L, B, Suffix }
const KIND: Record<SwKind, K> = { reg: K.Reg, rm: K.Rm, mod: K.Mod, pfx: K.Pfx, pfxopt: K.PfxOpt, osz: K.Osz, asz: K.Asz, mode: K.Mode, W: K.W, L: K.L, B: K.B, suffix: K.Suffix };

/** An entry with what the engine needs precomputed. */
interface Op {
  e: Entry;
  modrm: boolean; // has a ModRM byte (some operand lives in it)
  vvvv: boolean; // uses VEX.vvvv
  crdr: boolean; // mov to/from CR/DR: ModRM.mod is ignored, rm is always a register
  vsib: boolean;
  fr: number;
  fw: number;
  fu: number;
}
interface CSwitch {
  k: K;
  c: (CNode | undefined)[];
  readsModrm: boolean;
}
type CNode = Op | CSwitch | null;

const FLAG_LETTERS: Record<string, number> = {
  O: Flag.OF, S: Flag.SF, Z: Flag.ZF, A: Flag.AF, P: Flag.PF, C: Flag.CF, D: Flag.DF, I: Flag.IF, T: Flag.TF,
  X: Flag.SYS | STATUS_FLAGS | Flag.DF | Flag.IF | Flag.TF,
};

function flagMasks(mnemonic: string): [number, number, number] {
  const text = FLAG_EFFECTS[mnemonic];
  const m: [number, number, number] = [0, 0, 0];
  if (!text) return m;
  for (const part of text.trim().split(/\s+/)) {
    const [kind, letters] = part.split(':') as [string, string | undefined];
    const slot = kind === 'r' ? 0 : kind === 'w' ? 1 : kind === 'u' ? 2 : -1;
    if (slot < 0 || letters === undefined) throw new Error(`flags of '${mnemonic}': bad part '${part}'`);
    for (const ch of letters) {
      const bit = FLAG_LETTERS[ch.toUpperCase()];
      if (bit === undefined) throw new Error(`flags of '${mnemonic}': unknown flag '${ch}'`);
      m[slot as 0 | 1 | 2] |= bit;
    }
  }
  m[1] |= m[2]; // undefined flags are written
  return m;
}

const opCache = new Map<Entry, Op>();
function compileEntry(e: Entry): Op {
  let op = opCache.get(e);
  if (op) return op;
  const modrm = e.operands.some(
    (o) => o.loc === Loc.ModReg || o.loc === Loc.ModRm || o.loc === Loc.ModRmReg || o.loc === Loc.ModRmMem || o.loc === Loc.Vsib,
  );
  const [fr, fw, fu] = flagMasks(e.mnemonic);
  op = {
    e,
    modrm,
    vvvv: e.operands.some((o) => o.loc === Loc.Vvvv),
    crdr: e.operands.some((o) => o.rf === Rf.Cr || o.rf === Rf.Dr),
    vsib: e.operands.some(isVsib),
    fr,
    fw,
    fu,
  };
  opCache.set(e, op);
  return op;
}

const compiled = new WeakMap<object, CNode>();
/** Compiles a table node; a source node shared by several cases compiles to one object (the walk compares them). */
function compile(n: Node): CNode {
  if (n === null || n === undefined) return null;
  if (typeof n === 'string') return compileEntry(parseEntry(n));
  let c = compiled.get(n);
  if (c === undefined) compiled.set(n, (c = compileNode(n)));
  return c;
}

function compileNode(n: Exclude<Node, string | null | undefined>): CNode {
  if ('sw' in n) {
    const k = KIND[n.sw];
    // pfxopt keeps `undefined` (fall back) apart from null (#UD)
    const c = n.c.map((x) => (k === K.PfxOpt && x === undefined ? undefined : compile(x)));
    return { k, c, readsModrm: k === K.Reg || k === K.Rm || k === K.Mod || k === K.Suffix };
  }
  return compileEntry(n);
}

const compileMap = (m: Node[]): CNode[] => {
  const out: CNode[] = new Array(256).fill(null);
  for (let i = 0; i < 256; i++) out[i] = compile(m[i]);
  return out;
};
const LEGACY_C = LEGACY.map(compileMap);
const VEX_C = VEX.map((m) => (m.length ? compileMap(m) : []));
const EVEX_C = EVEX.map((m) => (m.length ? compileMap(m) : []));

/** Map-1 EVEX opcodes that carry an imm8 (for lengths of EVEX encodings the tables do not name). */
const EVEX_MAP1_IMM = new Set([0x70, 0x71, 0x72, 0x73, 0xc2, 0xc4, 0xc5, 0xc6]);

// ---------------------------------------------------------------------------------------------------------------
// Decoder state for one call (module-level: decode is synchronous and not re-entrant).

const END = { end: true }; // thrown when the bytes run out or 15 are exceeded

let code: Uint8Array = new Uint8Array(0);
let start = 0;
let pos = 0;
let limit = 0;

function rd8(): number {
  if (pos >= limit) throw END;
  return code[pos++]!;
}
function rd16(): number {
  const lo = rd8();
  return lo | (rd8() << 8);
}
function rd32(): number {
  const lo = rd16();
  return (lo | (rd16() << 16)) >>> 0;
}
function rdSigned(bytes: number): number {
  switch (bytes) {
    case 1:
      return (rd8() << 24) >> 24;
    case 2:
      return (rd16() << 16) >> 16;
    default:
      return rd32() | 0;
  }
}
function rd64(): bigint {
  const lo = rd32();
  const hi = rd32();
  return (BigInt(hi) << 32n) | BigInt(lo);
}

// Per-instruction decode fields.
let dmode: Mode = 64;
let prefixes = 0;
let lastRep = 0; // 0, 0xf2 or 0xf3: the last of F2/F3
let segOvr = -1; // the segment override that applies
let rex = 0;
let vexW = 0;
let vexL = 0;
let vexV = 0;
let vexR2 = 0; // EVEX R'
let vexX = 0;
let vexPP = 0;
let evexAaa = 0;
let evexZ = 0;
let evexB = 0;
let evexRc = -1;
let badReg = false; // an operand named a register that does not exist (opmask 8-15)
let modrm = -1;
let mandatory = 0;
let opsizeFree = true; // 66 not consumed as a mandatory prefix

// Memory operand of the ModRM, filled by readAddress().
let mBase = -1;
let mIndex = -1;
let mScale = 1;
let mDisp = 0;
let mDispSize = 0;
let mSeg = 3;
let imm8Is4 = -1; // the is4/imm8 byte once read
let addressRead = false; // a suffix() switch already consumed SIB/displacement

function newOperand(): Operand {
  return { kind: OpKind.None, size: 0, reg: 0, seg: 0, base: -1, index: -1, scale: 1, disp: 0, dispSize: 0, imm: 0, immSize: 0, wide: 0n, sel: 0, bcst: 0 };
}

export function newInstruction(): Instruction {
  return {
    length: 0, mnemonic: '(bad)', invalid: Invalid.None, mode: 64, operands: [], opSize: 4, addrSize: 8, prefixes: 0,
    segOverride: -1, prefixCount: 0, rex: 0, vexL: 0, vexW: 0, vexV: 0, evexAaa: 0, evexZ: 0, evexB: 0, evexRc: -1,
    map: OpMap.Primary, opcode: 0, modrm: -1, mandatoryPrefix: 0, repPrefix: 0, pfxCase: -1, walk: 0, entry: null, attrs: 0, feature: '', flagsRead: 0,
    flagsWritten: 0, flagsUndefined: 0,
  };
}

const gpr = (i: number) => (RegClass.GPR << 8) | i;
const reg = (cls: RegClass, i: number) => (cls << 8) | i;

/**
 * Decodes one instruction at `offset` in `bytes`. `out` is reused if given (its operand objects too).
 * Invalid encodings come back with `invalid` set and mnemonic '(bad)'; this function never throws.
 */
export function decode(bytes: Uint8Array, offset: number, mode: Mode, out: Instruction = newInstruction()): Instruction {
  code = bytes;
  start = offset;
  pos = offset;
  limit = Math.min(bytes.length, offset + 15);
  dmode = mode;
  out.mode = mode;
  try {
    decodeInto(out);
  } catch (e) {
    if (e !== END) throw e;
    fail(out, pos >= start + 15 ? Invalid.TooLong : Invalid.Truncated);
    out.length = Math.max(1, pos - start);
  }
  return out;
}

function fail(out: Instruction, why: Invalid): void {
  out.invalid = why;
  out.mnemonic = '(bad)';
  out.operands.length = 0;
  out.attrs = 0;
  out.entry = null;
  out.feature = '';
  out.flagsRead = out.flagsWritten = out.flagsUndefined = 0;
}

function decodeInto(out: Instruction): void {
  prefixes = 0;
  lastRep = 0;
  segOvr = -1;
  rex = 0;
  vexW = vexL = vexV = vexR2 = vexX = vexPP = 0;
  evexAaa = evexZ = evexB = 0;
  evexRc = -1;
  badReg = false;
  modrm = -1;
  mandatory = 0;
  opsizeFree = true;
  imm8Is4 = -1;
  addressRead = false;
  out.invalid = Invalid.None;

  // ---- legacy prefixes and REX ----
  let b: number;
  let nLegacy = 0;
  for (;;) {
    b = rd8();
    let seg = -1;
    switch (b) {
      case 0xf0: prefixes |= Pfx.LOCK; break;
      case 0xf2: prefixes |= Pfx.REPNE; lastRep = b; break;
      case 0xf3: prefixes |= Pfx.REP; lastRep = b; break;
      case 0x66: prefixes |= Pfx.OPSIZE; break;
      case 0x67: prefixes |= Pfx.ADDRSIZE; break;
      case 0x26: seg = 0; break;
      case 0x2e: seg = 1; break;
      case 0x36: seg = 2; break;
      case 0x3e: seg = 3; break;
      case 0x64: seg = 4; break;
      case 0x65: seg = 5; break;
      default:
        if (dmode === 64 && (b & 0xf0) === 0x40) {
          rex = b;
          continue; // a REX followed by another prefix is ignored (cleared below)
        }
        seg = -2;
    }
    if (seg === -2) break;
    if (seg >= 0) {
      // 64-bit mode ignores ES/CS/SS/DS overrides: they neither apply (not even to choose #SS) nor cancel an
      // earlier FS/GS (checked on the hardware).
      if (dmode !== 64 || seg >= 4) segOvr = seg;
      prefixes |= Pfx.SEG;
    }
    rex = 0;
    nLegacy++;
  }
  if (rex) prefixes |= Pfx.REX;
  out.prefixCount = nLegacy;
  out.segOverride = segOvr;
  out.repPrefix = lastRep;

  // ---- opcode, map ----
  let map: OpMap = OpMap.Primary;
  let table: CNode[];
  let isVex = false;
  let isEvex = false;
  if (b === 0x0f) {
    b = rd8();
    if (b === 0x38) {
      map = OpMap.M0F38;
      b = rd8();
    } else if (b === 0x3a) {
      map = OpMap.M0F3A;
      b = rd8();
    } else map = OpMap.M0F;
    table = LEGACY_C[map]!;
  } else if ((b === 0xc4 || b === 0xc5 || b === 0x62) && (dmode === 64 || peek() >= 0xc0)) {
    if (prefixes & (Pfx.OPSIZE | Pfx.REP | Pfx.REPNE | Pfx.LOCK) || rex) {
      // VEX/EVEX after 66/F2/F3/LOCK/REX is #UD; consume the rest for a sensible length.
      out.length = pos - start;
      fail(out, Invalid.Undefined);
      return;
    }
    if (b === 0x62) {
      isEvex = true;
      prefixes |= Pfx.EVEX;
      const p0 = rd8();
      const p1 = rd8();
      const p2 = rd8();
      map = (p0 & 7) as OpMap;
      if (dmode === 64) {
        rex = 0x40 | (p0 & 0x80 ? 0 : 4) | (p0 & 0x40 ? 0 : 2) | (p0 & 0x20 ? 0 : 1);
        vexR2 = p0 & 0x10 ? 0 : 1;
        vexX = p0 & 0x40 ? 0 : 1;
      }
      vexW = p1 >> 7;
      vexV = (~p1 >> 3) & 15;
      vexPP = p1 & 3;
      evexZ = p2 >> 7;
      vexL = (p2 >> 5) & 3;
      evexB = (p2 >> 4) & 1;
      if (dmode === 64) vexV |= p2 & 8 ? 0 : 16;
      else vexV &= 7;
      evexAaa = p2 & 7;
      b = rd8();
      // EVEX.b on a register form: L'L is a rounding mode and the vector length is 512.
      if (evexB && peek() >= 0xc0) {
        evexRc = vexL;
        vexL = 2;
      }
      table = EVEX_C[map] ?? [];
    } else {
      isVex = true;
      prefixes |= Pfx.VEX;
      if (b === 0xc5) {
        const p = rd8();
        if (dmode === 64) rex = 0x40 | (p & 0x80 ? 0 : 4);
        vexV = (~p >> 3) & 15;
        vexL = (p >> 2) & 1;
        vexPP = p & 3;
        map = OpMap.M0F;
      } else {
        const p0 = rd8();
        const p1 = rd8();
        if (dmode === 64) rex = 0x40 | (p0 & 0x80 ? 0 : 4) | (p0 & 0x40 ? 0 : 2) | (p0 & 0x20 ? 0 : 1);
        map = (p0 & 0x1f) as OpMap;
        vexW = p1 >> 7;
        vexV = (~p1 >> 3) & 15;
        vexL = (p1 >> 2) & 1;
        vexPP = p1 & 3;
      }
      if (dmode !== 64) vexV &= 7;
      b = rd8();
      table = VEX_C[map] ?? [];
    }
    if (rex === 0x40) rex = 0;
  } else {
    table = LEGACY_C[OpMap.Primary]!;
  }
  out.map = map;
  out.opcode = b;
  out.rex = rex;
  out.vexL = vexL;
  out.vexW = isVex || isEvex ? vexW : rex & 8 ? 1 : 0;
  out.vexV = vexV;
  out.evexAaa = evexAaa;
  out.evexZ = evexZ;
  out.evexB = evexB;
  out.evexRc = -1;
  out.prefixes = prefixes;

  // ---- walk the switches ----
  let walk = 0;
  let pfxCase = -1;
  let node: CNode | undefined = table[b] ?? null;
  while (node !== null && node !== undefined && 'k' in node) {
    const s: CSwitch = node;
    if (s.readsModrm && modrm < 0) modrm = rd8();
    let i: number;
    switch (s.k) {
      case K.Reg: i = (modrm >> 3) & 7; break;
      case K.Rm: i = modrm & 7; break;
      case K.Mod: i = modrm >= 0xc0 ? 1 : 0; break;
      case K.Pfx:
        if (isVex || isEvex) i = vexPP;
        else if (lastRep) i = lastRep === 0xf3 ? 2 : 3;
        else i = prefixes & Pfx.OPSIZE ? 1 : 0;
        mandatory = [0, 0x66, 0xf3, 0xf2][i]!;
        if (mandatory === 0x66) opsizeFree = false;
        pfxCase = isVex || isEvex || s.c[i] !== s.c[0] ? i : 0;
        break;
      case K.PfxOpt: {
        const c = s.c;
        const r = lastRep === 0xf3 ? 2 : 3;
        if (isVex || isEvex) i = vexPP;
        else if (lastRep && c[r] !== undefined) i = r;
        else i = prefixes & Pfx.OPSIZE && c[1] !== undefined ? 1 : 0;
        mandatory = [0, 0x66, 0xf3, 0xf2][i]!;
        if (mandatory === 0x66) opsizeFree = false;
        pfxCase = isVex || isEvex || c[i] !== c[0] ? i : 0;
        break;
      }
      case K.Osz: {
        const o66 = (prefixes & Pfx.OPSIZE) !== 0 && opsizeFree;
        const w = (rex >> 3) & 1;
        i = oszCase(o66, w);
        if (o66 && s.c[i] !== s.c[oszCase(false, w)]) walk |= WalkUse.OSZ66;
        if (w && s.c[i] !== s.c[oszCase(o66, 0)]) walk |= WalkUse.OSZW;
        break;
      }
      case K.Asz: {
        const a67 = (prefixes & Pfx.ADDRSIZE) !== 0;
        i = aszCase(a67);
        if (a67 && s.c[i] !== s.c[aszCase(false)]) walk |= WalkUse.ASZ67;
        break;
      }
      case K.Mode: i = dmode === 64 ? 1 : dmode === 16 && s.c[2] ? 2 : 0; break;
      case K.W:
        i = isVex || isEvex ? vexW : (rex >> 3) & 1;
        if (s.c[0] !== s.c[1]) walk |= WalkUse.W;
        break;
      case K.L: i = vexL; break;
      case K.B: i = rex & 1; break;
      case K.Suffix:
        if (modrm < 0xc0) readAddress(addrSize());
        addressRead = true;
        i = rd8();
        break;
    }
    node = s.c[i] ?? null;
  }
  out.mandatoryPrefix = mandatory;
  out.pfxCase = pfxCase;
  out.walk = walk;
  out.modrm = modrm;

  if (!node) {
    // Undefined. EVEX encodings still get their architectural length (ModRM, SIB, displacement, imm8).
    if (isEvex) {
      if (modrm < 0) modrm = rd8();
      readAddress(1);
      if (map === OpMap.M0F3A || (map === OpMap.M0F && EVEX_MAP1_IMM.has(b))) rd8();
    }
    out.length = pos - start;
    fail(out, Invalid.Undefined);
    return;
  }
  const op: Op = node;
  const e = op.e;
  const attrs = e.attrs;
  if (op.modrm && modrm < 0) modrm = rd8();
  out.modrm = modrm;

  // ---- operand and address size ----
  let opSize: number;
  const o66 = (prefixes & Pfx.OPSIZE) !== 0 && opsizeFree;
  if (isVex || isEvex) opSize = dmode === 64 && vexW && e.operands.some(isGprY) ? 8 : 4; // W selects 64-bit GPRs
  else if (dmode === 64) {
    if (attrs & Attr.F64) opSize = 8;
    else if (rex & 8) opSize = 8;
    else if (o66) opSize = 2;
    else opSize = attrs & Attr.D64 ? 8 : 4;
  } else opSize = (dmode === 16) !== o66 ? 2 : 4;
  out.opSize = opSize;
  const aSize = addrSize();
  out.addrSize = aSize;

  // ---- validity ----
  let bad = Invalid.None;
  if (dmode === 64 ? attrs & Attr.I64 : attrs & Attr.O64) bad = Invalid.Undefined;
  if (modrm >= 0 && !op.crdr) {
    if (attrs & Attr.MOD3 && modrm < 0xc0) bad = Invalid.Undefined;
    if (attrs & Attr.MEMONLY && modrm >= 0xc0) bad = Invalid.Undefined;
  }
  if ((isVex || isEvex) && !op.vvvv && (vexV & 15) !== 0) bad = Invalid.Undefined;
  if (isEvex) {
    if (evexRc >= 0) {
      if (!e.rounding) bad = Invalid.Undefined;
      else out.evexRc = e.rounding === 'sae' ? 4 : evexRc;
    } else if (vexL === 3) bad = Invalid.Undefined;
    else if (evexB && !e.bcst) bad = Invalid.Undefined;
  }

  // ---- ModRM memory operand: SIB and displacement ----
  if (modrm >= 0 && modrm < 0xc0 && !op.crdr) {
    if (!addressRead) readAddress(aSize);
    if (e.operands.some(isVsib) && sibIndex < 0) bad = Invalid.Undefined; // VSIB needs a SIB byte
  }

  // ---- operands ----
  const ops = out.operands;
  const specs = e.operands;
  const vl = isEvex ? 16 << Math.min(vexL, 2) : isVex ? (vexL ? 32 : 16) : 16;
  let n = 0;
  for (let i = 0; i < specs.length; i++) {
    const s = specs[i]!;
    let o = ops[n];
    if (!o) ops[n] = o = newOperand();
    else resetOperand(o);
    n++;
    const size = sizeOf(s, opSize, vl);
    o.size = size;
    switch (s.loc) {
      case Loc.Fixed:
        o.kind = OpKind.Reg;
        if (s.rf === Rf.Gpr) o.reg = gpr(s.fixed);
        else if (s.rf === Rf.Seg) o.reg = reg(RegClass.SEG, s.fixed);
        else if (s.rf === Rf.St) o.reg = reg(RegClass.ST, 0);
        else o.reg = reg(RegClass.XMM, s.fixed);
        break;
      case Loc.Const1:
        o.kind = OpKind.Imm;
        o.imm = 1;
        break;
      case Loc.ModReg:
        o.kind = OpKind.Reg;
        o.reg = regFrom(s.rf, ((modrm >> 3) & 7) | ((rex & 4) << 1) | (vexR2 << 4), size);
        if (s.rf === Rf.Seg && (((modrm >> 3) & 7) > 5 || (i === 0 && ((modrm >> 3) & 7) === 1))) bad = Invalid.Undefined; // no mov to CS
        if (s.rf === Rf.Cr && prefixes & Pfx.LOCK && dmode !== 64) o.reg |= 8; // AMD: LOCK MOV CR0 is CR8
        break;
      case Loc.ModRm:
      case Loc.ModRmReg:
      case Loc.ModRmMem:
      case Loc.Vsib:
        if (modrm >= 0xc0 || op.crdr) {
          o.kind = OpKind.Reg;
          if (s.rf === Rf.St) o.reg = reg(RegClass.ST, modrm & 7);
          else o.reg = regFrom(s.rf, (modrm & 7) | ((rex & 1) << 3) | (vexX << 4), size);
        } else {
          memOperand(o, s, size, isEvex ? e : null);
        }
        break;
      case Loc.Vvvv:
        o.kind = OpKind.Reg;
        o.reg = regFrom(s.rf, s.rf === Rf.Gpr || s.rf === Rf.K ? vexV & 15 : vexV, size);
        break;
      case Loc.Is4:
        if (imm8Is4 < 0) imm8Is4 = rd8();
        o.kind = OpKind.Reg;
        o.reg = regFrom(s.rf, (imm8Is4 >> 4) & (dmode === 64 ? 15 : 7), size);
        break;
      case Loc.OpLow3:
        o.kind = OpKind.Reg;
        o.reg = regFrom(s.rf, (b & 7) | ((rex & 1) << 3), size);
        break;
      case Loc.Imm: {
        o.kind = OpKind.Imm;
        const w = s.sz === Sz.Bs ? 1 : s.sz === Sz.Z ? (opSize === 2 ? 2 : 4) : size;
        o.immSize = w;
        if (s.sz === Sz.Z) o.size = opSize; // imm16/32 sign-extended to the operand size
        if (w === 8) {
          o.wide = rd64();
          o.imm = Number(BigInt.asIntN(32, o.wide));
        } else o.imm = rdSigned(w);
        break;
      }
      case Loc.Rel: {
        o.kind = OpKind.Rel;
        const w = s.sz === Sz.Fixed ? s.bytes : opSize === 2 ? 2 : 4;
        o.immSize = w;
        o.imm = rdSigned(w);
        o.size = opSize;
        break;
      }
      case Loc.Far: {
        o.kind = OpKind.Far;
        const w = opSize === 2 ? 2 : 4;
        o.immSize = w;
        o.imm = w === 2 ? rd16() : rd32();
        o.sel = rd16();
        break;
      }
      case Loc.Moffs:
        o.kind = OpKind.Mem;
        o.seg = segOvr >= 0 ? segOvr : 3;
        o.dispSize = aSize;
        if (aSize === 8) {
          o.wide = rd64();
          o.disp = Number(BigInt.asIntN(32, o.wide));
        } else o.disp = aSize === 2 ? rd16() : rd32() | 0;
        break;
      case Loc.StrSrc:
      case Loc.StrDst:
        o.kind = OpKind.Mem;
        o.base = gpr(s.loc === Loc.StrSrc ? 6 : 7);
        o.seg = s.loc === Loc.StrDst ? 0 : segOvr >= 0 ? segOvr : 3;
        break;
    }
  }
  ops.length = n;
  if (badReg) bad = Invalid.Undefined;
  if (op.vsib && !bad) bad = gatherCheck(ops, isEvex);

  if (bad) {
    out.length = pos - start;
    fail(out, bad);
    return;
  }
  // A misplaced LOCK is #UD, but the instruction is otherwise well formed: keep it, so a disassembler can show
  // `lock psraw mm6,mm1` as objdump does.
  const lockable = ((attrs & Attr.LOCK) !== 0 && n > 0 && ops[0]!.kind === OpKind.Mem) || (op.crdr && dmode !== 64);
  out.invalid = prefixes & Pfx.LOCK && !lockable ? Invalid.BadLock : Invalid.None;

  out.length = pos - start;
  out.mnemonic = e.mnemonic;
  out.entry = e;
  out.attrs = attrs;
  out.feature = e.feature;
  out.flagsRead = op.fr;
  out.flagsWritten = op.fw;
  out.flagsUndefined = op.fu;
  if (b === 0x9b && map === OpMap.Primary && !rex) foldWait(out);
}

/**
 * FWAIT followed by an x87 instruction is one instruction, as objdump shows it: the no-wait control forms take their
 * waiting names (`fstsw ax` is 9B DF E0), the others (which wait anyway) keep theirs. Semantically exact: every x87
 * instruction but the fn* forms checks pending exceptions just as FWAIT does.
 */
function foldWait(out: Instruction): void {
  const at = pos;
  const first = start;
  const next = decode(code, at, dmode, newInstruction()); // fresh: this may recurse (9B 9B ...)
  const m = next.mnemonic;
  const x87 = next.map === OpMap.Primary && next.opcode >= 0xd8 && next.opcode <= 0xdf;
  if (next.invalid || !x87) {
    start = first; // decode() above moved the module state; only `out` matters now
    return;
  }
  const ops = out.operands;
  Object.assign(out, next, { operands: ops, length: at - first + next.length, mnemonic: m.startsWith('fn') && m !== 'fnop' ? 'f' + m.slice(2) : m });
  ops.length = 0;
  for (const o of next.operands) ops.push({ ...o });
  out.prefixCount = next.prefixCount;
}

/**
 * Gathers and scatters: #UD when VEX destination, index and mask are not three different registers, and for
 * EVEX when the mask is k0 or a gather's destination is its index.
 */
function gatherCheck(ops: Operand[], isEvex: boolean): Invalid {
  const mem = ops.find((o) => o.kind === OpKind.Mem);
  if (!mem || mem.index < 0) return Invalid.None;
  const idx = mem.index & 0xff;
  const regs = ops.filter((o) => o.kind === OpKind.Reg && (o.reg >> 8) !== RegClass.K).map((o) => o.reg & 0xff);
  if (isEvex) {
    if (evexAaa === 0) return Invalid.Undefined;
    if (ops[0]!.kind === OpKind.Reg && (ops[0]!.reg & 0xff) === idx) return Invalid.Undefined;
    return Invalid.None;
  }
  const all = [...regs, idx];
  return new Set(all).size === all.length ? Invalid.None : Invalid.Undefined;
}

function peek(): number {
  return pos < limit ? code[pos]! : 0;
}

/** The osz() case for a given 66/REX.W combination in the current mode. */
function oszCase(o66: boolean, w: number): number {
  if (dmode === 64) return w ? 2 : o66 ? 0 : 1;
  return (dmode === 16) !== o66 ? 0 : 1;
}

/** The asz() case with or without 67 in the current mode. */
function aszCase(a67: boolean): number {
  if (dmode === 64) return a67 ? 1 : 2;
  return (dmode === 16) !== a67 ? 0 : 1;
}

function addrSize(): number {
  const a67 = (prefixes & Pfx.ADDRSIZE) !== 0;
  if (dmode === 64) return a67 ? 4 : 8;
  return (dmode === 16) !== a67 ? 2 : 4;
}

function isGprY(s: OperandSpec): boolean {
  return s.rf === Rf.Gpr && (s.sz === Sz.Y || s.sz === Sz.V);
}
function isVsib(s: OperandSpec): boolean {
  return s.loc === Loc.Vsib;
}

function resetOperand(o: Operand): void {
  o.kind = OpKind.None;
  o.size = 0;
  o.reg = 0;
  o.seg = 0;
  o.base = -1;
  o.index = -1;
  o.scale = 1;
  o.disp = 0;
  o.dispSize = 0;
  o.imm = 0;
  o.immSize = 0;
  o.wide = 0n;
  o.sel = 0;
  o.bcst = 0;
}

function sizeOf(s: OperandSpec, opSize: number, vl: number): number {
  switch (s.sz) {
    case Sz.Fixed: return s.bytes;
    case Sz.V: return opSize;
    case Sz.Z: return opSize === 2 ? 2 : 4;
    case Sz.Y: return opSize === 8 ? 8 : 4;
    case Sz.P: return 2 + opSize;
    case Sz.S: return dmode === 64 ? 10 : 6;
    case Sz.A: return 2 * opSize;
    case Sz.X: return vl;
    case Sz.Half: return vl >> 1;
    case Sz.Quarter: return vl >> 2;
    case Sz.Eighth: return vl >> 3;
    case Sz.Bs: return opSize;
    case Sz.None: return 0;
  }
}

function regFrom(rf: Rf, index: number, size: number): number {
  switch (rf) {
    case Rf.Gpr:
      index &= 15;
      if (size === 1 && !rex && index >= 4 && index < 8) return gpr(index + 12); // AH CH DH BH
      return gpr(index);
    case Rf.Seg: return reg(RegClass.SEG, index & 7);
    case Rf.Cr: return reg(RegClass.CR, index & 15);
    case Rf.Dr: return reg(RegClass.DR, index & 15);
    case Rf.Mmx: return reg(RegClass.MMX, index & 7);
    case Rf.Xmm: return reg(RegClass.XMM, index);
    case Rf.Vec: return reg(size > 32 ? RegClass.ZMM : size > 16 ? RegClass.YMM : RegClass.XMM, index);
    case Rf.St: return reg(RegClass.ST, index & 7);
    case Rf.K:
      if (index > 7) badReg = true;
      return reg(RegClass.K, index & 7);
    case Rf.Bnd: return reg(RegClass.BND, index & 3);
    case Rf.None: return 0;
  }
}

/** Reads SIB and displacement for the ModRM's memory operand (mod != 3) in the given address size. */
function readAddress(aSize: number): void {
  const md = modrm >> 6;
  const rmv = modrm & 7;
  sibIndex = -1;
  mBase = -1;
  mIndex = -1;
  mScale = 1;
  mDisp = 0;
  mDispSize = 0;
  mSeg = 3;
  if (aSize === 2) {
    const BASE = [3, 3, 5, 5, 6, 7, 5, 3]; // bx bx bp bp si di bp bx
    const INDEX = [6, 7, 6, 7, -1, -1, -1, -1]; // si di si di
    if (md === 0 && rmv === 6) {
      mDisp = rd16();
      mDispSize = 2;
    } else {
      mBase = gpr(BASE[rmv]!);
      if (INDEX[rmv]! >= 0) mIndex = gpr(INDEX[rmv]!);
      if (rmv === 2 || rmv === 3 || rmv === 6) mSeg = 2;
      if (md === 1) {
        mDisp = rdSigned(1);
        mDispSize = 1;
      } else if (md === 2) {
        mDisp = rdSigned(2);
        mDispSize = 2;
      }
    }
    return;
  }
  let baseReg = rmv;
  if (rmv === 4) {
    const sib = rd8();
    const idx = ((sib >> 3) & 7) | ((rex & 2) << 2);
    mScale = 1 << (sib >> 6);
    baseReg = sib & 7;
    mIndex = idx === 4 ? -1 : gpr(idx); // VSIB replaces this in memOperand
    sibIndex = ((sib >> 3) & 7) | ((rex & 2) << 2) | (vexR2V() << 4);
    if (baseReg === 5 && md === 0) {
      mDisp = rdSigned(4);
      mDispSize = 4;
    } else {
      const r = baseReg | ((rex & 1) << 3);
      mBase = gpr(r);
      if (r === 4 || r === 5) mSeg = 2; // rSP/rBP-based: SS
    }
  } else {
    if (md === 0 && rmv === 5) {
      mDisp = rdSigned(4);
      mDispSize = 4;
      if (dmode === 64) mBase = RIP;
    } else {
      const r = rmv | ((rex & 1) << 3);
      mBase = gpr(r);
      if (r === 5) mSeg = 2;
    }
  }
  if (md === 1) {
    mDisp = rdSigned(1);
    mDispSize = 1;
  } else if (md === 2) {
    mDisp = rdSigned(4);
    mDispSize = 4;
  }
}

let sibIndex = -1;
/** EVEX.V' extends a VSIB index register to 32 registers. */
const vexR2V = () => (vexV >> 4) & 1;

function memOperand(o: Operand, s: OperandSpec, size: number, evex: Entry | null): void {
  o.kind = OpKind.Mem;
  o.base = mBase;
  o.index = mIndex;
  o.scale = mScale;
  o.disp = mDisp;
  o.dispSize = mDispSize;
  o.seg = segOvr >= 0 ? segOvr : mSeg;
  if (s.loc === Loc.Vsib) {
    const cls = s.vsib === 64 ? RegClass.ZMM : s.vsib === 32 ? RegClass.YMM : RegClass.XMM;
    o.index = sibIndex < 0 ? -1 : reg(cls, sibIndex);
  }
  if (evex) {
    if (evexB && evex.bcst) o.bcst = evex.bcst === BCST_BY_W ? 4 << vexW : evex.bcst;
    if (mDispSize === 1) o.disp = mDisp * (o.bcst || evex.disp8N || size || 1);
  }
}
