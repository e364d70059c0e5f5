// Helpers: semantics too complex or too rare to spell in IR ops (CPUID, MSRs, descriptor loads, interrupt
// delivery, 128-bit division ...). Each is one TypeScript function, called by the IR interpreter directly and by
// JIT'd code through a WebAssembly import, so there is still one definition. Arguments and results are numbers for
// i32 temps and bigints for i64 temps (the JS/WebAssembly convention for i64).
import type { IrHost } from './interp.ts';

export type HelperFn = (host: IrHost, ...args: (number | bigint)[]) => number | bigint | void;

export interface Helper {
  name: string;
  fn: HelperFn;
  /** Argument widths (32/64) and result width (0 = none), for the JIT's import signatures. */
  args: (32 | 64)[];
  result: 0 | 32 | 64;
  /** May raise a guest exception (the JIT must have guest state in memory before calling it). */
  faults: boolean;
}

export const HELPERS: Helper[] = [];
const byName = new Map<string, number>();

/** Registers a helper once; returns its number for IR CALL ops. */
export function defineHelper(name: string, args: (32 | 64)[], result: 0 | 32 | 64, faults: boolean, fn: HelperFn): number {
  const known = byName.get(name);
  if (known !== undefined) return known;
  HELPERS.push({ name, fn, args, result, faults });
  byName.set(name, HELPERS.length - 1);
  return HELPERS.length - 1;
}
