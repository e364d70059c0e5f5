// The KVM backend against the same guests as the software CPU: same UART output and exit status, ring-3 code,
// state round trips, interrupt injection, stops, error exits. Skipped (with the reason in each name) only where
// /dev/kvm is absent or unusable.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { AccelName } from '../src/accel/accelerator.ts';
import { probeKvm } from '../src/accel/kvm/accel.ts';
import type { KvmVcpu } from '../src/accel/kvm/vcpu.ts';
import { flatSegment, initialFpu, realModeSegment, type CpuState } from '../src/cpu/state.ts';
import {
  HELLO64_GUEST, IRQ_HLT_GUEST, MULTIBOOT_GUEST, pvhGuest, RING3_SPIN_GUEST, ring3Prelude, sieveGuest, sieveOutput,
} from './accel-guests.ts';
import { type GuestRun, makeGuest, runGuest } from './accel-harness.ts';
import { buildKernel } from './loader-build.ts';

const kvm = probeKvm();
const why = kvm.ok ? '' : ` [skipped: KVM unusable: ${kvm.reason}]`;
const kit = (name: string, fn: () => unknown, timeout?: number) => it.skipIf(!kvm.ok)(name + why, fn, timeout);
/** kvm_pvm (KVM inside a microVM): guest ring 0 is emulated by the host kernel, with gaps noted below. */
const PVM = existsSync('/sys/module/kvm_pvm');

const live: GuestRun[] = [];
afterEach(() => {
  for (const g of live.splice(0)) g.accel.close();
});

function guest(name: AccelName): GuestRun {
  const g = makeGuest(name);
  live.push(g);
  return g;
}

function boot(name: AccelName, image: Uint8Array, opts: Parameters<typeof runGuest>[1] = {}) {
  const g = guest(name);
  g.vcpu.setState(g.board.loadKernel(image).state);
  const outcome = runGuest(g, opts);
  return { outcome, out: g.out(), g };
}

const loaded = (src: string, opts: Parameters<typeof buildKernel>[1]) => buildKernel(src, opts);

