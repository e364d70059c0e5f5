import type { Entry } from './notation.ts';

// The decoded form of one x86 instruction: what the disassembler prints and what the CPU front end and the JIT
// consume. Plain numbers everywhere (no strings on the hot path except the mnemonic) so a decoded instruction is
// cheap to produce and to switch on.

export type Mode = 16 | 32 | 64;

/** Register classes. A register id is `cls << 8 | index` (see regs.ts). */
export enum RegClass {
  GPR = 0, // index 0-15; for 1-byte registers 16-19 are AH, CH, DH, BH
  SEG = 1, // ES CS SS DS FS GS
  CR = 2,
  DR = 3,
  MMX = 4,
  XMM = 5,
  YMM = 6,
  ZMM = 7,
  ST = 8, // x87 stack-relative ST(i)
  K = 9, // AVX-512 opmask
  BND = 10, // MPX bounds
  RIP = 11, // only as a memory base (RIP-relative addressing); index 0
  TR = 12, // test registers (0F 24/26, 386 only) — decoded as invalid on x86-64 but named for completeness
}

export enum OpKind {
  None = 0,
  Reg = 1,
  Mem = 2,
  Imm = 3,
  /** Relative branch target: `imm` holds the signed displacement; target = next RIP + imm (masked to opSize). */
  Rel = 4,
  /** Far pointer immediate (ptr16:16/ptr16:32): `imm` = offset, `sel` = selector. */
  Far = 5,
}

export interface Operand {
  kind: OpKind;
  /** Size of the operand in bytes (memory access size, register width, immediate size after extension). 0 = none/unsized (lea, clflush). */
  size: number;
  /** For Reg: register id. */
  reg: number;
  // ---- memory ----
  /** Effective segment register index (0=ES .. 5=GS), override or default. */
  seg: number;
  /** Base register id (GPR or RIP), or -1. */
  base: number;
  /** Index register id (GPR, or XMM/YMM/ZMM for VSIB), or -1. */
  index: number;
  /** 1, 2, 4 or 8. */
  scale: number;
  /** Signed displacement as encoded (sign-extended); for 64-bit moffs see `wide`. */
  disp: number;
  /** Size in bytes of the encoded displacement (0, 1, 2, 4, 8): objdump prints it differently by width. */
  dispSize: number;
  // ---- immediates ----
  /** Immediate value sign-extended from its encoded width (exact up to 4-byte encodings). For Far: the offset. */
  imm: number;
  /** Encoded width of the immediate in bytes. */
  immSize: number;
  /** The full value of an 8-byte immediate (mov r64, imm64) or 8-byte moffs; otherwise 0n. */
  wide: bigint;
  /** Far pointer selector. */
  sel: number;
  /** EVEX embedded broadcast ({1toN}) on a memory operand: element size in bytes, 0 if none. */
  bcst: number;
}

/** Why an instruction is invalid. The CPU maps these to exceptions. */
export enum Invalid {
  None = 0,
  /** Undefined opcode or operand form: #UD. */
  Undefined = 1,
  /** Longer than 15 bytes: #GP(0). */
  TooLong = 2,
  /** The bytes available ended before the instruction did (the caller fetches more or faults). */
  Truncated = 3,
  /** LOCK prefix on an instruction or operand form that does not allow it: #UD. Mnemonic and operands are kept. */
  BadLock = 4,
}

/** Legacy prefix bits (`Instruction.prefixes`). */
export enum Pfx {
  LOCK = 1,
  REP = 2, // F3
  REPNE = 4, // F2
  OPSIZE = 8, // 66
  ADDRSIZE = 0x10, // 67
  SEG = 0x20, // some segment override present (see Instruction.segOverride)
  REX = 0x40,
  VEX = 0x80,
  EVEX = 0x100,
  XOP = 0x200,
}

/** Attributes from the opcode tables (`Instruction.attrs`, tags `@name` in the table notation). */
export enum Attr {
  LOCK = 1 << 0, // @lock: LOCK prefix allowed (with a memory destination)
  REP = 1 << 1, // @rep: F3 means REP
  REPCC = 1 << 2, // @repcc: F3/F2 mean REPE/REPNE
  D64 = 1 << 3, // @d64: operand size defaults to 64 in long mode (66 gives 16)
  F64 = 1 << 4, // @f64: operand size is 64 in long mode whatever the prefixes
  I64 = 1 << 5, // @i64: invalid in 64-bit mode
  O64 = 1 << 6, // @o64: valid only in 64-bit mode
  PRIV = 1 << 7, // @priv: requires CPL 0
  IO = 1 << 8, // @io: IOPL / I/O permission bitmap checked
  FAULT = 1 << 9, // @fault: can raise an exception beyond memory faults (#DE, #UD, #GP on operand values...)
  JMP = 1 << 10, // @jmp: unconditional control transfer
  JCC = 1 << 11, // @jcc: conditional branch (jcc, loop, jcxz)
  CALL = 1 << 12, // @call
  RET = 1 << 13, // @ret (ret, retf, iret, sysret, sysexit)
  INT = 1 << 14, // @int: software interrupt / trap gate entry (int, int3, into, syscall, sysenter)
  SERIAL = 1 << 15, // @serial: ends a translation block (mode changes, cpuid, mov cr, hlt ...)
  A16 = 1 << 16, // @a16: memory operand must be aligned to its size (movaps etc.)
  XACQ = 1 << 17, // @hle: F2/F3 act as XACQUIRE/XRELEASE with LOCK
  BND = 1 << 18, // @bnd: F2 is the MPX BND prefix (branches)
  NOTRACK = 1 << 19, // @notrack: 3E is CET NOTRACK (indirect jmp/call)
  MOD3 = 1 << 20, // internal: the ModRM must have mod=3 (set by R/U/N operands)
  MEMONLY = 1 << 21, // internal: the ModRM must have mod!=3 (set by M operands)
  STACK = 1 << 22, // @stack: implicit stack access (push, pop, call, ret, enter, leave ...)
  STR = 1 << 23, // @str: string instruction (implicit rSI/rDI operands)
}

