// Runs whole guests under the interpreter and under the JIT and checks that everything observable agrees.
import { expect } from 'vitest';
import { Machine, type RunResult } from '../src/machine/machine.ts';
import { enableJit, type Jit, type JitOptions } from '../src/jit/compiler.ts';
import { buildKernel } from './loader-build.ts';
import { JUMP_CACHE_OFFSET } from '../src/cpu/cpu.ts';

export interface GuestRun {
  r: RunResult | string;
  out: string;
  icount: number;
  state: string;
  mem: Uint8Array;
  jit?: Jit;
}

/**
 * Boots `elf` in the interpreter (threshold null) or with the JIT; `linear`: translate straight-line blocks only
 * (a translation hook turns superblocks off), the reference for superblock translation.
 */
export function boot(
  elf: Uint8Array, threshold: number | null, maxInsns = 5_000_000, linear = false, setup?: (m: Machine) => void,
): GuestRun {
  const out: number[] = [];
  const m = new Machine({ ramSize: 16 << 20, output: (b) => out.push(...b), jit: 'off' });
  m.load(elf);
  setup?.(m);
  if (linear) m.cpu.onTranslate = () => {};
  const jit = threshold === null ? undefined : enableJit(m.cpu, { threshold });
  let r: RunResult | string;
  try {
    r = m.run(maxInsns);
  } catch (e) {
    r = `error: ${(e as Error).message}`;
  }
  const st = m.cpu.getState();
  st.msrs.delete(0x10); // the TSC follows host time
  const state = JSON.stringify(st, (_k, v) => (typeof v === 'bigint' ? v.toString(16) : v instanceof Map ? [...v] : v));
  // memory: everything but the jump cache, which only the JIT uses
  return { r, out: Buffer.from(out).toString(), icount: m.cpu.icount, state,
    mem: new Uint8Array(m.cpu.memory.memory.buffer).slice(0, m.cpu.stateBase + JUMP_CACHE_OFFSET), jit };
}

/**
 * Runs `elf` in the interpreter and with the JIT (forced, and after 3 interpreted runs); all runs must agree.
 * `linear`: the reference is the interpreter on straight-line blocks (no superblocks), and the interpreter on
 * superblocks must agree with it too. `setup`: what each machine needs before it runs (a test device).
 */
export function agree(
  elf: Uint8Array, maxInsns?: number, linear = false, setup?: (m: Machine) => void,
): { ref: GuestRun; jits: GuestRun[] } {
  const ref = boot(elf, null, maxInsns, linear, setup);
  const jits = [...(linear ? [null] : []), 0, 3].map((t) => boot(elf, t, maxInsns, false, setup));
  for (const [k, j] of jits.entries()) {
    expect(j.r).toEqual(ref.r);
    expect(j.out).toBe(ref.out);
    expect(j.icount).toBe(ref.icount);
    expect(j.state).toBe(ref.state);
    expect(Buffer.compare(j.mem, ref.mem)).toBe(0);
    if (!j.jit) continue;
    expect(j.jit.stats.failed).toBe(0);
    if (k === (linear ? 1 : 0) && ref.icount > 0) expect(j.jit.stats.compiled).toBeGreaterThan(0);
  }
  return { ref, jits };
}

export const asm = (s: string) => buildKernel(s, { bits: 64 });

/** AT&T assembly: writes %rdx's low byte to the UART and exits (debug-exit port 0xf4) with it. */
export const PRINT_DL_AND_EXIT = `
      mov $0x3f8, %bx
      xchg %bx, %dx
      mov %bl, %al
      out %al, %dx
      xchg %bx, %dx
      mov %dl, %al
      out %al, $0xf4`;

export interface SlicedRun {
  r: RunResult;
  out: string;
  icount: number;
  jit: Jit;
  /** What the code cache's consistency check found between slices (see Jit.checkInvariants). */
  problems: string[];
  /** Batches on the compile worker when `closeEarly` closed it. */
  compilingAtClose: number;
}

/**
 * Runs `elf` with the JIT in slices of `slice` instructions (up to about `maxInsns`), checking the code cache's
 * bookkeeping between them. `closeEarly`: closes the JIT's compile worker as soon as it has a batch.
 */
export function runSliced(elf: Uint8Array, opts: JitOptions, slice: number, maxInsns = 20_000_000, closeEarly = false): SlicedRun {
  const out: number[] = [];
  const m = new Machine({ ramSize: 16 << 20, output: (b) => out.push(...b), jit: 'off' });
  m.load(elf);
  const jit = enableJit(m.cpu, opts);
  // (from the sources the worker takes a while to start: runs this short would be over before it is up)
  if (opts.asyncCompile) jit.waitForWorker();
  const problems: string[] = [];
  let compilingAtClose = 0;
  let r: RunResult;
  try {
    for (;;) {
      r = m.run(slice);
      problems.push(...jit.checkInvariants());
      if (closeEarly && jit.compiling) {
        compilingAtClose = jit.compiling;
        jit.close();
        closeEarly = false;
      }
      if (r.kind !== 'budget' || m.cpu.icount > maxInsns) break;
    }
  } finally {
    jit.close();
  }
  return { r, out: Buffer.from(out).toString(), icount: m.cpu.icount, jit, problems, compilingAtClose };
}

/** A sliced JIT run ended as the interpreter's did, and the code cache stayed consistent. */
export function expectSame(j: SlicedRun, ref: GuestRun): void {
  expect(j.r).toEqual(ref.r);
  expect(j.out).toBe(ref.out);
  expect(j.icount).toBe(ref.icount);
  expect(j.problems).toEqual([]);
}
