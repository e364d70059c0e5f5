// The IR interpreter: runs a Program (ops.ts) against the CPU state block and guest memory through an IrHost.
// 64-bit temps are held as (lo, hi) pairs of int32 so the common paths allocate nothing; only 64-bit multiply,
// divide and helper arguments go through BigInt.
//
// The switch uses literal op numbers (V8 compiles a switch over literals to a jump table, but over enum-object
// properties to a compare chain ~100x slower); OP_ORDER below is checked against ops.ts when this module loads.
import { OPS } from './ops.ts';
import type { Program } from './builder.ts';
import { HELPERS } from './helpers.ts';
import { RIP } from '../layout.ts';
import { u64 } from '../words.ts';

export interface IrHost {
  /** Views over the whole WebAssembly.Memory (guest RAM + the CPU state block). */
  u8: Uint8Array;
  u16: Uint16Array;
  i32: Int32Array;
  /** Byte offset of the CPU state block in that memory (4 KiB aligned). */
  stateBase: number;
  /**
   * Guest memory through segmentation and paging; sizes 1/2/4 return zero-extended values. May throw a fault.
   * `forWrite`: the access is checked as a write (read-modify-write destinations).
   */
  read(size: number, seg: number, lo: number, hi: number, forWrite?: boolean): number;
  /** 8-byte read: returns the low word and leaves the high word in `hi64`. */
  read64(seg: number, lo: number, hi: number, forWrite?: boolean): number;
  hi64: number;
  write(size: number, seg: number, lo: number, hi: number, v: number): void;
  write64(seg: number, lo: number, hi: number, vlo: number, vhi: number): void;
  /** Raises a guest exception (throws). */
  raise(vector: number, errorCode: number): never;
  /** Instructions retired by the interpreter. */
  icount: number;
}

const OP_ORDER = [
  'movi32', 'movi64', 'mov32', 'mov64',
  'add32', 'sub32', 'mul32', 'and32', 'or32', 'xor32', 'shl32', 'shr32', 'sar32', 'rotl32', 'rotr32',
  'add64', 'sub64', 'mul64', 'and64', 'or64', 'xor64', 'shl64', 'shr64', 'sar64', 'rotl64', 'rotr64',
  'neg32', 'not32', 'neg64', 'not64',
  'mulu32w', 'muls32w', 'mulhu64', 'mulhs64',
  'divu32', 'divs32', 'remu32', 'rems32', 'divu64', 'divs64', 'remu64', 'rems64',
  'clz32', 'ctz32', 'popcnt32', 'bswap32', 'clz64', 'ctz64', 'popcnt64', 'bswap64',
  'zext8', 'zext16', 'sext8', 'sext16', 'zext32to64', 'sext32to64', 'lo32', 'hi32', 'pair64',
  'setcc32', 'setcc64', 'select32', 'select64',
  'ld8', 'ld16', 'ld32', 'ld64', 'st8', 'st16', 'st32', 'st64',
  'ldm8', 'ldm16', 'ldm32', 'ldm64', 'stm8', 'stm16', 'stm32', 'stm64',
  'label', 'br', 'brnz', 'brz', 'call', 'raise', 'insn', 'exit', 'exiti',
  'ldmw8', 'ldmw16', 'ldmw32', 'ldmw64',
];
if (OPS.length !== OP_ORDER.length || OPS.some((d, i) => d.name !== OP_ORDER[i])) {
  throw new Error('interp.ts: OP_ORDER is out of date with ops.ts');
}

let R: Int32Array = new Int32Array(1024);
// Helpers may run IR themselves (the lazy-flags helper does): each nesting depth gets its own temp file.
const temps: Int32Array[] = [R];
let depth = 0;
const RIP_W = RIP >> 2;

