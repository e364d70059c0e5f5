// The guest workload suite (bench/workloads.ts) under kemu's interpreter, kemu's JIT, kemu's KVM backend and QEMU
// TCG, in one run. Prints a table, writes bench/results/latest.json and bench/results/latest.svg.
//
//   tsx bench/suite.ts [--scale X] [--interp-scale F] [--reps N] [--only a,b] [--no-interp] [--no-qemu] [--no-kvm] [--kvm-limit S]
//
// Timing: kemu (interpreter, JIT, KVM) runs in this process: the wall time from loading the kernel to the guest's
// isa-debug-exit write, JIT compilation included, minus the same for the empty guest. QEMU runs as a whole process
// (`qemu-system-x86_64 -accel tcg -kernel guest.elf ...`): its wall time minus that of the empty guest, so QEMU's
// start-up and shutdown cancel out. Best of --reps runs (the interpreter: one run). Guest instruction counts come
// from kemu (the guests are deterministic: every emulator retires the same instructions); MIPS = count / time.
// The interpreter runs smaller instances of the workloads (--interp-scale, default 1/8): its ratio to the JIT is
// the ratio of their MIPS, which is the ratio of the times the interpreter would take at full size.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Machine } from '../src/machine/machine.ts';
import { enableJit, type JitStats } from '../src/jit/compiler.ts';
import { probeKvm } from '../src/accel/kvm/accel.ts';
import { makeGuest } from '../test/accel-harness.ts';
import { flag, opt } from './args.ts';
import { EMPTY, buildWorkload, workloads, type Workload } from './workloads.ts';

const here = dirname(fileURLToPath(import.meta.url));
const scale = Number(opt('scale', '1'));
/** The interpreter runs the workloads at this fraction of their size (it is 10-100x slower); compared by MIPS. */
const interpScale = Number(opt('interp-scale', '0.125'));
const reps = Number(opt('reps', '3'));
const only = opt('only', '').split(',').filter(Boolean);
const kvmLimit = Number(opt('kvm-limit', '20'));
const RAM = 128 << 20;

type Engine = 'interp' | 'jit' | 'kvm' | 'qemu';
interface Sample {
  ms: number;
  out: string;
  insns?: number;
  jit?: JitStats;
}
interface Cell {
  /** Instructions of the run, when it was a smaller instance (the interpreter's). */
  insns?: number;
  /** Net milliseconds (minus the empty guest), or undefined with a reason. */
  ms?: number;
  gross?: number;
  skipped?: string;
  mips?: number;
  jit?: Partial<JitStats>;
}

