// The IR: the one description of x86 semantics. The front end (src/cpu/frontend) lowers each decoded instruction to
// these ops; the IR interpreter (interp.ts) runs them and the JIT (src/jit) compiles them to WebAssembly. Nothing
// else knows what an x86 instruction does.
//
// A program is a flat Int32Array: an opcode word followed by that opcode's operand words (OPS[op].args).
// Values live in numbered temporaries, each of type i32 or i64 (fixed when the builder creates it). Guest state
// (registers, lazy flags, segment bases, control registers) lives at fixed byte offsets of the CPU state block
// (layout.ts) and is reached with ld/st ops; guest memory through ldm/stm, which apply segmentation and paging and
// may raise a guest exception. Control flow inside a program is forward-only (labels/branches); repeating
// instructions (REP) re-execute themselves by leaving RIP unchanged, so programs stay loop-free.

/** Operand word kinds of an op. */
export enum A {
  D32, // destination temp, i32
  D64, // destination temp, i64
  S32, // source temp, i32
  S64, // source temp, i64
  IMM, // 32-bit immediate word
  LBL, // label number
  COND, // Cond
  OFF, // byte offset into the CPU state block
  SEG, // segment register index 0-5, or -1: linear address
  HLP, // helper number (helpers.ts)
  ANY, // a temp of either type (helper arguments/results; -1 = none)
}

/** Comparison conditions of setcc/brcmp. */
export enum Cond {
  EQ, NE, LTU, LEU, GTU, GEU, LTS, LES, GTS, GES,
}

interface OpDef {
  name: string;
  args: A[];
}

const defs: OpDef[] = [];
function op(name: string, ...args: A[]): number {
  defs.push({ name, args });
  return defs.length - 1;
}
const bin32 = [A.D32, A.S32, A.S32];
const bin64 = [A.D64, A.S64, A.S64];