describe('KVM runs the guests the software CPU runs', () => {
  const cases: [string, () => Uint8Array][] = [
    ['ELF64 (long mode)', () => loaded(HELLO64_GUEST, { bits: 64 })],
    ['PVH ELF32 (32-bit protected mode)', () => loaded(pvhGuest(32), { bits: 32, segment: 0x100000 })],
    ['PVH ELF64', () => loaded(pvhGuest(64), { bits: 64, segment: 0x100000 })],
    ['Multiboot', () => loaded(MULTIBOOT_GUEST, { bits: 32 })],
  ];
  for (const [name, image] of cases) {
    kit(`${name}: same UART output and exit status`, () => {
      const img = image();
      const t = boot('tcg', img);
      const k = boot('kvm', img);
      expect(t.outcome.kind).toBe('exit');
      expect(k.out).toBe(t.out);
      expect(k.outcome).toEqual(t.outcome);
    });
  }

  kit('a ring-3 integer workload (sieve) set up by a ring-0 stub', () => {
    const img = loaded(sieveGuest({ size: 20000, rounds: 2 }), { bits: 64 });
    const t = boot('tcg', img);
    const k = boot('kvm', img);
    expect(k.out).toBe(sieveOutput(20000));
    expect(k.outcome).toEqual({ kind: 'exit', status: 1 });
    expect(t.out).toBe(k.out);
    expect(t.outcome).toEqual(k.outcome);
    const s = k.g.vcpu.getState();
    expect(s.cs.selector).toBe(0x23);
    expect(s.cs.dpl).toBe(3);
  }, 60_000);

  kit('a large ring-3 run: 4 MiB sieve, 5 rounds', () => {
    const k = boot('kvm', loaded(sieveGuest({ size: 4 << 20, rounds: 5 }), { bits: 64 }));
    expect(k.out).toBe(sieveOutput(4 << 20));
    expect(k.outcome).toEqual({ kind: 'exit', status: 1 });
  });

  kit('real mode', () => {
    const g = guest('kvm');
    // mov al,'R'; mov dx,0x3f8; out dx,al; mov al,0; out 0xf4,al
    g.board.memory.write(0x7c00, Uint8Array.of(0xb0, 0x52, 0xba, 0xf8, 0x03, 0xee, 0xb0, 0x00, 0xe6, 0xf4));
    const s = g.vcpu.getState();
    s.cs = realModeSegment(0, 0xb);
    s.rip = 0x7c00n;
    g.vcpu.setState(s);
    expect(runGuest(g)).toEqual({ kind: 'exit', status: 1 });
    expect(g.out()).toBe('R');
  });

  kit('string I/O (rep outsb / rep insb, count > 1) and the exit counter', () => {
    const g = guest('kvm');
    g.board.sendInput('xyz');
    g.vcpu.setState(g.board.loadKernel(loaded(`
      .globl _start
      _start:
        mov $0x3f8, %dx
        lea msg(%rip), %rsi
        mov $5, %ecx
        rep outsb
        lea buf(%rip), %rdi
        mov $3, %ecx
        rep insb
        lea buf(%rip), %rsi
        mov $3, %ecx
        rep outsb
        xor %eax, %eax
        out %al, $0xf4
      msg: .ascii "abcde"
        .data
      buf: .skip 8
    `, { bits: 64 })).state);
    const before = g.vcpu.exits;
    expect(runGuest(g)).toEqual({ kind: 'exit', status: 1 });
    expect(g.out()).toBe('abcdexyz');
    expect(g.vcpu.exits - before).toBeGreaterThanOrEqual(4);
  });

  kit('MMIO of 1, 2, 4 and 8 bytes reaches the board', () => {
    const g = guest('kvm');
    const log: string[] = [];
    g.board.mmio.register(0xc000_0000, 0x1000, {
      mmioRead: (off, size) => (log.push(`r${size}@${off}`), 0x11223344 & (size === 4 ? -1 : (1 << (8 * size)) - 1)),
      mmioWrite: (off, size, v) => void log.push(`w${size}@${off}=${v.toString(16)}`),
    }, 'test');
    g.vcpu.setState(g.board.loadKernel(loaded(`
      .globl _start
      _start:
        mov $0xc0000000, %rdi
        movb $0xab, (%rdi)
        movw $0xbeef, 2(%rdi)
        movl $0xcafef00d, 4(%rdi)
        mov $0x0123456789abcdef, %rax
        mov %rax, 8(%rdi)
        mov 16(%rdi), %ebx
        mov 24(%rdi), %rcx
        movzbl 1(%rdi), %edx
        xor %eax, %eax
        out %al, $0xf4
    `, { bits: 64 })).state);
    expect(runGuest(g)).toEqual({ kind: 'exit', status: 1 });
    expect(log).toEqual([
      'w1@0=ab', 'w2@2=beef', 'w4@4=cafef00d', 'w4@8=89abcdef', 'w4@12=1234567', 'r4@16', 'r4@24', 'r4@28', 'r1@1',
    ]);
    const s = g.vcpu.getState();
    expect(s.gpr[3]).toBe(0x11223344n);
    expect(s.gpr[1]).toBe(0x1122334411223344n);
    expect(s.gpr[2]).toBe(0x44n);
  });
});

