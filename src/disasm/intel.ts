// Intel-syntax text of a decoded instruction, exactly as GNU objdump 2.40 prints it (`objdump -d -M intel`),
// with runs of spaces collapsed to one.
//
// Most of the text follows from the Instruction. What does not is objdump's treatment of prefixes: it prints
// every prefix byte the instruction did not "use" as a word before the mnemonic (`data16`, `rex.W`, `cs` ...),
// in byte order, and names the used F2/F3/3E ones by their role (`rep`, `bnd`, `xrelease`, `notrack` ...).
// To know which bytes were used we re-read the prefix bytes and look up the table entry the instruction came
// from (see usage.ts).
import { Invalid, OpKind, Pfx, RegClass, type Instruction, type Operand } from '../decoder/types.ts';
import { regClass, regIndex, regName } from '../decoder/regs.ts';
import { Loc, Rf, Sz, type OperandSpec } from '../decoder/notation.ts';
import { prefixUsage, segText, type PrefixUsage } from './usage.ts';

export interface FormatOptions {
  /**
   * How branch targets are printed. objdump prints `0x1234` when it has no symbols (raw binaries) and a bare
   * `1234` (followed by ` <symbol>`) for ELF files that have symbols.
   */
  bareTargets?: boolean;
  /** Name for a branch target, printed as ` <name>` after it (objdump's `<func+0x10>`). */
  symbolize?: (target: bigint) => string | undefined;
}

const SIZE_NAMES: Record<number, string> = {
  1: 'BYTE',
  2: 'WORD',
  4: 'DWORD',
  6: 'FWORD',
  8: 'QWORD',
  10: 'TBYTE',
  16: 'XMMWORD',
  32: 'YMMWORD',
  64: 'ZMMWORD',
};

/** VEX-encoded instructions objdump prints with a `{vex}` pseudo-prefix (AVX-VNNI, AVX-IFMA, AVX-NE-CONVERT). */
const VEX_MARKED = new Set(['vpdpbusd', 'vpdpbusds', 'vpdpwssd', 'vpdpwssds', 'vpmadd52luq', 'vpmadd52huq', 'vcvtneps2bf16']);

/** x87 instructions objdump spells with a note on the processor that had them. */
const X87_LEGACY: Record<string, string> = {
  fneni: 'fneni(8087 only)',
  fndisi: 'fndisi(8087 only)',
  fnsetpm: 'fnsetpm(287 only)',
  frstpm: 'frstpm(287 only)',
};

/** 16-byte memory operands objdump calls OWORD rather than XMMWORD. */
const OWORD = new Set(['cmpxchg16b', 'invept', 'invvpid']);

/** Instructions whose memory operand objdump prints without a size even though it has one. */
const UNSIZED_MEM = new Set(['invpcid', 'lddqu', 'vlddqu', 'wrssd', 'wrssq', 'wrussd', 'wrussq', 'bndmov', 'bndldx', 'bndstx',
  'bndmk', 'bndcl', 'bndcu', 'bndcn', 'lgdt', 'lidt', 'sgdt', 'sidt', 'lgdtw', 'lidtw', 'sgdtw', 'sidtw', 'lgdtd', 'lidtd', 'sgdtd', 'sidtd']);

const hex = (v: bigint | number): string => '0x' + v.toString(16);
const MASK64 = (1n << 64n) - 1n;
const mask = (v: bigint, bytes: number): bigint => (bytes >= 8 ? v & MASK64 : v & ((1n << BigInt(bytes * 8)) - 1n));

// ---------------------------------------------------------------------------------------------------------------
// Pseudo-op mnemonics objdump substitutes for a compare-predicate immediate.

const CMP_PRED = ['eq', 'lt', 'le', 'unord', 'neq', 'nlt', 'nle', 'ord', 'eq_uq', 'nge', 'ngt', 'false', 'neq_oq', 'ge', 'gt', 'true',
  'eq_os', 'lt_oq', 'le_oq', 'unord_s', 'neq_us', 'nlt_uq', 'nle_uq', 'ord_s', 'eq_us', 'nge_uq', 'ngt_uq', 'false_os', 'neq_os',
  'ge_oq', 'gt_oq', 'true_us'];
const VPCMP_PRED = ['eq', 'lt', 'le', '', 'neq', 'nlt', 'nle', ''];
const VPCOM_PRED = ['lt', 'le', 'gt', 'ge', 'eq', 'neq', 'false', 'true'];
const PCLMUL_PRED = ['lqlq', 'hqlq', 'lqhq', 'hqhq'];