/** EFLAGS bits, as in the register. `flagsRead`/`flagsWritten`/`flagsUndefined` are masks of these. */
export enum Flag {
  CF = 0x1,
  PF = 0x4,
  AF = 0x10,
  ZF = 0x40,
  SF = 0x80,
  TF = 0x100,
  IF = 0x200,
  DF = 0x400,
  OF = 0x800,
  /** IOPL, NT, RF, VM, AC, VIF, VIP, ID: "all the system flags" (popf, iret). */
  SYS = 0x3f7300,
}
export const STATUS_FLAGS = 0x8d5; // CF PF AF ZF SF OF

/** What the table walk consulted (`Instruction.walk`): prefixes that chose between different table cases. */
export enum WalkUse {
  OSZ66 = 1, // an osz() switch took another case because of 66
  OSZW = 2, // an osz() switch took another case because of REX.W
  ASZ67 = 4, // an asz() switch took another case because of 67
  W = 8, // a W() switch with different cases was consulted
}

/** Opcode map an instruction came from (`Instruction.map`). */
export enum OpMap {
  Primary = 0, // one-byte
  M0F = 1,
  M0F38 = 2,
  M0F3A = 3,
  X87 = 4, // D8-DF escape (opcode = D8..DF, modrm selects)
  AMD3DNOW = 5, // 0F 0F ib
  XOP8 = 8, // XOP maps (AMD), decoded for length only
  XOP9 = 9,
  XOPA = 10,
}

export interface Instruction {
  /** Total length in bytes (for invalid instructions: the bytes examined, at least 1). */
  length: number;
  /** Mnemonic as objdump spells it in Intel syntax ('add', 'movsxd', 'vpaddb', 'fld', ...); '(bad)' if invalid. */
  mnemonic: string;
  invalid: Invalid;
  mode: Mode;
  operands: Operand[];
  /** Effective operand-size attribute in bytes (2, 4, 8) after 66/REX.W/@d64/@f64; byte forms show in operand sizes. */
  opSize: number;
  /** Effective address size in bytes (2, 4, 8). */
  addrSize: number;
  /** Pfx bits of the prefixes present (including ones the instruction ignores). */
  prefixes: number;
  /**
   * The segment override that applies (0=ES .. 5=GS), or -1 (memory operands carry it already). 64-bit mode ignores
   * ES/CS/SS/DS prefixes: only FS/GS apply, and a later ES/CS/SS/DS does not cancel them.
   */
  segOverride: number;
  /** The last of the F3/F2 prefixes (0xf3, 0xf2), or 0: with both, the last decides REPE vs REPNE. */
  repPrefix: number;
  /** Number of legacy prefix bytes before REX/VEX/opcode. */
  prefixCount: number;
  /** The REX byte (0x40-0x4f), or the same R/X/B bits taken from a VEX/EVEX prefix; 0 if none. */
  rex: number;
  /** VEX/EVEX/XOP fields (valid when prefixes has VEX/EVEX/XOP): L is 0, 1 (or 2 for EVEX 512). */
  vexL: number;
  vexW: number;
  /** Inverted-back vvvv register number (0-15, 0-31 for EVEX with V'). */
  vexV: number;
  /** EVEX opmask register (aaa), zeroing (z) and broadcast/rounding (b) bits. */
  evexAaa: number;
  evexZ: number;
  evexB: number;
  /** EVEX.b on a register form: static rounding mode 0-3 (rn, rd, ru, rz), 4 for {sae} only; -1 if none. */
  evexRc: number;
  map: OpMap;
  /** The opcode byte within its map. */
  opcode: number;
  /** The prefix a pfx() table switch consumed as part of the opcode (0x66, 0xf3, 0xf2), or 0. */
  mandatoryPrefix: number;
  /**
   * The case a pfx()/pfxOpt() switch took (0 none, 1 66, 2 F3, 3 F2; a case identical to the no-prefix case counts
   * as 0), or -1 if no such switch was on the path.
   */
  pfxCase: number;
  /** WalkUse bits. */
  walk: number;
  /** The table entry the instruction was decoded from; null if invalid. */
  entry: Entry | null;
  /** ModRM byte or -1. */
  modrm: number;
  /** Attr bits. */
  attrs: number;
  /** CPUID feature the instruction belongs to ('' for the base ISA), e.g. 'sse2', 'avx2', 'bmi1'. */
  feature: string;
  flagsRead: number;
  flagsWritten: number;
  /** Flags the manuals leave undefined after this instruction (a subset of flagsWritten). */
  flagsUndefined: number;
}
