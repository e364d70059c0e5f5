// `--accel tcg|kvm|auto`: parsing, the KVM probe, and what auto falls back to.
import { describe, expect, it } from 'vitest';
import { AccelError } from '../src/accel/accelerator.ts';
import { KvmAccelerator, probeKvm } from '../src/accel/kvm/accel.ts';
import { accelReserveBytes, createAccelerator, parseAccelChoice, selectAccel } from '../src/accel/select.ts';
import { TcgAccelerator } from '../src/accel/tcg.ts';
import { CPU_EXTRA_BYTES } from '../src/cpu/cpu.ts';
import { GuestMemory } from '../src/machine/memory.ts';

const kvm = probeKvm();
const why = kvm.ok ? '' : ` [skipped: KVM unusable: ${kvm.reason}]`;
const MISSING = '/nonexistent/kvm';

describe('accelerator selection', () => {
  it('parses the three choices and rejects others', () => {
    expect(['tcg', 'kvm', 'auto'].map(parseAccelChoice)).toEqual(['tcg', 'kvm', 'auto']);
    expect(() => parseAccelChoice('hvf')).toThrow(AccelError);
    expect(() => parseAccelChoice('hvf')).toThrow("unknown accelerator 'hvf' (expected tcg, kvm, auto)");
  });

  it('tcg is taken as asked, without probing', () => {
    expect(selectAccel('tcg', MISSING)).toEqual({ name: 'tcg', note: 'accel: tcg (software CPU)' });
  });

  it('auto falls back to tcg and says why when the KVM device is missing', () => {
    const s = selectAccel('auto', MISSING);
    expect(s.name).toBe('tcg');
    expect(s.note).toBe(`accel: tcg (KVM not usable: cannot open ${MISSING}: No such file or directory (errno 2))`);
  });

  it('--accel kvm without a usable KVM is a one-line AccelError', () => {
    expect(() => selectAccel('kvm', MISSING)).toThrow(AccelError);
    try {
      selectAccel('kvm', MISSING);
    } catch (e) {
      expect((e as Error).message).toBe(`--accel kvm: KVM is not usable: cannot open ${MISSING}: No such file or directory (errno 2)`);
    }
  });

  it('a device that is not KVM is refused', () => {
    const s = selectAccel('auto', '/dev/null');
    expect(s.name).toBe('tcg');
    expect(s.note).toBe('accel: tcg (KVM not usable: /dev/null is not a KVM device (KVM_GET_API_VERSION: Inappropriate ioctl for device (errno 25)))');
  });

  it.skipIf(!kvm.ok)(`auto takes KVM where /dev/kvm works${why}`, () => {
    expect(selectAccel('auto')).toEqual({ name: 'kvm', note: 'accel: kvm (/dev/kvm (KVM API 12))' });
    expect(selectAccel('kvm').name).toBe('kvm');
  });

  it('reserves the software CPU state area only for tcg', () => {
    expect(accelReserveBytes('tcg')).toBe(CPU_EXTRA_BYTES);
    expect(accelReserveBytes('kvm')).toBe(0);
  });

  it('creates the named backend', () => {
    const mem = new GuestMemory(1 << 20, { extraBytes: CPU_EXTRA_BYTES });
    expect(createAccelerator('tcg', mem)).toBeInstanceOf(TcgAccelerator);
    expect(() => createAccelerator('tcg', new GuestMemory(1 << 20))).toThrow(AccelError);
    expect(() => createAccelerator('kvm', mem, { devicePath: MISSING })).toThrow(/cannot open \/nonexistent\/kvm/);
  });

  it.skipIf(!kvm.ok)(`creates a KVM accelerator over the guest memory${why}`, () => {
    const acc = createAccelerator('kvm', new GuestMemory(1 << 20));
    expect(acc).toBeInstanceOf(KvmAccelerator);
    expect(acc.name).toBe('kvm');
    acc.close();
  });
});
