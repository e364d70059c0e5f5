// Which prefix bytes of an instruction objdump considers "used", and the words it prints for the others.
//
// objdump keeps every prefix byte in order; after decoding, the last byte of each kind that the instruction
// used (operand size, address size, segment, REX, mandatory prefix) is dropped, and the rest are printed by
// name before the mnemonic. F2/F3/3E bytes that act as BND, XACQUIRE/XRELEASE, REP or NOTRACK are printed
// under those names. What was used comes from the table entry and the switch cases the decoder's walk took
// (Instruction.entry, .walk, .pfxCase). Also here: the other details objdump prints that the Instruction does not
// carry (eiz/riz pseudo-index, which segment a memory operand shows).
import { Attr, OpKind, OpMap, Pfx, RegClass, WalkUse, type Instruction, type Operand } from '../decoder/types.ts';
import { regClass, regIndex, SEG_NAMES } from '../decoder/regs.ts';
import { Loc, Rf, Sz, type Entry } from '../decoder/notation.ts';

export interface PrefixUsage {
  /** The table entry the instruction was decoded from (null if it could not be found). */
  entry: Entry | null;
  /** Prefix words to print before the mnemonic, in byte order. */
  words: string[];
  /** Index register objdump shows for a SIB byte without an index ('eiz'/'riz'), or ''. */
  pseudoIndex: string;
  /** SIB scale, when pseudoIndex is set. */
  sibScale: number;
  /** Whether a 66 prefix byte is present (objdump's branch-target arithmetic depends on it). */
  has66: boolean;
  /** Segment of an explicit override objdump shows on memory operands (0-5), or -1. */
  activeSeg: number;
}

/** Segment text objdump prints in front of a memory operand: `fs:`, `es:` for string destinations, or ''. */
export function segText(use: PrefixUsage, insn: Instruction, op: Operand | null): string {
  const s = use.activeSeg;
  if (insn.modrm >= 0) return s >= 0 ? SEG_NAMES[s] + ':' : '';
  // Implicit operands (string instructions, xlat, moffs) always show their segment.
  if (op && op.base >= 0 && regIndex(op.base) === 7) return 'es:';
  return (s >= 0 ? SEG_NAMES[s] : 'ds') + ':';
}

const PFX_CASE: Record<number, number> = { 0: 0, 0x66: 1, 0xf3: 2, 0xf2: 3 };
/** Segment index of a segment-override prefix byte, -1 for other bytes. */
const SEG_OF = new Int8Array(256).fill(-1);
[0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65].forEach((b, i) => (SEG_OF[b] = i));
/** 1 for legacy prefix bytes. */
const LEGACY_PREFIX = new Uint8Array(256);
[0xf0, 0xf2, 0xf3, 0x66, 0x67, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65].forEach((b) => (LEGACY_PREFIX[b] = 1));

const REX_EXTENDABLE = new Set([Rf.Gpr, Rf.Vec, Rf.Xmm, Rf.Cr, Rf.Dr]);
const STRING_OPS = new Set(['movs', 'cmps', 'stos', 'lods', 'scas', 'ins', 'outs']);

// ---------------------------------------------------------------------------------------------------------------
// Instruction classes objdump names prefixes after

/** Near branches that take the BND prefix (F2): call/jmp rel, jcc, ret, indirect call/jmp. */
function isBndBranch(insn: Instruction): boolean {
  const op = insn.opcode;
  if (insn.map === OpMap.Primary) {
    if (op === 0xe8 || op === 0xe9 || op === 0xeb || op === 0xc2 || op === 0xc3 || (op >= 0x70 && op <= 0x7f)) return true;
    return isIndirectBranch(insn);
  }
  return insn.map === OpMap.M0F && op >= 0x80 && op <= 0x8f && !(insn.prefixes & (Pfx.VEX | Pfx.EVEX | Pfx.XOP));
}

