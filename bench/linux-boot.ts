// Debian's Linux from start to /init: kemu (software CPU, JIT on) and QEMU TCG side by side on the same kernel and
// initramfs, both as the bzImage (its decompressor runs in the guest) and as the uncompressed vmlinux booted through
// its PVH note; plus kemu on KVM. Prints a table and writes bench/results/linux-boot.json.
//
//   tsx bench/linux-boot.ts [--dir DIR] [--reps N] [--limit S] [--kvm-limit S] [--no-qemu] [--no-kvm]
//
// Timing: wall time from spawning the emulator process to the first console line of /init (its banner), so both
// include their start-up (QEMU: SeaBIOS; kemu: loading the kernel), and for the bzImage the kernel's decompressor. The guest comes
// from `kemu guest debian` (DIR, default $KEMU_GUEST_DIR or the tmp cache the tests use; fetched with apt if
// missing). --reps rounds, each booting kemu and QEMU in turn (bzImage, then vmlinux): each row's best, the ratio of
// the bests, and the ratio within each round with its median (both emulators timed at the same moment). Under KVM kemu boots the uncompressed vmlinux through its PVH note: on kvm_pvm ring-0
// code is emulated by the host one instruction at a time, so the bzImage's decompressor alone would take many
// minutes; the KVM row reports how far the boot got within --kvm-limit seconds.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchDebianGuest } from '../src/guest/debian.ts';
import { DEFAULT_BANNER } from '../src/guest/initramfs.ts';
import { extractVmlinux } from '../src/guest/vmlinux.ts';
import { flag, opt } from './args.ts';

const here = dirname(fileURLToPath(import.meta.url));
const KEMU = join(here, '..', 'bin', 'kemu.mjs');
const dir = opt('dir', process.env.KEMU_GUEST_DIR ?? join(tmpdir(), 'kemu-guest-debian'));
const reps = Number(opt('reps', '1'));
const limitS = Number(opt('limit', '300'));
const kvmLimitS = Number(opt('kvm-limit', '120'));
const APPEND = 'console=ttyS0 quiet';

interface Boot {
  /** ms from spawn to the /init banner, undefined if it did not come within the limit. */
  ms?: number;
  /** The last console line seen (where a boot that did not finish got to). */
  last: string;
}

/** Spawns an emulator and times it to the /init banner (or gives up after limitMs), then kills it. */
function timeToInit(cmd: string, args: string[], limitMs: number): Promise<Boot> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let done = false;
    const finish = (ms?: number) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      const lines = out.replace(/\r/g, '').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('kemu: '));
      resolve({ ms, last: lines.at(-1) ?? '' });
    };
    const take = (b: Buffer) => {
      out += b.toString('latin1');
      if (out.includes(DEFAULT_BANNER)) finish(performance.now() - t0);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('exit', () => finish());
    const timer = setTimeout(() => finish(), limitMs);
  });
}

