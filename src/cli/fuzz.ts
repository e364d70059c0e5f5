// `kemu fuzz`: differential fuzzing of kemu's CPU (tcg) against the hardware (KVM runs the ring-3 cases natively).
import { probeKvm } from '../accel/kvm/accel.ts';
import { describeCase, caseFromJson, caseToJson, compareOptionsFor, compareResults, describeOutcome, Pair, runCampaign, type Divergence } from '../fuzz/runner.ts';
import { minimise } from '../fuzz/minimise.ts';
import { parseArgs, parseNumber, UsageError, type Command } from './common.ts';

const USAGE = `Usage: kemu fuzz [--seed S] [--count N] [--max-len L] [--mask-undefined] [--max-divergences D]
       kemu fuzz --replay CASE [--mask-undefined]

Runs random sequences of unprivileged 64-bit instructions (from the decoder's opcode maps, features the CPU model
advertises) in ring 3 on KVM (the hardware: kvm_pvm runs ring-3 code natively) and on kemu's CPU (tcg) from the same
random registers, flags and data area, and compares the final state, any exception (vector, error code, frame) and
the data area. A divergence is minimised and printed with a reproducer (--replay). Needs a usable /dev/kvm.

  --seed S             campaign seed (default 1)
  --count N            instructions to execute, counted on the hardware (default 10000)
  --max-len L          instructions per sequence, 1..L (default 8)
  --mask-undefined     do not compare flags the manuals leave undefined (the model promises AMD's results, so
                       they are compared by default); sequences then never read such flags
  --max-divergences D  stop after D distinct divergences (default 20)
  --replay CASE        run one case (the JSON a divergence report prints) and show both results

Exit status: 0 if no divergence, 1 if any, 2 on usage errors or without KVM.`;

export function formatDivergence(d: Divergence, maskUndefined: boolean): string {
  const lines = [`DIVERGENCE${d.known ? ` (known: ${d.known})` : ' (new)'}`, ...describeCase(d.minimal).map((l) => '  ' + l)];
  lines.push(`  hardware (kvm): ${d.ref}`, `  kemu (tcg):     ${d.dut}`, '  differences (hardware vs kemu):');
  for (const l of d.diff) lines.push('    ' + l);
  if (d.minimal.code.length !== d.original.code.length) {
    lines.push('  found in the sequence:', ...describeCase(d.original).map((l) => '    ' + l));
  }
  lines.push(`  reproduce: npx kemu fuzz${maskUndefined ? ' --mask-undefined' : ''} --replay '${caseToJson(d.minimal)}'`);
  return lines.join('\n');
}

export const fuzz: Command = {
  name: 'fuzz',
  summary: 'differential fuzzing of the software CPU against the hardware (KVM)',
  usage: USAGE,
  async run(args) {
    const { flags, positionals } = parseArgs(
      args,
      { values: ['--seed', '--count', '--max-len', '--max-divergences', '--replay'], booleans: ['--mask-undefined'] },
      'fuzz',
    );
    if (positionals.length) throw new UsageError(`fuzz: unexpected argument '${positionals[0]}'`);
    const num = (name: string, dflt: number) => {
      const v = flags.get(name);
      return v === undefined ? dflt : Number(parseNumber(v as string, `fuzz: ${name}`));
    };
    const seed = num('--seed', 1);
    const count = num('--count', 10000);
    const maxLen = num('--max-len', 8);
    const maxDivergences = num('--max-divergences', 20);
    if (maxLen < 1 || maxLen > 16) throw new UsageError('fuzz: --max-len must be 1..16');
    const maskUndefined = flags.has('--mask-undefined');
    const probe = probeKvm();
    if (!probe.ok) {
      process.stderr.write(`kemu: fuzz needs KVM (the hardware is the reference): ${probe.reason}\n`);
      return 2;
    }
    const pair = new Pair('kvm');
    try {
      const replay = flags.get('--replay');
      if (typeof replay === 'string') {
        let c;
        try {
          c = caseFromJson(replay);
        } catch (e) {
          throw new UsageError(`fuzz: --replay: ${(e as Error).message}`);
        }
        const r = pair.run(c);
        const diff = compareResults(r.ref, r.dut, compareOptionsFor(c, maskUndefined), r.rip);
        const out = [...describeCase(c), `hardware (kvm): ${describeOutcome(r.ref, r.rip)}`, `kemu (tcg):     ${describeOutcome(r.dut, r.rip)}`];
        out.push(diff.length ? 'differences (hardware vs kemu):' : 'no difference', ...diff.map((l) => '  ' + l));
        process.stdout.write(out.join('\n') + '\n');
        return diff.length ? 1 : 0;
      }
      process.stdout.write(`fuzz: seed ${seed}, ${count} instructions, sequences of 1-${maxLen}${maskUndefined ? ', undefined flags masked' : ''}\n`);
      const stats = runCampaign(
        pair,
        {
          seed, count, maxLen, maskUndefined, maxDivergences,
          onDivergence: (d) => process.stdout.write(formatDivergence(d, maskUndefined) + '\n\n'),
          onProgress: (s) => process.stderr.write(`fuzz: ${s.instructions} instructions, ${s.cases} sequences, ${s.divergences} divergences, ${(s.ms / 1000).toFixed(0)} s\n`),
        },
        minimise,
      );
      process.stdout.write(
        `fuzz: ${stats.instructions} instructions in ${stats.cases} sequences (${stats.exceptions} ended by an exception), ` +
          `${(stats.ms / 1000).toFixed(1)} s, ${stats.divergences} distinct divergence${stats.divergences === 1 ? '' : 's'}` +
          (stats.divergences ? ` (${stats.unknown} new; known: ${Object.entries(stats.known).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'})` : '') + '\n',
      );
      return stats.divergences ? 1 : 0;
    } finally {
      pair.close();
    }
  },
};
