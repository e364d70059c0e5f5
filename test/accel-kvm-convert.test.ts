// The pure parts of the KVM backend (no /dev/kvm needed): CpuState <-> kvm_regs/kvm_sregs/kvm_debugregs, CPUID
// intersection and encoding, kvm_fpu, and the error-exit descriptions.
import { describe, expect, it } from 'vitest';
import { EXIT, REGS_SIZE, RUN, SREGS } from '../src/accel/kvm/abi.ts';
import { readDebugRegs, readRegs, readSregs, writeDebugRegs, writeRegs, writeSregs } from '../src/accel/kvm/convert.ts';
import { type CpuidEntry, intersectCpuid, readCpuid2, writeCpuid2, cpuid2Size } from '../src/accel/kvm/cpuid.ts';
import { readFpu, writeFpu } from '../src/accel/kvm/fpu.ts';
import { initialFpu } from '../src/cpu/state.ts';
import { emulatedCpuModel } from '../src/accel/kvm/model.ts';
import { describeExit, describeState } from '../src/accel/kvm/report.ts';
import { flatSegment, resetState, type CpuState } from '../src/cpu/state.ts';

function sample(): CpuState {
  const s = resetState();
  s.gpr = Array.from({ length: 16 }, (_, i) => (BigInt(i + 1) << 56n) | BigInt(i));
  s.rip = 0xffff_ffff_8100_0000n;
  s.rflags = 0x246n;
  s.cs = flatSegment(0x10, true, true);
  s.ss = { ...flatSegment(0x18, false), dpl: 0 };
  s.ds = { ...flatSegment(0x2b, false), dpl: 3, avl: true };
  s.es = { selector: 0, base: 0n, limit: 0, type: 0, s: false, dpl: 0, present: false, avl: false, l: false, db: false, g: false, unusable: true };
  s.fs = { ...flatSegment(0, false), base: 0x7f00_0000_1000n };
  s.gs = { ...flatSegment(0, false), base: 0xffff_8880_0000_0000n };
  s.tr = { selector: 0x40, base: 0xffff_fe00_0000_3000n, limit: 0x4087, type: 0xb, s: false, dpl: 0, present: true, avl: false, l: false, db: false, g: false, unusable: false };
  s.ldtr = { selector: 0, base: 0n, limit: 0, type: 2, s: false, dpl: 0, present: false, avl: false, l: false, db: false, g: false, unusable: true };
  s.gdtr = { base: 0xffff_fe00_0000_1000n, limit: 0x7f };
  s.idtr = { base: 0xffff_fe00_0000_0000n, limit: 0xfff };
  s.cr0 = 0x8005_0033n;
  s.cr2 = 0x1234n;
  s.cr3 = 0x1_0000_0000n;
  s.cr4 = 0x3006a0n;
  s.cr8 = 0xfn;
  s.efer = 0xd01n;
  s.dr = [1n, 2n, 3n, 4n, 0xffff4ff0n, 0x400n];
  return s;
}

