// Shifts and rotates: shl/shr/sar, rol/ror, rcl/rcr, shld/shrd.
//
// Counts are masked to 5 bits (6 with a 64-bit operand); a masked count of 0 changes no flag (but a 32-bit register
// destination is still written, which clears its upper half). Flags the manuals leave undefined follow what AMD
// Zen does (checked against the hardware by test/cpu-int-shift.test.ts):
// - shl/shr/sar: AF=1; OF = MSB(result) XOR MSB(operand shifted by count-1) for every count (so SHR gives OF=0
//   and SHL gives OF = MSB(result) XOR CF beyond count 1).
// - rol/ror/rcl/rcr: only CF and OF change; OF follows the count-1 formula for every count (also when the
//   rotation modulo the width is 0: CF and OF are then recomputed from the unchanged value).
// - shld/shrd: AF=1; shld OF = MSB(result) XOR CF, shrd OF = bit n-1 XOR bit n-2 of the result. With a 16-bit
//   operand and a count above 16 AMD shifts through the 48-bit value dst:src:src (shld) / src:src:dst (shrd); it
//   then clears CF (and OF for shld), and a shld count of exactly 16 gives OF = CF.
import { Cond, Op } from '../ir/ops.ts';
import type { T, T32, T64 } from '../ir/builder.ts';
import { OpKind, type Operand } from '../../decoder/types.ts';
import { CF, CcKind, OF, STATUS } from './flags.ts';
import { sem } from './registry.ts';
import type { Translator } from './translator.ts';
import { flagWord, resultFlags } from './bits.ts';

interface Count {
  /** Masked count (i32). */
  c: T32;
  /** The count when it is an immediate, else null. */
  k: number | null;
}

function countOf(t: Translator, o: Operand, size: number): Count {
  const mask = size === 8 ? 63 : 31;
  if (o.kind === OpKind.Imm) {
    const k = o.imm & mask;
    return { c: t.const32(k), k };
  }
  return { c: t.bin32(Op.AND32, t.read(o) as T32, t.const32(mask)), k: null };
}

/** A count as a value of the operation's width. */
const wide = (t: Translator, size: number, c: T32): T => (size === 8 ? t.zext64(c) : c);

/**
 * Common frame of every shift/rotate: `compute` returns the result (valid for a non-zero count) and emits the
 * flag update through `flags`, which runs only when the count is not zero.
 */
function shiftFrame(
  t: Translator,
  dst: Operand,
  n: Count,
  compute: (d: T) => { res: T; flags: () => void },
): void {
  const size = dst.size;
  const d = t.read(dst);
  if (n.k === 0) {
    if (dst.kind === OpKind.Reg && size === 4) t.write(dst, d);
    return;
  }
  const { res, flags } = compute(d);
  if (n.k !== null) {
    t.write(dst, res);
    flags();
    return;
  }
  // dynamic count: nothing but the 32-bit register write happens when it is 0
  const nz = t.setcc32(Cond.NE, n.c, t.const32(0));
  const isReg32 = dst.kind === OpKind.Reg && size === 4;
  if (isReg32) t.write(dst, t.select32(nz, res as T32, d as T32));
  const skip = t.label();
  t.brz(nz, skip);
  if (!isReg32) t.write(dst, res);
  flags();
  t.place(skip);
  t.flagsUnknown();
}

// ---------------------------------------------------------------------------------------------------------------
// shl / shr / sar

type ShiftKind = CcKind.SHL | CcKind.SHR | CcKind.SAR;

function shift(kind: ShiftKind) {
  return (t: Translator) => {
    const [dst, cnt] = t.i.operands;
    const size = dst!.size;
    const z = t.sized(size);
    const n = countOf(t, cnt!, size);
    shiftFrame(t, dst!, n, (d) => {
      const c = wide(t, size, n.c);
      const c1 = wide(t, size, t.bin32(Op.SUB32, n.c, t.const32(1)));
      let res: T, sh1: T;
      if (kind === CcKind.SHL) {
        res = z.op(Op.SHL32, Op.SHL64, d, c);
        sh1 = z.op(Op.SHL32, Op.SHL64, d, c1);
      } else if (kind === CcKind.SHR) {
        res = z.op(Op.SHR32, Op.SHR64, d, c);
        sh1 = z.op(Op.SHR32, Op.SHR64, d, c1);
      } else {
        const sd = z.sext(d);
        res = z.op(Op.SAR32, Op.SAR64, sd, c);
        sh1 = z.op(Op.SAR32, Op.SAR64, sd, c1);
      }
      // SHR's OF is MSB(operand >> (count-1)): pass that shifted value as the "original operand" (CC_SRC2)
      return { res, flags: () => t.setFlags(kind, size, res, sh1, kind === CcKind.SHR ? sh1 : undefined) };
    });
  };
}
sem(['shl', 'sal'], shift(CcKind.SHL));
sem('shr', shift(CcKind.SHR));
sem('sar', shift(CcKind.SAR));

