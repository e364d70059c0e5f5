// The mode word: everything that changes how guest code is decoded or translated. Translations are cached under
// (physical address, mode word), so a change of any of these bits selects other translations.

export enum ModeBits {
  CODE_MASK = 3, // 0: 16-bit, 1: 32-bit, 2: 64-bit
  STACK_SHIFT = 2, // SS.B / long mode: 0 16-bit, 1 32-bit, 2 64-bit
  STACK_MASK = 3 << 2,
  CPL_SHIFT = 4,
  CPL_MASK = 3 << 4,
  PE = 1 << 6,
  PG = 1 << 7,
  VM86 = 1 << 8,
  LMA = 1 << 9,
  /** Alignment checks active: CR0.AM, EFLAGS.AC and CPL 3 (misaligned data accesses raise #AC(0)). */
  AC = 1 << 10,
  /** EFLAGS.TF: one instruction per block, then a single-step #DB trap. */
  TF = 1 << 11,
}

/** Translation cache keys are physical address * MODE_KEYS + mode word. */
export const MODE_KEYS = 4096;

export type CodeSize = 16 | 32 | 64;

export const codeBits = (mode: number): CodeSize => ([16, 32, 64] as const)[mode & 3]!;
export const stackBytes = (mode: number): 2 | 4 | 8 => ([2, 4, 8] as const)[(mode >> 2) & 3]!;
export const cplOf = (mode: number): number => (mode >> 4) & 3;

export function makeMode(code: CodeSize, stack: 2 | 4 | 8, cpl: number, flags: number): number {
  return (code === 16 ? 0 : code === 32 ? 1 : 2) | ((stack === 2 ? 0 : stack === 4 ? 1 : 2) << 2) | (cpl << 4) | flags;
}
