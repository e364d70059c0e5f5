// The board's interrupt controllers drive whichever backend runs the guest (src/machine/switch.ts GuestVcpu and
// runBoard): the PIT through the 8259 wakes a halted guest on time, a UART receive interrupt is taken when host
// input arrives, and the guest's view is the same under tcg and kvm. Skipped (with the reason in each name) where
// /dev/kvm is not usable.
import { afterEach, describe, expect, it } from 'vitest';
import type { Accelerator, AccelName } from '../src/accel/accelerator.ts';
import { KvmAccelerator, probeKvm } from '../src/accel/kvm/accel.ts';
import { TcgAccelerator, TcgVcpu } from '../src/accel/tcg.ts';
import { CPU_EXTRA_BYTES } from '../src/cpu/cpu.ts';
import { Board } from '../src/machine/board.ts';
import { InsnClock } from '../src/machine/clock.ts';
import { GuestVcpu, runBoard } from '../src/machine/switch.ts';
import { IDT_DATA, idtGate } from './accel-guests.ts';
import { buildKernel } from './loader-build.ts';

const kvm = probeKvm();
const why = kvm.ok ? '' : ` [skipped: KVM unusable: ${kvm.reason}]`;

const live: Accelerator[] = [];
afterEach(() => {
  for (const a of live.splice(0)) a.close();
});

/** Ring 0, long mode: IDT vectors 0x20 (timer) and 0x24 (COM1), the 8259 remapped to 0x20, then `body`. */
const prelude = (body: string) => `
  .globl _start
_start:${idtGate(0x20, 'timer')}${idtGate(0x24, 'serial')}
  lidt idtr(%rip)
  mov $0x11, %al      # ICW1: edge, cascade, ICW4
  out %al, $0x20
  mov $0x20, %al      # ICW2: vectors 0x20-0x27
  out %al, $0x21
  mov $0x04, %al
  out %al, $0x21
  mov $0x01, %al
  out %al, $0x21
${body}
  .data
ticks: .quad 0
${IDT_DATA}`;

/** PIT channel 0 at 1 kHz; HLT until 20 ticks, printing 'T' per tick; exit 5. */
const TIMER_GUEST = prelude(`
  mov $0xfe, %al      # only IRQ 0
  out %al, $0x21
  mov $0x34, %al      # channel 0, lo/hi, rate generator
  out %al, $0x43
  mov $0xa9, %al      # 1193 = 1 kHz
  out %al, $0x40
  mov $0x04, %al
  out %al, $0x40
1: sti
  hlt
  cli
  cmpq $20, ticks(%rip)
  jb 1b
  mov $2, %al
  out %al, $0xf4
timer:
  push %rax
  push %rdx
  incq ticks(%rip)
  mov $0x3f8, %dx
  mov $'T', %al
  out %al, %dx
  mov $0x20, %al
  out %al, $0x20
  pop %rdx
  pop %rax
  iretq
serial:
  iretq
`);

/**
 * PIT at 1 kHz while the guest computes (no HLT, no exits between ticks): 100 ticks must take about 100 ms. KVM
 * stays in KVM_RUN until an exit or its time slice ends, so the slice has to end at the next timer deadline.
 */
const BUSY_GUEST = prelude(`
  mov $0xfe, %al
  out %al, $0x21
  mov $0x34, %al
  out %al, $0x43
  mov $0xa9, %al
  out %al, $0x40
  mov $0x04, %al
  out %al, $0x40
  sti
1: cmpq $100, ticks(%rip)
  jb 1b
  cli
  mov $2, %al
  out %al, $0xf4
timer:
  push %rax
  incq ticks(%rip)
  mov $0x20, %al
  out %al, $0x20
  pop %rax
  iretq
serial:
  iretq
`);

