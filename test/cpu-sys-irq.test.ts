// External interrupts and NMI: an interrupt pending while IF = 0 is taken exactly one instruction after STI (the
// interrupt shadow) or right after a POPFQ that sets IF; HLT with IF = 1 waits and an interrupt wakes it with the
// return address after the HLT; an NMI wakes a HLT with IF = 0.
import { describe, expect, it } from 'vitest';
import { makeGuest } from './accel-harness.ts';
import { LM_PRELUDE, buildGuest, readLog, realModeStart, type LogRecord } from './cpu-sys-guest.ts';
import type { TcgVcpu } from '../src/accel/tcg.ts';
import { Stop } from '../src/cpu/cpu.ts';

const guest = buildGuest(LM_PRELUDE + String.raw`
.text
test_main:
  mov qword ptr [rip + resume], 1
  mov qword ptr [rip + cur_step], 1
  xor eax, eax
  sti
  inc eax
shadow_end:
  inc eax
  inc eax
  cli
  mov qword ptr [rip + cur_step], 2
  sti
  hlt
after_hlt:
  cli
  mov qword ptr [rip + cur_step], 3
  hlt
after_hlt_nmi:
  # a device raises 0x32 while IF = 0; POPFQ setting IF lets it in right after (no shadow)
  mov qword ptr [rip + cur_step], 4
  mov al, 0x32
  mov dx, 0x500
  out dx, al
  mov eax, 0x40
  pushfq
  or qword ptr [rsp], 0x200
  popfq
after_popf:
  inc eax
  cli
  # STI then MOV SS: MOV SS makes its own shadow, so the interrupt comes after the instruction following it
  mov qword ptr [rip + cur_step], 5
  mov al, 0x33
  mov dx, 0x500
  out dx, al
  mov ax, ss
  mov ecx, 0
  sti
  mov ss, ax
after_mov_ss:
  inc ecx
after_mov_ss_shadow:
  inc ecx
  cli
  ret
`);

/** Runs the guest on the software CPU, feeding interrupts as it waits for them. */
function runTcg() {
  const g = makeGuest('tcg');
  g.board.memory.write(0x8000, guest.bin);
  const vcpu = g.vcpu as TcgVcpu;
  vcpu.setState(realModeStart());
  const cpu = vcpu.cpu;
  cpu.pendingIrq = 0x30; // pending from the start: IF is clear until the STI
  // a test device: writing a vector to port 0x500 makes it the pending interrupt
  g.board.io.register(0x500, 1, { ioRead: () => 0, ioWrite: (_o, _s, v) => { cpu.pendingIrq = v & 0xff; } }, 'irq-test');
  const acks: number[] = [];
  cpu.onIrqAck = (v) => acks.push(v);
  let halts = 0;
  for (let i = 0; i < 20 && !g.board.stopRequest; i++) {
    const stop = cpu.run(1_000_000);
    if (stop === Stop.Idle) cpu.pendingIrq = 0x31;
    else if (stop === Stop.Halt) {
      halts++;
      cpu.nmiPending = true;
    } else if (stop === Stop.Budget) break;
  }
  return { g, acks, halts, cpu };
}

describe('system: external interrupts and NMI', () => {
  const { g, acks, halts } = runTcg();
  const log = readLog({ u64: (a: number) => g.board.memory.readU64(a) } as never);
  const at = (step: number) => log.find((r: LogRecord) => r.step === step)!;

  it('runs to the end', () => {
    expect(g.board.stopRequest).toEqual({ kind: 'exit', status: 1 });
    expect(acks).toEqual([0x30, 0x31, 0x32, 0x33]);
    expect(halts).toBe(1);
  });

  it('STI: one more instruction, then the interrupt', () => {
    expect(at(1).vector).toBe(0x30);
    expect(at(1).frame[0]).toBe(BigInt(guest.sym('shadow_end')));
    expect(at(1).rax).toBe(1n);
    expect(at(1).frame[2]! & 0x200n).toBe(0x200n);
    expect(at(1).rflags & 0x200n).toBe(0n); // interrupt gate: IF clear in the handler
  });

  it('HLT with IF = 1 is woken by an interrupt, and returns after the HLT', () => {
    expect(at(2).vector).toBe(0x31);
    expect(at(2).frame[0]).toBe(BigInt(guest.sym('after_hlt')));
  });

  it('an NMI wakes HLT with IF = 0', () => {
    expect(at(3).vector).toBe(2);
    expect(at(3).frame[0]).toBe(BigInt(guest.sym('after_hlt_nmi')));
    expect(at(3).frame[2]! & 0x200n).toBe(0n);
  });

  it('POPFQ setting IF: the interrupt comes right after it', () => {
    expect(at(4).vector).toBe(0x32);
    expect(at(4).frame[0]).toBe(BigInt(guest.sym('after_popf')));
  });

  it('STI then MOV SS: the MOV SS shadows the instruction after it', () => {
    expect(at(5).vector).toBe(0x33);
    expect(at(5).frame[0]).toBe(BigInt(guest.sym('after_mov_ss_shadow')));
  });
});
