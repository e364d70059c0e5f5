// BMI1 (andn bextr blsi blsmsk blsr; tzcnt is in bits.ts) and BMI2 (bzhi mulx pdep pext rorx sarx shlx shrx).
//
// AMD Zen flags where the manuals leave them undefined (checked natively by test/cpu-int-bits.test.ts):
// andn: AF=0, PF from the result. bextr: AF=1, SF=0, PF from the result. blsi/blsmsk/blsr/bzhi: AF=0, PF from the
// result.
import { Cond, Op } from '../ir/ops.ts';
import type { T, T32, T64 } from '../ir/builder.ts';
import { defineHelper } from '../ir/helpers.ts';
import { CcKind, STATUS } from './flags.ts';
import { sem } from './registry.ts';
import type { Translator } from './translator.ts';
import { flagWord, parity } from './bits.ts';

const RDX = 2;

sem('andn', (t) => {
  const [d, a, b] = t.i.operands;
  const size = d!.size;
  const x = t.read(a!);
  const y = t.read(b!);
  const r = size === 8 ? t.bin64(Op.AND64, t.un64(Op.NOT64, x as T64), y as T64) : t.bin32(Op.AND32, t.un32(Op.NOT32, x as T32), y as T32);
  t.write(d!, r);
  t.setFlags(CcKind.LOGIC, size, r, r);
});

/** `v` shifted right by `n` (0..255), 0 when n >= the width. */
function shrSat(t: Translator, size: number, v: T, n: T32): T {
  const z = t.sized(size);
  const inRange = t.setcc32(Cond.LTU, n, t.const32(size * 8));
  const s = z.op(Op.SHR32, Op.SHR64, v, size === 8 ? t.zext64(n) : n);
  return size === 8 ? t.select64(inRange, s as T64, t.const64(0)) : t.select32(inRange, s as T32, t.const32(0));
}

/** The mask of the low `n` bits (0..255), all ones when n >= the width. */
function lowMask(t: Translator, size: number, n: T32): T {
  const z = t.sized(size);
  const inRange = t.setcc32(Cond.LTU, n, t.const32(size * 8));
  const m = z.sub(z.op(Op.SHL32, Op.SHL64, z.c(1), size === 8 ? t.zext64(n) : n), z.c(1));
  return size === 8 ? t.select64(inRange, m as T64, t.const64(-1)) : t.select32(inRange, m as T32, t.const32(-1));
}

sem('bextr', (t) => {
  const [d, s, c] = t.i.operands;
  const size = d!.size;
  const z = t.sized(size);
  const v = t.read(s!);
  const ctl = z.low32(t.read(c!));
  const start = t.zext8(ctl);
  const len = t.zext8(t.bin32(Op.SHR32, ctl, t.const32(8)));
  const r = z.and(shrSat(t, size, v, start), lowMask(t, size, len));
  t.write(d!, r);
  t.setFlagsWord(flagWord(t, { zf: z.isZero(r), af: t.const32(1), pf: parity(t, z.low32(r)) }), STATUS);
});

/** blsi/blsmsk/blsr: the lazy CFSRC2 kind (CF given, ZF SF PF from the result, OF AF clear). */
function bls(compute: (t: Translator, size: number, s: T) => T, cfIfZero: boolean) {
  return (t: Translator) => {
    const [d, src] = t.i.operands;
    const size = d!.size;
    const z = t.sized(size);
    const s = t.read(src!);
    const r = compute(t, size, s);
    t.write(d!, r);
    let cf = z.isZero(s);
    if (!cfIfZero) cf = t.not01(cf);
    t.setFlags(CcKind.CFSRC2, size, r, r, size === 8 ? t.zext64(cf) : cf);
  };
}
sem('blsi', bls((t, n, s) => t.sized(n).and(s, t.sized(n).sub(t.sized(n).c(0), s)), false));
sem('blsmsk', bls((t, n, s) => t.sized(n).xor(s, t.sized(n).sub(s, t.sized(n).c(1))), true));
sem('blsr', bls((t, n, s) => t.sized(n).and(s, t.sized(n).sub(s, t.sized(n).c(1))), true));

