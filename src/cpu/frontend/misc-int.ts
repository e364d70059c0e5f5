// Other general-purpose instructions: xadd, cmpxchg/cmpxchg8b/cmpxchg16b, movbe, xlat, the flag instructions
// (clc stc cmc cld std, sahf lahf), crc32, adcx/adox, bound.
//
// LOCK needs nothing here: with one vCPU every instruction is atomic, and the decoder turns a LOCK prefix where it
// is not allowed into #UD.
//
// cmpxchg write rules (as AMD Zen does them, checked natively): on a match only the destination is written; on a
// mismatch only the accumulator, and a memory destination is written back with its own value. So with 32-bit
// operands exactly one of the two registers gets its upper half cleared. cmpxchg8b/16b likewise write rDX:rAX only
// on a mismatch, and change ZF only.
import { Cond, Op } from '../ir/ops.ts';
import type { T, T32, T64 } from '../ir/builder.ts';
import { defineHelper } from '../ir/helpers.ts';
import { OpKind } from '../../decoder/types.ts';
import { Vec } from '../fault.ts';
import * as L from '../layout.ts';
import { CF, CcKind, OF, ZF } from './flags.ts';
import { sem } from './registry.ts';
import type { Translator } from './translator.ts';
import { faultIf } from './sys-util.ts';

const RAX = 0, RCX = 1, RDX = 2, RBX = 3;
const DF = 0x400;

// ---------------------------------------------------------------------------------------------------------------
// xadd / cmpxchg

sem('xadd', (t) => {
  const [d, s] = t.i.operands;
  const size = d!.size;
  const a = t.read(d!);
  const b = t.read(s!);
  const r = t.sized(size).add(a, b);
  // SRC <- DEST, then DEST <- sum (so `xadd eax, eax` ends with the sum); a memory destination is stored first
  if (d!.kind === OpKind.Mem) {
    t.write(d!, r);
    t.write(s!, a);
  } else {
    t.write(s!, a);
    t.write(d!, r);
  }
  t.setFlags(CcKind.ADD, size, r, b);
});

sem('cmpxchg', (t) => {
  const [d, s] = t.i.operands;
  const size = d!.size;
  const z = t.sized(size);
  const old = t.read(d!);
  const src = t.read(s!);
  const acc = t.reg(RAX, size);
  const diff = z.sub(acc, old);
  const eq = z.isZero(diff);
  const sel = (c: T32, a: T, b: T): T => (size === 8 ? t.select64(c, a as T64, b as T64) : t.select32(c, a as T32, b as T32));
  if (d!.kind === OpKind.Mem) {
    t.write(d!, sel(eq, src, old));
    writeUnless(t, RAX, size, eq, old);
  } else {
    writeUnless(t, RAX, size, eq, old);
    writeUnless(t, d!.reg, size, t.not01(eq), src);
  }
  t.setFlags(CcKind.SUB, size, diff, old);
});

/** Writes `v` to GPR `reg` (size bytes) unless `keep` is 1, in which case the whole register is left as it was. */
function writeUnless(t: Translator, reg: number, size: number, keep: T32, v: T): void {
  if (size === 4) t.setReg(reg, 8, t.select64(keep, t.reg(reg, 8) as T64, t.zext64(v as T32)));
  else if (size === 8) t.setReg(reg, 8, t.select64(keep, t.reg(reg, 8) as T64, v as T64));
  else t.setReg(reg, size, t.select32(keep, t.reg(reg, size) as T32, v as T32));
}

sem('cmpxchg8b', (t) => {
  const o = t.i.operands[0]!;
  const addr = t.ea(o);
  const m = t.load(8, o.seg, addr, true) as T64; // always written back: checked as a write
  const cur = t.pair64(t.reg(RAX, 4) as T32, t.reg(RDX, 4) as T32);
  const eq = t.setcc64(Cond.EQ, m, cur);
  t.store(8, o.seg, addr, t.select64(eq, t.pair64(t.reg(RBX, 4) as T32, t.reg(RCX, 4) as T32), m));
  writeUnless(t, RAX, 4, eq, t.lo32(m));
  writeUnless(t, RDX, 4, eq, t.hi32(m));
  t.setFlagsWord(t.bin32(Op.SHL32, eq, t.const32(6)), ZF);
});