const tmp = mkdtempSync(join(tmpdir(), 'kemu-suite-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

function runKemu(image: Uint8Array, jit: boolean): Sample {
  const out: number[] = [];
  const m = new Machine({ ramSize: RAM, output: (b) => out.push(...b), jit: 'off' });
  const t0 = performance.now();
  m.load(image);
  const j = jit ? enableJit(m.cpu) : undefined;
  const r = m.run(20_000_000_000);
  const ms = performance.now() - t0;
  const text = Buffer.from(out).toString('latin1');
  if (r.kind !== 'exit' || r.status !== 1) throw new Error(`kemu: the guest ended with ${JSON.stringify(r, big)}: ${text}`);
  return { ms, out: text, insns: m.cpu.icount, jit: j ? { ...j.stats } : undefined };
}

function runKvm(image: Uint8Array): Sample {
  const g = makeGuest('kvm', RAM);
  try {
    const t0 = performance.now();
    g.vcpu.setState(g.board.loadKernel(image).state);
    // run() returns at least every 20 ms: give up after --kvm-limit seconds (nested or loaded hosts can be slow)
    const deadline = t0 + kvmLimit * 1000;
    let r;
    for (;;) {
      const e = g.vcpu.run(1_000_000);
      const req = g.board.stopRequest;
      if (req) {
        r = req.kind === 'exit' ? { kind: 'exit', status: req.status } : req;
        break;
      }
      if (e.kind !== 'budget') {
        r = e;
        break;
      }
      if (performance.now() > deadline) throw new Error(`over the --kvm-limit of ${kvmLimit} s`);
    }
    const ms = performance.now() - t0;
    if (r.kind !== 'exit' || !('status' in r) || r.status !== 1) throw new Error(`kvm: the guest ended with ${JSON.stringify(r, big)}: ${g.out()}`);
    return { ms, out: g.out() };
  } finally {
    g.accel.close();
  }
}

function runQemu(file: string): Sample {
  const t0 = performance.now();
  const r = spawnSync('qemu-system-x86_64', [
    '-accel', 'tcg', '-m', String(RAM >> 20), '-kernel', file, '-nographic', '-no-reboot', '-nodefaults',
    '-serial', 'stdio', '-monitor', 'none', '-device', 'isa-debug-exit,iobase=0xf4,iosize=4',
  ], { encoding: 'latin1', timeout: 300_000 });
  const ms = performance.now() - t0;
  if (r.status !== 1) throw new Error(`qemu: exit status ${r.status}: ${r.stdout} ${r.stderr}`);
  // the firmware prints its banner first: keep the guest's line
  return { ms, out: /result=[0-9a-f]+\n|fault[^\n]*\n/.exec(r.stdout.replace(/\r/g, ''))?.[0] ?? r.stdout };
}

function big(_k: string, v: unknown) {
  return typeof v === 'bigint' ? `0x${v.toString(16)}` : v;
}

function best(n: number, f: () => Sample): Sample {
  let b: Sample | undefined;
  for (let i = 0; i < n; i++) {
    const s = f();
    if (b && s.out !== b.out) throw new Error(`results differ between runs: ${b.out} / ${s.out}`);
    if (!b || s.ms < b.ms) b = s;
  }
  return b!;
}

function qemuUsable(): string | undefined {
  const r = spawnSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' });
  if (r.status === 0) return undefined;
  return 'qemu-system-x86_64 not found (run bench/setup-qemu.sh)';
}

// ---------------------------------------------------------------------------------------------------------------

const list = workloads(scale).filter((w) => !only.length || only.includes(w.name));
const small = new Map(workloads(scale * interpScale).map((w) => [w.name, w]));
const engines: Engine[] = ['interp', 'jit', 'kvm', 'qemu'];
const skip: Partial<Record<Engine, string>> = {};
if (flag('no-interp')) skip.interp = 'disabled (--no-interp)';
if (flag('no-kvm')) skip.kvm = 'disabled (--no-kvm)';
else {
  const p = probeKvm();
  if (!p.ok) skip.kvm = `KVM not usable: ${p.reason}`;
}
if (flag('no-qemu')) skip.qemu = 'disabled (--no-qemu)';
else skip.qemu = qemuUsable();
const qemuVersion = skip.qemu ? undefined : execFileSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' }).split('\n')[0];

const build = (w: Workload) => {
  const image = buildWorkload(w);
  const file = join(tmp, `${w.name}.elf`);
  writeFileSync(file, image);
  return { image, file };
};

const empty = build(EMPTY);
runKemu(empty.image, false); // warm up V8 on the interpreter and the JIT
runKemu(empty.image, true);
const base: Partial<Record<Engine, number>> = {};
const runners: Record<Engine, (img: { image: Uint8Array; file: string }, n: number) => Sample> = {
  interp: (g, n) => best(n, () => runKemu(g.image, false)),
  jit: (g, n) => best(n, () => runKemu(g.image, true)),
  kvm: (g, n) => best(n, () => runKvm(g.image)),
  qemu: (g, n) => best(n, () => runQemu(g.file)),
};
for (const e of engines) {
  if (skip[e]) continue;
  try {
    base[e] = runners[e](empty, Math.max(reps, 3)).ms;
  } catch (err) {
    skip[e] = `the empty guest failed: ${(err as Error).message.split('\n')[0]}`;
  }
}
for (const e of engines) if (skip[e]) console.log(`${e}: skipped: ${skip[e]}`);
console.log(`empty guest (subtracted): ${engines.filter((e) => base[e] !== undefined).map((e) => `${e} ${base[e]!.toFixed(1)} ms`).join(', ')}`);

interface Row {
  name: string;
  what: string;
  insns: number;
  result: string;
  cells: Partial<Record<Engine, Cell>>;
  ratios: { jitOverQemu?: number; interpOverJit?: number; jitOverKvm?: number };
}
const rows: Row[] = [];
const fmt = (x: number | undefined, d = 0) => (x === undefined ? '-' : x.toFixed(d));
const header = 'workload'.padEnd(11) + 'Minsns'.padStart(8) +
  ['interp ms*', 'JIT ms', 'KVM ms', 'QEMU ms'].map((s) => s.padStart(11)).join('') +
  ['interp', 'JIT', 'QEMU'].map((s) => `${s} MIPS`.padStart(12)).join('') + '  JIT/QEMU  interp/JIT';
console.log(header);
console.log(`(* the interpreter ran instances ${interpScale} of the size; its MIPS compare with the others')`);
for (const w of list) {
  const g = build(w);
  const gSmall = interpScale === 1 ? g : build({ ...small.get(w.name)!, name: `${w.name}-small` });
  const row: Row = { name: w.name, what: w.what, insns: 0, result: '', cells: {}, ratios: {} };
  let ref: string | undefined;
  let insnsSmall = 0;
  for (const e of ['jit', 'interp', 'kvm', 'qemu'] as Engine[]) {
    if (skip[e]) {
      row.cells[e] = { skipped: skip[e] };
      continue;
    }
    try {
      if (e === 'interp') {
        // a smaller instance: checked against the JIT running the same one
        const s = runners.interp(gSmall, 1);
        if (skip.jit === undefined && s.out !== runners.jit(gSmall, 1).out) throw new Error(`wrong result: ${JSON.stringify(s.out)}`);
        insnsSmall = s.insns!;
        const ms = Math.max(0.001, s.ms - base.interp!);
        row.cells.interp = { ms, gross: s.ms, mips: insnsSmall / ms / 1000, insns: insnsSmall } as Cell;
        continue;
      }
      const s = runners[e](g, reps);
      if (s.insns) row.insns = s.insns;
      if (ref === undefined) ref = s.out;
      else if (s.out !== ref) throw new Error(`wrong result: ${JSON.stringify(s.out)}, expected ${JSON.stringify(ref)}`);
      const ms = s.ms - base[e]!;
      if (ms < Math.max(10, 0.2 * base[e]!)) {
        // within the noise of starting and stopping the emulator: no number rather than a wrong one
        row.cells[e] = { gross: s.ms, skipped: `net time ${ms.toFixed(1)} ms is below the start-up noise (use a larger --scale)` };
        continue;
      }
      const cell: Cell = { ms, gross: s.ms };
      if (s.jit) {
        const { compiled, modules, bytes, genMs, wasmMs, links, misses, evicted } = s.jit;
        cell.jit = { compiled, modules, bytes, genMs: +genMs.toFixed(1), wasmMs: +wasmMs.toFixed(1), links, misses, evicted };
      }
      row.cells[e] = cell;
    } catch (err) {
      row.cells[e] = { skipped: `failed: ${(err as Error).message.split('\n')[0]}` };
      console.log(`${w.name} on ${e}: ${row.cells[e]!.skipped}`);
    }
  }
  row.result = (ref ?? '').trim();
  for (const e of engines) {
    const c = row.cells[e];
    if (e !== 'interp' && c?.ms !== undefined && row.insns) c.mips = row.insns / c.ms / 1000;
  }
  const ms = (e: Engine) => row.cells[e]?.ms;
  const ratio = (a?: number, b?: number) => (a !== undefined && b !== undefined ? a / b : undefined);
  row.ratios = {
    jitOverQemu: ratio(ms('jit'), ms('qemu')),
    interpOverJit: ratio(row.cells.jit?.mips, row.cells.interp?.mips),
    jitOverKvm: ratio(ms('jit'), ms('kvm')),
  };
  rows.push(row);
  console.log(
    w.name.padEnd(11) + fmt(row.insns / 1e6, 1).padStart(8) +
      engines.map((e) => fmt(ms(e), 1).padStart(11)).join('') +
      (['interp', 'jit', 'qemu'] as Engine[]).map((e) => fmt(row.cells[e]?.mips, 1).padStart(12)).join('') +
      fmt(row.ratios.jitOverQemu, 2).padStart(10) + fmt(row.ratios.interpOverJit, 1).padStart(12),
  );
}

const result = {
  date: new Date().toISOString(),
  node: process.version,
  qemu: qemuVersion,
  scale,
  reps,
  interpScale,
  method: 'net wall ms = run wall time minus the empty guest on the same engine; kemu in process (load to exit, JIT ' +
    'compilation included), QEMU as a whole process; best of reps (interpreter: 1 run of a smaller instance, ' +
    'interpScale of the size; interp/JIT is the ratio of MIPS); MIPS from kemu\'s instruction count',
  emptyMs: base,
  skipped: skip,
  rows,
};
const outDir = join(here, 'results');
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'latest.json'), JSON.stringify(result, null, 2) + '\n');
writeFileSync(join(outDir, 'latest.svg'), chart(rows));
console.log(`wrote ${join('bench', 'results', 'latest.json')} and latest.svg`);