describe('CpuState <-> kvm_regs / kvm_sregs / kvm_debugregs', () => {
  it('GPRs go to kvm_regs slots in KVM order (rax rbx rcx rdx rsi rdi rsp rbp r8..r15 rip rflags)', () => {
    const dv = new DataView(new ArrayBuffer(REGS_SIZE));
    const s = sample();
    writeRegs(dv, 0, s);
    const slot = (i: number) => dv.getBigUint64(i * 8, true);
    expect([slot(0), slot(1), slot(2), slot(3)]).toEqual([s.gpr[0], s.gpr[3], s.gpr[1], s.gpr[2]]); // rax rbx rcx rdx
    expect([slot(4), slot(5), slot(6), slot(7)]).toEqual([s.gpr[6], s.gpr[7], s.gpr[4], s.gpr[5]]); // rsi rdi rsp rbp
    expect(slot(16)).toBe(s.rip);
    expect(slot(17)).toBe(0x246n);
    const back = { gpr: [], rip: 0n, rflags: 0n } as Pick<CpuState, 'gpr' | 'rip' | 'rflags'>;
    readRegs(dv, 0, back);
    expect(back).toEqual({ gpr: s.gpr, rip: s.rip, rflags: s.rflags });
  });

  it('segments, tables, control registers and EFER round-trip through kvm_sregs', () => {
    const dv = new DataView(new ArrayBuffer(SREGS.SIZE));
    const s = sample();
    writeSregs(dv, 0, s, { apicBase: 0xfee00d00n, pendingInterrupt: undefined });
    expect(dv.getUint16(SREGS.CS + 12, true)).toBe(0x10);
    expect(dv.getUint8(SREGS.CS + 19)).toBe(1); // l
    expect(dv.getUint8(SREGS.ES + 22)).toBe(1); // unusable
    const back = resetState();
    const extra = readSregs(dv, 0, back);
    expect(extra).toEqual({ apicBase: 0xfee00d00n, pendingInterrupt: undefined });
    for (const k of ['cs', 'ds', 'es', 'fs', 'gs', 'ss', 'tr', 'ldtr', 'gdtr', 'idtr', 'cr0', 'cr2', 'cr3', 'cr4', 'cr8', 'efer'] as const) {
      expect([k, back[k]]).toEqual([k, s[k]]);
    }
  });

  it('the pending interrupt is one bit of interrupt_bitmap', () => {
    const dv = new DataView(new ArrayBuffer(SREGS.SIZE));
    for (const v of [0, 0x20, 0x41, 0xff]) {
      writeSregs(dv, 0, sample(), { apicBase: 0n, pendingInterrupt: v });
      const words = [0, 1, 2, 3].map((i) => dv.getBigUint64(SREGS.INTERRUPT_BITMAP + 8 * i, true));
      expect(words.filter((w) => w !== 0n)).toEqual([1n << BigInt(v & 63)]);
      expect(words[v >> 6]).toBe(1n << BigInt(v & 63));
      expect(readSregs(dv, 0, resetState()).pendingInterrupt).toBe(v);
    }
  });

  it('debug registers round-trip (DR0-DR3, DR6, DR7)', () => {
    const dv = new DataView(new ArrayBuffer(128));
    writeDebugRegs(dv, 0, sample().dr);
    expect(readDebugRegs(dv, 0)).toEqual(sample().dr);
  });

  it('describes a guest state on one line', () => {
    expect(describeState(sample())).toBe(
      'rip=0xffffffff81000000 rsp=0x500000000000004 rflags=0x246 cs=0x10(L,dpl0) ss=0x18(D,dpl0) cr0=0x80050033 ' +
      'cr3=0x100000000 cr4=0x3006a0 efer=0xd01');
  });
});