/** A state exercising every field kvm_regs/kvm_sregs/msrs/debugregs carry. */
function richState(base: CpuState): CpuState {
  const s: CpuState = { ...base, msrs: new Map(base.msrs) };
  s.gpr = Array.from({ length: 16 }, (_, i) => 0x1111_0000_0000_0000n * BigInt(i % 15) + BigInt(i * 0x101));
  s.rip = 0x123456n;
  s.rflags = 0x202n | 0x1n | 0x80n | 0x800n; // IF CF SF OF
  s.fs = { ...flatSegment(0x10, false), base: 0x7fff_1234_5000n };
  s.gs = { ...flatSegment(0x10, false), base: 0xffff_8880_0000_1000n };
  s.es = { ...flatSegment(0x10, false), avl: true };
  s.ldtr = { selector: 0x30, base: 0x4000n, limit: 0xfff, type: 2, s: false, dpl: 0, present: true, avl: false, l: false, db: false, g: false, unusable: false };
  s.gdtr = { base: 0x500n, limit: 0x3f };
  s.idtr = { base: 0x2000n, limit: 0xfff };
  s.cr2 = 0xdead_b000n;
  s.cr8 = 5n;
  s.efer = 0xd01n; // SCE LME LMA NXE
  s.dr = [0x1000n, 0x2000n, 0x3000n, 0x4000n, 0xffff0ff0n, 0x400n | 0x2n];
  s.msrs.set(0xc0000081, 0x0023_0010_0000_0000n); // STAR
  s.msrs.set(0xc0000082, 0xffff_ffff_8100_0000n); // LSTAR
  s.msrs.set(0xc0000084, 0x4700n); // SFMASK
  s.msrs.set(0xc0000102, 0xffff_8880_1234_0000n); // KERNEL_GS_BASE
  s.msrs.set(0x174, 0x10n);
  s.msrs.set(0x175, 0x8000n);
  s.msrs.set(0x176, 0xffff_ffff_8100_1000n);
  s.halted = true;
  const fpu = initialFpu();
  fpu.fcw = 0x27f;
  fpu.fsw = 0x3800 | 0x41; // TOP 7, C0, IE
  fpu.ftwx = 0x80;
  fpu.mxcsr = 0x9fc0; // FZ DAZ, all masked
  fpu.st[0] = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f]); // 1.0
  fpu.xmm = fpu.xmm.map((_, i) => Uint8Array.from({ length: 16 }, (_, k) => (i * 16 + k) & 0xff));
  s.fpu = fpu;
  s.xcr0 = 3n;
  s.events = { interruptShadow: true, nmiPending: false, nmiMasked: true };
  return s;
}

describe('KVM state', () => {
  kit('setState then getState returns what was set', () => {
    const g = guest('kvm');
    const base = g.board.loadKernel(loaded(HELLO64_GUEST, { bits: 64 })).state;
    const want = richState(base);
    g.vcpu.setState(want);
    const got = g.vcpu.getState();
    const { msrs: gotMsrs, ...gotRest } = got;
    const { msrs: wantMsrs, ...wantRest } = want;
    expect(gotRest).toEqual(wantRest);
    for (const [k, v] of wantMsrs) expect([k, gotMsrs.get(k)]).toEqual([k, v]);
    expect(gotMsrs.get(0x1b)).toBe(0xfee00900n); // APIC base from sregs
  });

  kit('getState after an I/O exit sees the instruction completed', () => {
    const g = guest('kvm');
    g.vcpu.setState(g.board.loadKernel(loaded(`
      .globl _start
      _start:
        mov $0x21, %al
        out %al, $0xf4
        mov $0x3f8, %dx
        in %dx, %al
    `, { bits: 64 })).state);
    expect(g.vcpu.run()).toEqual({ kind: 'stopped' });
    expect(g.vcpu.getState().rip).toBe(0x100004n); // past the OUT
  });

  kit('x87/SSE registers round-trip through getFpu/setFpu; XCR0 through getXcr0/setXcr0', () => {
    const v = guest('kvm').vcpu as KvmVcpu;
    const f = v.getFpu();
    expect(f.fcw).toBe(0x37f);
    f.fcw = 0x27f;
    f.ftwx = 0x3;
    f.st[1]![9] = 0x40;
    f.xmm[15]![0] = 0x77;
    f.mxcsr = 0x1fa0;
    v.setFpu(f);
    const g = v.getFpu();
    expect([g.fcw, g.ftwx, g.st[1]![9], g.xmm[15]![0]]).toEqual([0x27f, 0x3, 0x40, 0x77]);
    // through KVM_GET/SET_XSAVE: kvm_pvm neither reports nor takes MXCSR through KVM_GET/SET_FPU (it reads as 0)
    expect(g.mxcsr).toBe(0x1fa0);
    expect(v.getXcr0()).toBe(1n);
    v.setXcr0(3n);
    expect(v.getXcr0()).toBe(3n);
  });

  kit('CPUID is the software CPU model intersected with what KVM supports', () => {
    const v = guest('kvm').vcpu as KvmVcpu;
    const leaf0 = v.cpuidEntries.find((e) => e.function === 0)!;
    expect(leaf0.ebx).toBe(0x68747541); // "Auth" (the model's vendor)
    const leaf1 = v.cpuidEntries.find((e) => e.function === 1)!;
    const host1 = (v.vm.device.supportedCpuid()).find((e) => e.function === 1)!;
    expect(leaf1.edx & ~host1.edx).toBe(0);
    expect(leaf1.ecx & ~host1.ecx).toBe(0);
    expect(leaf1.edx & (1 << 9)).toBe(1 << 9); // the board's local APIC (MMIO exits to kemu's device: no in-kernel irqchip)
  });
});