export const Op = {
  // constants and moves
  MOVI32: op('movi32', A.D32, A.IMM),
  MOVI64: op('movi64', A.D64, A.IMM, A.IMM), // lo, hi
  MOV32: op('mov32', A.D32, A.S32),
  MOV64: op('mov64', A.D64, A.S64),
  // arithmetic and logic (shift/rotate counts are taken modulo the width)
  ADD32: op('add32', ...bin32), SUB32: op('sub32', ...bin32), MUL32: op('mul32', ...bin32),
  AND32: op('and32', ...bin32), OR32: op('or32', ...bin32), XOR32: op('xor32', ...bin32),
  SHL32: op('shl32', ...bin32), SHR32: op('shr32', ...bin32), SAR32: op('sar32', ...bin32),
  ROTL32: op('rotl32', ...bin32), ROTR32: op('rotr32', ...bin32),
  ADD64: op('add64', ...bin64), SUB64: op('sub64', ...bin64), MUL64: op('mul64', ...bin64),
  AND64: op('and64', ...bin64), OR64: op('or64', ...bin64), XOR64: op('xor64', ...bin64),
  SHL64: op('shl64', ...bin64), SHR64: op('shr64', ...bin64), SAR64: op('sar64', ...bin64),
  ROTL64: op('rotl64', ...bin64), ROTR64: op('rotr64', ...bin64),
  NEG32: op('neg32', A.D32, A.S32), NOT32: op('not32', A.D32, A.S32),
  NEG64: op('neg64', A.D64, A.S64), NOT64: op('not64', A.D64, A.S64),
  // widening multiplies and high parts
  MULU32W: op('mulu32w', A.D64, A.S32, A.S32), // full 64-bit product of two u32
  MULS32W: op('muls32w', A.D64, A.S32, A.S32),
  MULHU64: op('mulhu64', ...bin64), // high 64 bits of the u128 product
  MULHS64: op('mulhs64', ...bin64),
  // division: the front end rules out #DE cases first (divisor 0, quotient overflow)
  DIVU32: op('divu32', ...bin32), DIVS32: op('divs32', ...bin32), REMU32: op('remu32', ...bin32), REMS32: op('rems32', ...bin32),
  DIVU64: op('divu64', ...bin64), DIVS64: op('divs64', ...bin64), REMU64: op('remu64', ...bin64), REMS64: op('rems64', ...bin64),
  // bit counting
  CLZ32: op('clz32', A.D32, A.S32), CTZ32: op('ctz32', A.D32, A.S32), POPCNT32: op('popcnt32', A.D32, A.S32),
  BSWAP32: op('bswap32', A.D32, A.S32),
  CLZ64: op('clz64', A.D64, A.S64), CTZ64: op('ctz64', A.D64, A.S64), POPCNT64: op('popcnt64', A.D64, A.S64),
  BSWAP64: op('bswap64', A.D64, A.S64),
  // width changes
  ZEXT8: op('zext8', A.D32, A.S32), ZEXT16: op('zext16', A.D32, A.S32),
  SEXT8: op('sext8', A.D32, A.S32), SEXT16: op('sext16', A.D32, A.S32),
  ZEXT32TO64: op('zext32to64', A.D64, A.S32), SEXT32TO64: op('sext32to64', A.D64, A.S32),
  LO32: op('lo32', A.D32, A.S64), HI32: op('hi32', A.D32, A.S64),
  PAIR64: op('pair64', A.D64, A.S32, A.S32), // (lo, hi)
  // comparisons and selection
  SETCC32: op('setcc32', A.D32, A.COND, A.S32, A.S32),
  SETCC64: op('setcc64', A.D32, A.COND, A.S64, A.S64),
  SELECT32: op('select32', A.D32, A.S32, A.S32, A.S32), // d = c ? a : b
  SELECT64: op('select64', A.D64, A.S32, A.S64, A.S64),
  // CPU state block
  LD8: op('ld8', A.D32, A.OFF), LD16: op('ld16', A.D32, A.OFF), LD32: op('ld32', A.D32, A.OFF), LD64: op('ld64', A.D64, A.OFF),
  ST8: op('st8', A.OFF, A.S32), ST16: op('st16', A.OFF, A.S32), ST32: op('st32', A.OFF, A.S32), ST64: op('st64', A.OFF, A.S64),
  // guest memory at segment:offset (offset is an i64 effective address); may raise #PF/#GP/#SS
  LDM8: op('ldm8', A.D32, A.SEG, A.S64), LDM16: op('ldm16', A.D32, A.SEG, A.S64),
  LDM32: op('ldm32', A.D32, A.SEG, A.S64), LDM64: op('ldm64', A.D64, A.SEG, A.S64),
  STM8: op('stm8', A.SEG, A.S64, A.S32), STM16: op('stm16', A.SEG, A.S64, A.S32),
  STM32: op('stm32', A.SEG, A.S64, A.S32), STM64: op('stm64', A.SEG, A.S64, A.S64),
  // control flow within the program (forward only)
  LABEL: op('label', A.LBL),
  BR: op('br', A.LBL),
  BRNZ: op('brnz', A.S32, A.LBL), // branch if the i32 is non-zero
  BRZ: op('brz', A.S32, A.LBL),
  // complex semantics in TypeScript helpers (one definition each, called by interpreter and JIT alike)
  CALL: op('call', A.ANY, A.HLP, A.ANY, A.ANY, A.ANY), // result (or -1), helper, up to three arguments (or -1)
  // exceptions and instruction boundaries
  RAISE: op('raise', A.IMM, A.IMM), // vector, error code (-1: none); leaves RIP at the instruction start
  INSN: op('insn', A.IMM, A.IMM, A.IMM), // an instruction starts: RIP lo, RIP hi, length
  // leaving the program: the next RIP has been computed
  EXIT: op('exit', A.S64), // continue at this RIP (indirect)
  EXITI: op('exiti', A.IMM, A.IMM), // continue at a known RIP (chainable): lo, hi
  // loads of a read-modify-write destination: checked (and faulting) as writes, like the hardware does
  LDMW8: op('ldmw8', A.D32, A.SEG, A.S64), LDMW16: op('ldmw16', A.D32, A.SEG, A.S64),
  LDMW32: op('ldmw32', A.D32, A.SEG, A.S64), LDMW64: op('ldmw64', A.D64, A.SEG, A.S64),
};

export const OPS: readonly OpDef[] = defs;
export const OP_COUNT = defs.length;
/** Operand words of each op (an op takes 1 + OP_LEN[op] words of a program). */
export const OP_LEN = Uint8Array.from(defs, (d) => d.args.length);

export const COND_NAMES = ['eq', 'ne', 'ltu', 'leu', 'gtu', 'geu', 'lts', 'les', 'gts', 'ges'];
