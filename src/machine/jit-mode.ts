// Whether the software CPU uses the WebAssembly JIT (src/jit): `kemu run --jit`, the Machine and the tcg
// accelerator. The environment variable KEMU_JIT=off|on|force sets the default, so a whole test run can force the
// JIT (force: every block is compiled before its first run, threshold 0).
import type { Cpu } from '../cpu/cpu.ts';
import { enableJit, type Jit } from '../jit/compiler.ts';

export type JitMode = 'off' | 'on' | 'force';
export const JIT_MODES: readonly JitMode[] = ['off', 'on', 'force'];

export function isJitMode(v: string): v is JitMode {
  return (JIT_MODES as readonly string[]).includes(v);
}

/** KEMU_JIT from the environment, or 'on'. An unknown value is an error (a typo must not silently test nothing). */
export function jitModeFromEnv(env: NodeJS.ProcessEnv = process.env): JitMode {
  const v = env.KEMU_JIT;
  if (v === undefined || v === '') return 'on';
  if (isJitMode(v)) return v;
  throw new Error(`KEMU_JIT='${v}' (expected ${JIT_MODES.join(', ')})`);
}

/**
 * Plugs the JIT into `cpu` as `mode` says; returns it (undefined for 'off'). `asyncCompile`: compile on a worker
 * thread ('on' only: see JitOptions.asyncCompile).
 */
export function applyJit(cpu: Cpu, mode: JitMode, asyncCompile = false): Jit | undefined {
  if (mode === 'off') return undefined;
  return enableJit(cpu, mode === 'force' ? { threshold: 0 } : { asyncCompile });
}