describe('KVM interrupts and stops', () => {
  kit('an injected interrupt wakes a halted ring-0 guest (same as the software CPU)', () => {
    for (const name of ['kvm', 'tcg'] as const) {
      let n = 0;
      const { outcome, out } = boot(name, loaded(IRQ_HLT_GUEST, { bits: 64 }), {
        onIdle: (g) => {
          g.vcpu.injectInterrupt(0x20);
          return ++n < 10;
        },
      });
      expect([name, outcome, out, n]).toEqual([name, { kind: 'exit', status: 7 }, 'III', 3]);
    }
  });

  kit('an interrupt injected while ring 3 spins is taken through the IDT and TSS', () => {
    const g = guest('kvm');
    g.vcpu.setState(g.board.loadKernel(loaded(RING3_SPIN_GUEST, { bits: 64 })).state);
    expect(g.vcpu.run(1)).toEqual({ kind: 'budget' });
    expect(g.out()).toBe('');
    g.vcpu.injectInterrupt(0x21);
    for (let i = 0; i < 20 && g.out() === ''; i++) g.vcpu.run(5);
    expect(g.out()).toBe('U');
    expect(g.vcpu.getState().cs.selector).toBe(0x23);
  });

  kit('requestStop() before run() returns stopped without entering the guest', () => {
    const g = guest('kvm');
    g.vcpu.setState(g.board.loadKernel(loaded(HELLO64_GUEST, { bits: 64 })).state);
    const exits = g.vcpu.exits;
    g.vcpu.requestStop();
    expect(g.vcpu.run()).toEqual({ kind: 'stopped' });
    expect(g.vcpu.exits).toBe(exits);
    expect(g.vcpu.getState().rip).toBe(0x100000n);
    expect(runGuest(g)).toEqual({ kind: 'exit', status: 0x43 });
  });

  kit('run() returns within its time slice while ring 3 spins; a timer then stops it', async () => {
    const g = guest('kvm');
    g.vcpu.setState(g.board.loadKernel(loaded(RING3_SPIN_GUEST, { bits: 64 })).state);
    const t0 = performance.now();
    setTimeout(() => g.vcpu.requestStop(), 100);
    let slices = 0;
    let longest = 0;
    for (;;) {
      const s = performance.now();
      const e = g.vcpu.run();
      longest = Math.max(longest, performance.now() - s);
      if (e.kind === 'stopped') break;
      expect(e).toEqual({ kind: 'budget' });
      slices++;
      await new Promise((r) => setImmediate(r));
    }
    const total = performance.now() - t0;
    expect(slices).toBeGreaterThanOrEqual(2);
    expect(longest).toBeLessThan(250); // 20 ms slices, with room for a loaded host
    expect(total).toBeLessThan(2000);
  });

  kit('a signal interrupts a KVM_RUN long before its slice ends (Ctrl-C style)', async () => {
    // a 10 s slice: only the signal can end this KVM_RUN early (and the test cannot hang)
    const g = makeGuest('kvm', 16 << 20, { sliceMs: 10_000 });
    live.push(g);
    const vcpu = g.vcpu;
    vcpu.setState(g.board.loadKernel(loaded(RING3_SPIN_GUEST, { bits: 64 })).state);
    let got = false;
    const onSignal = () => {
      got = true;
      vcpu.requestStop();
    };
    process.on('SIGUSR2', onSignal);
    try {
      spawn('sh', ['-c', `sleep 0.2; kill -USR2 ${process.pid}`], { stdio: 'ignore' });
      const t0 = performance.now();
      expect(vcpu.run()).toEqual({ kind: 'budget' });
      expect(performance.now() - t0).toBeLessThan(5000);
      await new Promise((r) => setTimeout(r, 10));
      expect(got).toBe(true);
      expect(vcpu.run()).toEqual({ kind: 'stopped' });
    } finally {
      process.off('SIGUSR2', onSignal);
    }
  });

  kit('single-stepping reports debug exits', () => {
    const g = guest('kvm');
    const v = g.vcpu as KvmVcpu;
    v.setState(g.board.loadKernel(loaded(HELLO64_GUEST, { bits: 64 })).state);
    v.setSingleStep(true);
    const rips: bigint[] = [];
    for (let i = 0; i < 3; i++) {
      expect(v.run()).toEqual({ kind: 'debug' });
      rips.push(v.getState().rip);
    }
    expect(rips).toEqual([0x100004n, 0x10000bn, 0x10000dn]);
    v.setSingleStep(false);
    expect(runGuest(g)).toEqual({ kind: 'exit', status: 0x43 });
  });
});

