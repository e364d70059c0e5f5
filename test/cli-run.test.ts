// `kemu run` end to end: ELF64, PVH and Multiboot guests boot, print over COM1 and exit through isa-debug-exit —
// on the software CPU (the default) and on KVM (--accel kvm: the same output and status; skipped, with the reason in
// each name, where /dev/kvm is not usable).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it as itVitest } from 'vitest';
import { probeKvm } from '../src/accel/kvm/accel.ts';
import { buildKernel } from './loader-build.ts';
import { ECHO_GUEST } from './smoke-guests.ts';
import { scratchDir } from './util/gnu.ts';

const kvm = probeKvm();
const KVM_SKIP = kvm.ok ? '' : ` [skipped: KVM unusable: ${kvm.reason}]`;

const KEMU = join(import.meta.dirname, '..', 'bin', 'kemu.mjs');

function runKemu(args: string[], input = '') {
  const r = spawnSync(process.execPath, [KEMU, ...args], { input, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, bytes: Uint8Array): string {
  const path = join(scratchDir(), name);
  writeFileSync(path, bytes);
  return path;
}

/** Prints `text` over COM1 (polling the transmitter like a driver would), then exits with `code`. */
const PRINT = (text: string, code: number, ptr: 'esi' | 'rsi') => `
  mov $0x3f8, %dx
  lea msg, %${ptr}
1: add $5, %dx            # line status register
2: in %dx, %al
  test $0x20, %al          # transmitter holding register empty
  jz 2b
  sub $5, %dx
  movb (%${ptr}), %al
  test %al, %al
  jz 3f
  out %al, %dx
  inc %${ptr}
  jmp 1b
3: mov $${code}, %al
  out %al, $0xf4
  hlt
msg: .asciz "${text}"
`;

for (const accel of ['tcg', 'kvm'] as const) describe(`kemu run (${accel})`, () => {
  // tcg is the default backend: its runs give no --accel
  const kemu = (args: string[], input = '') => runKemu(accel === 'tcg' ? args : [args[0]!, '--accel', accel, ...args.slice(1)], input);
  const it = (name: string, fn: () => void, timeout?: number) =>
    accel === 'kvm' ? itVitest.skipIf(!kvm.ok)(name + KVM_SKIP, fn, timeout) : itVitest(name, fn, timeout);

  it('boots an ELF64 kernel in long mode', () => {
    const k = file('elf64.elf', buildKernel(`.globl _start\n_start:\n${PRINT('hello from long mode\\n', 3, 'rsi')}`, { bits: 64 }));
    const r = kemu(['run', k]);
    expect(r.stdout).toBe('hello from long mode\n');
    expect(r.status).toBe(7);
    // --trace in_asm shows the code as it is translated (the software CPU's trace; kvm says it ignores it)
    const traced = kemu(['run', '--trace', 'in_asm', k]);
    expect(traced.stdout).toBe('hello from long mode\n');
    if (accel === 'tcg') expect(traced.stderr).toMatch(/IN: \(64-bit, cpl 0\)\n\s+0x100000:  mov dx,0x3f8\n/);
    else expect(traced.stderr).toMatch(/--trace is for the software CPU/);
  });

  it('boots a PVH kernel in 32-bit protected mode with EBX pointing at hvm_start_info', () => {
    const src = `
      .pushsection .note.Xen, "a", @note
      .balign 4
      .long 4, 4, 18
      .asciz "Xen"
      .balign 4
      .long pvh_start
      .popsection
      .text
      .code32
      .globl _start
    _start: ud2
    pvh_start:
      cmpl $0x336ec578, (%ebx)   # hvm_start_info magic
      jne bad
      ${PRINT('hello from PVH\\n', 5, 'esi')}
    bad: mov $0x7f, %al
      out %al, $0xf4
    `;
    const r = kemu(['run', file('pvh.elf', buildKernel(src, { bits: 32 }))]);
    expect(r.stdout).toBe('hello from PVH\n');
    expect(r.status).toBe(11);
  });

  it('boots a Multiboot kernel with EAX=0x2BADB002 and the command line in the info block', () => {
    const src = `
      .text
      .globl _start
      .balign 4
      .long 0x1BADB002, 3, -(0x1BADB002 + 3)
    _start:
      cmp $0x2BADB002, %eax
      jne bad
      testl $4, (%ebx)           # flags: cmdline present
      jz bad
      mov 16(%ebx), %esi         # cmdline
      cmpb $'q', (%esi)
      jne bad
      ${PRINT('hello from multiboot\\n', 2, 'esi')}
    bad: mov $0x7f, %al
      out %al, $0xf4
    `;
    const r = kemu(['run', '--append', 'quiet', file('mb.elf', buildKernel(src, { bits: 32 }))]);
    expect(r.stdout).toBe('hello from multiboot\n');
    expect(r.status).toBe(5);
  });

  it('takes --kernel and --initrd: the initrd is Multiboot module 0', () => {
    const src = `
      .text
      .globl _start
      .balign 4
      .long 0x1BADB002, 3, -(0x1BADB002 + 3)
    _start:
      testl $8, (%ebx)           # flags: modules present
      jz bad
      cmpl $1, 20(%ebx)          # mods_count
      jne bad
      mov 24(%ebx), %esi         # mods_addr -> { mod_start, mod_end, string, reserved }
      mov (%esi), %esi
      cmpl $0x44524e49, (%esi)   # "INRD"
      jne bad
      ${PRINT('initrd ok\n', 4, 'esi')}
    bad: mov $0x7f, %al
      out %al, $0xf4
    `;
    const initrd = file('initrd.img', new TextEncoder().encode('INRD and the rest of a ramdisk'));
    const r = kemu(['run', '--kernel', file('mbi.elf', buildKernel(src, { bits: 32 })), '--initrd', initrd]);
    expect(r.stdout).toBe('initrd ok\n');
    expect(r.status).toBe(9);
    expect(kemu(['run', '--kernel', 'a', 'b']).status).toBe(2); // a kernel twice
  });

  it('reports a HLT with interrupts off with the guest RIP, and dumps the state', () => {
    const dump = join(scratchDir(), 'state.json');
    const k = file('hlt.elf', buildKernel('.globl _start\n_start: mov $0x1234, %rbx\n hlt\n', { bits: 64, text: 0x200000 }));
    const r = kemu(['run', '--dump-state', dump, k]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/halted with interrupts disabled at rip 0x200008/);
    const st = JSON.parse(readFileSync(dump, 'utf8'));
    expect(st.rbx).toBe('0x1234');
    expect(st.rip).toBe('0x200008');
    expect(st.cs.l).toBe(true);
    expect(st.efer).toBe('0x500'); // LME | LMA, as Firecracker sets it
  });

  it('reads stdin into the UART', () => {
    const r = kemu(['run', file('echo.elf', buildKernel(ECHO_GUEST, { bits: 64 }))], 'kEmU\n');
    expect(r.stdout).toBe('KeMu');
    expect(r.status).toBe(1);
  });

  it('rejects bad invocations and bad kernels in one line', () => {
    expect(kemu(['run', '--bogus', 'x']).status).toBe(2);
    expect(kemu(['run']).status).toBe(2);
    const bad = kemu(['run', '-m', 'lots', 'x']);
    expect([bad.status, bad.stderr.trim().split('\n').length]).toEqual([2, 1]);
    const junk = kemu(['run', file('junk.bin', new Uint8Array([1, 2, 3, 4]))]);
    expect(junk.status).toBe(2);
    expect(junk.stderr).toMatch(/unrecognized kernel format/);
  });
});
