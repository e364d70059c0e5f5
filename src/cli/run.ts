// `kemu run`: boot a kernel (ELF64, PVH ELF or Multiboot) on the machine, serial console on stdout/stdin.
import { writeFileSync } from 'node:fs';
import { decode } from '../decoder/decode.ts';
import { formatIntel } from '../disasm/intel.ts';
import { codeBits } from '../cpu/mode.ts';
import { stateToJson } from '../cpu/state.ts';
import { VECTOR_NAMES } from '../cpu/fault.ts';
import { LoaderError } from '../machine/loader/index.ts';
import { Machine, type RunResult } from '../machine/machine.ts';
import { parseArgs, readInput, UsageError, type Command } from './common.ts';

const USAGE = `Usage: kemu run [--accel tcg] [-m SIZE] [--append STR] [--dump-state FILE] [--trace LIST] KERNEL

Boots KERNEL, chosen by its format as QEMU's -kernel does: an x86-64 ELF (entered in 64-bit mode), an ELF with a
PVH entry note (32-bit protected mode), or a Multiboot v1 kernel. COM1 is the console (stdout/stdin).

  --accel tcg         the CPU backend (tcg: kemu's software CPU)
  -m SIZE             guest RAM, e.g. 256M or 1G (default 256M)
  --append STR        the kernel command line
  --dump-state FILE   write the final CPU state as JSON
  --trace LIST        comma-separated, to stderr: in_asm (code as it is translated), exec (each block run),
                      int (exceptions and interrupts), unimp (instructions without semantics)
  --max-insns N       stop after N instructions (status 124)

Exit status: what the guest wrote to isa-debug-exit (port 0xf4) as (value << 1) | 1; 0 after a guest reset
request; 1 after a triple fault or a HLT with interrupts disabled (with a message naming the guest RIP).`;

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

export const run: Command = {
  name: 'run',
  summary: 'boot a kernel (ELF64, PVH, Multiboot) with the serial console on stdio',
  usage: USAGE,
  async run(args) {
    const { flags, positionals } = parseArgs(
      args,
      { values: ['--accel', '-m', '--append', '--dump-state', '--trace', '--max-insns'] },
      'run',
    );
    if (positionals.length !== 1) throw new UsageError('run: expected one KERNEL file (see kemu run --help)');
    const accel = (flags.get('--accel') as string | undefined) ?? 'tcg';
    if (accel !== 'tcg') throw new UsageError(`run: --accel ${accel} is not available (only tcg)`);
    const ram = parseSize((flags.get('-m') as string | undefined) ?? '256M');
    const traces = new Set(((flags.get('--trace') as string | undefined) ?? '').split(',').filter(Boolean));
    for (const t of traces) if (!TRACES.has(t)) throw new UsageError(`run: unknown trace '${t}' (in_asm, exec, int, unimp)`);
    const maxText = flags.get('--max-insns') as string | undefined;
    const maxInsns = maxText === undefined ? Infinity : Number(maxText);
    if (!(maxInsns > 0)) throw new UsageError(`run: --max-insns must be a positive number`);

    const image = readInput(positionals[0]!);
    const machine = new Machine({ ramSize: ram, output: (b) => process.stdout.write(b) });
    try {
      machine.load(image, { cmdline: (flags.get('--append') as string | undefined) ?? '' });
    } catch (e) {
      if (e instanceof LoaderError) throw new UsageError(`${positionals[0]}: ${e.message}`);
      throw e;
    }
    installTraces(machine, traces);

    const stdinHandler = (data: Buffer) => machine.board.sendInput(new Uint8Array(data));
    const feedStdin = !process.stdin.isTTY;
    if (feedStdin) process.stdin.on('data', stdinHandler);
    let result: RunResult;
    try {
      result = await runSliced(machine, maxInsns);
    } finally {
      if (feedStdin) {
        process.stdin.off('data', stdinHandler);
        process.stdin.pause();
      }
    }
    const dump = flags.get('--dump-state') as string | undefined;
    if (dump) writeFileSync(dump, JSON.stringify(stateToJson(machine.cpu.getState()), null, 2) + '\n');
    return report(result);
  },
};

/** Runs in slices so stdin and signals get serviced between them. */
async function runSliced(machine: Machine, maxInsns: number): Promise<RunResult> {
  const SLICE = 2_000_000;
  let left = maxInsns;
  for (;;) {
    const before = machine.cpu.icount;
    const r = machine.run(Math.min(left, SLICE));
    left -= machine.cpu.icount - before;
    if (r.kind !== 'budget' || left <= 0) return r;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function report(r: RunResult): number {
  switch (r.kind) {
    case 'exit':
      return r.status;
    case 'reset':
      process.stderr.write('kemu: the guest requested a system reset\n');
      return 0;
    case 'halt':
      process.stderr.write(`kemu: the guest halted with interrupts disabled at rip ${hex(r.rip)}\n`);
      return 1;
    case 'shutdown':
      process.stderr.write(`kemu: triple fault (shutdown) at rip ${hex(r.rip)}\n`);
      return 1;
    case 'budget':
      process.stderr.write(`kemu: instruction limit reached at rip ${hex(r.rip)}\n`);
      return 124;
  }
}

function installTraces(machine: Machine, traces: Set<string>): void {
  const cpu = machine.cpu;
  const err = (line: string) => process.stderr.write(line + '\n');
  if (traces.has('in_asm')) {
    cpu.onTranslate = (lin, rip, mode, insns) => {
      err('----------------');
      err(`IN: (${codeBits(mode)}-bit, cpl ${(mode >> 4) & 3})`);
      let l = lin;
      let r = rip;
      for (let n = 0; n < insns; n++) {
        const bytes = new Uint8Array(15);
        for (let i = 0; i < 15; i++) {
          try {
            const a = l + BigInt(i);
            const p = cpu.fetchPhys(Number(a & 0xffffffffn) | 0, Number(a >> 32n) | 0);
            bytes[i] = p < cpu.ramSize ? cpu.u8[p]! : 0;
          } catch {
            break;
          }
        }
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