const haveGuest = existsSync(join(dir, 'vmlinuz')) && existsSync(join(dir, 'initrd.gz'));
const g = haveGuest ? { kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.gz'), vmlinux: join(dir, 'vmlinux') } : fetchDebianGuest({ dir, log: (l) => console.log(l) });
if (!existsSync(g.vmlinux)) writeFileSync(g.vmlinux, extractVmlinux(new Uint8Array(readFileSync(g.kernel))));

const kemuArgs = (accel: string, kernel: string, append = APPEND) =>
  [KEMU, 'run', '--accel', accel, '--kernel', kernel, '--initrd', g.initrd, '--append', append, '-m', '512M'];
const qemuVersion = spawnSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' }).stdout?.split('\n')[0];
const kvmOk = existsSync('/dev/kvm');

const rows: { name: string; what: string; boot?: Boot; skipped?: string }[] = [
  { name: 'kemu tcg (JIT)', what: 'bzImage' },
  { name: 'QEMU TCG', what: 'bzImage' },
  { name: 'kemu tcg (JIT)', what: 'vmlinux (PVH)' },
  { name: 'QEMU TCG', what: 'vmlinux (PVH)' },
  { name: 'kemu kvm', what: 'vmlinux (PVH)' },
];
const KVM_ROW = 4;
const qemuSkip = flag('no-qemu') ? 'disabled (--no-qemu)' : !qemuVersion ? 'qemu-system-x86_64 not found (run bench/setup-qemu.sh)' : undefined;
if (qemuSkip) rows[1]!.skipped = rows[3]!.skipped = qemuSkip;
const qemu = (kernel: string) => ['-accel', 'tcg', '-m', '512M', '-kernel', kernel, '-initrd', g.initrd, '-append', APPEND, '-nographic', '-no-reboot'];
// Rounds of one boot each, kemu and QEMU alternating, so both see the machine as it is at that moment (its speed
// drifts by tens of percent over minutes here); a row keeps its best boot, and each round gives a ratio.
const runs: (() => Promise<Boot>)[] = [
  () => timeToInit(process.execPath, kemuArgs('tcg', g.kernel), limitS * 1000),
  () => timeToInit('qemu-system-x86_64', qemu(g.kernel), limitS * 1000),
  () => timeToInit(process.execPath, kemuArgs('tcg', g.vmlinux), limitS * 1000),
  () => timeToInit('qemu-system-x86_64', qemu(g.vmlinux), limitS * 1000),
];
const perRound: (number | undefined)[][] = [[], []];
for (let round = 0; round < reps; round++) {
  const got: (number | undefined)[] = [];
  for (const [i, run] of runs.entries()) {
    const row = rows[i]!;
    if (row.skipped || (row.boot && row.boot.ms === undefined)) continue; // (a boot that failed once is not retried)
    const b = await run();
    got[i] = b.ms;
    if (!row.boot || b.ms === undefined || b.ms < row.boot.ms!) row.boot = b;
  }
  for (const k of [0, 1]) {
    const a = got[2 * k], q = got[2 * k + 1];
    perRound[k]!.push(a !== undefined && q !== undefined ? a / q : undefined);
  }
}
if (flag('no-kvm')) rows[KVM_ROW]!.skipped = 'disabled (--no-kvm)';
else if (!kvmOk) rows[KVM_ROW]!.skipped = '/dev/kvm absent';
// (not quiet: the last console line says how far it got)
else rows[KVM_ROW]!.boot = await timeToInit(process.execPath, kemuArgs('kvm', g.vmlinux, 'console=ttyS0 earlyprintk=serial'), kvmLimitS * 1000);

const over = (k: number, q: number): number | undefined => {
  const a = rows[k]!.boot?.ms;
  const b = rows[q]!.boot?.ms;
  return a !== undefined && b !== undefined ? a / b : undefined;
};
const ratio = over(0, 1);
const ratioPvh = over(2, 3);
console.log(`Debian Linux, start to /init (${APPEND}, 512 MiB; best of ${reps})`);
for (const r of rows) {
  const label = `${r.name}, ${r.what}`.padEnd(32);
  if (r.skipped) console.log(`${label} skipped: ${r.skipped}`);
  else if (r.boot?.ms !== undefined) console.log(`${label} ${(r.boot.ms / 1000).toFixed(2).padStart(8)} s`);
  else console.log(`${label} no /init within the limit; last console line: ${JSON.stringify(r.boot?.last.slice(0, 100))}`);
}
const median = (xs: (number | undefined)[]): number | undefined => {
  const v = xs.filter((x): x is number => x !== undefined).sort((a, b) => a - b);
  return v.length ? (v.length % 2 ? v[v.length >> 1]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2) : undefined;
};
const rounds = (k: number) => {
  const m = median(perRound[k]!);
  return m === undefined ? '' : `; round by round ${perRound[k]!.map((x) => (x === undefined ? '-' : x.toFixed(2))).join(' ')}, median ${m.toFixed(2)}`;
};
if (ratio !== undefined) console.log(`kemu / QEMU TCG time to /init (bzImage): ${ratio.toFixed(2)} (best / best)${rounds(0)}`);
if (ratioPvh !== undefined) console.log(`kemu / QEMU TCG time to /init (vmlinux, PVH): ${ratioPvh.toFixed(2)} (best / best)${rounds(1)}`);

mkdirSync(join(here, 'results'), { recursive: true });
const file = join(here, 'results', 'linux-boot.json');
writeFileSync(
  file,
  JSON.stringify({
    date: new Date().toISOString(), node: process.version, qemu: qemuVersion, append: APPEND, reps, kemuOverQemu: ratio, kemuOverQemuPvh: ratioPvh,
    perRound: { bzImage: perRound[0], pvh: perRound[1] }, rows,
  }, null, 2) + '\n',
);
console.log(`wrote ${file}`);
