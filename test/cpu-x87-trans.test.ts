// The x87 transcendental instructions (f2xm1 fyl2x fyl2xp1 fptan fpatan fsin fcos fsincos) against this machine's
// CPU. kemu computes them in binary64 (src/cpu/fpu/trans.ts): special operands (zeros, infinities, NaNs,
// unsupported encodings, tiny and denormal arguments, |x| >= 2^63 with C2, stack faults) must match exactly;
// ordinary arguments must agree to 2^-50 relative, with the same status word apart from PE and C1.
import { describe, expect, it } from 'vitest';
import { DATA, NATIVE_ORACLE, Oracle, report, type Outcome } from './util/oracle.ts';
import { Rng, cw, lastNote, operands, type X80 } from './cpu-x87-util.ts';

const PRELUDE = 'fldcw [rsi]\nfld tbyte ptr [rsi+32]\nfld tbyte ptr [rsi+16]\n';
const regs = { rsi: DATA, rdi: DATA + 0x100 };
const OPS = ['f2xm1', 'fyl2x', 'fyl2xp1', 'fptan', 'fpatan', 'fsin', 'fcos', 'fsincos'];
const J = 1n << 63n;

/** Operands the SDM (and this CPU) give exact results for, by instruction. */
function special(r: Rng, op: string, second: boolean): X80 {
  const s = r.int(2) << 15;
  const kinds = second ? [0, 1, 2, 3, 7, 9] : op === 'fpatan' ? [0, 1, 2, 3, 7] : op === 'fyl2x' ? [0, 1, 2, 3, 7, 8, 10]
    : op === 'fyl2xp1' ? [0, 1, 2, 3, 7] : op === 'f2xm1' ? [0, 1, 2, 3, 4, 5, 6, 7, 8]
    // fptan of tiny arguments: this CPU's result is not the correctly rounded one (kemu's is)
    : op === 'fptan' ? [0, 1, 2, 3, 5, 7] : [0, 1, 2, 3, 4, 5, 6, 7];
  switch (r.pick(kinds)) {
    case 0: return { m: 0n, se: s };
    case 1: return { m: J, se: s | 0x7fff };
    case 2: return { m: J | (1n << 62n) | (r.u64() >> 3n), se: s | 0x7fff };
    case 3: return { m: J | (r.u64() >> 3n) | 1n, se: s | 0x7fff };
    case 4: return { m: r.u64() >> 1n, se: s }; // denormal
    case 5: return { m: r.u64() | J, se: s | (0x3fff + 63 + r.int(200)) }; // out of range for fsin/fcos/fptan
    case 6: return { m: r.u64() | J, se: s | (0x3fff - 101 - r.int(1000)) }; // tiny
    case 7: return { m: r.u64() & ~J, se: s | 0x3fff }; // unnormal
    case 8: return { m: J, se: 0x3fff }; // 1.0
    case 9: return ordinary(r);
    default: return { m: r.u64() | J, se: 0x8000 | (0x3fff + r.int(20) - 10) }; // negative
  }
}

/** An ordinary argument in the functions' domains. */
function ordinary(r: Rng): X80 {
  return { m: r.u64() | J, se: (r.int(4) === 0 ? 0x8000 : 0) | (0x3fff - r.int(12) + r.int(3)) };
}

function value(fx: Uint8Array, i: number): number {
  const dv = new DataView(fx.buffer, fx.byteOffset);
  const se = dv.getUint16(32 + 16 * i + 8, true), m = dv.getBigUint64(32 + 16 * i, true);
  const e = se & 0x7fff;
  if (e === 0x7fff) return m << 1n ? NaN : se & 0x8000 ? -Infinity : Infinity;
  return (se & 0x8000 ? -1 : 1) * Number(m) * 2 ** (e - 16383 - 63);
}

/** Agreement within the binary64 computation's error. */
function close(n: Outcome, k: Outcome): string {
  if (n.vector !== k.vector) return `vector ${n.vector} ${k.vector}`;
  const fsw = (fx: Uint8Array) => new DataView(fx.buffer, fx.byteOffset).getUint16(2, true) & ~0x220;
  if (fsw(n.fx) !== fsw(k.fx)) return `fsw ${fsw(n.fx).toString(16)} ${fsw(k.fx).toString(16)}`;
  for (let i = 0; i < 2; i++) {
    const a = value(n.fx, i), b = value(k.fx, i);
    if (Number.isNaN(a) && Number.isNaN(b)) continue;
    if (a !== b && !(Math.abs(a - b) <= Math.abs(a) * 2 ** -50)) return `st${i} ${a} ${b}`;
  }
  return '';
}

describe.skipIf(!NATIVE_ORACLE.ok)('x87 transcendental functions (native oracle)', () => {
  it('special operands: exact results, flags and C2', () => {
    const o = new Oracle();
    const r = new Rng(8730n);
    for (const op of OPS) {
      const c = o.code(`${PRELUDE}${op}\nfnstsw ax`);
      for (let k = 0; k < 120; k++) {
        const a = special(r, op, false);
        const b = special(r, op, true);
        o.add(c, { regs, data: operands(r, a, b, cw(r, 4)) }, lastNote);
      }
    }
    expect(report(o.run({ jit: 'both' }))).toBe('');
  });

  it('ordinary arguments: values to 2^-50, status words apart from PE and C1', () => {
    const o = new Oracle();
    const r = new Rng(8731n);
    const notes: string[] = [];
    for (const op of OPS) {
      const c = o.code(`fld tbyte ptr [rsi+32]\nfld tbyte ptr [rsi+16]\n${op}`);
      for (let k = 0; k < 150; k++) {
        let a = ordinary(r);
        if (op === 'fyl2x') a = { m: a.m, se: a.se & 0x7fff };
        if (op === 'f2xm1' || op === 'fyl2xp1') a = { m: a.m, se: (a.se & 0x8000) | Math.min(a.se & 0x7fff, 0x3ffd) };
        o.add(c, { regs, data: operands(r, a, ordinary(r), 0x37f) }, lastNote);
        notes.push(`${op} ${lastNote}`);
      }
    }
    const res = o.run({ jit: false });
    const bad = res.native.map((n, i) => close(n, res.kemu[i]!)).map((d, i) => (d ? `${notes[i]}: ${d}` : '')).filter(Boolean);
    expect(bad.slice(0, 10)).toEqual([]);
  });
});