function isIndirectBranch(insn: Instruction): boolean {
  const r = (insn.modrm >> 3) & 7;
  return insn.map === OpMap.Primary && insn.opcode === 0xff && (r === 2 || r === 4) && !(insn.prefixes & Pfx.XOP);
}

/** Offset of the ModRM byte given the first non-prefix byte at `p`, or -1. */
function modrmPos(insn: Instruction, code: Uint8Array, p: number): number {
  if (insn.modrm < 0) return -1;
  let q: number;
  if (insn.prefixes & Pfx.EVEX) q = p + 5;
  else if (insn.prefixes & (Pfx.VEX | Pfx.XOP)) q = p + (code[p] === 0xc5 ? 3 : 4);
  else if (code[p] === 0x0f) q = p + (code[p + 1] === 0x38 || code[p + 1] === 0x3a ? 3 : 2);
  else q = p + 1;
  return code[q] === insn.modrm ? q : -1;
}

function rexName(b: number): string {
  if (!(b & 15)) return 'rex';
  return 'rex.' + (b & 8 ? 'W' : '') + (b & 4 ? 'R' : '') + (b & 2 ? 'X' : '') + (b & 1 ? 'B' : '');
}

// ---------------------------------------------------------------------------------------------------------------

const NO_WORDS: string[] = [];