sem('bzhi', (t) => {
  const [d, s, c] = t.i.operands;
  const size = d!.size;
  const z = t.sized(size);
  const v = t.read(s!);
  const n = t.zext8(z.low32(t.read(c!)));
  const r = z.and(v, lowMask(t, size, n));
  const cf = t.setcc32(Cond.GEU, n, t.const32(size * 8));
  t.write(d!, r);
  t.setFlags(CcKind.CFSRC2, size, r, r, size === 8 ? t.zext64(cf) : cf);
});

sem('mulx', (t) => {
  const [hi, lo, s] = t.i.operands;
  const size = hi!.size;
  const v = t.read(s!);
  const a = t.reg(RDX, size);
  let h: T, l: T;
  if (size === 8) {
    l = t.bin64(Op.MUL64, a as T64, v as T64);
    h = t.bin64(Op.MULHU64, a as T64, v as T64);
  } else {
    const p = t.t64();
    t.emit(Op.MULU32W, p, a, v);
    l = t.lo32(p);
    h = t.hi32(p);
  }
  // with the same register twice, the high half wins
  t.write(lo!, l);
  t.write(hi!, h);
});

function pdep(src: bigint, mask: bigint): bigint {
  let r = 0n;
  for (let k = 0n, m = mask; m; m &= m - 1n, k++) {
    const low = m & -m;
    if ((src >> k) & 1n) r |= low;
  }
  return r;
}
function pext(src: bigint, mask: bigint): bigint {
  let r = 0n;
  for (let k = 0n, m = mask; m; m &= m - 1n, k++) {
    const low = m & -m;
    if (src & low) r |= 1n << k;
  }
  return r;
}
const u64 = (v: number | bigint) => BigInt.asUintN(64, BigInt(v));
const u32 = (v: number | bigint) => BigInt(Number(v) >>> 0);
const H_PDEP32 = defineHelper('pdep32', [32, 32], 32, false, (_h, a, b) => Number(pdep(u32(a), u32(b))) | 0);
const H_PEXT32 = defineHelper('pext32', [32, 32], 32, false, (_h, a, b) => Number(pext(u32(a), u32(b))) | 0);
const H_PDEP64 = defineHelper('pdep64', [64, 64], 64, false, (_h, a, b) => pdep(u64(a), u64(b)));
const H_PEXT64 = defineHelper('pext64', [64, 64], 64, false, (_h, a, b) => pext(u64(a), u64(b)));

function deposit(extract: boolean) {
  return (t: Translator) => {
    const [d, s, m] = t.i.operands;
    const size = d!.size;
    const a = t.read(s!);
    const b = t.read(m!);
    const h = size === 8 ? (extract ? H_PEXT64 : H_PDEP64) : extract ? H_PEXT32 : H_PDEP32;
    t.write(d!, t.call(h, [a, b], size === 8 ? 64 : 32));
  };
}
sem('pdep', deposit(false));
sem('pext', deposit(true));

sem('rorx', (t) => {
  const [d, s, i] = t.i.operands;
  const size = d!.size;
  const v = t.read(s!);
  const n = i!.imm & (size * 8 - 1);
  t.write(d!, size === 8 ? t.bin64(Op.ROTR64, v as T64, t.const64(n)) : t.bin32(Op.ROTR32, v as T32, t.const32(n)));
});

function shiftX(op32: number, op64: number, signed: boolean) {
  return (t: Translator) => {
    const [d, s, c] = t.i.operands;
    const size = d!.size;
    const z = t.sized(size);
    const v = t.read(s!);
    const n = z.and(t.read(c!), z.c(size * 8 - 1));
    t.write(d!, z.op(op32, op64, signed ? z.sext(v) : v, n));
  };
}
sem('sarx', shiftX(Op.SAR32, Op.SAR64, true));
sem('shlx', shiftX(Op.SHL32, Op.SHL64, false));
sem('shrx', shiftX(Op.SHR32, Op.SHR64, false));