/** Returns the pseudo-op mnemonic for (mnemonic, imm8), or undefined if objdump keeps the immediate. */
function pseudoOp(mn: string, imm: number, vex: boolean): string | undefined {
  let m: RegExpExecArray | null;
  if ((m = /^(v?)cmp(ps|pd|ss|sd|ph|sh)$/.exec(mn))) {
    const pred = CMP_PRED[imm];
    if (pred === undefined || (!vex && imm >= 8)) return undefined;
    return `${m[1]}cmp${pred}${m[2]}`;
  }
  if ((m = /^vpcmp(u?[bwdq])$/.exec(mn))) {
    const pred = VPCMP_PRED[imm];
    return pred ? `vpcmp${pred}${m[1]}` : undefined;
  }
  if ((m = /^vpcom(u?[bwdq])$/.exec(mn))) {
    const pred = VPCOM_PRED[imm];
    return pred ? `vpcom${pred}${m[1]}` : undefined;
  }
  if ((m = /^(v?p)clmulqdq$/.exec(mn))) {
    const sel = imm === 0x10 ? 2 : imm === 0x11 ? 3 : imm;
    const pred = PCLMUL_PRED[sel];
    return pred ? `${m[1]}clmul${pred}dq` : undefined;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// EVEX decorations

const RC_NAMES = ['{rn-sae}', '{rd-sae}', '{ru-sae}', '{rz-sae}', '{sae}'];

/** Broadcasts objdump marks with {1toN} because the memory size would be ambiguous otherwise. */
const BCST_ALWAYS = /^(vfpclassp[sdh]|vcvtu?qq2ph|vcvtpd2ph)$/;
const BCST_NARROW = /^(vcvtt?pd2u?dq|vcvtpd2ps|vcvtu?qq2ps|vcvtneps2bf16|vcvtu?dq2ph|vcvtps2phx)$/;

// ---------------------------------------------------------------------------------------------------------------

/**
 * Formats one decoded instruction. `code`/`offset` are the bytes it was decoded from (prefix words need them);
 * `address` is its address, for branch targets.
 */
export function formatIntel(
  insn: Instruction,
  code: Uint8Array,
  offset: number,
  address: bigint | number,
  options: FormatOptions = {},
): string {
  if (insn.invalid !== Invalid.None) return '(bad)';
  const use = prefixUsage(insn, code, offset);
  const vex = (insn.prefixes & (Pfx.VEX | Pfx.EVEX | Pfx.XOP)) !== 0;
  const evex = (insn.prefixes & Pfx.EVEX) !== 0;

  let mnemonic = X87_LEGACY[insn.mnemonic] ?? insn.mnemonic;
  let ops = insn.operands;
  // Compare predicates folded into the mnemonic.
  const last = ops[ops.length - 1];
  if (last && last.kind === OpKind.Imm && last.immSize === 1) {
    const p = pseudoOp(mnemonic, last.imm & 0xff, vex);
    if (p) {
      mnemonic = p;
      ops = ops.slice(0, -1);
    }
  }

  const texts: string[] = [];
  let lastNonImm = -1;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    const spec = use.entry?.operands[i];
    if (spec && spec.loc === Loc.ModRmReg && spec.rf === Rf.St) texts.push(`st(${regIndex(op.reg)})`);
    else texts.push(formatOperand(insn, op, spec, use, address, options));
    if (op.kind === OpKind.Reg || op.kind === OpKind.Mem) lastNonImm = i;
  }
  if (evex && texts.length) {
    if (insn.evexAaa) texts[0] += `{k${insn.evexAaa}}`;
    if (insn.evexZ) texts[0] += '{z}';
    // Static rounding / SAE goes after the last register operand (before an immediate).
    if (insn.evexRc >= 0 && lastNonImm >= 0) texts[lastNonImm] += RC_NAMES[insn.evexRc];
  }

  // xlat's implicit operand, which the table does not list.
  if (mnemonic === 'xlat' && texts.length === 0) {
    const bx = insn.addrSize === 8 ? 'rbx' : insn.addrSize === 4 ? 'ebx' : 'bx';
    texts.push(`BYTE PTR ${segText(use, insn, null)}[${bx}]`);
  }
  let words = use.words;
  // objdump marks the VEX forms of instructions that also have an EVEX encoding under the same name.
  if (insn.prefixes & Pfx.VEX && VEX_MARKED.has(mnemonic)) words = [...words, '{vex}'];
  const head = words.length ? words.join(' ') + ' ' + mnemonic : mnemonic;
  return texts.length ? `${head} ${texts.join(',')}` : head;
}

function formatOperand(
  insn: Instruction,
  op: Operand,
  spec: OperandSpec | undefined,
  use: PrefixUsage,
  address: bigint | number,
  options: FormatOptions,
): string {
  switch (op.kind) {
    case OpKind.Reg:
      return regText(op.reg, op.size);
    case OpKind.Imm:
      return formatImm(op);
    case OpKind.Rel:
      return formatTarget(insn, op, use, address, options);
    case OpKind.Far:
      return `${hex(op.sel & 0xffff)}:${hex(op.imm >>> 0)}`;
    case OpKind.Mem:
      return formatMem(insn, op, use, spec);
    default:
      return '';
  }
}

const regText = regName;

function formatImm(op: Operand): string {
  // The constant 1 of the shift-by-one forms has no encoded immediate and prints in decimal.
  if (op.immSize === 0) return String(op.imm);
  const size = op.size || op.immSize;
  if (size <= 4) return hex(size === 4 ? op.imm >>> 0 : op.imm & (size === 2 ? 0xffff : 0xff));
  return hex(mask(op.immSize === 8 ? op.wide : BigInt(op.imm), size));
}

function formatTarget(insn: Instruction, op: Operand, use: PrefixUsage, address: bigint | number, options: FormatOptions): string {
  // objdump's arithmetic: a 16-bit displacement wraps within the current 64K (or at 64K with a 66 prefix);
  // other targets are printed as 32-bit values outside 64-bit mode.
  const next = BigInt(address) + BigInt(insn.length);
  let t = next + BigInt(op.imm);
  if (op.immSize === 2) t = (t & 0xffffn) | (use.has66 ? 0n : next & ~0xffffn);
  t = insn.mode === 64 ? t & MASK64 : t & 0xffffffffn;
  const sym = options.symbolize?.(t);
  const text = options.bareTargets ? t.toString(16) : hex(t);
  return sym ? `${text} <${sym}>` : text;
}

function formatMem(insn: Instruction, op: Operand, use: PrefixUsage, spec: OperandSpec | undefined): string {
  let sizeText = '';
  if (op.bcst) {
    sizeText = `${SIZE_NAMES[op.bcst] ?? ''} BCST `;
  } else if (insn.modrm >= 0 || op.base >= 0) {
    // moffs operands (no ModRM, no base) are printed without a size.
    let name = SIZE_NAMES[op.size];
    if (op.size === 16 && OWORD.has(insn.mnemonic)) name = 'OWORD';
    // objdump prints far pointers m16:64 (REX.W) as FWORD too.
    if (op.size === 10 && spec?.sz === Sz.P) name = 'FWORD';
    if (name && !UNSIZED_MEM.has(insn.mnemonic)) sizeText = `${name} PTR `;
  }
  const seg = segText(use, insn, op);
  const a = insn.addrSize;
  if (op.base < 0 && op.index < 0 && !use.pseudoIndex) {
    // Absolute address: printed unsigned, after a segment (ds: when there is no override).
    const d = op.dispSize === 8 ? op.wide : BigInt(op.disp);
    return `${sizeText}${seg || 'ds:'}${hex(mask(d, insn.mode === 64 && a === 8 ? 8 : a))}`;
  }
  const riprel = op.base >= 0 && regClass(op.base) === RegClass.RIP;
  let body = '';
  if (op.base >= 0) body = riprel ? (a === 4 ? 'eip' : 'rip') : regName(op.base, a);
  if (op.index >= 0) {
    const idx = regClass(op.index) === RegClass.GPR ? regName(op.index, a) : regName(op.index, 0);
    // 16-bit addressing has no scale: [bx+si].
    body += (body ? '+' : '') + (a === 2 ? idx : `${idx}*${op.scale}`);
  } else if (use.pseudoIndex) {
    body += (body ? '+' : '') + `${use.pseudoIndex}*${use.sibScale}`;
  }
  if (op.dispSize > 0) {
    const d = a === 2 ? (op.disp << 16) >> 16 : op.disp;
    if (riprel) {
      body += '+' + (d < 0 ? hex(mask(BigInt(d), 8)) : hex(d));
    } else if (op.base < 0 && op.index < 0 && a === 4 && insn.mode === 64) {
      // addr32 without base or index in 64-bit mode ([eiz*1+disp]): the displacement is zero-extended.
      body += '+' + hex(d >>> 0);
    } else {
      body += d < 0 ? '-' + hex(-d) : '+' + hex(d);
    }
  }
  let text = `${sizeText}${seg}[${body}]`;
  if (op.bcst) {
    const n = (16 << insn.vexL) / op.bcst;
    if (BCST_ALWAYS.test(insn.mnemonic) || (BCST_NARROW.test(insn.mnemonic) && insn.vexL < 2)) text += `{1to${n}}`;
  }
  return text;
}

