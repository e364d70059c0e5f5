// `kemu run`: boot a kernel (ELF64, PVH ELF or Multiboot) on the board, serial console on stdout/stdin, with the
// software CPU (tcg) or KVM behind the accelerator interface — and optionally move the running guest from one to the
// other (src/machine/switch.ts).
import { writeFileSync } from 'node:fs';
import { decode } from '../decoder/decode.ts';
import { formatIntel } from '../disasm/intel.ts';
import type { Cpu } from '../cpu/cpu.ts';
import { CPU_EXTRA_BYTES } from '../cpu/cpu.ts';
import { codeBits } from '../cpu/mode.ts';
import { stateToJson } from '../cpu/state.ts';
import { VECTOR_NAMES } from '../cpu/fault.ts';
import { AccelError, type Accelerator, type AccelName } from '../accel/accelerator.ts';
import { KvmAccelerator } from '../accel/kvm/accel.ts';
import { parseAccelChoice, selectAccel } from '../accel/select.ts';
import { TcgAccelerator, TcgVcpu, warmUp } from '../accel/tcg.ts';
import { Board } from '../machine/board.ts';
import { isJitMode, JIT_MODES, jitModeFromEnv, type JitMode } from '../machine/jit-mode.ts';
import { LoaderError } from '../machine/loader/index.ts';
import { GuestVcpu, runBoard, type GuestOutcome, type SwitchPoint } from '../machine/switch.ts';
import { SerialConsole } from './console.ts';
import { parseArgs, readInput, UsageError, type Command } from './common.ts';

const USAGE = `Usage: kemu run [--accel tcg|kvm|auto] [--jit off|on|force] [-m SIZE] [--append STR] [--initrd FILE]
                [--dump-state FILE] [--trace LIST] [--max-insns N] [--switch-to tcg|kvm --after-exits N]
                [--kvm-fallback on|off] KERNEL | --kernel KERNEL

Boots KERNEL, chosen by its format as QEMU's -kernel does: a Linux bzImage (64-bit boot protocol), an x86-64 ELF
(entered in 64-bit mode), an ELF with a PVH entry note (32-bit protected mode), or a Multiboot v1 kernel. COM1 is
the console (stdout/stdin).

  --initrd FILE       an initial ramdisk (bzImage: the zero page; PVH/Multiboot: the first boot module)

  --accel NAME        the CPU backend: tcg (kemu's software CPU, the default), kvm (Linux KVM through /dev/kvm;
                      an error if it is not usable), auto (kvm if usable, else tcg; says on stderr which it took)
  --jit MODE          the software CPU's WebAssembly JIT: off (IR interpreter only), on (hot blocks are compiled;
                      the default), force (every block is compiled before it first runs). The environment variable
                      KEMU_JIT=off|on|force sets the default.
  -m SIZE             guest RAM, e.g. 256M or 1G (default 256M)
  --append STR        the kernel command line
  --dump-state FILE   write the final CPU state as JSON
  --trace LIST        comma-separated, to stderr: in_asm (code as it is translated), exec (each block run),
                      int (exceptions and interrupts), unimp (instructions without semantics). tcg only:
                      nothing is traced while KVM runs the guest (a note says so if it never runs on tcg).
  --max-insns N       stop after N software-CPU instructions (status 124); tcg only: KVM phases do not count
  --switch-to NAME    move the running guest to the other backend (tcg or kvm) after --after-exits N exits of the
  --after-exits N     first one. The registers, segments, control/debug registers and MSRs move (CpuState); RAM is
                      shared, nothing is copied. Exits are counted as: under kvm, every return from KVM_RUN (port
                      I/O, MMIO, HLT, interrupt window, the end of a 20 ms time slice: not deterministic); under
                      tcg, every port I/O or MMIO access of the guest (what would exit under KVM) — the switch
                      happens at the end of the translated block that made the Nth one.
                      The x87/SSE registers, XCR0 and the interrupt shadow/NMI state move too. Not carried
                      over: interrupts queued through the API, and the TSC (each backend keeps its own: KVM does
                      not take the value written on a switch).
                      Under kvm_pvm (KVM inside a microVM) guest ring 0 is emulated by the host: ring-0 x87/SSE
                      fails there with an emulation error (ring 3 runs them natively).
  --kvm-fallback X    on (default): an instruction KVM reports it cannot emulate (KVM_EXIT_INTERNAL_ERROR,
                      emulation failure: kvm_pvm's ring-0 emulator has such gaps) runs on the software CPU, then
                      the guest goes back to KVM (a note on stderr the first time); off: such an exit ends the run.

Exit status: what the guest wrote to isa-debug-exit (port 0xf4) as (value << 1) | 1; 0 after a guest reset
request; 1 after a triple fault, a HLT with interrupts disabled (with a message naming the guest RIP) or a KVM
error exit; 124 when --max-insns ran out; 2 for a bad invocation or kernel, or --accel kvm without a usable KVM.

Environment: KEMU_JIT=off|on|force (the --jit default), KEMU_JIT_SYNC=1 (compile on the CPU's thread, not a worker),\nKEMU_KVM_DEVICE (instead of /dev/kvm).`;