sem('cmpxchg16b', (t) => {
  const o = t.i.operands[0]!;
  const addr = t.ea(o);
  // the 16-byte alignment is of the linear address: a segment base counts (in 64-bit mode FS/GS)
  const base = t.codeBits !== 64 || o.seg >= 4 ? t.ld64(L.segOff(o.seg) + L.SEG_BASE) : t.const64(0);
  faultIf(t, t.lo32(t.bin64(Op.AND64, t.bin64(Op.ADD64, addr, base), t.const64(15))), Vec.GP, 0);
  const addr8 = t.bin64(Op.ADD64, addr, t.const64(8));
  const lo = t.load(8, o.seg, addr, true) as T64;
  const hi = t.load(8, o.seg, addr8, true) as T64;
  const eq = t.bin32(Op.AND32, t.setcc64(Cond.EQ, lo, t.reg(RAX, 8) as T64), t.setcc64(Cond.EQ, hi, t.reg(RDX, 8) as T64));
  t.store(8, o.seg, addr, t.select64(eq, t.reg(RBX, 8) as T64, lo));
  t.store(8, o.seg, addr8, t.select64(eq, t.reg(RCX, 8) as T64, hi));
  writeUnless(t, RAX, 8, eq, lo);
  writeUnless(t, RDX, 8, eq, hi);
  t.setFlagsWord(t.bin32(Op.SHL32, eq, t.const32(6)), ZF);
});

// ---------------------------------------------------------------------------------------------------------------
// movbe, xlat

sem('movbe', (t) => {
  const [d, s] = t.i.operands;
  const v = t.read(s!);
  let r: T;
  if (d!.size === 8) r = t.un64(Op.BSWAP64, v as T64);
  else if (d!.size === 4) r = t.un32(Op.BSWAP32, v as T32);
  else r = t.bin32(Op.SHR32, t.un32(Op.BSWAP32, v as T32), t.const32(16));
  t.write(d!, r);
});

sem('xlat', (t) => {
  const as = t.i.addrSize;
  const seg = t.i.segOverride >= 0 ? t.i.segOverride : 3;
  const al = t.reg(RAX, 1) as T32;
  let addr: T64;
  if (as === 8) addr = t.bin64(Op.ADD64, t.reg(RBX, 8) as T64, t.zext64(al));
  else {
    const a = t.bin32(Op.ADD32, t.reg(RBX, 4) as T32, al);
    addr = t.zext64(as === 4 ? a : t.zext16(a));
  }
  t.setReg(RAX, 1, t.load(1, seg, addr));
});

// ---------------------------------------------------------------------------------------------------------------
// Flag instructions

sem('clc', (t) => t.setFlagsWord(t.const32(0), CF));
sem('stc', (t) => t.setFlagsWord(t.const32(CF), CF));
sem('cmc', (t) => t.setFlagsWord(t.bin32(Op.XOR32, t.cf(), t.const32(1)), CF));
sem('cld', (t) => t.setFlagsWord(t.const32(0), DF));
sem('std', (t) => t.setFlagsWord(t.const32(DF), DF));
// SF ZF AF PF CF from AH (bits 7 6 4 2 0); valid in 64-bit mode on this CPU model (CPUID LahfSahf)
sem('sahf', (t) => t.setFlagsWord(t.reg(16, 1) as T32, 0xd5));
// salc (D6, undocumented, not in 64-bit mode): AL = CF ? 0xff : 0; AMD Zen executes it
sem('salc', (t) => t.setReg(RAX, 1, t.select32(t.cf(), t.const32(0xff), t.const32(0))));
sem('lahf', (t) => t.setReg(16, 1, t.bin32(Op.OR32, t.bin32(Op.AND32, t.status(), t.const32(0xd5)), t.const32(2))));

