// mul/imul/div/idiv against this machine's CPU (the native oracle), including #DE and AMD's flag results.
import { describe, expect, it } from 'vitest';
import { bytesOf } from './cpu-sse-util.ts';
import { DATA, Oracle, PTR, REGS, Rng, biased, edgeValues, report, withGarbage, NATIVE_ORACLE } from './util/oracle.ts';

const SIZES = [1, 2, 4, 8] as const;

describe.skipIf(!NATIVE_ORACLE.ok)('multiply and divide (native oracle)', () => {
  it('mul and one-operand imul, register and memory sources', () => {
    const o = new Oracle();
    const r = new Rng(10n);
    for (const op of ['mul', 'imul'])
      for (const size of SIZES) {
        const reg = o.code(`${op} ${REGS[size]![3]}`);
        const mem = o.code(`${op} ${PTR[size]} [rsi]`);
        const edges = edgeValues(size * 8);
        for (const a of edges) for (const b of edges) o.add(reg, { regs: { rax: withGarbage(r, a, size * 8), rbx: withGarbage(r, b, size * 8), rdx: r.u64() }, flags: r.flags() });
        for (let k = 0; k < 150; k++) {
          o.add(reg, { regs: { rax: biased(r, 64), rbx: biased(r, 64), rdx: r.u64() }, flags: r.flags() });
          o.add(mem, { regs: { rax: biased(r, 64), rsi: DATA + 8 }, data: r.bytes(24), flags: r.flags() });
        }
      }
    const res = o.run();
    expect(report(res)).toBe('');
  });

  it('two- and three-operand imul', () => {
    const o = new Oracle();
    const r = new Rng(11n);
    for (const size of [2, 4, 8]) {
      const [a, b] = [REGS[size]![0], REGS[size]![3]];
      const forms = [`imul ${a}, ${b}`, `imul ${a}, ${PTR[size]} [rsi]`, `imul ${a}, ${b}, 7`, `imul ${a}, ${b}, -128`,
        `imul ${a}, ${PTR[size]} [rsi], 0x1234`, `imul ${a}, ${b}, ${size === 2 ? -30000 : -0x12345678}`, `imul ${b}, ${b}`];
      for (const f of forms) {
        const c = o.code(f);
        const edges = edgeValues(size * 8);
        for (const x of edges) o.add(c, { regs: { rax: r.u64(), rbx: withGarbage(r, x, size * 8), rsi: DATA }, data: bytesOf(r.pick(edges), 8), flags: r.flags() });
        for (let k = 0; k < 120; k++) o.add(c, { regs: { rax: biased(r, 64), rbx: biased(r, 64), rsi: DATA }, data: r.bytes(8), flags: r.flags() });
      }
    }
    const res = o.run();
    expect(report(res)).toBe('');
  });

  it('div and idiv without and with #DE (divide by zero, quotient overflow)', () => {
    const o = new Oracle();
    const r = new Rng(12n);
    for (const op of ['div', 'idiv'])
      for (const size of SIZES) {
        const bits = BigInt(size * 8);
        const m = (1n << bits) - 1n;
        const reg = o.code(`${op} ${REGS[size]![3]}`);
        const mem = o.code(`${op} ${PTR[size]} [rsi+4]`);
        for (let k = 0; k < 300; k++) {
          // mostly quotients that fit: the high half of the dividend below the divisor (unsigned) or small
          const divisor = r.int(10) === 0 ? r.pick([0n, 1n, m, m - 1n, 1n << (bits - 1n)]) : biased(r, size * 8) || 1n;
          const kind = r.int(4);
          let hi: bigint;
          if (op === 'div') hi = kind === 0 ? biased(r, size * 8) : divisor ? biased(r, size * 8) % divisor : 0n;
          else hi = kind === 0 ? biased(r, size * 8) : r.int(2) ? 0n : m; // sign extension of a small value, or garbage
          const lo = biased(r, size * 8);
          const regs = size === 1
            ? { rax: withGarbage(r, (hi << 8n) | lo, 16), rbx: withGarbage(r, divisor, 8), rdx: r.u64() }
            : { rax: withGarbage(r, lo, size * 8), rdx: withGarbage(r, hi, size * 8), rbx: withGarbage(r, divisor, size * 8) };
          o.add(reg, { regs, flags: r.flags() });
          if (k % 4 === 0) o.add(mem, { regs: { ...regs, rsi: DATA }, data: new Uint8Array([...r.bytes(4), ...bytesOf(divisor, 8)]), flags: r.flags() });
        }
        // the classic overflows: MIN / -1, and 2^n-ish / 1
        const min = 1n << (bits - 1n);
        o.add(reg, size === 1 ? { regs: { rax: 0xff80n, rbx: 0xffn } } : { regs: { rax: 0n, rdx: m, rbx: m } }, 'edge -2^n/-1');
        o.add(reg, size === 1 ? { regs: { rax: 0x80n, rbx: 0xffn } } : { regs: { rax: min, rdx: m, rbx: m } }, 'edge MIN/-1');
        o.add(reg, size === 1 ? { regs: { rax: 0x100n, rbx: 1n } } : { regs: { rax: 0n, rdx: 1n, rbx: 1n } }, 'edge 2^n/1');
        o.add(reg, { regs: { rax: 5n, rdx: 0n, rbx: 0n } }, 'edge /0');
      }
    const res = o.run();
    expect(report(res)).toBe('');
    // the oracle did see faults (and kemu raised them at the right instruction with nothing written)
    expect(res.native.filter((x) => x.vector === 0).length).toBeGreaterThan(50);
  });

  it('#DE leaves state before the faulting instruction; a later instruction never runs', () => {
    const o = new Oracle();
    const c = o.code('mov ecx, 3\nadd rax, 1\ndiv rbx\nmov ecx, 4');
    o.add(c, { regs: { rax: 10n, rbx: 0n, rdx: 0n }, flags: 0x8d5 });
    o.add(c, { regs: { rax: 10n, rbx: 1n, rdx: 5n }, flags: 0 });
    const c2 = o.code('mov dword ptr [rsi], 7\nidiv dword ptr [rsi+4]');
    o.add(c2, { regs: { rsi: DATA, rax: 1n, rdx: 0n } });
    const res = o.run();
    expect(report(res)).toBe('');
    expect(res.kemu.map((x) => x.vector)).toEqual([0, 0, 0]);
  });
});
