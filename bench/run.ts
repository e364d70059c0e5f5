// `npm run bench`: every benchmark in turn (each also runs alone: tsx bench/<name>.ts). Arguments after `--` go to
// the guest workload suite (bench/suite.ts: interpreter, JIT, KVM and QEMU TCG on the same guests; --scale X,
// --reps N, --only a,b, --no-interp, --no-qemu, --no-kvm). QEMU: bench/setup-qemu.sh installs it when missing.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const BENCHES: [string, string[]][] = [
  ['decode.ts', []],
  ['interp-mips.ts', []],
  ['suite.ts', process.argv.slice(2)],
];
for (const [b, args] of BENCHES) {
  console.log(`\n== ${b}`);
  execFileSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, b), ...args], { stdio: 'inherit' });
}