// ---------------------------------------------------------------------------------------------------------------
// crc32 (CRC-32C, the Castagnoli polynomial, bit-reflected as SSE4.2 defines it)

const CRC_TABLE = (() => {
  const tab = new Int32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    tab[i] = c;
  }
  return tab;
})();

function crcBytes(crc: number, lo: number, n: number): number {
  for (let i = 0; i < n; i++) crc = (crc >>> 8) ^ CRC_TABLE[(crc ^ (lo >>> (8 * i))) & 0xff]!;
  return crc;
}
const H_CRC32 = defineHelper('crc32c', [32, 32, 32], 32, false, (_h, crc, v, n) => crcBytes(Number(crc), Number(v), Number(n)) | 0);
const H_CRC32Q = defineHelper('crc32c_q', [32, 64], 32, false, (_h, crc, v) => {
  const b = BigInt.asUintN(64, BigInt(v));
  return crcBytes(crcBytes(Number(crc), Number(b & 0xffffffffn), 4), Number(b >> 32n), 4) | 0;
});

sem('crc32', (t) => {
  const [d, s] = t.i.operands;
  const crc = t.reg(d!.reg, 4) as T32;
  const v = t.read(s!);
  const r = s!.size === 8 ? (t.call(H_CRC32Q, [crc, v], 32) as T32) : (t.call(H_CRC32, [crc, v, t.const32(s!.size)], 32) as T32);
  t.setReg(d!.reg, d!.size === 8 ? 8 : 4, d!.size === 8 ? t.zext64(r) : r);
});

// ---------------------------------------------------------------------------------------------------------------
// adcx / adox: add with carry through CF or OF only

function addCarry(flag: typeof CF | typeof OF) {
  return (t: Translator) => {
    const [d, s] = t.i.operands;
    const size = d!.size;
    const z = t.sized(size);
    const a = t.read(d!);
    const b = t.read(s!);
    const st = t.status();
    const cin = t.bin32(Op.AND32, t.bin32(Op.SHR32, st, t.const32(flag === CF ? 0 : 11)), t.const32(1));
    const c = size === 8 ? t.zext64(cin) : cin;
    const r = z.add(z.add(a, b), c);
    // carry out: r < a, or r == a with a carry in (b = all ones)
    const lt = z.setcc(Cond.LTU, r, a);
    const le = z.setcc(Cond.LEU, r, a);
    const cout = t.select32(cin, le, lt);
    t.write(d!, r);
    t.setFlagsWord(flag === CF ? cout : t.bin32(Op.SHL32, cout, t.const32(11)), flag);
  };
}
sem('adcx', addCarry(CF));
sem('adox', addCarry(OF));

// ---------------------------------------------------------------------------------------------------------------
// Hints that execute as NOPs: prefetches (they never fault), cache-line demotion, and the MPX instructions, which
// sit in the reserved-NOP space of 0F 1A/1B on a CPU without MPX (this model: AMD Zen).
sem(['prefetch', 'prefetchw', 'prefetchwt1', 'prefetchnta', 'prefetcht0', 'prefetcht1', 'prefetcht2', 'cldemote',
  'bndldx', 'bndstx', 'bndmov', 'bndcl', 'bndcu', 'bndcn', 'bndmk'], () => {});

// BOUND (legacy modes; EVEX in 64-bit code): #BR unless lower <= index <= upper, signed, the two bounds a pair of
// the index's size at the memory operand.
sem('bound', (t) => {
  const [r, m] = t.i.operands;
  const size = r!.size;
  const s = t.sized(size);
  const v = s.sext(t.read(r!));
  const lower = s.sext(t.load(size, m!.seg, t.ea(m!)));
  const upper = s.sext(t.load(size, m!.seg, t.ea({ ...m!, disp: m!.disp + size })));
  faultIf(t, t.bin32(Op.OR32, s.setcc(Cond.LTS, v, lower), s.setcc(Cond.LTS, upper, v)), Vec.BR);
});
