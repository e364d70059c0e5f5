// `--accel tcg|kvm|auto`: which backend runs the guest. auto takes KVM when /dev/kvm really works (a VM and a vCPU
// can be created), else the software CPU, and says which it took and why.
import { AccelError, type Accelerator, type AccelName } from './accelerator.ts';
import { CPU_EXTRA_BYTES } from '../cpu/cpu.ts';
import type { GuestMemory } from '../machine/memory.ts';
import { KvmAccelerator, type KvmOptions, probeKvm } from './kvm/accel.ts';
import { KVM_DEVICE } from './kvm/device.ts';
import { TcgAccelerator } from './tcg.ts';

export type AccelChoice = AccelName | 'auto';
export const ACCEL_CHOICES: readonly AccelChoice[] = ['tcg', 'kvm', 'auto'];

export interface AccelSelection {
  name: AccelName;
  /** One line for the user: what was taken and why. */
  note: string;
}

export function parseAccelChoice(value: string): AccelChoice {
  if ((ACCEL_CHOICES as readonly string[]).includes(value)) return value as AccelChoice;
  throw new AccelError(`unknown accelerator '${value}' (expected ${ACCEL_CHOICES.join(', ')})`);
}

/** Resolves a choice to a backend. `--accel kvm` without a working KVM is an AccelError with the reason. */
export function selectAccel(choice: AccelChoice, devicePath = KVM_DEVICE): AccelSelection {
  if (choice === 'tcg') return { name: 'tcg', note: 'accel: tcg (software CPU)' };
  const probe = probeKvm(devicePath);
  if (probe.ok) return { name: 'kvm', note: `accel: kvm (${probe.detail})` };
  if (choice === 'kvm') throw new AccelError(`--accel kvm: KVM is not usable: ${probe.reason}`);
  return { name: 'tcg', note: `accel: tcg (KVM not usable: ${probe.reason})` };
}

/** Bytes the board must reserve after guest RAM for this backend (the software CPU keeps its state there). */
export function accelReserveBytes(name: AccelName): number {
  return name === 'tcg' ? CPU_EXTRA_BYTES : 0;
}

export function createAccelerator(name: AccelName, memory: GuestMemory, kvm: KvmOptions = {}): Accelerator {
  return name === 'kvm' ? new KvmAccelerator(memory, kvm) : new TcgAccelerator(memory);
}
