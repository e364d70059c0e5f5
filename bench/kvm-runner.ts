// The C side of bench/kvm-speed.ts: builds bench/kvm_runner.c with gcc and runs a guest in it, from the RAM image
// and vCPU start state kemu prepared (kvm_regs, kvm_sregs and kvm_cpuid2 in the kernel's own layout).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CpuState } from '../src/cpu/state.ts';
import { REGS_SIZE, SREGS } from '../src/accel/kvm/abi.ts';
import { writeRegs, writeSregs } from '../src/accel/kvm/convert.ts';
import { type CpuidEntry, cpuid2Size, writeCpuid2 } from '../src/accel/kvm/cpuid.ts';

const here = dirname(fileURLToPath(import.meta.url));

export interface RunnerResult {
  exits: number;
  ms: number;
  status: number;
  output: string;
}

export class CRunner {
  readonly dir = mkdtempSync(join(tmpdir(), 'kemu-kvm-runner-'));
  readonly exe = join(this.dir, 'kvm_runner');

  constructor() {
    execFileSync('gcc', ['-O2', '-Wall', '-o', this.exe, join(here, 'kvm_runner.c')], { stdio: 'inherit' });
  }

  /** Writes the guest (all of RAM and the start state) for the runner. */
  prepare(ram: Uint8Array, state: CpuState, cpuid: readonly CpuidEntry[]): void {
    writeFileSync(join(this.dir, 'ram.bin'), ram);
    const blob = new DataView(new ArrayBuffer(REGS_SIZE + SREGS.SIZE + cpuid2Size(cpuid.length)));
    writeRegs(blob, 0, state);
    writeSregs(blob, REGS_SIZE, state, { apicBase: state.msrs.get(0x1b) ?? 0xfee00900n, pendingInterrupt: undefined });
    writeCpuid2(blob, REGS_SIZE + SREGS.SIZE, cpuid);
    writeFileSync(join(this.dir, 'vcpu.bin'), new Uint8Array(blob.buffer));
  }

  run(ramSize: number): RunnerResult {
    const r = spawnSync(this.exe, [join(this.dir, 'ram.bin'), String(ramSize), join(this.dir, 'vcpu.bin')], {
      encoding: 'latin1',
    });
    const m = /exits=(\d+) ms=([\d.]+) status=(-?\d+)/.exec(r.stderr);
    if (r.status !== 0 || !m) throw new Error(`kvm_runner failed (${r.status}): ${r.stderr.trim()}`);
    return { exits: Number(m[1]), ms: Number(m[2]), status: Number(m[3]), output: r.stdout };
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
