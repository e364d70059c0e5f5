// Drives a Board with any accelerator's vCPU, for the accelerator tests and the KVM benchmark: the board's buses
// as the IoHandler, device stop requests forwarded to the vCPU, and a run loop until the guest is done.
import type { Accelerator, AccelName, Vcpu, VcpuExit } from '../src/accel/accelerator.ts';
import type { KvmOptions } from '../src/accel/kvm/accel.ts';
import { accelReserveBytes, createAccelerator } from '../src/accel/select.ts';
import { Board } from '../src/machine/board.ts';
import { boardIo } from '../src/machine/switch.ts';

export interface GuestRun {
  board: Board;
  accel: Accelerator;
  vcpu: Vcpu;
  out: () => string;
}

/** A board of `ramSize` bytes with a vCPU of the named accelerator, COM1 captured. */
export function makeGuest(name: AccelName, ramSize = 16 << 20, kvm: KvmOptions = {}): GuestRun {
  const bytes: number[] = [];
  const board = new Board({ ramSize, cpuReserve: accelReserveBytes(name), output: (b) => bytes.push(...b) });
  const accel = createAccelerator(name, board.memory, kvm);
  let vcpu: Vcpu | undefined;
  vcpu = accel.createVcpu(boardIo(board, () => vcpu));
  return { board, accel, vcpu, out: () => Buffer.from(bytes).toString('latin1') };
}

export type Outcome = { kind: 'exit'; status: number } | VcpuExit;

/** Runs until the guest exits through a device, or the vCPU reports anything but a used-up budget. */
export function runGuest(g: GuestRun, opts: { budget?: number; onIdle?: (g: GuestRun) => boolean } = {}): Outcome {
  for (;;) {
    const e = g.vcpu.run(opts.budget ?? 1_000_000);
    const req = g.board.stopRequest;
    if (req) return req.kind === 'exit' ? { kind: 'exit', status: req.status } : { kind: 'stopped' };
    if (e.kind === 'budget') continue;
    if (e.kind === 'idle' && opts.onIdle?.(g)) continue;
    return e;
  }
}
