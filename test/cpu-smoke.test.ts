// End to end: an ELF64 guest built at test time boots on the software CPU and talks to the UART.
import { describe, expect, it } from 'vitest';
import { Machine } from '../src/machine/machine.ts';
import { buildKernel } from './loader-build.ts';
import { CALLS_GUEST, HELLO64_GUEST } from './smoke-guests.ts';

function boot(source: string, maxInsns = 1_000_000) {
  const out: number[] = [];
  const m = new Machine({ ramSize: 16 << 20, output: (b) => out.push(...b) });
  m.load(buildKernel(source, { bits: 64 }));
  const r = m.run(maxInsns);
  return { r, out: Buffer.from(out).toString(), m };
}

describe('software CPU smoke', () => {
  it('prints over COM1 and exits through isa-debug-exit', () => {
    const { r, out } = boot(HELLO64_GUEST);
    expect(out).toBe('hello from kemu\n');
    expect(r).toEqual({ kind: 'exit', status: 0x43 });
  });

  it('calls, loops and flags', () => {
    const { r } = boot(CALLS_GUEST);
    expect(r).toEqual({ kind: 'exit', status: 3 });
  });

  it('reports a HLT with interrupts off', () => {
    const { r } = boot(`.globl _start\n_start: hlt\n`);
    expect(r.kind).toBe('halt');
  });
});
