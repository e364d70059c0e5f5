// Interpreter speed: guest MIPS of the software CPU (JIT off) on the integer workload.
import { Machine } from '../src/machine/machine.ts';
import { buildGuest, integerWorkload, readGuest } from './guests.ts';

const ITERS = Number(process.env.ITERS ?? 200_000);
const image = readGuest(buildGuest('int', integerWorkload(ITERS)));

function once(): { insns: number; ms: number } {
  const m = new Machine({ ramSize: 16 << 20, output: () => {}, jit: 'off' });
  m.load(image);
  const t0 = performance.now();
  const r = m.run();
  const ms = performance.now() - t0;
  if (r.kind !== 'exit') throw new Error(`the workload did not finish: ${JSON.stringify(r, (_, v) => (typeof v === 'bigint' ? v.toString(16) : v))}`);
  return { insns: m.cpu.icount, ms };
}

once(); // warm-up: V8 compiles the interpreter
const runs = [once(), once(), once()];
const best = runs.reduce((a, b) => (b.ms < a.ms ? b : a));
const mips = best.insns / best.ms / 1000;
console.log(`integer workload: ${best.insns} guest instructions in ${best.ms.toFixed(0)} ms`);
console.log(`README: interpreter ${mips.toFixed(1)} guest MIPS (integer workload, best of 3, Node ${process.version})`);
