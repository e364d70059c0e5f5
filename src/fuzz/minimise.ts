// Shrinks a diverging case: finds the first instruction at which the backends disagree, then tries it alone from
// the state the reference (the hardware) reached just before it; failing that, drops earlier instructions one by
// one while the divergence persists.
import { DATA_SIZE } from './env.ts';
import type { FuzzCase } from './generator.ts';
import { caseData, compareOptionsFor, compareResults, type Pair } from './runner.ts';

/** The instructions [from, to) of a case, same initial state. */
export function subCase(c: FuzzCase, from: number, to: number): FuzzCase {
  const start = c.offsets[from] ?? c.code.length;
  const end = c.offsets[to] ?? c.code.length;
  return { ...c, code: c.code.slice(start, end), offsets: c.offsets.slice(from, to).map((o) => o - start) };
}

function without(c: FuzzCase, i: number): FuzzCase {
  const a = subCase(c, 0, i);
  const b = subCase(c, i + 1, c.offsets.length);
  const code = new Uint8Array(a.code.length + b.code.length);
  code.set(a.code);
  code.set(b.code, a.code.length);
  return { ...c, code, offsets: [...a.offsets, ...b.offsets.map((o) => o + a.code.length)] };
}

/** The differences between `data` and the pool contents of `c`, as patches. */
function patchesFor(c: FuzzCase, data: Uint8Array): [number, Uint8Array][] {
  const base = caseData(c);
  const out: [number, Uint8Array][] = [];
  for (let i = 0; i < DATA_SIZE; i++) {
    if (base[i] === data[i]) continue;
    let j = i;
    while (j < DATA_SIZE && (base[j] !== data[j] || (j + 1 < DATA_SIZE && base[j + 1] !== data[j + 1]))) j++;
    out.push([i, data.slice(i, j)]);
    i = j;
  }
  return [...(c.patch ?? []), ...out];
}

export function minimise(pair: Pair, c: FuzzCase, maskUndefined: boolean): FuzzCase {
  const diverges = (x: FuzzCase): boolean => {
    const r = pair.run(x);
    return compareResults(r.ref, r.dut, compareOptionsFor(x, maskUndefined), r.rip).length > 0;
  };
  const n = c.offsets.length;
  let k = n;
  for (let i = 1; i < n; i++) {
    if (diverges(subCase(c, 0, i))) {
      k = i;
      break;
    }
  }
  let cur = subCase(c, 0, k);
  if (k === 1) return cur;
  const before = pair.run(subCase(c, 0, k - 1));
  if (before.ref.kind === 'end') {
    const st = before.ref.state;
    const single: FuzzCase = {
      ...subCase(c, k - 1, k),
      gpr: st.gpr.slice(),
      rflags: st.rflags & ~0x10000n,
      fsBase: st.fs.base,
      gsBase: st.gs.base,
      patch: patchesFor(c, before.ref.data),
    };
    if (diverges(single)) return single;
  }
  for (let i = cur.offsets.length - 2; i >= 0; i--) {
    const t = without(cur, i);
    if (diverges(t)) cur = t;
  }
  return cur;
}