describe('KVM error exits are reported, not crashes', () => {
  kit('executing unbacked memory: KVM_EXIT_INTERNAL_ERROR with the guest state', () => {
    const { outcome } = boot('kvm', loaded(`.globl _start\n_start:\n mov $0xc0000000, %rax\n jmp *%rax\n`, { bits: 64 }));
    expect(outcome.kind).toBe('error');
    const msg = (outcome as { message: string }).message;
    expect(msg).toMatch(/^KVM_EXIT_INTERNAL_ERROR \(emulation failure\).* at rip=0xc0000000 .*cs=0x8\(L,dpl0\).*cr0=0x80000033/);
    expect(msg).not.toContain('\n');
  });

  kit('a triple fault is a shutdown', () => {
    const { outcome } = boot('kvm', loaded(`.globl _start\n_start:\n ud2\n`, { bits: 64 }));
    expect(outcome).toEqual({ kind: 'shutdown' });
  });

  kit('a state KVM refuses is an AccelError from setState', () => {
    const g = guest('kvm');
    const s = g.vcpu.getState();
    s.cr0 = 0x80000000n; // paging without protection
    expect(() => g.vcpu.setState(s)).toThrow(/KVM_SET_SREGS: Invalid argument/);
  });

  kit('HLT with interrupts off is a halt, and stays one', () => {
    const { outcome, g } = boot('kvm', loaded(`.globl _start\n_start:\n cli\n hlt\n`, { bits: 64 }));
    expect(outcome).toEqual({ kind: 'halt' });
    expect(g.vcpu.getState().halted).toBe(true);
    expect(g.vcpu.run()).toEqual({ kind: 'halt' });
  });

  if (PVM) {
    kit('kvm_pvm: x87 in guest ring 0 is an emulation failure (native on VT-x/AMD-V)', () => {
      const { outcome } = boot('kvm', loaded(`.globl _start\n_start:\n fninit\n fld1\n`, { bits: 64 }));
      expect(outcome).toMatchObject({ kind: 'error', message: expect.stringMatching(/^KVM_EXIT_INTERNAL_ERROR \(emulation failure\)/) });
    });
  }

  kit('ring-3 code may use x87/SSE natively', () => {
    const { outcome } = boot('kvm', loaded(`${ring3Prelude()}
      .text
      user_entry:
        fninit
        fld1
        fadd %st(0), %st(0)
        fistpl val(%rip)
        movd val(%rip), %xmm1
        paddd %xmm1, %xmm1
        movd %xmm1, %eax
        out %al, $0xf4
      irq_handler:
        iretq
        .data
      val: .long 0
    `, { bits: 64 }));
    expect(outcome).toEqual({ kind: 'exit', status: 9 }); // (1+1)*2 = 4 -> status 4<<1|1
  });
});