const TRACES = new Set(['in_asm', 'exec', 'int', 'unimp']);

export function parseSize(text: string): number {
  const m = /^(\d+)([KMG]?)i?B?$/i.exec(text);
  if (!m) throw new UsageError(`run: -m '${text}' is not a size (e.g. 256M, 1G)`);
  const unit = { '': 1 << 20, K: 1 << 10, M: 1 << 20, G: 1 << 30 }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G'];
  const bytes = Number(m[1]) * unit;
  if (bytes < 1 << 20 || bytes % 65536 !== 0) throw new UsageError(`run: -m ${text}: RAM must be at least 1M, in 64K units`);
  return bytes;
}

const hex = (v: bigint | number) => '0x' + v.toString(16);

/** AccelError (an unknown name, KVM not usable) is the user's: one line, status 2. */
function accelUsage<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof AccelError) throw new UsageError(`run: ${e.message}`);
    throw e;
  }
}

export const run: Command = {
  name: 'run',
  summary: 'boot a kernel (ELF64, PVH, Multiboot) with the serial console on stdio',
  usage: USAGE,
  async run(args) {
    const { flags, positionals } = parseArgs(
      args,
      {
        values: [
          '--accel', '-m', '--append', '--dump-state', '--trace', '--max-insns', '--jit', '--switch-to', '--after-exits',
          '--kernel', '--initrd', '--kvm-fallback',
        ],
      },
      'run',
    );
    const str = (name: string) => flags.get(name) as string | undefined;
    // KERNEL is positional or --kernel (QEMU's spelling), not both
    const kernelPath = str('--kernel') ?? positionals[0];
    if (kernelPath === undefined || positionals.length > (str('--kernel') === undefined ? 1 : 0)) {
      throw new UsageError('run: expected one KERNEL file, positional or --kernel (see kemu run --help)');
    }
    const choice = accelUsage(() => parseAccelChoice(str('--accel') ?? 'tcg'));
    const ram = parseSize(str('-m') ?? '256M');
    const traces = new Set((str('--trace') ?? '').split(',').filter(Boolean));
    for (const t of traces) if (!TRACES.has(t)) throw new UsageError(`run: unknown trace '${t}' (in_asm, exec, int, unimp)`);
    const maxText = str('--max-insns');
    const maxInsns = maxText === undefined ? Infinity : Number(maxText);
    if (!(maxInsns > 0)) throw new UsageError(`run: --max-insns must be a positive number`);
    const jitText = str('--jit');
    if (jitText !== undefined && !isJitMode(jitText)) {
      throw new UsageError(`run: --jit ${jitText}: expected ${JIT_MODES.join(', ')}`);
    }
    let jit: JitMode;
    try {
      jit = (jitText as JitMode | undefined) ?? jitModeFromEnv();
    } catch (e) {
      throw new UsageError(`run: ${(e as Error).message}`);
    }
    const switchText = str('--switch-to');
    const afterText = str('--after-exits');
    if ((switchText === undefined) !== (afterText === undefined)) {
      throw new UsageError('run: --switch-to and --after-exits go together');
    }
    let afterExits = 0;
    if (afterText !== undefined && !/^\d+$/.test(afterText)) {
      throw new UsageError(`run: --after-exits '${afterText}' is not a number of exits`);
    }
    if (afterText !== undefined) afterExits = Number(afterText);
    const switchTo = switchText === undefined ? undefined : accelUsage(() => parseAccelChoice(switchText));
    if (switchTo === 'auto') throw new UsageError('run: --switch-to takes tcg or kvm');

    // Resolve the backends before loading anything: --accel kvm without KVM is a one-line error.
    const kvmDevice = process.env.KEMU_KVM_DEVICE || undefined;
    const selection = accelUsage(() => selectAccel(choice, kvmDevice));
    if (choice === 'auto') process.stderr.write(`kemu: ${selection.note}\n`);
    const first = selection.name;
    if (switchTo !== undefined && switchTo === first) {
      throw new UsageError(`run: --switch-to ${switchTo}: the guest already runs on ${first}`);
    }
    if (switchTo === 'kvm') accelUsage(() => selectAccel('kvm', kvmDevice));
    const fallbackText = str('--kvm-fallback') ?? 'on';
    if (fallbackText !== 'on' && fallbackText !== 'off') throw new UsageError(`run: --kvm-fallback ${fallbackText}: expected on or off`);
    const kvmFallback = fallbackText === 'on' && (first === 'kvm' || switchTo === 'kvm');
    const usesTcg = first === 'tcg' || switchTo === 'tcg';
    if (!usesTcg) {
      if (traces.size) process.stderr.write('kemu: --trace is for the software CPU (tcg): ignored under kvm\n');
      if (maxText !== undefined) process.stderr.write('kemu: --max-insns counts software-CPU instructions: ignored under kvm\n');
    }

    if (usesTcg) warmUp();
    const image = readInput(kernelPath);
    const initrdPath = str('--initrd');
    const initrd = initrdPath === undefined ? undefined : readInput(initrdPath);
    // The software CPU keeps its state after RAM; reserve it whenever tcg may run (KVM maps only the RAM).
    const board = new Board({
      ramSize: ram,
      cpuReserve: usesTcg || kvmFallback ? CPU_EXTRA_BYTES : 0,
      output: (b) => process.stdout.write(b),
    });
    let start;
    try {
      start = board.loadKernel(image, { cmdline: str('--append') ?? '', ...(initrd ? { initrd } : {}) });
    } catch (e) {
      if (e instanceof LoaderError) throw new UsageError(`${kernelPath}: ${e.message}`);
      throw e;
    }

    const accels: Accelerator[] = [];
    const make = (name: AccelName): Accelerator => {
      const a = accelUsage(() => (name === 'kvm' ? new KvmAccelerator(board.memory, { devicePath: kvmDevice }) : new TcgAccelerator(board.memory, { jit, asyncCompile: process.env.KEMU_JIT_SYNC !== '1' })));
      accels.push(a);
      return a;
    };
    try {
      const guest = new GuestVcpu(board, make(first), (v) => {
        if (v instanceof TcgVcpu) installTraces(v.cpu, traces);
      });
      try {
        guest.vcpu.setState(start.state);
      } catch (e) {
        if (e instanceof AccelError) return report({ kind: 'error', message: e.message }, guest.name);
        throw e;
      }
      const switches: SwitchPoint[] = switchTo ? [{ afterExits, to: make(switchTo) }] : [];
      let fallbacks = 0;
      const emulationFallback = kvmFallback ? (switchTo === 'tcg' ? switches[0]!.to : first === 'tcg' ? guest.accel : make('tcg')) : undefined;

      const console = new SerialConsole(board, () => guest.vcpu.requestStop());
      let result: GuestOutcome;
      try {
        result = await runBoard(guest, {
          maxInsns,
          switches,
          onSwitch: (from, to, at) => process.stderr.write(`kemu: switched from ${from} to ${to} after ${at} exits\n`),
          waitForInput: () => console.open,
          emulationFallback,
          onFallback: (rip, message) => {
            if (fallbacks++ === 0) {
              process.stderr.write(`kemu: ${message}\nkemu: the software CPU runs such instructions for KVM (--kvm-fallback off stops here instead)\n`);
            }
          },
        });
      } finally {
        console.close();
      }
      if (fallbacks > 1) process.stderr.write(`kemu: the software CPU ran ${fallbacks} instructions KVM could not emulate\n`);
      const dump = str('--dump-state');
      if (dump) writeFileSync(dump, JSON.stringify(stateToJson(guest.vcpu.getState()), null, 2) + '\n');
      return report(result, guest.name);
    } finally {
      for (const a of accels) a.close();
    }
  },
};

