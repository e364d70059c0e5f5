// The software CPU behind the accelerator interface: budgets, stops, interrupt injection, state.
import { describe, expect, it } from 'vitest';
import { AccelError } from '../src/accel/accelerator.ts';
import { HELLO64_GUEST, IRQ_HLT_GUEST, RING3_SPIN_GUEST } from './accel-guests.ts';
import { makeGuest, runGuest } from './accel-harness.ts';
import { buildKernel } from './loader-build.ts';

function loaded(src: string) {
  const g = makeGuest('tcg');
  g.vcpu.setState(g.board.loadKernel(buildKernel(src, { bits: 64 })).state);
  return g;
}

describe('tcg accelerator', () => {
  it('runs a guest to its isa-debug-exit write', () => {
    const g = loaded(HELLO64_GUEST);
    expect(g.accel.name).toBe('tcg');
    expect(runGuest(g)).toEqual({ kind: 'exit', status: 0x43 });
    expect(g.out()).toBe('hello from kemu\n');
  });

  it('a budget counts instructions, and exits count retired instructions', () => {
    const g = loaded(HELLO64_GUEST);
    expect(g.vcpu.run(2)).toEqual({ kind: 'budget' });
    expect(g.vcpu.exits).toBeGreaterThanOrEqual(2);
    expect(g.vcpu.getState().rip).toBeGreaterThan(0x100000n);
  });

  it('requestStop() before run() returns stopped at once', () => {
    const g = loaded(HELLO64_GUEST);
    g.vcpu.requestStop();
    expect(g.vcpu.run()).toEqual({ kind: 'stopped' });
    expect(g.vcpu.exits).toBe(0);
    expect(runGuest(g)).toEqual({ kind: 'exit', status: 0x43 });
  });

  it('injected interrupts wake a halted guest', () => {
    const g = loaded(IRQ_HLT_GUEST);
    let n = 0;
    expect(runGuest(g, { onIdle: (x) => (x.vcpu.injectInterrupt(0x20), ++n < 10) })).toEqual({ kind: 'exit', status: 7 });
    expect(g.out()).toBe('III');
  });

  it('an interrupt reaches ring 3 code through the IDT and TSS', () => {
    const g = loaded(RING3_SPIN_GUEST);
    expect(g.vcpu.run(50_000)).toEqual({ kind: 'budget' });
    expect(g.vcpu.getState().cs.selector).toBe(0x23);
    g.vcpu.injectInterrupt(0x22);
    g.vcpu.run(1000);
    expect(g.out()).toBe('U');
  });

  it('rejects bad vectors and a second vCPU', () => {
    const g = loaded(HELLO64_GUEST);
    expect(() => g.vcpu.injectInterrupt(256)).toThrow(AccelError);
    expect(() => g.accel.createVcpu({ ioRead: () => 0, ioWrite: () => {}, mmioRead: () => 0, mmioWrite: () => {} })).toThrow(AccelError);
  });
});
