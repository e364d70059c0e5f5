// `npm run bench`: every benchmark in turn (each also runs alone: tsx bench/<name>.ts). Arguments after `--` go to
// the guest workload suite (bench/suite.ts: interpreter, JIT, KVM and QEMU TCG on the same guests; --scale X,
// --reps N, --only a,b, --no-interp, --no-qemu, --no-kvm). QEMU comes from bench/setup-qemu.sh, run first when
// qemu-system-x86_64 is missing; the Linux boot (bench/linux-boot.ts) fetches Debian's kernel and busybox if needed.
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';

if (spawnSync('qemu-system-x86_64', ['--version']).status !== 0) {
  const r = spawnSync('sh', [join(import.meta.dirname, 'setup-qemu.sh')], { stdio: 'inherit' });
  if (r.status !== 0) console.log('bench: QEMU could not be installed; its columns will be skipped');
}

const BENCHES: [string, string[]][] = [
  ['decode.ts', []],
  ['interp-mips.ts', []],
  ['suite.ts', process.argv.slice(2)],
  ['linux-boot.ts', []],
];
for (const [b, args] of BENCHES) {
  console.log(`\n== ${b}`);
  execFileSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, b), ...args], { stdio: 'inherit' });
}