// ---------------------------------------------------------------------------------------------------------------
// rol / ror

function bitOf(t: Translator, size: number, v: T, n: number): T32 {
  const z = t.sized(size);
  const s = z.op(Op.SHR32, Op.SHR64, v, z.c(n));
  return t.bin32(Op.AND32, z.low32(s), t.const32(1));
}

/** Records CF and OF of a rotate (the other flags are unchanged). */
function setCfOf(t: Translator, cf: T32, of: T32): void {
  t.setFlagsWord(t.bin32(Op.OR32, cf, t.bin32(Op.SHL32, of, t.const32(11))), CF | OF);
}

function rotate(left: boolean) {
  return (t: Translator) => {
    const [dst, cnt] = t.i.operands;
    const size = dst!.size;
    const bits = size * 8;
    const n = countOf(t, cnt!, size);
    shiftFrame(t, dst!, n, (d) => {
      let res: T;
      if (size === 8) res = t.bin64(left ? Op.ROTL64 : Op.ROTR64, d as T64, t.zext64(n.c));
      else {
        // replicate 8/16-bit values across 32 bits: a 32-bit rotate then rotates the low part modulo its width
        let v = d as T32;
        if (size === 1) v = t.bin32(Op.MUL32, v, t.const32(0x01010101));
        else if (size === 2) v = t.bin32(Op.OR32, v, t.bin32(Op.SHL32, v, t.const32(16)));
        res = t.bin32(left ? Op.ROTL32 : Op.ROTR32, v, n.c);
      }
      return {
        res,
        flags: () => {
          const msb = bitOf(t, size, res, bits - 1);
          if (left) {
            const cf = bitOf(t, size, res, 0);
            setCfOf(t, cf, t.bin32(Op.XOR32, msb, cf));
          } else {
            setCfOf(t, msb, t.bin32(Op.XOR32, msb, bitOf(t, size, res, bits - 2)));
          }
        },
      };
    });
  };
}
sem('rol', rotate(true));
sem('ror', rotate(false));

// ---------------------------------------------------------------------------------------------------------------
// rcl / rcr: rotate through CF, (width + 1)-bit rotation

function rotateCarry(left: boolean) {
  return (t: Translator) => {
    const [dst, cnt] = t.i.operands;
    const size = dst!.size;
    const bits = size * 8;
    const n = countOf(t, cnt!, size);
    shiftFrame(t, dst!, n, (d) => {
      const cf = t.cf();
      let res: T, newCf: T32;
      // effective rotation: count mod 9 / 17 for 8/16-bit operands (the masked count is below 33 and 65 otherwise)
      const e = size <= 2 ? t.bin32(Op.REMU32, n.c, t.const32(bits + 1)) : n.c;
      if (size <= 4) {
        // (bits+1)-bit value CF:dst rotated in a wide enough temp (i64 for 32-bit operands)
        const w64 = size === 4;
        const z = t.sized(w64 ? 8 : 4);
        const dv: T = w64 ? t.zext64(d as T32) : d;
        const cv: T = w64 ? t.zext64(cf) : cf;
        const w = z.or(z.op(Op.SHL32, Op.SHL64, cv, z.c(bits)), dv);
        const ev: T = w64 ? t.zext64(e) : e;
        const back = z.sub(z.c(bits + 1), ev);
        const r = left
          ? z.or(z.op(Op.SHL32, Op.SHL64, w, ev), z.op(Op.SHR32, Op.SHR64, w, back))
          : z.or(z.op(Op.SHR32, Op.SHR64, w, ev), z.op(Op.SHL32, Op.SHL64, w, back));
        newCf = t.bin32(Op.AND32, z.low32(z.op(Op.SHR32, Op.SHR64, r, z.c(bits))), t.const32(1));
        res = w64 ? t.lo32(r as T64) : r;
      } else {
        // 65-bit rotation by e in 1..63 (e = 0 keeps everything)
        const D = d as T64;
        const e64 = t.zext64(e);
        const c64 = t.zext64(cf);
        const sub = (k: number) => t.bin64(Op.SUB64, t.const64(k), e64);
        const one = t.const64(1);
        let r: T64;
        if (left) {
          r = t.bin64(Op.OR64, t.bin64(Op.SHL64, D, e64), t.bin64(Op.SHL64, c64, t.bin64(Op.SUB64, e64, one)));
          r = t.bin64(Op.OR64, r, t.bin64(Op.SHR64, t.bin64(Op.SHR64, D, one), sub(64)));
          newCf = t.lo32(t.bin64(Op.AND64, t.bin64(Op.SHR64, D, sub(64)), one));
        } else {
          r = t.bin64(Op.OR64, t.bin64(Op.SHR64, D, e64), t.bin64(Op.SHL64, c64, sub(64)));
          r = t.bin64(Op.OR64, r, t.bin64(Op.SHL64, t.bin64(Op.SHL64, D, one), sub(64)));
          newCf = t.lo32(t.bin64(Op.AND64, t.bin64(Op.SHR64, D, t.bin64(Op.SUB64, e64, one)), one));
        }
        const e0 = t.setcc32(Cond.EQ, e, t.const32(0));
        res = t.select64(e0, D, r);
        newCf = t.select32(e0, cf, newCf);
      }
      return {
        res,
        flags: () => {
          const msb = bitOf(t, size, res, bits - 1);
          const of = left ? t.bin32(Op.XOR32, msb, newCf) : t.bin32(Op.XOR32, msb, bitOf(t, size, res, bits - 2));
          setCfOf(t, newCf, of);
        },
      };
    });
  };
}
sem('rcl', rotateCarry(true));
sem('rcr', rotateCarry(false));

