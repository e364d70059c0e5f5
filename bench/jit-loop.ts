// JIT micro benchmark: small integer-loop guests (ELF64 built with as/ld now) and a gcc -O2 C guest run under the
// IR interpreter and under the WebAssembly JIT; prints guest MIPS for each and the JIT's compile statistics.
// Usage: tsx bench/jit-loop.ts [--iters N] [--threshold N] [--batch N] [--no-chain]
import { Machine } from '../src/machine/machine.ts';
import { enableJit, type Jit } from '../src/jit/compiler.ts';
import { buildKernel } from '../test/loader-build.ts';
import { buildCGuest } from '../test/jit-cguest.ts';
import { flag, num } from './args.ts';

const iters = num('iters', 2_000_000);
const threshold = num('threshold', 10);
const chaining = !flag('no-chain');
const batch = num('batch', 16);

const GUESTS: Record<string, string> = {
  // register-only arithmetic: add/xor/shift/dec + a conditional branch (5 instructions per iteration)
  alu: `
    .globl _start
    _start:
      mov $${iters}, %rcx
      xor %eax, %eax
      mov $0x12345, %edx
    1: add %rcx, %rax
      xor %rax, %rdx
      shl $1, %rdx
      dec %rcx
      jnz 1b
      mov %dl, %al
      out %al, $0xf4
  `,
  // memory: sum and store over a 32 KiB array through the TLB (7 instructions per iteration)
  mem: `
    .globl _start
    _start:
      mov $${Math.max(1, Math.floor(iters / 4096))}, %r8
    0: lea buf(%rip), %rsi
      mov $4096, %ecx
      xor %eax, %eax
    1: add (%rsi), %rax
      mov %rax, 8(%rsi)
      add $8, %rsi
      sub $1, %ecx
      cmp $1, %ecx
      jae 1b
      dec %r8
      jnz 0b
      mov $1, %al
      out %al, $0xf4
    .bss
    .balign 4096
    buf: .skip 40000
  `,
  // table-driven CRC-32 as xz_crc32's loop (the bzImage decompressor's), over a 4 KiB buffer (8 per iteration)
  crc: `
    .globl _start
    _start:
      lea table(%rip), %r9
      xor %ecx, %ecx
    0: mov %ecx, %eax
      mov $8, %edx
    1: shr $1, %eax
      jnc 2f
      xor $0xedb88320, %eax
    2: dec %edx
      jnz 1b
      mov %eax, (%r9,%rcx,4)
      inc %ecx
      cmp $256, %ecx
      jne 0b
      mov $-1, %ecx
      mov $${Math.max(1, Math.floor(iters / 4096))}, %r10d
    3: lea buf(%rip), %rdi
      lea 4096(%rdi), %r8
    4: movzbl (%rdi), %r15d
      add $1, %rdi
      xor %ecx, %r15d
      shr $8, %ecx
      movzbl %r15b, %r15d
      xor (%r9,%r15,4), %ecx
      cmp %r8, %rdi
      jne 4b
      dec %r10d
      jnz 3b
      mov %ecx, %eax
      out %al, $0xf4
    .data
    .balign 4096
    table: .fill 256, 4, 0
    buf: .fill 4096, 1, 0x5a
  `,
  // calls and the stack: push/pop/call/ret (8 instructions per iteration)
  call: `
    .globl _start
    _start:
      mov $${Math.floor(iters / 2)}, %rcx
      xor %eax, %eax
    1: push %rcx
      call f
      pop %rcx
      dec %rcx
      jnz 1b
      out %al, $0xf4
    f: add %rcx, %rax
      xor $3, %rax
      ret
  `,
};

interface Result {
  insns: number;
  ms: number;
  exit: string;
  jit?: Jit;
}

function run(src: Uint8Array, jit: boolean): Result {
  const m = new Machine({ ramSize: 32 << 20, output: () => {}, jit: 'off' });
  m.load(src);
  const j = jit ? enableJit(m.cpu, { threshold, chaining, batch }) : undefined;
  const t0 = performance.now();
  const r = m.run(50 * iters + 1_000_000);
  const ms = performance.now() - t0;
  return { insns: m.cpu.icount, ms, exit: r.kind === 'exit' ? `exit ${r.status}` : r.kind, jit: j };
}

const elfs: [string, Uint8Array][] = Object.entries(GUESTS).map(([n, src]) => [n, buildKernel(src, { bits: 64 })]);
elfs.push(['c', buildCGuest()]);
const mips = (r: Result) => (r.insns / r.ms / 1000).toFixed(1);
const best = (runs: Result[]) => runs.reduce((x, y) => (y.ms < x.ms ? y : x));
for (const [name, elf] of elfs) {
  run(elf, false); // warm up the interpreter's JS
  const a = best([run(elf, false), run(elf, false)]);
  // The first JIT run compiles cold (later runs of the same guest hit V8's cache of identical modules): its
  // compile statistics are the honest ones; the speed is the best of the later runs.
  const cold = run(elf, true);
  const b = best([run(elf, true), run(elf, true)]);
  if (a.exit !== b.exit || a.insns !== b.insns) throw new Error(`${name}: interpreter ${a.exit}/${a.insns} vs JIT ${b.exit}/${b.insns}`);
  const s = cold.jit!.stats;
  const per = (x: number) => (x / Math.max(1, s.compiled)).toFixed(2);
  console.log(
    `${name.padEnd(5)} ${(a.insns / 1e6).toFixed(1)}M insns  interpreter ${mips(a).padStart(6)} MIPS  JIT ${mips(b).padStart(6)} MIPS` +
      ` (cold ${mips(cold)})  x${(a.ms / b.ms).toFixed(1)};  ${s.compiled} blocks in ${s.modules} modules,` +
      ` ${(s.bytes / Math.max(1, s.compiled)).toFixed(0)} B/block, ${s.links} links, per block: codegen ${per(s.genMs)} ms + wasm ${per(s.wasmMs)} ms`,
  );
}
