// End to end: a real-mode guest programs the 8259 and the 8254 (1 kHz), waits in HLT, counts timer interrupts in
// its handler (EOI to the PIC) and exits. The run loop below is the delivery protocol the board offers the CPU:
// keep cpu.pendingIrq = board.pendingVector() current through onInterruptChange, acknowledge in onIrqAck, poll
// the timers between slices sized by the next deadline, and let the clock jump ahead when the CPU idles.
import { describe, expect, it } from 'vitest';
import { Board } from '../src/machine/board.js';
import { InsnClock } from '../src/machine/clock.js';
import { CPU_EXTRA_BYTES, Cpu, Stop } from '../src/cpu/cpu.js';
import { buildGuest, realModeStart } from './cpu-sys-guest.js';

const guest = buildGuest(String.raw`
.intel_syntax noprefix
.code16
.globl _start
_start:
  cli
  xor ax, ax
  mov ds, ax
  mov ss, ax
  mov sp, 0x7000
  mov word ptr [0x30 * 4], offset handler
  mov word ptr [0x30 * 4 + 2], 0
  mov al, 0x11
  out 0x20, al
  mov al, 0x30
  out 0x21, al
  mov al, 0x04
  out 0x21, al
  mov al, 0x01
  out 0x21, al
  mov al, 0xfe
  out 0x21, al
  mov al, 0x34
  out 0x43, al
  mov al, 0xa9
  out 0x40, al
  mov al, 0x04
  out 0x40, al
  sti
wait:
  hlt
  cmp word ptr [ticks], 10
  jb wait
  cli
  mov al, 0
  out 0xf4, al
  hlt
handler:
  inc word ptr [ticks]
  push ax
  mov al, 0x20
  out 0x20, al
  pop ax
  iret
.balign 2
ticks: .word 0
`);

describe('interrupt delivery end to end (software CPU, deterministic clock)', () => {
  it('takes ten 1 kHz PIT interrupts through the 8259 and exits after ~10 ms of virtual time', () => {
    const clock = new InsnClock();
    const board = new Board({ ramSize: 2 << 20, cpuReserve: CPU_EXTRA_BYTES, clock, output: () => {} });
    const { io, mmio } = board;
    const cpu = new Cpu(board.memory, {
      ioRead: (p, s) => io.read(p, s as 1 | 2 | 4),
      ioWrite: (p, s, v) => io.write(p, s as 1 | 2 | 4, v),
      mmioRead: (a, s) => mmio.read(a, s as 1 | 2 | 4),
      mmioWrite: (a, s, v) => mmio.write(a, s as 1 | 2 | 4, v),
    });
    clock.counter = () => cpu.icount;
    const acked: number[] = [];
    board.onInterruptChange = () => {
      cpu.pendingIrq = board.pendingVector();
    };
    cpu.onIrqAck = () => {
      acked.push(board.ackInterrupt());
    };
    board.memory.write(0x8000, guest.bin);
    cpu.setState(realModeStart());

    let idles = 0;
    for (let i = 0; i < 1000 && !board.stopRequest; i++) {
      const next = board.pollTimers();
      const stop = cpu.run(Math.min(clock.instructionsUntil(next), 100_000));
      if (stop === Stop.Idle) {
        idles++;
        if (cpu.pendingIrq < 0) clock.waitUntil(next);
      } else if (stop !== Stop.Budget && stop !== Stop.Requested) break;
    }
    expect(board.stopRequest).toEqual({ kind: 'exit', status: 1 });
    expect(acked).toEqual(new Array(10).fill(0x30));
    expect(board.memory.readU16(guest.sym('ticks'))).toBe(10);
    expect(idles).toBeGreaterThanOrEqual(10);
    // ten periods of 1193 PIT ticks: 10.0 ms, plus the few instructions run
    expect(clock.now()).toBeGreaterThanOrEqual(9_990_000);
    expect(clock.now()).toBeLessThan(10_100_000);
    expect(cpu.icount).toBeLessThan(1000);
  });
});
