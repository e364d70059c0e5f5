// Integer SIMD (MMX, SSE2, SSSE3, SSE4.1, SSE4.2 pcmpgtq): the `op dst, src[, imm8]` operations run in helpers
// (src/cpu/simd/int-ops.ts); extracts, inserts, mask moves and ptest are lowered here.
import { Op } from '../ir/ops.ts';
import type { T32, T64 } from '../ir/builder.ts';
import { OpKind } from '../../decoder/types.ts';
import * as L from '../layout.ts';
import { INT_OPS, INT_RES_OPS } from '../simd/int-ops.ts';
import { vecHelper, vecResHelper } from '../simd/helper.ts';
import { STATUS } from './flags.ts';
import { sem } from './registry.ts';
import type { Translator } from './translator.ts';
import {
  imm8, isMmx, isXmm, mmxEnter, mmxWritten, simdGuard, srcOff, vecBinary, vecLogic, vecOff,
} from './sse-common.ts';

const VARIABLE_BLEND = new Set(['pblendvb', 'blendvps', 'blendvpd']);
const LOGIC = { pand: 'and', pandn: 'andn', por: 'or', pxor: 'xor' } as const;

for (const [name, fn] of Object.entries(INT_OPS)) {
  if (name in LOGIC) {
    sem(name, vecLogic(LOGIC[name as keyof typeof LOGIC]));
    continue;
  }
  const h = vecHelper(name, fn);
  sem(name, vecBinary(h, VARIABLE_BLEND.has(name) ? L.xmmOff(0) : undefined));
}

const RES = Object.fromEntries(Object.entries(INT_RES_OPS).map(([n, fn]) => [n, vecResHelper(n, fn)]));

/** pmovmskb / movmskps / movmskpd r32, mm/xmm: the sign bits into a GPR (zero-extended). */
function maskToGpr(name: string) {
  return (t: Translator) => {
    const [d, s] = t.i.operands;
    const kind = simdGuard(t);
    const n = isMmx(s!) ? 8 : 16;
    const m = t.call(RES[name]![n], [t.const32(0), t.const32(vecOff(s!)), t.const32(0)], 32) as T32;
    t.setReg(d!.reg, d!.size === 8 ? 8 : 4, d!.size === 8 ? t.zext64(m) : m);
    if (kind === 'mmx') mmxEnter(t);
  };
}
sem('pmovmskb', maskToGpr('pmovmskb'));
sem('movmskps', maskToGpr('movmskps'));
sem('movmskpd', maskToGpr('movmskpd'));

sem('ptest', (t) => {
  const [d, s] = t.i.operands;
  simdGuard(t);
  const so = srcOff(t, s!);
  const f = t.call(RES.ptest![16], [t.const32(vecOff(d!)), t.const32(so), t.const32(0)], 32) as T32;
  t.setFlagsWord(f, STATUS);
});

// ---------------------------------------------------------------------------------------------------------------
// Extracts and inserts: the lane is known when translating.

const LANE: Record<string, number> = { b: 1, w: 2, d: 4, q: 8 };

/** pextrb/w/d/q and extractps: a lane of an XMM (or MMX, pextrw) register to a GPR (zero-extended) or memory. */
function extract(size: number) {
  return (t: Translator) => {
    const [d, s] = t.i.operands;
    const kind = simdGuard(t);
    const lanes = (isMmx(s!) ? 8 : 16) / size;
    const off = vecOff(s!) + size * (imm8(t) & (lanes - 1));
    if (d!.kind === OpKind.Mem) {
      const v = size === 8 ? t.ld64(off) : size === 4 ? t.ld32(off) : size === 2 ? t.ld16(off) : t.ld8(off);
      t.store(size, d!.seg, t.ea(d!), v);
    } else if (size === 8) t.setReg(d!.reg, 8, t.ld64(off));
    else {
      const v = size === 4 ? t.ld32(off) : size === 2 ? t.ld16(off) : t.ld8(off);
      t.setReg(d!.reg, d!.size === 8 ? 8 : 4, d!.size === 8 ? t.zext64(v) : v);
    }
    if (kind === 'mmx') mmxEnter(t);
  };
}
for (const [sfx, size] of Object.entries(LANE)) sem('pextr' + sfx, extract(size));
sem('extractps', extract(4));

/** pinsrb/w/d/q: a GPR's low bits or a memory value into a lane. */
function insert(size: number) {
  return (t: Translator) => {
    const [d, s] = t.i.operands;
    const kind = simdGuard(t);
    const lanes = (isMmx(d!) ? 8 : 16) / size;
    const off = vecOff(d!) + size * (imm8(t) & (lanes - 1));
    const v = s!.kind === OpKind.Mem ? t.load(size, s!.seg, t.ea(s!)) : t.reg(s!.reg, size === 8 ? 8 : 4);
    if (size === 8) t.st64(off, v as T64);
    else if (size === 4) t.st32(off, v as T32);
    else if (size === 2) t.st16(off, v as T32);
    else t.st8(off, v as T32);
    if (kind === 'mmx') {
      mmxEnter(t);
      mmxWritten(t, d!);
    }
  };
}
for (const [sfx, size] of Object.entries(LANE)) sem('pinsr' + sfx, insert(size));

/** insertps xmm, xmm/m32, imm8: a dword into lane imm[5:4] (from source lane imm[7:6]), then zero lanes by imm[3:0]. */
sem('insertps', (t) => {
  const [d, s] = t.i.operands;
  simdGuard(t);
  const imm = imm8(t);
  const v = isXmm(s!) ? t.ld32(vecOff(s!) + 4 * (imm >> 6)) : (t.load(4, s!.seg, t.ea(s!)) as T32);
  const base = vecOff(d!);
  t.st32(base + 4 * ((imm >> 4) & 3), v);
  for (let k = 0; k < 4; k++) if (imm & (1 << k)) t.st32(base + 4 * k, t.const32(0));
});

// ---------------------------------------------------------------------------------------------------------------
// maskmovq / maskmovdqu: the bytes of the first operand whose mask byte (second operand) has its top bit set are
// stored at DS:rDI (a segment override applies). As on AMD Zen, the whole 8/16-byte destination is checked as a
// write first, whatever the mask (a zero mask faults too), and maskmovq's switch to MMX mode happens before that.

function maskMove(t: Translator): void {
  const [d, m] = t.i.operands;
  const kind = simdGuard(t);
  if (kind === 'mmx') mmxEnter(t);
  const n = isMmx(d!) ? 8 : 16;
  const seg = t.i.segOverride >= 0 ? t.i.segOverride : 3;
  const as = t.i.addrSize;
  const rdi = t.reg(7, as === 8 ? 8 : 4);
  const base: T64 = as === 8 ? (rdi as T64) : t.zext64(as === 2 ? t.zext16(rdi as T32) : (rdi as T32));
  const addr = (k: number): T64 => {
    if (k === 0) return base;
    const a = t.bin64(Op.ADD64, base, t.const64(k));
    if (as === 8) return a;
    const lo = t.lo32(a);
    return t.zext64(as === 4 ? lo : t.zext16(lo));
  };
  for (let k = 0; k < n; k += 8) t.ldm(8, seg, addr(k), true);
  const dOff = vecOff(d!), mOff = vecOff(m!);
  for (let k = 0; k < n; k++) {
    const skip = t.label();
    t.brz(t.bin32(Op.AND32, t.ld8(mOff + k), t.const32(0x80)), skip);
    t.stm(1, seg, addr(k), t.ld8(dOff + k));
    t.place(skip);
  }
}
sem(['maskmovq', 'maskmovdqu'], maskMove);
