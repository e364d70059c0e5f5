// MXCSR: the SSE control/status register. Bits: IE DE ZE OE UE PE (0-5) sticky exception flags, DAZ (6), the six
// masks (7-12), RC (13-14), FTZ (15), and AMD's MM (17, misaligned SSE mode).

/** The writable bits, as FXSAVE reports them in MXCSR_MASK (this host's AMD Zen value: with MM). */
export const MXCSR_MASK_VALUE = 0x2ffff;
export const MXCSR_DEFAULT = 0x1f80;

export const IE = 0x01, DE = 0x02, ZE = 0x04, OE = 0x08, UE = 0x10, PE = 0x20;
export const DAZ = 0x40;
export const MASK_SHIFT = 7;
export const RC_SHIFT = 13;
export const FTZ = 0x8000;

/** Rounding control values (MXCSR.RC, and imm8[1:0] of round*). */
export const RC_NEAREST = 0, RC_DOWN = 1, RC_UP = 2, RC_ZERO = 3;
