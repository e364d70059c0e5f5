// `kemu crosscheck`: the same kernel on KVM and on kemu's CPU in lockstep, compared at every exit.
import { probeKvm } from '../accel/kvm/accel.ts';
import { crosscheck as runCrosscheck, PVM_QUIRKS } from '../fuzz/lockstep.ts';
import { LoaderError } from '../machine/loader/index.ts';
import { parseArgs, parseNumber, readInput, UsageError, type Command } from './common.ts';
import { parseSize } from './run.ts';

const USAGE = `Usage: kemu crosscheck [-m SIZE] [--append STR] [--mask-undefined] [--strict] [--max-syncs N] KERNEL

Runs KERNEL on KVM and on kemu's software CPU (tcg) in lockstep. KVM runs to its next exit (port I/O, MMIO, HLT);
tcg runs until it has done as many I/O operations (or halts); then the full CPU states (registers, RIP, RFLAGS,
segments with their hidden parts, descriptor tables, control registers, EFER) and the I/O operations are compared.
The first divergence stops the run: both states, the differences, and the instructions tcg ran since the last
agreement are printed. The guest's COM1 output (from the KVM side) goes to stderr. Interrupts are not delivered.

  -m SIZE           guest RAM (default 128M)
  --append STR      the kernel command line
  --mask-undefined  do not compare flags the manuals leave undefined after the instructions run since the last
                    agreement (compared by default: the CPU model promises AMD's results)
  --max-syncs N     stop after N sync points
  --strict          also compare what kvm_pvm (ring 0 emulated by the host) gets wrong: \${PVM_QUIRKS}

Exit status: 0 if both ran to the same end (or --max-syncs), 1 on a divergence, 2 on usage errors or without KVM.`;

export const crosscheck: Command = {
  name: 'crosscheck',
  summary: 'run a kernel on kvm and tcg in lockstep and stop at the first divergence',
  usage: USAGE,
  async run(args) {
    const { flags, positionals } = parseArgs(
      args,
      { values: ['-m', '--append', '--max-syncs'], booleans: ['--mask-undefined', '--strict'] },
      'crosscheck',
    );
    if (positionals.length !== 1) throw new UsageError('crosscheck: expected one KERNEL file (see kemu crosscheck --help)');
    const ramSize = parseSize((flags.get('-m') as string | undefined) ?? '128M');
    const maxText = flags.get('--max-syncs') as string | undefined;
    const maxSyncs = maxText === undefined ? undefined : Number(parseNumber(maxText, 'crosscheck: --max-syncs'));
    const image = readInput(positionals[0]!);
    const probe = probeKvm();
    if (!probe.ok) {
      process.stderr.write(`kemu: crosscheck needs KVM: ${probe.reason}\n`);
      return 2;
    }
    const cmdline = flags.get('--append') as string | undefined;
    let r;
    try {
      r = runCrosscheck(image, {
        ramSize, maskUndefined: flags.has('--mask-undefined'), maxSyncs, strict: flags.has('--strict'),
        load: cmdline === undefined ? undefined : { cmdline },
        output: (b) => process.stderr.write(b),
      });
    } catch (e) {
      if (e instanceof LoaderError) throw new UsageError(`crosscheck: ${positionals[0]}: ${e.message}`);
      throw e;
    }
    if (r.report.length) process.stdout.write(r.report.join('\n') + '\n');
    process.stdout.write(
      `crosscheck: ${r.kind === 'agree' ? 'agree to the end' : r.kind}: ${r.end}; ${r.syncs} sync points, ${r.ioOps} I/O operations, ` +
        `${r.tcgInstructions} instructions on tcg\n`,
    );
    return r.kind === 'agree' || r.kind === 'limit' ? 0 : 1;
  },
};
