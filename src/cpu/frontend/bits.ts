// Bit instructions: bt/bts/btr/btc, bsf/bsr, popcnt, lzcnt/tzcnt, bswap; and small flag-word builders shared by
// the integer semantics whose flags do not fit a lazy CcKind.
//
// AMD Zen results for what the manuals leave undefined (checked against the hardware by test/cpu-int-bits.test.ts):
// - bt*: only CF changes.
// - bsf/bsr: with a zero source the destination register is left entirely unchanged (a 32-bit destination's upper
//   half too), ZF=1 PF=1; otherwise ZF=0 and PF is the parity of the index; CF SF AF OF are cleared.
// - lzcnt/tzcnt: OF is unchanged, SF AF PF are cleared. popcnt: all but ZF cleared (as documented).
// - bswap with a 16-bit operand clears the 16-bit register.
import { Op } from '../ir/ops.ts';
import type { T, T32, T64 } from '../ir/builder.ts';
import { OpKind } from '../../decoder/types.ts';
import { CF, OF, STATUS } from './flags.ts';
import { sem } from './registry.ts';
import type { Translator } from './translator.ts';

// ---------------------------------------------------------------------------------------------------------------
// Flag words

export interface FlagBits {
  cf?: T32;
  pf?: T32;
  af?: T32;
  zf?: T32;
  sf?: T32;
  of?: T32;
}

/** The status flags from 0/1 values (missing ones are 0), in EFLAGS positions. */
export function flagWord(t: Translator, f: FlagBits): T32 {
  let acc: T32 | null = null;
  for (const [v, pos] of [[f.cf, 0], [f.pf, 2], [f.af, 4], [f.zf, 6], [f.sf, 7], [f.of, 11]] as const) {
    if (v === undefined) continue;
    const b = pos ? t.bin32(Op.SHL32, v, t.const32(pos)) : v;
    acc = acc === null ? b : t.bin32(Op.OR32, acc, b);
  }
  return acc ?? t.const32(0);
}

/** 1 when the low byte of `v` has an even number of set bits. */
export function parity(t: Translator, v: T32): T32 {
  const n = t.un32(Op.POPCNT32, t.zext8(v));
  return t.bin32(Op.XOR32, t.bin32(Op.AND32, n, t.const32(1)), t.const32(1));
}

/** ZF, SF and PF of a result of `size` bytes. */
export function resultFlags(t: Translator, size: number, r: T): { zf: T32; sf: T32; pf: T32 } {
  const z = t.sized(size);
  return { zf: z.isZero(r), sf: z.msb(r), pf: parity(t, z.low32(r)) };
}

// ---------------------------------------------------------------------------------------------------------------
// bt / bts / btr / btc

type BitOp = 'bt' | 'bts' | 'btr' | 'btc';

function bitTest(op: BitOp) {
  return (t: Translator) => {
    const [dst, src] = t.i.operands;
    const size = dst!.size;
    const bits = size * 8;
    const z = t.sized(size);
    let bit: T32;
    let value: T;
    let addr: T64 | null = null;
    const off = src!.kind === OpKind.Imm ? null : t.read(src!);
    if (off === null) bit = t.const32(src!.imm & (bits - 1));
    else bit = t.bin32(Op.AND32, z.low32(off), t.const32(bits - 1));
    if (dst!.kind === OpKind.Mem) {
      addr = t.ea(dst!);
      if (off !== null) {
        // a register bit offset is signed and may address outside the operand: whole operands of `size` bytes
        const shift = Math.log2(bits);
        let delta: T64;
        if (size === 8) delta = t.bin64(Op.SHL64, t.bin64(Op.SAR64, off as T64, t.const64(shift)), t.const64(3));
        else {
          const s = size === 2 ? t.sext16(off as T32) : (off as T32);
          delta = t.sext64(t.bin32(Op.SHL32, t.bin32(Op.SAR32, s, t.const32(shift)), t.const32(Math.log2(size))));
        }
        addr = t.bin64(Op.ADD64, addr, delta);
        const as = t.i.addrSize;
        if (as !== 8) addr = t.zext64(as === 4 ? t.lo32(addr) : t.zext16(t.lo32(addr)));
      }
      // bts/btr/btc write the operand back: read it with write intent (a #PF then has W=1, as on the hardware)
      value = t.load(size, dst!.seg, addr, op !== 'bt');
    } else value = t.read(dst!);
    const bitW: T = size === 8 ? t.zext64(bit) : bit;
    const mask = z.op(Op.SHL32, Op.SHL64, z.c(1), bitW);
    const cf = t.bin32(Op.AND32, z.low32(z.op(Op.SHR32, Op.SHR64, value, bitW)), t.const32(1));
    if (op !== 'bt') {
      const nv =
        op === 'bts' ? z.or(value, mask) : op === 'btr' ? z.and(value, size === 8 ? t.un64(Op.NOT64, mask as T64) : t.un32(Op.NOT32, mask as T32)) : z.xor(value, mask);
      if (addr) t.store(size, dst!.seg, addr, nv);
      else t.write(dst!, nv);
    }
    t.setFlagsWord(cf, CF);
  };
}
for (const op of ['bt', 'bts', 'btr', 'btc'] as const) sem(op, bitTest(op));