/** A grouped horizontal bar chart of net times (log scale), one group per workload, one bar per engine. */
function chart(rs: Row[]): string {
  const colors: Record<Engine, string> = { interp: '#9e9e9e', jit: '#1f77b4', kvm: '#2ca02c', qemu: '#ff7f0e' };
  const labels: Record<Engine, string> = { interp: 'kemu interpreter', jit: 'kemu JIT', kvm: 'kemu KVM', qemu: 'QEMU TCG' };
  const bar = 12, gap = 14, left = 110, width = 520, right = 90;
  // the interpreter ran a smaller instance: its bar is the time at full size at the MIPS it reached
  const val = (r: Row, e: Engine) => {
    const c = r.cells[e];
    if (e === 'interp') return c?.mips && r.insns ? r.insns / c.mips / 1000 : undefined;
    return c?.ms;
  };
  const all = rs.flatMap((r) => engines.map((e) => val(r, e)).filter((x): x is number => x !== undefined));
  const lo = Math.max(0.01, Math.min(...all, 1)), hi = Math.max(...all, 10);
  const l0 = Math.floor(Math.log10(lo)), l1 = Math.ceil(Math.log10(hi));
  const x = (v: number) => left + ((Math.log10(Math.max(v, 10 ** l0)) - l0) / (l1 - l0)) * width;
  const groupH = engines.length * bar + gap;
  const top = 40;
  const h = top + rs.length * groupH + 50;
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${left + width + right}" height="${h}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="16" font-size="13" font-weight="bold">kemu benchmark: net wall time per workload (ms, log scale; shorter is faster)</text>`,
  ];
  for (let p = l0; p <= l1; p++) {
    const xx = x(10 ** p).toFixed(1);
    parts.push(`<line x1="${xx}" y1="${top - 6}" x2="${xx}" y2="${h - 44}" stroke="#ddd"/>`);
    parts.push(`<text x="${xx}" y="${h - 32}" text-anchor="middle">${10 ** p >= 1 ? 10 ** p : (10 ** p).toFixed(-p)}</text>`);
  }
  rs.forEach((r, i) => {
    const y0 = top + i * groupH;
    parts.push(`<text x="${left - 6}" y="${y0 + (engines.length * bar) / 2 + 4}" text-anchor="end" font-weight="bold">${esc(r.name)}</text>`);
    engines.forEach((e, k) => {
      const v = val(r, e);
      const y = y0 + k * bar;
      if (v === undefined) {
        parts.push(`<text x="${left + 4}" y="${y + bar - 3}" fill="#999">${labels[e]}: n/a</text>`);
        return;
      }
      const w = Math.max(1, x(v) - left);
      parts.push(`<rect x="${left}" y="${y + 1}" width="${w.toFixed(1)}" height="${bar - 2}" fill="${colors[e]}"/>`);
      parts.push(`<text x="${(left + w + 4).toFixed(1)}" y="${y + bar - 3}">${v.toFixed(v < 10 ? 2 : 0)}${e === 'interp' ? ' (est.)' : ''}</text>`);
    });
  });
  engines.forEach((e, k) => {
    const lx = left + k * 130;
    parts.push(`<rect x="${lx}" y="${h - 20}" width="10" height="10" fill="${colors[e]}"/><text x="${lx + 14}" y="${h - 11}">${labels[e]}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
