// The IR interpreter's arithmetic against BigInt references, on random and edge-case operands.
import { describe, expect, it } from 'vitest';
import { IrBuilder, type T32, type T64 } from '../src/cpu/ir/builder.ts';
import { interpret, type IrHost } from '../src/cpu/ir/interp.ts';
import { Cond, Op } from '../src/cpu/ir/ops.ts';
import { RIP } from '../src/cpu/layout.ts';

const STATE = 4096;
function host(): IrHost {
  const buf = new ArrayBuffer(STATE * 2);
  const u8 = new Uint8Array(buf);
  const dv = new DataView(buf);
  const h: IrHost = {
    u8, u16: new Uint16Array(buf), i32: new Int32Array(buf), stateBase: STATE, hi64: 0, icount: 0,
    read: (size, _seg, lo) => (size === 1 ? u8[lo]! : size === 2 ? dv.getUint16(lo, true) : dv.getUint32(lo, true)),
    read64(_seg, lo) {
      h.hi64 = dv.getInt32(lo + 4, true);
      return dv.getInt32(lo, true);
    },
    write: (size, _seg, lo, _hi, v) => (size === 1 ? dv.setUint8(lo, v) : size === 2 ? dv.setUint16(lo, v, true) : dv.setUint32(lo, v, true)),
    write64: (_seg, lo, _hi, vlo, vhi) => {
      dv.setInt32(lo, vlo, true);
      dv.setInt32(lo + 4, vhi, true);
    },
    raise: (v, e) => {
      throw new Error(`raise ${v} ${e}`);
    },
  };
  return h;
}

const M64 = (1n << 64n) - 1n;
const s64 = (v: bigint) => BigInt.asIntN(64, v);
const u64 = (v: bigint) => BigInt.asUintN(64, v);

const EDGE = [0n, 1n, 2n, 31n, 32n, 33n, 63n, 64n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0x7fffffffffffffffn, 0x8000000000000000n, M64, M64 - 1n];
function values(n: number): bigint[] {
  let x = 0x12345678n;
  const out = [...EDGE];
  for (let i = 0; i < n; i++) {
    x = (x * 6364136223846793005n + 1442695040888963407n) & M64;
    out.push(i % 3 === 0 ? x >> BigInt(i % 64) : x);
  }
  return out;
}

/** Runs a one-op program `d = op(a, b)` for 64-bit temps and returns d from the state block. */
function run64(op: number, a: bigint, b: bigint): bigint {
  const ir = new IrBuilder();
  const ta = ir.const64(a);
  const tb = ir.const64(b);
  const d = ir.bin64(op, ta, tb);
  ir.st64(0, d);
  ir.exitTo(0n);
  const h = host();
  interpret(ir.finish(), h);
  return new DataView(h.u8.buffer).getBigUint64(STATE, true);
}

const REF64: [string, number, (a: bigint, b: bigint) => bigint | undefined][] = [
  ['add', Op.ADD64, (a, b) => a + b],
  ['sub', Op.SUB64, (a, b) => a - b],
  ['mul', Op.MUL64, (a, b) => a * b],
  ['and', Op.AND64, (a, b) => a & b],
  ['or', Op.OR64, (a, b) => a | b],
  ['xor', Op.XOR64, (a, b) => a ^ b],
  ['shl', Op.SHL64, (a, b) => a << (b & 63n)],
  ['shr', Op.SHR64, (a, b) => a >> (b & 63n)],
  ['sar', Op.SAR64, (a, b) => s64(a) >> (b & 63n)],
  ['rotl', Op.ROTL64, (a, b) => ((a << (b & 63n)) | (a >> ((64n - (b & 63n)) & 63n))) & M64],
  ['rotr', Op.ROTR64, (a, b) => ((a >> (b & 63n)) | (a << ((64n - (b & 63n)) & 63n))) & M64],
  ['mulhu', Op.MULHU64, (a, b) => (a * b) >> 64n],
  ['mulhs', Op.MULHS64, (a, b) => (s64(a) * s64(b)) >> 64n],
  ['divu', Op.DIVU64, (a, b) => (b === 0n ? undefined : a / b)],
  ['remu', Op.REMU64, (a, b) => (b === 0n ? undefined : a % b)],
  ['divs', Op.DIVS64, (a, b) => (b === 0n ? undefined : s64(a) / s64(b))],
  ['rems', Op.REMS64, (a, b) => (b === 0n ? undefined : s64(a) % s64(b))],
];