describe('CPUID for KVM_SET_CPUID2', () => {
  const host: CpuidEntry[] = [
    { function: 0, index: 0, flags: 0, eax: 0x10, ebx: 1, ecx: 2, edx: 3 },
    { function: 1, index: 0, flags: 0, eax: 0xa10f11, ebx: 0x800, ecx: 0x8000_2001, edx: 0x0000_00ff },
    { function: 7, index: 0, flags: 1, eax: 1, ebx: 0x0000_0109, ecx: 0, edx: 0 },
    { function: 0xd, index: 0, flags: 1, eax: 0x7, ebx: 0x340, ecx: 0x988, edx: 0 },
    { function: 0xd, index: 2, flags: 1, eax: 0x100, ebx: 0x240, ecx: 0, edx: 0 },
    { function: 0x80000000, index: 0, flags: 0, eax: 0x80000008, ebx: 0, ecx: 0, edx: 0 },
    { function: 0x80000008, index: 0, flags: 0, eax: 0x3030, ebx: 0, ecx: 0, edx: 0 },
  ];

  it('ANDs feature registers, takes the smaller maximum leaf and address widths, keeps model identification', () => {
    const out = intersectCpuid([
      { leaf: 0, eax: 7, ebx: 0x68747541, ecx: 0x444d4163, edx: 0x69746e65 },
      { leaf: 1, eax: 0x800f12, ebx: 0x10800, ecx: 0x2001 | 0x80_0000, edx: 0x0f0 },
      { leaf: 7, subleaf: 0, eax: 0, ebx: 0x188, ecx: 0, edx: 0 },
      { leaf: 0x80000000, eax: 0x80000008, ebx: 0, ecx: 0, edx: 0 },
      { leaf: 0x80000008, eax: 0x3028, ebx: 0, ecx: 0, edx: 0 },
      { leaf: 0x80000002, eax: 1, ebx: 2, ecx: 3, edx: 4 }, // the host has no such leaf: dropped
    ], host);
    expect(out).toEqual([
      { function: 0, index: 0, flags: 0, eax: 7, ebx: 0x68747541, ecx: 0x444d4163, edx: 0x69746e65 },
      { function: 1, index: 0, flags: 0, eax: 0x800f12, ebx: 0x10800, ecx: 0x2001, edx: 0xf0 },
      { function: 7, index: 0, flags: 1, eax: 0, ebx: 0x108, ecx: 0, edx: 0 },
      { function: 0x80000000, index: 0, flags: 0, eax: 0x80000008, ebx: 0, ecx: 0, edx: 0 },
      { function: 0x80000008, index: 0, flags: 0, eax: 0x3028, ebx: 0, ecx: 0, edx: 0 },
    ]);
    expect(intersectCpuid([{ leaf: 0x80000008, eax: 0x3034, ebx: 0, ecx: 0, edx: 0 }], host)[0]!.eax).toBe(0x3030);
    expect(intersectCpuid([{ leaf: 0, eax: 0x20, ebx: 0, ecx: 0, edx: 0 }], host)[0]!.eax).toBe(0x10);
  });

  it('XSAVE leaves: XCR0 bits ANDed, sizes from the host, components outside XCR0 dropped', () => {
    const out = intersectCpuid([
      { leaf: 0xd, subleaf: 0, eax: 0x3, ebx: 0, ecx: 0, edx: 0 },
      { leaf: 0xd, subleaf: 2, eax: 0, ebx: 0, ecx: 0, edx: 0 },
    ], host);
    expect(out).toEqual([{ function: 0xd, index: 0, flags: 1, eax: 0x3, ebx: 0x340, ecx: 0x988, edx: 0 }]);
  });

  it('kvm_cpuid2 encodes and decodes', () => {
    const dv = new DataView(new ArrayBuffer(cpuid2Size(host.length)));
    writeCpuid2(dv, 0, host);
    expect(readCpuid2(dv, 0)).toEqual(host);
  });

  it('the software CPU model lists its basic and extended leaves, leaf 7 by subleaf', () => {
    const m = emulatedCpuModel();
    expect(m[0]).toMatchObject({ leaf: 0, ebx: 0x68747541 });
    expect(m.find((l) => l.leaf === 7)).toMatchObject({ subleaf: 0 });
    expect(m.some((l) => l.leaf === 0x80000001)).toBe(true);
  });
});

describe('kvm_fpu', () => {
  it('round-trips', () => {
    const f = initialFpu();
    f.fsw = 0x3800;
    f.ftwx = 0x81;
    f.lastOpcode = 0x5d9;
    f.lastIp = 0x401000n;
    f.lastDp = 0x7ffc0000n;
    f.st[7]!.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    f.xmm[8]!.fill(0xee);
    const dv = new DataView(new ArrayBuffer(416));
    writeFpu(dv, 0, f);
    expect(dv.getUint16(128, true)).toBe(0x37f);
    expect(dv.getUint32(408, true)).toBe(0x1f80);
    expect(readFpu(dv, 0)).toEqual(f);
  });
});

describe('error exits', () => {
  const run = () => new DataView(new ArrayBuffer(256));

  it('KVM_EXIT_INTERNAL_ERROR with its suberror and data', () => {
    const dv = run();
    dv.setUint32(RUN.INTERNAL_SUBERROR, 1, true);
    dv.setUint32(RUN.INTERNAL_NDATA, 2, true);
    dv.setBigUint64(RUN.INTERNAL_DATA, 0x1n, true);
    dv.setBigUint64(RUN.INTERNAL_DATA + 8, 0xf4n, true);
    expect(describeExit(dv, EXIT.INTERNAL_ERROR)).toBe('KVM_EXIT_INTERNAL_ERROR (emulation failure) data=[0x1 0xf4]');
  });

  it('KVM_EXIT_FAIL_ENTRY with the hardware reason', () => {
    const dv = run();
    dv.setBigUint64(RUN.FAIL_ENTRY_REASON, 0x80000021n, true);
    expect(describeExit(dv, EXIT.FAIL_ENTRY)).toBe('KVM_EXIT_FAIL_ENTRY (hardware entry failure reason 0x80000021)');
  });

  it('anything else by name or number', () => {
    expect(describeExit(run(), EXIT.NMI)).toBe('unhandled KVM_EXIT_NMI');
    expect(describeExit(run(), 99)).toBe('unhandled KVM_EXIT_99');
  });
});
