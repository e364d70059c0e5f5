// src/accel/kvm/abi.ts against the host's <linux/kvm.h>: every ioctl number, constant, struct size and field offset
// kemu uses, printed by a C program built here with gcc. Needs gcc and the kernel headers, not /dev/kvm.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as A from '../src/accel/kvm/abi.ts';
import { SLICE_SCRATCH_SIZE } from '../src/accel/kvm/slice.ts';

const hasGcc = (() => {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const hasHeaders = existsSync('/usr/include/linux/kvm.h');
const skip = !hasGcc || !hasHeaders;
const why = skip ? ` [skipped: ${!hasGcc ? 'no gcc' : 'no <linux/kvm.h>'}]` : '';

/** name -> [C expression, kemu's value] */
const CHECKS: Record<string, [string, number]> = {
  KVM_API_VERSION: ['KVM_API_VERSION', A.KVM_API_VERSION],
  ...Object.fromEntries(Object.entries(A.IOC).map(([k, v]) => [`KVM_${k}`, [`KVM_${k}`, v]])),
  ...Object.fromEntries(Object.entries(A.CAP).map(([k, v]) => [`KVM_CAP_${k}`, [`KVM_CAP_${k}`, v]])),
  ...Object.fromEntries(Object.entries(A.EXIT).map(([k, v]) => [`KVM_EXIT_${k}`, [`KVM_EXIT_${k}`, v]])),
  KVM_EXIT_IO_IN: ['KVM_EXIT_IO_IN', A.EXIT_IO_IN],
  KVM_EXIT_IO_OUT: ['KVM_EXIT_IO_OUT', A.EXIT_IO_OUT],
  GUESTDBG_ENABLE: ['KVM_GUESTDBG_ENABLE', A.GUESTDBG_ENABLE],
  GUESTDBG_SINGLESTEP: ['KVM_GUESTDBG_SINGLESTEP', A.GUESTDBG_SINGLESTEP],
  GUESTDBG_USE_SW_BP: ['KVM_GUESTDBG_USE_SW_BP', A.GUESTDBG_USE_SW_BP],
  GUESTDBG_USE_HW_BP: ['KVM_GUESTDBG_USE_HW_BP', A.GUESTDBG_USE_HW_BP],
  CPUID_FLAG_SIGNIFICANT_INDEX: ['KVM_CPUID_FLAG_SIGNIFCANT_INDEX', A.CPUID_FLAG_SIGNIFICANT_INDEX],
  'run.request_interrupt_window': ['offsetof(struct kvm_run, request_interrupt_window)', A.RUN.REQUEST_INTERRUPT_WINDOW],
  'run.immediate_exit': ['offsetof(struct kvm_run, immediate_exit)', A.RUN.IMMEDIATE_EXIT],
  'run.exit_reason': ['offsetof(struct kvm_run, exit_reason)', A.RUN.EXIT_REASON],
  'run.ready_for_interrupt_injection': ['offsetof(struct kvm_run, ready_for_interrupt_injection)', A.RUN.READY_FOR_INTERRUPT_INJECTION],
  'run.if_flag': ['offsetof(struct kvm_run, if_flag)', A.RUN.IF_FLAG],
  'run.flags': ['offsetof(struct kvm_run, flags)', A.RUN.FLAGS],
  'run.cr8': ['offsetof(struct kvm_run, cr8)', A.RUN.CR8],
  'run.apic_base': ['offsetof(struct kvm_run, apic_base)', A.RUN.APIC_BASE],
  'run.io.direction': ['offsetof(struct kvm_run, io.direction)', A.RUN.IO_DIRECTION],
  'run.io.size': ['offsetof(struct kvm_run, io.size)', A.RUN.IO_SIZE],
  'run.io.port': ['offsetof(struct kvm_run, io.port)', A.RUN.IO_PORT],
  'run.io.count': ['offsetof(struct kvm_run, io.count)', A.RUN.IO_COUNT],
  'run.io.data_offset': ['offsetof(struct kvm_run, io.data_offset)', A.RUN.IO_DATA_OFFSET],
  'run.mmio.phys_addr': ['offsetof(struct kvm_run, mmio.phys_addr)', A.RUN.MMIO_PHYS_ADDR],
  'run.mmio.data': ['offsetof(struct kvm_run, mmio.data)', A.RUN.MMIO_DATA],
  'run.mmio.len': ['offsetof(struct kvm_run, mmio.len)', A.RUN.MMIO_LEN],
  'run.mmio.is_write': ['offsetof(struct kvm_run, mmio.is_write)', A.RUN.MMIO_IS_WRITE],
  'run.fail_entry.reason': ['offsetof(struct kvm_run, fail_entry.hardware_entry_failure_reason)', A.RUN.FAIL_ENTRY_REASON],
  'run.fail_entry.cpu': ['offsetof(struct kvm_run, fail_entry.cpu)', A.RUN.FAIL_ENTRY_CPU],
  'run.internal.suberror': ['offsetof(struct kvm_run, internal.suberror)', A.RUN.INTERNAL_SUBERROR],
  'run.internal.ndata': ['offsetof(struct kvm_run, internal.ndata)', A.RUN.INTERNAL_NDATA],
  'run.internal.data': ['offsetof(struct kvm_run, internal.data)', A.RUN.INTERNAL_DATA],
  'run.debug.exception': ['offsetof(struct kvm_run, debug.arch.exception)', A.RUN.DEBUG_EXCEPTION],
  'run.debug.pc': ['offsetof(struct kvm_run, debug.arch.pc)', A.RUN.DEBUG_PC],
  'run.debug.dr6': ['offsetof(struct kvm_run, debug.arch.dr6)', A.RUN.DEBUG_DR6],
  'run.debug.dr7': ['offsetof(struct kvm_run, debug.arch.dr7)', A.RUN.DEBUG_DR7],
  'run.ex.exception': ['offsetof(struct kvm_run, ex.exception)', A.RUN.EX_EXCEPTION],
  'run.ex.error_code': ['offsetof(struct kvm_run, ex.error_code)', A.RUN.EX_ERROR_CODE],
  'sizeof kvm_regs': ['sizeof(struct kvm_regs)', A.REGS_SIZE],
  'regs.rax': ['offsetof(struct kvm_regs, rax)', A.REGS_GPR_SLOT[0] * 8],
  'regs.rcx': ['offsetof(struct kvm_regs, rcx)', A.REGS_GPR_SLOT[1] * 8],
  'regs.rdx': ['offsetof(struct kvm_regs, rdx)', A.REGS_GPR_SLOT[2] * 8],
  'regs.rbx': ['offsetof(struct kvm_regs, rbx)', A.REGS_GPR_SLOT[3] * 8],
  'regs.rsp': ['offsetof(struct kvm_regs, rsp)', A.REGS_GPR_SLOT[4] * 8],
  'regs.rbp': ['offsetof(struct kvm_regs, rbp)', A.REGS_GPR_SLOT[5] * 8],
  'regs.rsi': ['offsetof(struct kvm_regs, rsi)', A.REGS_GPR_SLOT[6] * 8],
  'regs.rdi': ['offsetof(struct kvm_regs, rdi)', A.REGS_GPR_SLOT[7] * 8],
  ...Object.fromEntries([8, 9, 10, 11, 12, 13, 14, 15].map((i) => [`regs.r${i}`, [`offsetof(struct kvm_regs, r${i})`, A.REGS_GPR_SLOT[i]! * 8]])),
  'regs.rip': ['offsetof(struct kvm_regs, rip)', A.REGS_RIP],
  'regs.rflags': ['offsetof(struct kvm_regs, rflags)', A.REGS_RFLAGS],
  'sizeof kvm_segment': ['sizeof(struct kvm_segment)', A.SEG.SIZE],
  ...Object.fromEntries((['base', 'limit', 'selector', 'type', 'present', 'dpl', 'db', 's', 'l', 'g', 'avl', 'unusable'] as const)
    .map((f) => [`seg.${f}`, [`offsetof(struct kvm_segment, ${f})`, A.SEG[f.toUpperCase() as keyof typeof A.SEG]]])),
  'sizeof kvm_sregs': ['sizeof(struct kvm_sregs)', A.SREGS.SIZE],
  ...Object.fromEntries((['cs', 'ds', 'es', 'fs', 'gs', 'ss', 'tr', 'ldt', 'gdt', 'idt', 'cr0', 'cr2', 'cr3', 'cr4', 'cr8', 'efer', 'apic_base', 'interrupt_bitmap'] as const)
    .map((f) => [`sregs.${f}`, [`offsetof(struct kvm_sregs, ${f})`, A.SREGS[f.toUpperCase() as keyof typeof A.SREGS]]])),
  'dtable.limit': ['offsetof(struct kvm_dtable, limit)', A.DTABLE_LIMIT],
  'sizeof kvm_fpu': ['sizeof(struct kvm_fpu)', A.FPU.SIZE],
  ...Object.fromEntries((['fpr', 'fcw', 'fsw', 'ftwx', 'last_opcode', 'last_ip', 'last_dp', 'xmm', 'mxcsr'] as const)
    .map((f) => [`fpu.${f}`, [`offsetof(struct kvm_fpu, ${f})`, A.FPU[f.toUpperCase() as keyof typeof A.FPU]]])),
  'sizeof kvm_msrs': ['sizeof(struct kvm_msrs)', A.MSRS_HEADER],
  'sizeof kvm_msr_entry': ['sizeof(struct kvm_msr_entry)', A.MSR_ENTRY_SIZE],
  'msr_entry.data': ['offsetof(struct kvm_msr_entry, data)', 8],
  'sizeof kvm_xcrs': ['sizeof(struct kvm_xcrs)', A.XCRS_SIZE],
  'xcrs.xcrs': ['offsetof(struct kvm_xcrs, xcrs)', A.XCRS_ENTRIES],
  'sizeof kvm_xcr': ['sizeof(struct kvm_xcr)', A.XCR_ENTRY_SIZE],
  KVM_MAX_XCRS: ['KVM_MAX_XCRS', A.XCRS_MAX],
  'sizeof kvm_debugregs': ['sizeof(struct kvm_debugregs)', A.DEBUGREGS.SIZE],
  'debugregs.dr6': ['offsetof(struct kvm_debugregs, dr6)', A.DEBUGREGS.DR6],
  'debugregs.dr7': ['offsetof(struct kvm_debugregs, dr7)', A.DEBUGREGS.DR7],
  'debugregs.flags': ['offsetof(struct kvm_debugregs, flags)', A.DEBUGREGS.FLAGS],
  'sizeof kvm_cpuid2': ['sizeof(struct kvm_cpuid2)', A.CPUID2_HEADER],
  'sizeof kvm_cpuid_entry2': ['sizeof(struct kvm_cpuid_entry2)', A.CPUID_ENTRY_SIZE],
  ...Object.fromEntries((['function', 'index', 'flags', 'eax', 'ebx', 'ecx', 'edx'] as const)
    .map((f) => [`cpuid_entry.${f}`, [`offsetof(struct kvm_cpuid_entry2, ${f})`, A.CPUID_ENTRY[f.toUpperCase() as keyof typeof A.CPUID_ENTRY]]])),
  'sizeof kvm_userspace_memory_region': ['sizeof(struct kvm_userspace_memory_region)', A.MEMREGION.SIZE],
  'memregion.flags': ['offsetof(struct kvm_userspace_memory_region, flags)', A.MEMREGION.FLAGS],
  'memregion.guest_phys_addr': ['offsetof(struct kvm_userspace_memory_region, guest_phys_addr)', A.MEMREGION.GPA],
  'memregion.memory_size': ['offsetof(struct kvm_userspace_memory_region, memory_size)', A.MEMREGION.SIZE_FIELD],
  'memregion.userspace_addr': ['offsetof(struct kvm_userspace_memory_region, userspace_addr)', A.MEMREGION.UADDR],
  'sizeof kvm_guest_debug': ['sizeof(struct kvm_guest_debug)', A.GUEST_DEBUG.SIZE],
  'guest_debug.arch': ['offsetof(struct kvm_guest_debug, arch)', A.GUEST_DEBUG.DEBUGREG],
  KVM_INTERNAL_ERROR_EMULATION: ['KVM_INTERNAL_ERROR_EMULATION', 1],
  KVM_INTERNAL_ERROR_DELIVERY_EV: ['KVM_INTERNAL_ERROR_DELIVERY_EV', 3],
};

/** glibc structures the slice timer lays out by hand. */
const LIBC_CHECKS: Record<string, [string, number]> = {
  'sizeof sigset_t': ['sizeof(sigset_t)', 128],
  'sizeof struct sigevent': ['sizeof(struct sigevent)', 64],
  'sigevent.sigev_signo': ['offsetof(struct sigevent, sigev_signo)', 8],
  'sigevent.sigev_notify': ['offsetof(struct sigevent, sigev_notify)', 12],
  'sigevent.tid': ['offsetof(struct sigevent, _sigev_un._tid)', 16],
  SIGEV_THREAD_ID: ['SIGEV_THREAD_ID', 4],
  'sizeof struct itimerspec': ['sizeof(struct itimerspec)', 32],
  'itimerspec.it_value': ['offsetof(struct itimerspec, it_value)', 16],
  'SIGRTMAX >= 57': ['SIGRTMAX >= 57', 1],
  'slice scratch fits': [`${SLICE_SCRATCH_SIZE} <= 4096`, 1],
};

function hostValues(checks: Record<string, [string, number]>): Record<string, number> {
  const dir = mkdtempSync(join(tmpdir(), 'kemu-kvm-abi-'));
  try {
    const lines = Object.entries(checks).map(([name, [expr]]) => `  printf("%s %lld\\n", ${JSON.stringify(name)}, (long long)(${expr}));`);
    writeFileSync(join(dir, 'abi.c'), [
      '#define _GNU_SOURCE',
      '#include <stdio.h>', '#include <stddef.h>', '#include <signal.h>', '#include <time.h>', '#include <linux/kvm.h>',
      'int main(void) {', ...lines, '  return 0;', '}',
    ].join('\n'));
    execFileSync('gcc', ['-o', join(dir, 'abi'), join(dir, 'abi.c')]);
    const out = execFileSync(join(dir, 'abi'), { encoding: 'utf8' });
    return Object.fromEntries(out.trim().split('\n').map((l) => {
      const i = l.lastIndexOf(' ');
      return [l.slice(0, i), Number(l.slice(i + 1))];
    }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const unsigned = (v: number): number => (v < 0 ? v + 2 ** 32 : v);

describe('KVM ABI', () => {
  it.skipIf(skip)(`ioctl numbers, constants and struct layouts match <linux/kvm.h>${why}`, () => {
    const host = hostValues(CHECKS);
    const mismatches = Object.entries(CHECKS)
      .filter(([name, [, mine]]) => unsigned(host[name]!) !== mine)
      .map(([name, [, mine]]) => `${name}: kemu ${mine.toString(16)}, host ${unsigned(host[name]!).toString(16)}`);
    expect(mismatches).toEqual([]);
  });

  it.skipIf(skip)(`the libc structures of the slice timer match glibc${why}`, () => {
    const host = hostValues(LIBC_CHECKS);
    for (const [name, [, mine]] of Object.entries(LIBC_CHECKS)) expect([name, host[name]]).toEqual([name, mine]);
  });
});