function report(r: GuestOutcome, accel: AccelName): number {
  switch (r.kind) {
    case 'exit':
      return r.status;
    case 'reset':
      process.stderr.write('kemu: the guest requested a system reset\n');
      return 0;
    case 'halt':
      process.stderr.write(
        r.idle
          ? `kemu: the guest waits for an interrupt that nothing will raise (HLT, no timer armed) at rip ${hex(r.rip)}\n`
          : `kemu: the guest halted with interrupts disabled at rip ${hex(r.rip)}\n`,
      );
      return 1;
    case 'shutdown':
      process.stderr.write(`kemu: triple fault (shutdown) at rip ${hex(r.rip)}\n`);
      return 1;
    case 'budget':
      process.stderr.write(`kemu: instruction limit reached at rip ${hex(r.rip)}\n`);
      return 124;
    case 'error':
      process.stderr.write(`kemu: ${accel}: ${r.message}\n`);
      return 1;
  }
}

function installTraces(cpu: Cpu, traces: Set<string>): void {
  const err = (line: string) => process.stderr.write(line + '\n');
  if (traces.has('in_asm')) {
    cpu.onTranslate = (lin, rip, mode, insns) => {
      err('----------------');
      err(`IN: (${codeBits(mode)}-bit, cpl ${(mode >> 4) & 3})`);
      let l = lin;
      let r = rip;
      for (let n = 0; n < insns; n++) {
        const bytes = cpu.peekCode(l);
        const insn = decode(bytes, 0, codeBits(mode));
        err(`${hex(r).padStart(18)}:  ${formatIntel(insn, bytes, 0, r)}`);
        l += BigInt(insn.length);
        r += BigInt(insn.length);
      }
    };
  }
  if (traces.has('exec')) cpu.onBlock = (rip) => err(`Trace: ${hex(rip)}`);
  if (traces.has('int')) {
    cpu.onException = (v, code, rip) =>
      err(`exception ${VECTOR_NAMES[v] ?? v} (vector ${hex(v)}${code >= 0 ? `, error ${hex(code)}` : ''}) at rip ${hex(rip)}`);
  }
  if (traces.has('unimp')) cpu.onUnimplemented = (m, rip) => err(`unimplemented instruction '${m}' at rip ${hex(rip)}: #UD`);
}
