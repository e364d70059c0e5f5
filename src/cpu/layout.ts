// Byte offsets of the CPU state block. The block lives in the same WebAssembly.Memory as guest RAM (right after
// RAM), so the IR interpreter reaches it through typed views and JIT'd code with plain loads/stores at
// constant addresses. IR ld/st ops name these offsets.

export const GPR = 0; // 16 x i64, RAX..R15 in encoding order
export const gprOff = (i: number) => GPR + 8 * i;
export const RIP = 128; // i64

// Lazy condition codes (flags.ts): the operation that last set the flags and its operands.
export const CC_OP = 136; // i32: CcOp
export const CC_DST = 144; // i64: result
export const CC_SRC = 152; // i64: second operand (or the materialised flags when CC_OP is EFLAGS)
export const CC_SRC2 = 160; // i64: carry-in for ADC/SBB, first operand where needed
/** EFLAGS without the six status flags (TF IF DF IOPL NT RF VM AC VIF VIP ID, and bit 1 always set). */
export const EFLAGS = 168; // i32

export const CPL = 172; // i32
/** Translation mode word: code size and the bits that change how code decodes or runs (mode.ts). */
export const MODE = 176; // i32
/**
 * Non-zero once JS code asked for the run loop while compiled code runs (Cpu.breakChain): a mode or paging change,
 * device I/O (an interrupt, a stop request), HLT ... Compiled blocks chain on after a call out of wasm only while
 * it is zero; the run loop clears it when it enters compiled code.
 */
export const CHAIN_BREAK = 180; // i32

// Segment registers: ES CS SS DS FS GS LDTR TR, 24 bytes each.
export const SEGS = 192;
export const SEG_SIZE = 24;
export const segOff = (i: number) => SEGS + SEG_SIZE * i;
export const SEG_BASE = 0; // i64
export const SEG_LIMIT = 8; // i32, byte granular
export const SEG_SEL = 12; // i32
/** Access rights as VMX encodes them: type(4) S(1) DPL(2) P(1) _ AVL(12) L(13) DB(14) G(15) unusable(16). */
export const SEG_ATTR = 16; // i32
export const LDTR_INDEX = 6;
export const TR_INDEX = 7;

export const GDTR_BASE = 384; // i64
export const GDTR_LIMIT = 392; // i32
export const IDTR_BASE = 400;
export const IDTR_LIMIT = 408;

export const CR0 = 416;
export const CR2 = 424;
export const CR3 = 432;
export const CR4 = 440;
export const CR8 = 448;
export const EFER = 456;
export const DR = 464; // DR0-DR3, DR6, DR7: 6 x i64

// MSRs the instructions themselves use (the rest live in a map in the CPU object).
export const STAR = 512;
export const LSTAR = 520;
export const CSTAR = 528;
export const SFMASK = 536;
export const KERNEL_GS_BASE = 544;
export const TSC_AUX = 552;
export const SYSENTER_CS = 560;
export const SYSENTER_ESP = 568;
export const SYSENTER_EIP = 576;

/** Scratch words for helpers and the execution loop. */
export const SCRATCH = 640; // 8 x i64

/** XCR0 (XSETBV/XGETBV), i64. */
export const XCR0 = 720;
/** Two 16-byte scratch vectors for SIMD helpers (memory operands are staged here), then 16 bytes for x87 m80. */
export const VTMP = 768;
export const VTMP2 = 784;
export const FTMP = 800;

/**
 * x87/MMX/SSE register file, laid out like the FXSAVE image so the fields have their architectural offsets, with
 * two differences kept live for speed: the register area holds the *physical* registers R0-R7 (FXSAVE stores them
 * in stack order ST0-ST7; TOP is in FSW bits 11-13), and FTW is the abridged tag byte (bit i: Ri is valid).
 * MMi is the 64-bit mantissa of Ri. The upper YMM halves follow the 512-byte image.
 */
export const FPU = 1024;
export const FPU_SIZE = 1024;
export const FCW = FPU + 0; // u16
export const FSW = FPU + 2; // u16
export const FTW = FPU + 4; // u8, abridged
export const FOP = FPU + 6; // u16
export const FIP = FPU + 8; // u64
export const FDP = FPU + 16; // u64
export const MXCSR = FPU + 24; // u32
export const MXCSR_MASK = FPU + 28; // u32
/** Physical x87 register Ri (80-bit, in a 16-byte slot); also MMi (low 8 bytes). */
export const fpRegOff = (i: number) => FPU + 32 + 16 * i;
export const xmmOff = (i: number) => FPU + 160 + 16 * i;
export const ymmHiOff = (i: number) => FPU + 512 + 16 * i;

export const STATE_SIZE = 4096;
