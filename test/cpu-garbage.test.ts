// Garbage in, guest exceptions out: random bytes executed as code, in every mode, with and without the JIT, must end
// in a guest-visible outcome (an exception delivered through the guest's IDT, a triple fault, a halt, a device exit or
// the budget) — never a host exception from kemu.
import { describe, expect, it } from 'vitest';
import { Machine } from '../src/machine/machine.ts';
import { flatSegment, realModeSegment, resetState, type CpuState } from '../src/cpu/state.ts';
import { enableJit } from '../src/jit/compiler.ts';
import { buildKernel } from './loader-build.ts';

function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

const CODE = 0x10000;
const RUNS = 40;
/** Instructions per run (most runs end at their first exception long before). */
const BUDGET = 4000;
const CODE_SIZE = 0x4000;

function stateFor(mode: 16 | 32 | 64, base: CpuState): CpuState {
  if (mode === 64) return { ...base, rip: BigInt(CODE) };
  if (mode === 32) {
    const s = resetState();
    const data = flatSegment(0x10, false);
    return {
      ...s, cr0: 0x11n, rip: BigInt(CODE), cs: flatSegment(0x08, true), ds: data, es: data, ss: data, fs: data, gs: data,
      gpr: s.gpr.map((_, i) => (i === 4 ? 0x8000n : 0n)),
    };
  }
  const s = resetState();
  return { ...s, cs: realModeSegment(CODE >> 4, 0xb), rip: 0n, ss: realModeSegment(0x7000), gpr: s.gpr.map((_, i) => (i === 4 ? 0xfffen : 0n)) };
}

describe('garbage guest code', () => {
  // A long-mode state with paging on (from the ELF64 loader), the base of every 64-bit run.
  const probe = new Machine({ ramSize: 8 << 20, output: () => {} });
  const longState = probe.load(buildKernel('.globl _start\n_start: hlt\n', { bits: 64, text: 0x200000 })).state;

  for (const mode of [16, 32, 64] as const) {
    for (const jit of [false, true]) {
      it(`${mode}-bit mode${jit ? ', JIT forced' : ''}: only guest-visible outcomes`, () => {
        const next = rng(0xc0ffee ^ mode ^ (jit ? 0x5a5a : 0));
        const outcomes = new Map<string, number>();
        for (let run = 0; run < RUNS; run++) {
          const m = new Machine({ ramSize: 8 << 20, output: () => {}, jit: 'off' });
          if (jit) enableJit(m.cpu, { threshold: 0 });
          const ram = m.board.memory.bytes();
          for (let i = 0; i < CODE_SIZE; i++) ram[CODE + i] = next() >>> 24;
          if (mode === 64) m.load(buildKernelOnce());
          if (mode === 16) {
            // A real-mode IVT whose every vector leads to HLT: each run ends at its first exception.
            const ivt = new DataView(ram.buffer);
            for (let v = 0; v < 256; v++) ivt.setUint32(v * 4, 0x0500, true);
            ram[0x500] = 0xf4;
          }
          m.cpu.setState(stateFor(mode, longState));
          let kind: string;
          try {
            kind = m.run(BUDGET).kind;
          } catch (e) {
            throw new Error(`host exception on random code (mode ${mode}, run ${run}): ${(e as Error).stack}`);
          }
          outcomes.set(kind, (outcomes.get(kind) ?? 0) + 1);
        }
        for (const k of outcomes.keys()) expect(['exit', 'reset', 'halt', 'shutdown', 'budget']).toContain(k);
        // Protected modes have no IDT: most runs end in a triple fault; real mode's handlers halt. Either way the
        // code really ran and faulted.
        expect(outcomes.get(mode === 16 ? 'halt' : 'shutdown') ?? 0).toBeGreaterThan(RUNS / 4);
      });
    }
  }
});

let kernel: Uint8Array | undefined;
/** The long-mode page tables and GDT come from loading a trivial ELF64 kernel (cached). */
function buildKernelOnce(): Uint8Array {
  return (kernel ??= buildKernel('.globl _start\n_start: hlt\n', { bits: 64, text: 0x200000 }));
}