const B32 = 0x100000000;
function setBig(d: number, v: bigint): void {
  R[d] = Number(BigInt.asIntN(32, v));
  R[d + 1] = Number(BigInt.asIntN(32, v >> 32n));
}
function clz64(lo: number, hi: number): number {
  return hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo);
}
function ctz32(v: number): number {
  return v === 0 ? 32 : 31 - Math.clz32(v & -v);
}
function popcnt32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}
function bswap32(v: number): number {
  return ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
}
/** Compares (alo,ahi) with (blo,bhi): -1, 0, 1; unsigned or signed. */
function cmp64(alo: number, ahi: number, blo: number, bhi: number, signed: boolean): number {
  if (ahi !== bhi) return (signed ? ahi < bhi : ahi >>> 0 < bhi >>> 0) ? -1 : 1;
  if (alo !== blo) return alo >>> 0 < blo >>> 0 ? -1 : 1;
  return 0;
}
function cond(c: number, r: number): number {
  // r: -1/0/1 comparison result; conditions in Cond order: EQ NE LTU LEU GTU GEU LTS LES GTS GES
  switch (c) {
    case 0: return r === 0 ? 1 : 0;
    case 1: return r !== 0 ? 1 : 0;
    case 2: case 6: return r < 0 ? 1 : 0;
    case 3: case 7: return r <= 0 ? 1 : 0;
    case 4: case 8: return r > 0 ? 1 : 0;
    default: return r >= 0 ? 1 : 0;
  }
}
const signedCond = (c: number) => c >= 6;

/** Shifts the pair at s left by n (0..63) into d. */
function shl64(d: number, lo: number, hi: number, n: number): void {
  if (n === 0) { R[d] = lo; R[d + 1] = hi; }
  else if (n < 32) { R[d + 1] = (hi << n) | (lo >>> (32 - n)); R[d] = lo << n; }
  else { R[d + 1] = lo << (n - 32); R[d] = 0; }
}
function shr64(d: number, lo: number, hi: number, n: number): void {
  if (n === 0) { R[d] = lo; R[d + 1] = hi; }
  else if (n < 32) { R[d] = (lo >>> n) | (hi << (32 - n)); R[d + 1] = hi >>> n; }
  else { R[d] = hi >>> (n - 32); R[d + 1] = 0; }
}
function sar64(d: number, lo: number, hi: number, n: number): void {
  if (n === 0) { R[d] = lo; R[d + 1] = hi; }
  else if (n < 32) { R[d] = (lo >>> n) | (hi << (32 - n)); R[d + 1] = hi >> n; }
  else { R[d] = hi >> (n - 32); R[d + 1] = hi >> 31; }
}

/** Runs `p` to its exit. Returns normally after EXIT/EXITI has stored the next RIP; guest faults throw. */
export function interpret(p: Program, h: IrHost): void {
  const outer = R;
  let mine = temps[depth];
  if (!mine || mine.length < p.widths.length * 2) mine = temps[depth] = new Int32Array(Math.max(1024, p.widths.length * 4));
  R = mine;
  depth++;
  try {
    run(p, h);
  } finally {
    depth--;
    R = outer;
  }
}