export function prefixUsage(insn: Instruction, code: Uint8Array, offset: number): PrefixUsage {
  const mode = insn.mode;
  // ---- the prefix bytes, as objdump sees them: position of the last of each kind
  const end = Math.min(code.length, offset + insn.length);
  let p = offset;
  let last66 = -1, last67 = -1, lastF2 = -1, lastF3 = -1, lastSeg = -1, lastLock = -1, has3e = false;
  for (; p < end; p++) {
    const b = code[p]!;
    // (9B, FWAIT, is part of the instruction when the decoder folded it into an x87 one: fstcw = 9B D9 /7.)
    if (!LEGACY_PREFIX[b] && !(mode === 64 && (b & 0xf0) === 0x40) && b !== 0x9b) break;
    const i = p - offset;
    if (b === 0x66) last66 = i;
    else if (b === 0x67) last67 = i;
    else if (b === 0xf2) lastF2 = i;
    else if (b === 0xf3) lastF3 = i;
    else if (b === 0xf0) lastLock = i;
    else if (SEG_OF[b]! >= 0) {
      lastSeg = i;
      if (b === 0x3e) has3e = true;
    }
  }
  const n = p - offset;
  // The REX that counts is the one right before the opcode.
  const rexAt = n && mode === 64 && (code[p - 1]! & 0xf0) === 0x40 ? n - 1 : -1;
  const rex = rexAt >= 0 ? code[p - 1]! : 0;
  const vex = (insn.prefixes & (Pfx.VEX | Pfx.EVEX | Pfx.XOP)) !== 0;
  const pp = vex && p + 2 < end ? (code[p] === 0xc5 ? code[p + 1]! : code[p + 2]!) & 3 : 0;

  // ---- the table entry and which prefixes chose its cases (the decoder records its walk)
  const rexW = (rex >> 3) & 1;
  const entry = insn.entry;
  const attrs = insn.attrs;
  const lk = {
    pfx: insn.pfxCase,
    osz66: (insn.walk & WalkUse.OSZ66) !== 0,
    oszW: (insn.walk & WalkUse.OSZW) !== 0,
    asz67: (insn.walk & WalkUse.ASZ67) !== 0,
    w: (insn.walk & WalkUse.W) !== 0,
  };
  void pp;

  // ---- memory operand, SIB
  // (mov to/from CR/DR ignores ModRM.mod: no memory operand even with mod != 3.)
  let memOp: Operand | null = null;
  let implicitMem = insn.mnemonic === 'xlat';
  let segMem = implicitMem; // some memory operand that shows a segment override
  let byteRegHi = false; // spl..dil
  for (const o of insn.operands) {
    if (o.kind === OpKind.Mem) {
      if (insn.modrm >= 0) memOp ??= o;
      else if (o.base >= 0) implicitMem = true;
      if (!(insn.modrm < 0 && o.base >= 0 && regIndex(o.base) === 7)) segMem = true;
    } else if (o.kind === OpKind.Reg && o.size === 1 && regClass(o.reg) === RegClass.GPR) {
      const r = regIndex(o.reg);
      if (r >= 4 && r < 8) byteRegHi = true;
    }
  }
  let sib = -1;
  if (memOp && insn.addrSize !== 2 && (insn.modrm & 7) === 4) {
    const q = modrmPos(insn, code, p);
    if (q >= 0) sib = code[q + 1] ?? -1;
  }
  let pseudoIndex = '';
  let sibScale = 1;
  if (sib >= 0 && memOp && memOp.index < 0) {
    sibScale = 1 << (sib >> 6);
    const scaled = sib >> 6 !== 0;
    const show = memOp.base >= 0 ? (sib & 7) !== 4 || scaled : scaled || !(mode === 64 && insn.addrSize === 8);
    if (show) pseudoIndex = insn.addrSize === 8 ? 'riz' : 'eiz';
  }

  // ---- segment: in 64-bit mode only fs/gs overrides show; 3E on an indirect branch is NOTRACK
  const notrack = has3e && !(mode === 64 && last66 >= 0) && isIndirectBranch(insn);
  let activeSeg = -1;
  if (lastSeg >= 0 && !notrack) {
    for (let i = 0; i < n; i++) {
      const s = SEG_OF[code[offset + i]!]!;
      if (s >= 0 && (mode !== 64 || s >= 4)) activeSeg = s;
    }
  }
  const use: PrefixUsage = { entry, words: NO_WORDS, pseudoIndex, sibScale, has66: last66 >= 0, activeSeg };
  if (n === 0) return use;

  // ---- REX bits used
  let rexUsed = 0;
  if (rex) {
    let sizeW = false;
    for (const o of entry?.operands ?? []) {
      if (o.sz === Sz.V || o.sz === Sz.Y || o.sz === Sz.Bs) sizeW = true;
      if (o.loc === Loc.ModReg && REX_EXTENDABLE.has(o.rf)) rexUsed |= 4;
      else if (o.loc === Loc.OpLow3) rexUsed |= 1;
      else if (o.loc === Loc.ModRm || o.loc === Loc.ModRmReg || o.loc === Loc.ModRmMem || o.loc === Loc.Vsib) {
        if (memOp || REX_EXTENDABLE.has(o.rf)) rexUsed |= 1;
      }
    }
    if (sib >= 0) rexUsed |= 2;
    // objdump never counts REX.W as used on the 64-bit-default (stack, branch) instructions.
    if (rexW && !(attrs & (Attr.D64 | Attr.F64)) && (lk.w || lk.oszW || sizeW)) rexUsed |= 8;
    if (byteRegHi) rexUsed |= 0x10; // a bare REX is used when it turns ah..bh into spl..dil
  }
  const rexBits = rex & 15;
  const rexOk = rex !== 0 && (rexBits & ~rexUsed) === 0 && (rexBits !== 0 || (rexUsed & 0x10) !== 0);

  // ---- operand size (66)
  let size66 = false;
  for (const o of entry?.operands ?? []) {
    if (o.sz === Sz.V || o.sz === Sz.Z || o.sz === Sz.P || o.sz === Sz.A || o.sz === Sz.Bs) size66 = true;
  }
  // ---- the hint-space nops (0F 18-1F): objdump prints an F3/F2 that selected the nop, and then the 66 too;
  // 0F 18 /6 and /7 with memory (the PREFETCHIT1/0 space) take 66/F2/F3 without printing them.
  const hintNop = insn.map === OpMap.M0F && insn.opcode >= 0x18 && insn.opcode <= 0x1f && insn.mnemonic === 'nop';
  const repNop = hintNop && (lk.pfx === 2 || lk.pfx === 3);
  const prefetchI = mode === 64 && insn.map === OpMap.M0F && insn.opcode === 0x18 && memOp !== null && ((insn.modrm >> 3) & 7) >= 6;
  const used66 =
    !vex && !repNop && (lk.pfx === 1 || (!rexW && (lk.osz66 || size66)) || insn.mnemonic === 'movsxd' || prefetchI);

  // ---- mandatory F2/F3
  let consumedRep = !vex && !hintNop && (lk.pfx === 2 || lk.pfx === 3) ? (lk.pfx === 2 ? lastF3 : lastF2) : -1;
  if (prefetchI) consumedRep = Math.max(lastF2, lastF3);

  // ---- address size (67). objdump names the 64-bit-address moffs forms movabs, yet prints addr32 on them.
  // (A SIB byte without base or index needs the prefix to be printed right, except in 16-bit mode.)
  const addrMem =
    memOp !== null && (insn.addrSize === 2 || memOp.base >= 0 || memOp.index >= 0 || (sib >= 0 && mode !== 16));
  const moffs = insn.map === OpMap.Primary && insn.opcode >= 0xa0 && insn.opcode <= 0xa3;
  const used67 = (lk.asz67 && !moffs) || addrMem || implicitMem;

  // ---- segment prefix used: shown on an operand, or (64-bit mode) absorbed by a string source / xlat
  const segUsed = lastSeg >= 0 && segMem && (activeSeg >= 0 || implicitMem);

  // ---- names
  const memDest = memOp !== null && insn.operands[0] === memOp;
  const hle = memDest && ((lastLock >= 0 && (attrs & (Attr.LOCK | Attr.XACQ)) !== 0) || insn.mnemonic === 'xchg');
  const op = insn.opcode;
  const movStore = memDest && insn.map === OpMap.Primary && (op === 0x88 || op === 0x89 || op === 0xc6 || op === 0xc7);
  const isString = (attrs & Attr.STR) !== 0 || STRING_OPS.has(insn.mnemonic);
  const repcc = insn.mnemonic === 'cmps' || insn.mnemonic === 'scas' || (attrs & Attr.REPCC) !== 0;

  // The last F3 and the last F2 get contextual names (rep, bnd, xacquire ...), earlier ones the plain ones.
  // LOCK with mov to/from CR is AMD's encoding of cr8-cr15 outside 64-bit mode: not printed.
  const lockCr = insn.map === OpMap.M0F && (insn.opcode === 0x20 || insn.opcode === 0x22);
  const words: string[] = [];
  for (let i = 0; i < n; i++) {
    const b = code[offset + i]!;
    if (b === 0x9b) continue;
    if (b === 0xf0) {
      if (!lockCr || i !== lastLock) words.push('lock');
    } else if (b === 0xf3) {
      if (i === consumedRep) continue;
      if (i !== lastF3) words.push('repz');
      else if (isString) words.push(repcc ? 'repz' : 'rep');
      else if (hle || (movStore && lastF3 > lastF2)) words.push('xrelease');
      else words.push('repz');
    } else if (b === 0xf2) {
      if (i === consumedRep) continue;
      if (i !== lastF2 || isString) words.push('repnz');
      else if (hle) words.push('xacquire');
      else if (isBndBranch(insn)) words.push('bnd');
      else words.push('repnz');
    } else if (b === 0x66) {
      if (i !== last66 || !used66) words.push(mode === 16 ? 'data32' : 'data16');
    } else if (b === 0x67) {
      if (i !== last67 || !used67) words.push(mode === 32 ? 'addr16' : 'addr32');
    } else if (SEG_OF[b]! >= 0) {
      if (notrack && i === lastSeg) words.push('notrack');
      else if (i !== lastSeg || !segUsed) words.push(SEG_NAMES[SEG_OF[b]!]!);
    } else if (i !== rexAt || !rexOk) {
      words.push(rexName(b));
    }
  }
  use.words = words;
  return use;
}