// ---------------------------------------------------------------------------------------------------------------
// shld / shrd

function doubleShift(left: boolean) {
  return (t: Translator) => {
    const [dst, srcOp, cnt] = t.i.operands;
    const size = dst!.size;
    const bits = size * 8;
    const n = countOf(t, cnt!, size);
    shiftFrame(t, dst!, n, (d) => {
      const s = t.read(srcOp!);
      const c = n.c;
      const c1 = t.bin32(Op.SUB32, c, t.const32(1));
      let res: T, cf: T32, of: T32 | null = null;
      if (size === 8) {
        const D = d as T64, S = s as T64;
        const one = t.const64(1);
        const c64 = t.zext64(c), c164 = t.zext64(c1);
        if (left) {
          // (d << c) | (s >> (64 - c)), with the second shift split so that c = 0 gives 0
          res = t.bin64(Op.OR64, t.bin64(Op.SHL64, D, c64), t.bin64(Op.SHR64, t.bin64(Op.SHR64, S, one), t.bin64(Op.SUB64, t.const64(63), c64)));
          cf = t.lo32(t.bin64(Op.AND64, t.bin64(Op.SHR64, D, t.bin64(Op.SUB64, t.const64(64), c64)), one));
        } else {
          res = t.bin64(Op.OR64, t.bin64(Op.SHR64, D, c64), t.bin64(Op.SHL64, t.bin64(Op.SHL64, S, one), t.bin64(Op.SUB64, t.const64(63), c64)));
          cf = t.lo32(t.bin64(Op.AND64, t.bin64(Op.SHR64, D, c164), one));
        }
      } else {
        // concatenate into 64 bits: 32-bit d:s (shld) / s:d (shrd); 16-bit d:s:s / s:s:d
        const D = t.zext64(d as T32), S = t.zext64(s as T32);
        const sh = (v: T64, k: number) => t.bin64(Op.SHL64, v, t.const64(k));
        let w: T64;
        if (size === 4) w = left ? t.bin64(Op.OR64, sh(D, 32), S) : t.bin64(Op.OR64, sh(S, 32), D);
        else w = left ? t.bin64(Op.OR64, t.bin64(Op.OR64, sh(D, 32), sh(S, 16)), S) : t.bin64(Op.OR64, t.bin64(Op.OR64, sh(S, 32), sh(S, 16)), D);
        const c64 = t.zext64(c);
        if (left) {
          // the result is bits [31+bits-c .. 32-c] of w, the last bit out is bit 32+bits-c
          res = t.lo32(t.bin64(Op.SHR64, w, t.bin64(Op.SUB64, t.const64(32), c64)));
          cf = t.lo32(t.bin64(Op.AND64, t.bin64(Op.SHR64, w, t.bin64(Op.SUB64, t.const64(32 + bits), c64)), t.const64(1)));
        } else {
          res = t.lo32(t.bin64(Op.SHR64, w, c64));
          cf = t.lo32(t.bin64(Op.AND64, t.bin64(Op.SHR64, w, t.zext64(c1)), t.const64(1)));
        }
        if (size === 2) {
          // AMD: counts above 16 clear CF (and OF for shld); shld by exactly 16 gives OF = CF
          const over = t.setcc32(Cond.GTU, c, t.const32(16));
          cf = t.select32(over, t.const32(0), cf);
          if (left) {
            const msbXor = t.bin32(Op.XOR32, bitOf(t, 2, res, 15), cf);
            const is16 = t.setcc32(Cond.EQ, c, t.const32(16));
            of = t.select32(over, t.const32(0), t.select32(is16, cf, msbXor));
          }
        }
      }
      const r = res, cfv = cf, ofv = of;
      return {
        res: r,
        flags: () => {
          const msb = bitOf(t, size, r, bits - 1);
          const o = ofv ?? (left ? t.bin32(Op.XOR32, msb, cfv) : t.bin32(Op.XOR32, msb, bitOf(t, size, r, bits - 2)));
          t.setFlagsWord(flagWord(t, { ...resultFlags(t, size, r), cf: cfv, of: o, af: t.const32(1) }), STATUS);
        },
      };
    });
  };
}
sem('shld', doubleShift(true));
sem('shrd', doubleShift(false));
