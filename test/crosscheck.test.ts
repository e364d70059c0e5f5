// `kemu crosscheck`: a guest run on kvm and tcg in lockstep, compared at every exit.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { probeKvm } from '../src/accel/kvm/accel.ts';
import { main } from '../src/cli/main.ts';
import { flatSegment, resetState } from '../src/cpu/state.ts';
import { compareStates, crosscheck } from '../src/fuzz/lockstep.ts';
import { HELLO64_GUEST, pvhGuest, sieveGuest } from './accel-guests.ts';
import { buildKernel } from './loader-build.ts';

const kvm = probeKvm();
const why = kvm.ok ? '' : ` [skipped: KVM unusable: ${kvm.reason}]`;

describe('crosscheck state comparison', () => {
  it('compares registers, flags, hidden segment parts and control registers, with a flag mask', () => {
    const a = resetState();
    const b = resetState();
    expect(compareStates(a, b, 0)).toEqual([]);
    b.gpr[3] = 5n;
    b.rflags |= 0x10n;
    b.cs = { ...b.cs, limit: 0xfffff };
    b.cr0 |= 0x20n;
    expect(compareStates(a, b, 0)).toEqual(['rbx: 0x0 vs 0x5', 'rflags: 0x2 vs 0x12', 'cs.limit: 0xffff vs 0xfffff', 'cr0: 0x60000010 vs 0x60000030']);
    expect(compareStates(a, b, 0x10)).toHaveLength(3);
    // null data segments in 64-bit mode: only the selector (and the FS/GS bases) count
    const c = { ...resetState(), efer: 0x500n, cs: flatSegment(8, true, true) };
    const d = { ...c, ds: { ...c.ds, limit: 0, type: 0, present: false } };
    expect(compareStates(c, d, 0)).toEqual([]);
  });
});

describe.skipIf(!kvm.ok)('crosscheck on kvm and tcg' + why, () => {
  it('runs a ring-3 guest with many I/O exits in lockstep to its end', () => {
    const image = buildKernel(sieveGuest({ size: 5000, rounds: 20 }), { bits: 64 });
    const r = crosscheck(image, { ramSize: 32 << 20, maskUndefined: false });
    expect(r.report).toEqual([]);
    expect(r.kind).toBe('agree');
    expect(r.end).toBe('guest exit, status 1'); // (0 << 1) | 1: the count was right
    expect(r.syncs).toBeGreaterThan(20);
    expect(r.tcgInstructions).toBeGreaterThan(100_000);
  });

  it('agrees from 32-bit protected mode (PVH) too', () => {
    const r = crosscheck(buildKernel(pvhGuest(32), { bits: 32, segment: 0x100000 }), { ramSize: 16 << 20, maskUndefined: false });
    expect(r.report).toEqual([]);
    expect(r.kind).toBe('agree');
  });

  it('stops at the first divergence with both states, the diff and the code since the last agreement', () => {
    const image = buildKernel(sieveGuest({ size: 3000, rounds: 5 }), { bits: 64 });
    const r = crosscheck(image, {
      ramSize: 32 << 20, maskUndefined: false,
      perturb: (s, sync) => (sync === 3 ? { ...s, gpr: s.gpr.map((v, i) => (i === 12 ? v ^ 1n : v)) } : undefined),
    });
    expect(r.kind).toBe('diverged');
    expect(r.syncs).toBe(3);
    const text = r.report.join('\n');
    expect(text).toMatch(/DIVERGENCE at sync point 3 \(states differ\); last agreement: I\/O operation 2 \(out 0x80\/1/);
    expect(text).toContain('kvm state:');
    expect(text).toContain('tcg state:');
    expect(text).toMatch(/differences \(kvm vs tcg\):\n {2}r12: 0x[0-9a-f]+ vs 0x[0-9a-f]+/);
    expect(text).toMatch(/tcg ran since the last agreement:\n(.|\n)*out 0x80,al$/);
  });

  it('kemu crosscheck KERNEL', async () => {
    const file = join(tmpdir(), `kemu-crosscheck-${process.pid}.elf`);
    writeFileSync(file, buildKernel(HELLO64_GUEST, { bits: 64 }));
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    const ewrite = process.stderr.write.bind(process.stderr);
    process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    let status: number;
    try {
      status = await main(['crosscheck', '-m', '16M', file]);
    } finally {
      process.stdout.write = write;
      process.stderr.write = ewrite;
    }
    expect(out.join('')).toMatch(/crosscheck: agree to the end: guest exit, status 67; \d+ sync points, 17 I\/O operations/);
    expect(status).toBe(0);
  });
});