describe('IR interpreter, 64-bit pairs', () => {
  const vals = values(24);
  for (const [name, op, ref] of REF64) {
    it(name, () => {
      const wrong: string[] = [];
      for (const a of vals) {
        for (const b of vals) {
          const want = ref(a, b);
          if (want === undefined) continue;
          const got = run64(op, a, b);
          if (got !== u64(want)) wrong.push(`${name}(${a.toString(16)}, ${b.toString(16)}) = ${got.toString(16)}, want ${u64(want).toString(16)}`);
        }
      }
      expect(wrong.slice(0, 5)).toEqual([]);
    });
  }

  it('comparisons', () => {
    const vals2 = values(12);
    const refs: [Cond, (a: bigint, b: bigint) => boolean][] = [
      [Cond.EQ, (a, b) => a === b], [Cond.NE, (a, b) => a !== b], [Cond.LTU, (a, b) => a < b], [Cond.LEU, (a, b) => a <= b],
      [Cond.GTU, (a, b) => a > b], [Cond.GEU, (a, b) => a >= b], [Cond.LTS, (a, b) => s64(a) < s64(b)],
      [Cond.LES, (a, b) => s64(a) <= s64(b)], [Cond.GTS, (a, b) => s64(a) > s64(b)], [Cond.GES, (a, b) => s64(a) >= s64(b)],
    ];
    for (const [cond, ref] of refs) {
      for (const a of vals2) {
        for (const b of vals2) {
          const ir = new IrBuilder();
          const r = ir.setcc64(cond, ir.const64(a), ir.const64(b));
          ir.st32(0, r);
          const lo = ir.lo32(ir.const64(a));
          const r32 = ir.setcc32(cond, lo, ir.lo32(ir.const64(b)));
          ir.st32(4, r32);
          ir.exitTo(0n);
          const h = host();
          interpret(ir.finish(), h);
          expect(h.i32[STATE / 4]).toBe(ref(a, b) ? 1 : 0);
          const a32 = a & 0xffffffffn, b32 = b & 0xffffffffn;
          const ref32 = ref(cond >= Cond.LTS ? BigInt.asUintN(64, BigInt.asIntN(32, a32)) : a32, cond >= Cond.LTS ? BigInt.asUintN(64, BigInt.asIntN(32, b32)) : b32);
          expect(h.i32[STATE / 4 + 1]).toBe(ref32 ? 1 : 0);
        }
      }
    }
  });

  it('not01: the opposite of each comparison, folded into it when it was the last op', () => {
    const vals2 = values(6);
    for (let cond = Cond.EQ; cond <= Cond.GES; cond++) {
      for (const a of vals2) {
        for (const b of vals2) {
          const ir = new IrBuilder();
          const ta = ir.const64(a), tb = ir.const64(b);
          const r = ir.setcc64(cond, ta, tb);
          const size = ir.size;
          ir.st32(0, ir.not01(r));
          expect(ir.size).toBe(size + 3); // only the store: the setcc was turned around, no xor
          const kept = ir.setcc64(cond, ta, tb);
          ir.st32(4, kept);
          ir.st32(8, ir.not01(kept)); // used already: an xor
          ir.exitTo(0n);
          const h = host();
          interpret(ir.finish(), h);
          const want = h.i32[STATE / 4 + 1]!;
          expect([h.i32[STATE / 4], h.i32[STATE / 4 + 2]]).toEqual([1 - want, 1 - want]);
        }
      }
    }
  });

  it('bit counts, byte swaps and width changes', () => {
    for (const a of values(40)) {
      const ir = new IrBuilder();
      const t = ir.const64(a);
      ir.st64(0, ir.un64(Op.CLZ64, t));
      ir.st64(8, ir.un64(Op.CTZ64, t));
      ir.st64(16, ir.un64(Op.POPCNT64, t));
      ir.st64(24, ir.un64(Op.BSWAP64, t));
      ir.st64(32, ir.un64(Op.NEG64, t));
      ir.st64(40, ir.sext64(ir.lo32(t)));
      ir.st64(48, ir.zext64(ir.sext8(ir.hi32(t))));
      ir.exitTo(0n);
      const h = host();
      interpret(ir.finish(), h);
      const dv = new DataView(h.u8.buffer);
      const get = (o: number) => dv.getBigUint64(STATE + o, true);
      const bits = a.toString(2).padStart(64, '0');
      expect(get(0)).toBe(BigInt(a === 0n ? 64 : bits.indexOf('1')));
      expect(get(8)).toBe(BigInt(a === 0n ? 64 : 63 - bits.lastIndexOf('1')));
      expect(get(16)).toBe(BigInt([...bits].filter((c) => c === '1').length));
      let sw = 0n;
      for (let i = 0n; i < 8n; i++) sw |= ((a >> (8n * i)) & 0xffn) << (8n * (7n - i));
      expect(get(24)).toBe(sw);
      expect(get(32)).toBe(u64(-a));
      expect(get(40)).toBe(u64(BigInt.asIntN(32, a)));
      expect(get(48)).toBe(BigInt.asUintN(32, BigInt.asIntN(8, a >> 32n)));
    }
  });

  it('forward branches, selects and the exit RIP', () => {
    const ir = new IrBuilder();
    const skip = ir.label();
    const one = ir.const32(1);
    ir.brnz(one, skip);
    ir.st32(0, ir.const32(0xbad));
    ir.place(skip);
    ir.st32(4, ir.select32(one, ir.const32(7), ir.const32(9)));
    ir.exitTo(0xffffffff80001234n);
    const h = host();
    interpret(ir.finish(), h);
    expect(h.i32[STATE / 4]).toBe(0);
    expect(h.i32[STATE / 4 + 1]).toBe(7);
    expect(new DataView(h.u8.buffer).getBigUint64(STATE + RIP, true)).toBe(0xffffffff80001234n);
  });

  it('rejects backward branches and mistyped temps', () => {
    const ir = new IrBuilder();
    const l = ir.label();
    ir.place(l);
    ir.br(l);
    expect(() => ir.finish()).toThrow(/not forward/);
    // (operand widths are checked when the program is finished)
    const ir2 = new IrBuilder();
    const a = ir2.const32(1);
    ir2.bin64(Op.ADD64, a as unknown as T64, a as unknown as T64);
    expect(() => ir2.finish()).toThrow(/add64: operand 1 is not an i64/);
    const ir3 = new IrBuilder();
    ir3.bin32(Op.ADD32, ir3.const64(1n) as unknown as T32, ir3.const32(1));
    expect(() => ir3.finish()).toThrow(/add32: operand 1 is not an i32/);
  });
});