/** COM1 receive interrupts: each byte received is echoed in upper case from the handler; '.' ends with exit 6. */
const SERIAL_GUEST = prelude(`
  mov $0xef, %al      # only IRQ 4
  out %al, $0x21
  mov $0x3f9, %dx     # IER: received data available
  mov $1, %al
  out %al, %dx
  mov $0x3fc, %dx     # MCR: OUT2 gates the UART's interrupt line
  mov $0x08, %al
  out %al, %dx
1: sti
  hlt
  jmp 1b
timer:
  iretq
serial:
  mov $0x3fd, %dx     # LSR: read while data is ready (the line stays high until the FIFO is empty)
  in %dx, %al
  test $1, %al
  jz 9f
  mov $0x3f8, %dx
  in %dx, %al
  cmp $'.', %al
  jne 2f
  mov $3, %al
  out %al, $0xf4
2:
  cmp $'a', %al
  jb 3f
  sub $0x20, %al
3:
  out %al, %dx
  jmp serial
9:
  mov $0x20, %al
  out %al, $0x20
  iretq
`);

let images: Map<string, Uint8Array> | undefined;
const image = (src: string) => {
  images ??= new Map();
  let b = images.get(src);
  if (!b) images.set(src, (b = buildKernel(src, { bits: 64 })));
  return b;
};

async function boot(name: AccelName, src: string, opts: { clock?: InsnClock; input?: string } = {}) {
  const bytes: number[] = [];
  const board = new Board({ ramSize: 16 << 20, cpuReserve: CPU_EXTRA_BYTES, output: (b) => bytes.push(...b), clock: opts.clock });
  const accel = name === 'kvm' ? new KvmAccelerator(board.memory) : new TcgAccelerator(board.memory, { jit: 'on' });
  live.push(accel);
  const guest = new GuestVcpu(board, accel);
  if (opts.clock && guest.vcpu instanceof TcgVcpu) {
    const cpu = guest.vcpu.cpu;
    opts.clock.counter = () => cpu.icount;
  }
  guest.vcpu.setState(board.loadKernel(image(src)).state);
  const t0 = performance.now();
  // host input arrives while the guest waits in HLT
  if (opts.input) setTimeout(() => board.sendInput(opts.input!), 5);
  const outcome = await runBoard(guest, { waitForInput: () => true });
  return { outcome, out: Buffer.from(bytes).toString('latin1'), ms: performance.now() - t0, board };
}

describe('board interrupts through runBoard', () => {
  it('the PIT wakes a halted guest at 1 kHz (software CPU, instruction clock: exact virtual time)', async () => {
    const clock = new InsnClock();
    const r = await boot('tcg', TIMER_GUEST, { clock });
    expect(r.outcome).toEqual({ kind: 'exit', status: 5 });
    expect(r.out).toBe('T'.repeat(20));
    // 20 periods of 1193 PIT ticks (838.1 ns each): 19.997 ms, plus the instructions run
    expect(clock.now()).toBeGreaterThanOrEqual(19_990_000);
    expect(clock.now()).toBeLessThan(20_100_000);
  });

  for (const name of ['tcg', 'kvm'] as const) {
    const t = name === 'kvm' && !kvm.ok ? it.skip : it;
    t(`the PIT wakes a halted guest at 1 kHz in host time (${name})${name === 'kvm' ? why : ''}`, async () => {
      const r = await boot(name, TIMER_GUEST);
      expect(r.outcome).toEqual({ kind: 'exit', status: 5 });
      expect(r.out).toBe('T'.repeat(20));
      expect(r.ms).toBeGreaterThanOrEqual(19);
      expect(r.ms).toBeLessThan(2000);
    });

    t(`the PIT interrupts a computing guest on time (${name})${name === 'kvm' ? why : ''}`, async () => {
      const r = await boot(name, BUSY_GUEST);
      expect(r.outcome).toEqual({ kind: 'exit', status: 5 });
      expect(r.ms).toBeGreaterThanOrEqual(99);
      // 100 ms of ticks; a backend that checks timers only every 20 ms time slice takes about 2 s
      expect(r.ms).toBeLessThan(1000);
    });

    t(`UART receive interrupts deliver host input to the guest (${name})${name === 'kvm' ? why : ''}`, async () => {
      const r = await boot(name, SERIAL_GUEST, { input: 'hello, kemu.' });
      expect(r.outcome).toEqual({ kind: 'exit', status: 7 });
      expect(r.out).toBe('HELLO, KEMU');
    });
  }
});