function run(p: Program, h: IrHost): void {
  // (the temp file as a local: the module binding R would be loaded again after every call out)
  const T = R;
  const c = p.code;
  const labelAt = p.labelAt;
  const u8 = h.u8;
  const u16 = h.u16;
  const i32 = h.i32;
  const sb = h.stateBase;
  const n = c.length;
  let pc = 0;
  while (pc < n) {
    switch (c[pc]) {
      case 0 /* movi32 */: T[c[pc + 1]! * 2] = c[pc + 2]!; pc += 3; break;
      case 1 /* movi64 */: { const d = c[pc + 1]! * 2; T[d] = c[pc + 2]!; T[d + 1] = c[pc + 3]!; pc += 4; break; }
      case 2 /* mov32 */: T[c[pc + 1]! * 2] = T[c[pc + 2]! * 2]!; pc += 3; break;
      case 3 /* mov64 */: { const d = c[pc + 1]! * 2, s = c[pc + 2]! * 2; T[d] = T[s]!; T[d + 1] = T[s + 1]!; pc += 3; break; }

      case 4 /* add32 */: T[c[pc + 1]! * 2] = (T[c[pc + 2]! * 2]! + T[c[pc + 3]! * 2]!) | 0; pc += 4; break;
      case 5 /* sub32 */: T[c[pc + 1]! * 2] = (T[c[pc + 2]! * 2]! - T[c[pc + 3]! * 2]!) | 0; pc += 4; break;
      case 6 /* mul32 */: T[c[pc + 1]! * 2] = Math.imul(T[c[pc + 2]! * 2]!, T[c[pc + 3]! * 2]!); pc += 4; break;
      case 7 /* and32 */: T[c[pc + 1]! * 2] = T[c[pc + 2]! * 2]! & T[c[pc + 3]! * 2]!; pc += 4; break;
      case 8 /* or32 */: T[c[pc + 1]! * 2] = T[c[pc + 2]! * 2]! | T[c[pc + 3]! * 2]!; pc += 4; break;
      case 9 /* xor32 */: T[c[pc + 1]! * 2] = T[c[pc + 2]! * 2]! ^ T[c[pc + 3]! * 2]!; pc += 4; break;
      case 10 /* shl32 */: T[c[pc + 1]! * 2] = T[c[pc + 2]! * 2]! << T[c[pc + 3]! * 2]!; pc += 4; break;
      case 11 /* shr32 */: T[c[pc + 1]! * 2] = T[c[pc + 2]! * 2]! >>> T[c[pc + 3]! * 2]!; pc += 4; break;
      case 12 /* sar32 */: T[c[pc + 1]! * 2] = T[c[pc + 2]! * 2]! >> T[c[pc + 3]! * 2]!; pc += 4; break;
      case 13 /* rotl32 */: { const a = T[c[pc + 2]! * 2]!, s = T[c[pc + 3]! * 2]! & 31; T[c[pc + 1]! * 2] = (a << s) | (a >>> (32 - s)); pc += 4; break; }
      case 14 /* rotr32 */: { const a = T[c[pc + 2]! * 2]!, s = T[c[pc + 3]! * 2]! & 31; T[c[pc + 1]! * 2] = (a >>> s) | (a << (32 - s)); pc += 4; break; }

      case 15 /* add64 */: {
        const d = c[pc + 1]! * 2, a = c[pc + 2]! * 2, b = c[pc + 3]! * 2;
        const lo = (T[a]! >>> 0) + (T[b]! >>> 0);
        T[d + 1] = (T[a + 1]! + T[b + 1]! + (lo >= B32 ? 1 : 0)) | 0;
        T[d] = lo | 0;
        pc += 4; break;
      }
      case 16 /* sub64 */: {
        const d = c[pc + 1]! * 2, a = c[pc + 2]! * 2, b = c[pc + 3]! * 2;
        const lo = (T[a]! >>> 0) - (T[b]! >>> 0);
        T[d + 1] = (T[a + 1]! - T[b + 1]! - (lo < 0 ? 1 : 0)) | 0;
        T[d] = lo | 0;
        pc += 4; break;
      }
      case 17 /* mul64 */: {
        const d = c[pc + 1]! * 2, a = c[pc + 2]! * 2, b = c[pc + 3]! * 2;
        setBig(d, u64(T[a]!, T[a + 1]!) * u64(T[b]!, T[b + 1]!));
        pc += 4; break;
      }
      case 18 /* and64 */: { const d = c[pc + 1]! * 2, a = c[pc + 2]! * 2, b = c[pc + 3]! * 2; T[d] = T[a]! & T[b]!; T[d + 1] = T[a + 1]! & T[b + 1]!; pc += 4; break; }
      case 19 /* or64 */: { const d = c[pc + 1]! * 2, a = c[pc + 2]! * 2, b = c[pc + 3]! * 2; T[d] = T[a]! | T[b]!; T[d + 1] = T[a + 1]! | T[b + 1]!; pc += 4; break; }
      case 20 /* xor64 */: { const d = c[pc + 1]! * 2, a = c[pc + 2]! * 2, b = c[pc + 3]! * 2; T[d] = T[a]! ^ T[b]!; T[d + 1] = T[a + 1]! ^ T[b + 1]!; pc += 4; break; }
      case 21 /* shl64 */: { const a = c[pc + 2]! * 2; shl64(c[pc + 1]! * 2, T[a]!, T[a + 1]!, T[c[pc + 3]! * 2]! & 63); pc += 4; break; }
      case 22 /* shr64 */: { const a = c[pc + 2]! * 2; shr64(c[pc + 1]! * 2, T[a]!, T[a + 1]!, T[c[pc + 3]! * 2]! & 63); pc += 4; break; }
      case 23 /* sar64 */: { const a = c[pc + 2]! * 2; sar64(c[pc + 1]! * 2, T[a]!, T[a + 1]!, T[c[pc + 3]! * 2]! & 63); pc += 4; break; }
      case 24 /* rotl64 */:
      case 25 /* rotr64 */: {
        const d = c[pc + 1]! * 2, a = c[pc + 2]! * 2;
        let s = T[c[pc + 3]! * 2]! & 63;
        if (c[pc] === 25 /* rotr64 */) s = (64 - s) & 63;
        const lo = T[a]!, hi = T[a + 1]!;
        if (s === 0) { T[d] = lo; T[d + 1] = hi; }
        else if (s < 32) { T[d] = (lo << s) | (hi >>> (32 - s)); T[d + 1] = (hi << s) | (lo >>> (32 - s)); }
        else if (s === 32) { T[d] = hi; T[d + 1] = lo; }
        else { const t = s - 32; T[d] = (hi << t) | (lo >>> (32 - t)); T[d + 1] = (lo << t) | (hi >>> (32 - t)); }
        pc += 4; break;
      }

      case 26 /* neg32 */: T[c[pc + 1]! * 2] = -T[c[pc + 2]! * 2]! | 0; pc += 3; break;
      case 27 /* not32 */: T[c[pc + 1]! * 2] = ~T[c[pc + 2]! * 2]!; pc += 3; break;
      case 28 /* neg64 */: {
        const d = c[pc + 1]! * 2, a = c[pc + 2]! * 2;
        const lo = T[a]!, hi = T[a + 1]!;
        T[d] = -lo | 0;
        T[d + 1] = (~hi + (lo === 0 ? 1 : 0)) | 0;
        pc += 3; break;
      }
      case 29 /* not64 */: { const d = c[pc + 1]! * 2, a = c[pc + 2]! * 2; T[d] = ~T[a]!; T[d + 1] = ~T[a + 1]!; pc += 3; break; }

      case 30 /* mulu32w */: case 31 /* muls32w */: {
        const d = c[pc + 1]! * 2, a = T[c[pc + 2]! * 2]!, b = T[c[pc + 3]! * 2]!;
        const v = c[pc] === 30 /* mulu32w */ ? BigInt(a >>> 0) * BigInt(b >>> 0) : BigInt(a) * BigInt(b);
        setBig(d, v);
        pc += 4; break;
      }
      case 32 /* mulhu64 */: case 33 /* mulhs64 */: {
        const d = c[pc + 1]! * 2, a = c[pc + 2]! * 2, b = c[pc + 3]! * 2;
        let x = u64(T[a]!, T[a + 1]!), y = u64(T[b]!, T[b + 1]!);
        if (c[pc] === 33 /* mulhs64 */) { x = BigInt.asIntN(64, x); y = BigInt.asIntN(64, y); }
        setBig(d, (x * y) >> 64n);
        pc += 4; break;
      }
      case 34 /* divu32 */: T[c[pc + 1]! * 2] = ((T[c[pc + 2]! * 2]! >>> 0) / (T[c[pc + 3]! * 2]! >>> 0)) | 0; pc += 4; break;
      case 35 /* divs32 */: T[c[pc + 1]! * 2] = (T[c[pc + 2]! * 2]! / T[c[pc + 3]! * 2]!) | 0; pc += 4; break;
      case 36 /* remu32 */: T[c[pc + 1]! * 2] = ((T[c[pc + 2]! * 2]! >>> 0) % (T[c[pc + 3]! * 2]! >>> 0)) | 0; pc += 4; break;
      case 37 /* rems32 */: T[c[pc + 1]! * 2] = (T[c[pc + 2]! * 2]! % T[c[pc + 3]! * 2]!) | 0; pc += 4; break;
      case 38 /* divu64 */: case 39 /* divs64 */: case 40 /* remu64 */: case 41 /* rems64 */: {
        const o = c[pc]!, d = c[pc + 1]! * 2, a = c[pc + 2]! * 2, b = c[pc + 3]! * 2;
        const signed = o === 39 /* divs64 */ || o === 41 /* rems64 */;
        let x = u64(T[a]!, T[a + 1]!), y = u64(T[b]!, T[b + 1]!);
        if (signed) { x = BigInt.asIntN(64, x); y = BigInt.asIntN(64, y); }
        setBig(d, o === 38 /* divu64 */ || o === 39 /* divs64 */ ? x / y : x % y);
        pc += 4; break;
      }

      case 42 /* clz32 */: T[c[pc + 1]! * 2] = Math.clz32(T[c[pc + 2]! * 2]!); pc += 3; break;
      case 43 /* ctz32 */: T[c[pc + 1]! * 2] = ctz32(T[c[pc + 2]! * 2]!); pc += 3; break;
      case 44 /* popcnt32 */: T[c[pc + 1]! * 2] = popcnt32(T[c[pc + 2]! * 2]!); pc += 3; break;
      case 45 /* bswap32 */: T[c[pc + 1]! * 2] = bswap32(T[c[pc + 2]! * 2]!); pc += 3; break;
      case 46 /* clz64 */: { const d = c[pc + 1]! * 2, a = c[pc + 2]! * 2; T[d] = clz64(T[a]!, T[a + 1]!); T[d + 1] = 0; pc += 3; break; }
      case 47 /* ctz64 */: { const d = c[pc + 1]! * 2, a = c[pc + 2]! * 2; T[d] = T[a] !== 0 ? ctz32(T[a]!) : 32 + ctz32(T[a + 1]!); T[d + 1] = 0; pc += 3; break; }
      case 48 /* popcnt64 */: { const d = c[pc + 1]! * 2, a = c[pc + 2]! * 2; T[d] = popcnt32(T[a]!) + popcnt32(T[a + 1]!); T[d + 1] = 0; pc += 3; break; }
      case 49 /* bswap64 */: { const d = c[pc + 1]! * 2, a = c[pc + 2]! * 2; const lo = T[a]!; T[d] = bswap32(T[a + 1]!); T[d + 1] = bswap32(lo); pc += 3; break; }

      case 50 /* zext8 */: T[c[pc + 1]! * 2] = T[c[pc + 2]! * 2]! & 0xff; pc += 3; break;
      case 51 /* zext16 */: T[c[pc + 1]! * 2] = T[c[pc + 2]! * 2]! & 0xffff; pc += 3; break;
      case 52 /* sext8 */: T[c[pc + 1]! * 2] = (T[c[pc + 2]! * 2]! << 24) >> 24; pc += 3; break;
      case 53 /* sext16 */: T[c[pc + 1]! * 2] = (T[c[pc + 2]! * 2]! << 16) >> 16; pc += 3; break;
      case 54 /* zext32to64 */: { const d = c[pc + 1]! * 2; T[d] = T[c[pc + 2]! * 2]!; T[d + 1] = 0; pc += 3; break; }
      case 55 /* sext32to64 */: { const d = c[pc + 1]! * 2, v = T[c[pc + 2]! * 2]!; T[d] = v; T[d + 1] = v >> 31; pc += 3; break; }
      case 56 /* lo32 */: T[c[pc + 1]! * 2] = T[c[pc + 2]! * 2]!; pc += 3; break;
      case 57 /* hi32 */: T[c[pc + 1]! * 2] = T[c[pc + 2]! * 2 + 1]!; pc += 3; break;
      case 58 /* pair64 */: { const d = c[pc + 1]! * 2; T[d] = T[c[pc + 2]! * 2]!; T[d + 1] = T[c[pc + 3]! * 2]!; pc += 4; break; }

      case 59 /* setcc32 */: {
        const k = c[pc + 2]!, a = T[c[pc + 3]! * 2]!, b = T[c[pc + 4]! * 2]!;
        const r = signedCond(k) ? (a < b ? -1 : a > b ? 1 : 0) : (a >>> 0 < b >>> 0 ? -1 : a === b ? 0 : 1);
        T[c[pc + 1]! * 2] = cond(k, r);
        pc += 5; break;
      }
      case 60 /* setcc64 */: {
        const k = c[pc + 2]!, a = c[pc + 3]! * 2, b = c[pc + 4]! * 2;
        T[c[pc + 1]! * 2] = cond(k, cmp64(T[a]!, T[a + 1]!, T[b]!, T[b + 1]!, signedCond(k)));
        pc += 5; break;
      }
      case 61 /* select32 */: T[c[pc + 1]! * 2] = T[c[pc + 2]! * 2] !== 0 ? T[c[pc + 3]! * 2]! : T[c[pc + 4]! * 2]!; pc += 5; break;
      case 62 /* select64 */: {
        const d = c[pc + 1]! * 2, s = (T[c[pc + 2]! * 2] !== 0 ? c[pc + 3]! : c[pc + 4]!) * 2;
        T[d] = T[s]!; T[d + 1] = T[s + 1]!;
        pc += 5; break;
      }

      case 63 /* ld8 */: T[c[pc + 1]! * 2] = u8[sb + c[pc + 2]!]!; pc += 3; break;
      case 64 /* ld16 */: T[c[pc + 1]! * 2] = u16[(sb + c[pc + 2]!) >> 1]!; pc += 3; break;
      case 65 /* ld32 */: T[c[pc + 1]! * 2] = i32[(sb + c[pc + 2]!) >> 2]!; pc += 3; break;
      case 66 /* ld64 */: { const d = c[pc + 1]! * 2, o = (sb + c[pc + 2]!) >> 2; T[d] = i32[o]!; T[d + 1] = i32[o + 1]!; pc += 3; break; }
      case 67 /* st8 */: u8[sb + c[pc + 1]!] = T[c[pc + 2]! * 2]!; pc += 3; break;
      case 68 /* st16 */: u16[(sb + c[pc + 1]!) >> 1] = T[c[pc + 2]! * 2]!; pc += 3; break;
      case 69 /* st32 */: i32[(sb + c[pc + 1]!) >> 2] = T[c[pc + 2]! * 2]!; pc += 3; break;
      case 70 /* st64 */: { const o = (sb + c[pc + 1]!) >> 2, s = c[pc + 2]! * 2; i32[o] = T[s]!; i32[o + 1] = T[s + 1]!; pc += 3; break; }

      case 71 /* ldm8 */: case 72 /* ldm16 */: case 73 /* ldm32 */:
      case 88 /* ldmw8 */: case 89 /* ldmw16 */: case 90 /* ldmw32 */: {
        const a = c[pc + 3]! * 2, o = c[pc]!;
        const w = o >= 88;
        const k = w ? o - 88 : o - 71;
        T[c[pc + 1]! * 2] = h.read(k === 0 ? 1 : k === 1 ? 2 : 4, c[pc + 2]!, T[a]!, T[a + 1]!, w) | 0;
        pc += 4; break;
      }
      case 74 /* ldm64 */: case 91 /* ldmw64 */: {
        const d = c[pc + 1]! * 2, a = c[pc + 3]! * 2;
        T[d] = h.read64(c[pc + 2]!, T[a]!, T[a + 1]!, c[pc] === 91);
        T[d + 1] = h.hi64;
        pc += 4; break;
      }
      case 75 /* stm8 */: case 76 /* stm16 */: case 77 /* stm32 */: {
        const a = c[pc + 2]! * 2, o = c[pc]!;
        h.write(o === 75 /* stm8 */ ? 1 : o === 76 /* stm16 */ ? 2 : 4, c[pc + 1]!, T[a]!, T[a + 1]!, T[c[pc + 3]! * 2]!);
        pc += 4; break;
      }
      case 78 /* stm64 */: {
        const a = c[pc + 2]! * 2, v = c[pc + 3]! * 2;
        h.write64(c[pc + 1]!, T[a]!, T[a + 1]!, T[v]!, T[v + 1]!);
        pc += 4; break;
      }

      case 79 /* label */: pc += 2; break;
      case 80 /* br */: pc = labelAt[c[pc + 1]!]!; break;
      case 81 /* brnz */: pc = T[c[pc + 1]! * 2] !== 0 ? labelAt[c[pc + 2]!]! : pc + 3; break;
      case 82 /* brz */: pc = T[c[pc + 1]! * 2] === 0 ? labelAt[c[pc + 2]!]! : pc + 3; break;

      case 83 /* call */: callHelper(p, c, pc, h); pc += 6; break;
      case 84 /* raise */: h.raise(c[pc + 1]!, c[pc + 2]!);
      case 85 /* insn */: {
        const o = (sb >> 2) + RIP_W;
        i32[o] = c[pc + 1]!;
        i32[o + 1] = c[pc + 2]!;
        h.icount++;
        pc += 4; break;
      }
      case 86 /* exit */: { const o = (sb >> 2) + RIP_W, s = c[pc + 1]! * 2; i32[o] = T[s]!; i32[o + 1] = T[s + 1]!; return; }
      case 87 /* exiti */: { const o = (sb >> 2) + RIP_W; i32[o] = c[pc + 1]!; i32[o + 1] = c[pc + 2]!; return; }
      default:
        throw new Error(`IR: bad opcode ${c[pc]} at ${pc}`);
    }
  }
}

function callHelper(p: Program, c: Int32Array, pc: number, h: IrHost): void {
  const fn = HELPERS[c[pc + 2]!]!;
  const args: (number | bigint)[] = [];
  for (let i = 3; i < 6; i++) {
    const t = c[pc + i]!;
    if (t < 0) break;
    args.push(p.widths[t] === 64 ? u64(R[t * 2]!, R[t * 2 + 1]!) : R[t * 2]!);
  }
  const r = fn.fn(h, ...args);
  const d = c[pc + 1]!;
  if (d >= 0) {
    if (p.widths[d] === 64) setBig(d * 2, BigInt(r as bigint | number));
    else R[d * 2] = Number(r) | 0;
  }
}