// ---------------------------------------------------------------------------------------------------------------
// bsf / bsr

/** Writes `v` to GPR operand `o` of `size` bytes, or leaves the whole register as it was when `keep` is 1. */
function writeUnlessZero(t: Translator, reg: number, size: number, keep: T32, v: T): void {
  if (size === 8) t.setReg(reg, 8, t.select64(keep, t.reg(reg, 8) as T64, v as T64));
  else if (size === 4) t.setReg(reg, 8, t.select64(keep, t.reg(reg, 8) as T64, t.zext64(v as T32)));
  else t.setReg(reg, 2, t.select32(keep, t.reg(reg, 2) as T32, v as T32));
}

function bitScan(reverse: boolean) {
  return (t: Translator) => {
    const [dst, src] = t.i.operands;
    const size = dst!.size;
    const z = t.sized(size);
    const s = t.read(src!);
    const zero = z.isZero(s);
    let idx: T;
    if (size === 8) idx = reverse ? t.bin64(Op.SUB64, t.const64(63), t.un64(Op.CLZ64, s as T64)) : t.un64(Op.CTZ64, s as T64);
    else idx = reverse ? t.bin32(Op.SUB32, t.const32(31), t.un32(Op.CLZ32, s as T32)) : t.un32(Op.CTZ32, s as T32);
    writeUnlessZero(t, dst!.reg, size, zero, idx);
    const pf = t.select32(zero, t.const32(1), parity(t, z.low32(idx)));
    t.setFlagsWord(flagWord(t, { zf: zero, pf }), STATUS);
  };
}
sem('bsf', bitScan(false));
sem('bsr', bitScan(true));

// ---------------------------------------------------------------------------------------------------------------
// popcnt / lzcnt / tzcnt

sem('popcnt', (t) => {
  const [dst, src] = t.i.operands;
  const size = dst!.size;
  const z = t.sized(size);
  const s = t.read(src!);
  const n = size === 8 ? t.un64(Op.POPCNT64, s as T64) : t.un32(Op.POPCNT32, s as T32);
  t.write(dst!, n);
  t.setFlagsWord(flagWord(t, { zf: z.isZero(s) }), STATUS);
});

function countZeros(leading: boolean) {
  return (t: Translator) => {
    const [dst, src] = t.i.operands;
    const size = dst!.size;
    const z = t.sized(size);
    const s = t.read(src!);
    let n: T;
    if (size === 8) n = t.un64(leading ? Op.CLZ64 : Op.CTZ64, s as T64);
    else if (size === 4) n = t.un32(leading ? Op.CLZ32 : Op.CTZ32, s as T32);
    else if (leading) n = t.bin32(Op.SUB32, t.un32(Op.CLZ32, s as T32), t.const32(16));
    else n = t.un32(Op.CTZ32, t.bin32(Op.OR32, s as T32, t.const32(0x10000))); // 16 for a zero source
    t.write(dst!, n);
    t.setFlagsWord(flagWord(t, { cf: z.isZero(s), zf: z.isZero(n) }), STATUS & ~OF);
  };
}
sem('lzcnt', countZeros(true));
sem('tzcnt', countZeros(false));

// ---------------------------------------------------------------------------------------------------------------
// bswap

sem('bswap', (t) => {
  const o = t.i.operands[0]!;
  if (o.size === 8) t.write(o, t.un64(Op.BSWAP64, t.read(o) as T64));
  else if (o.size === 4) t.write(o, t.un32(Op.BSWAP32, t.read(o) as T32));
  else t.write(o, t.const32(0));
});

