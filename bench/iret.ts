// IRET micro benchmark: a ring-0 64-bit loop that IRETQs to the next instruction (the sync_core() sequence Linux
// runs ~100k times while patching alternatives: push SS, RSP, RFLAGS, CS, RIP; IRETQ), N times on the software CPU,
// against the same loop with the IRETQ replaced by `add rsp, 40` (the control). Prints ns per IRET: the loop's time
// per iteration and its difference to the control (each timed as the run of 2N iterations minus the run of N, so
// boot and JIT compiles cancel out). The JIT follows KEMU_JIT (default on); KEMU_JIT=off for the IR interpreter.
//
// Then the helper alone (src/cpu/system/far.ts interruptReturn, as the IR interpreter and compiled code call it) on
// the CPU the guest left in 64-bit mode at CPL 0: an IRETQ frame whose RSP slot points at itself, popped N times.
//
//   tsx bench/iret.ts [--iters N] [--reps N] [--null-ss] [--helper-only]
//
// --null-ss: SS is a null selector (RPL 0), as after an interrupt from ring 3 in 64-bit mode.
// --helper-only: only the second measurement (for profiling).
import { makeGuest, runGuest } from '../test/accel-harness.ts';
import { LM_PRELUDE, buildFlat, LOAD_ADDR, realModeStart } from '../test/cpu-sys-guest.ts';
import { jitModeFromEnv } from '../src/machine/jit-mode.ts';
import { interruptReturn } from '../src/cpu/system/far.ts';
import type { TcgVcpu } from '../src/accel/tcg.ts';
import { gprOff } from '../src/cpu/layout.ts';
import { flag, num } from './args.ts';

const iters = num('iters', 200_000);
const reps = num('reps', 3);
const nullSs = flag('null-ss');
const helperOnly = flag('helper-only');

function guest(n: number, iret: boolean): Uint8Array {
  return buildFlat(LM_PRELUDE + String.raw`
.text
test_main:
  ${nullSs ? 'xor eax, eax\n  mov ss, ax' : ''}
  mov rcx, ${n}
1:
  mov eax, ss
  push rax
  mov rax, rsp
  add rax, 8
  push rax
  pushfq
  mov eax, cs
  push rax
  lea rax, [rip + 2f]
  push rax
  ${iret ? 'iretq' : 'add rsp, 40'}
2:
  dec rcx
  jnz 1b
  ret
`);
}

/** Milliseconds for one run of the guest (boot included; it is the same for every variant). */
function run(bin: Uint8Array, helper?: (g: ReturnType<typeof makeGuest>) => void): number {
  const g = makeGuest('tcg', 16 << 20);
  g.board.memory.write(LOAD_ADDR, bin);
  g.vcpu.setState(realModeStart());
  const t0 = performance.now();
  const r = runGuest(g, { budget: 1_000_000 });
  const ms = performance.now() - t0;
  if (r.kind !== 'exit' || r.status !== 1) throw new Error(`guest ended with ${JSON.stringify(r)}`);
  helper?.(g);
  g.accel.close();
  return ms;
}

const best = (bin: Uint8Array): number => Math.min(...Array.from({ length: reps }, () => run(bin)));

// each variant at N and 2N iterations: the difference is N iterations without the boot and the JIT's compiles
const perIter = (iret: boolean): number => {
  const one = guest(iters, iret);
  const two = guest(2 * iters, iret);
  run(one); // warm up the JS
  return (best(two) - best(one)) * 1e6 / iters;
};
if (!helperOnly) {
  const a = perIter(true);
  const c = perIter(false);
  console.log(
    `jit ${jitModeFromEnv()}${nullSs ? ', null SS' : ''}: ${iters} iterations; loop ${a.toFixed(0)} ns/iter, control ${c.toFixed(0)} ns/iter,` +
      ` IRET ${(a - c).toFixed(0)} ns`,
  );
}

// the helper alone: a frame at FRAME (identity mapped) returning to RIP 0x9000 with RSP = FRAME
const FRAME = 0x80000;
let helperNs = Infinity;
run(guest(1, true), (g) => {
  const cpu = (g.vcpu as TcgVcpu).cpu;
  const q = [0x9000n, 0x10n, 0x202n, BigInt(FRAME), nullSs ? 0n : 0x18n];
  q.forEach((v, i) => cpu.dv.setBigUint64(FRAME + 8 * i, v, true));
  cpu.set64(gprOff(4), BigInt(FRAME)); // RSP
  for (let rep = 0; rep < reps + 1; rep++) {
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) interruptReturn(cpu, 8);
    if (rep > 0) helperNs = Math.min(helperNs, ((performance.now() - t0) * 1e6) / iters);
  }
  if (cpu.rip !== 0x9000n || cpu.get64(gprOff(4)) !== BigInt(FRAME)) throw new Error('the helper did not return as expected');
});
console.log(`helper alone: ${helperNs.toFixed(0)} ns per interruptReturn`);
