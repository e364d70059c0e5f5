// Wasm SIMD versions of the commonest 128-bit integer vector helpers (simd/int-ops.ts defines them; these compute
// the same, which test/jit-simd-wasm.test.ts checks on random operands). Compiled blocks import them in place of
// the JS helpers, so the vector code of Linux's crypto (ChaCha, BLAKE2s: ~2M such operations in a boot) stays in
// wasm. Each is `(n, d, s, imm) -> ()` like the JS helper's import: d and s are offsets in the CPU state block.
import { Code, ModuleBuilder, Ty, W } from './wasm.ts';

const V128_LOAD = 0x00;
const V128_STORE = 0x0b;
const V128_CONST = 0x0c;
const I8X16_SHUFFLE = 0x0d;
const I8X16_SWIZZLE = 0x0e;
const V128_AND = 0x4e;
const I32X4_SHL = 0xab;
const I32X4_SHR_U = 0xad;
const I32X4_ADD = 0xae;
const I64X2_ADD = 0xce;

const D = 1; // parameters: 0 n (unused), 1 d, 2 s, 3 imm
const S = 2;
const IMM = 3;

type Body = (c: Code, base: number) => void;

const load = (c: Code, base: number, p: number) => c.get(p).simd(V128_LOAD).u32(0).u32(base);
/** (d's address is pushed first) */
const store = (c: Code, base: number) => c.simd(V128_STORE).u32(0).u32(base);
/** A v128 constant of 16 equal bytes. */
const splat = (c: Code, b: number) => {
  c.simd(V128_CONST);
  for (let i = 0; i < 16; i++) c.byte(b);
};

/** d = f(d, s), with f the code after both operands are pushed. */
const withOperands = (f: (c: Code) => void): Body => (c, base) => {
  c.get(D);
  load(c, base, D);
  load(c, base, S);
  f(c);
  store(c, base);
};

/** d = op(d, s) lanewise. */
const binary = (op: number): Body => withOperands((c) => c.simd(op));

/** d = bytes of (d, s) picked by `lanes` (0-15: d, 16-31: s). */
const shuffle = (lanes: number[]): Body =>
  withOperands((c) => {
    c.simd(I8X16_SHUFFLE);
    for (const l of lanes) c.byte(l);
  });

/** Dword lanes interleaved: the low (or high) two of d and s. */
const unpackDwords = (high: boolean): number[] => {
  const o = high ? 8 : 0;
  const lanes: number[] = [];
  for (const [src, k] of [[0, 0], [16, 0], [0, 4], [16, 4]] as const) for (let b = 0; b < 4; b++) lanes.push(src + o + k + b);
  return lanes;
};

/** Logical dword shifts by the count in s (its low 64 bits; 32 or more clears every lane). */
const shiftDwords = (op: number): Body => (c, base) => {
  c.get(D);
  // count < 32: high dword zero and low dword below 32
  c.get(S).mem(W.i32_load, 2, base + 4).op(W.i32_eqz);
  c.get(S).mem(W.i32_load, 2, base).i32(32).op(W.i32_lt_u).op(W.i32_and);
  c.op(W.if_).byte(0x7b); // (result v128)
  load(c, base, D);
  c.get(S).mem(W.i32_load, 2, base).simd(op);
  c.op(W.else_);
  splat(c, 0);
  c.op(W.end);
  store(c, base);
};

/** pshufb: each byte of d chosen by the low 4 bits of s's byte, or zero if its bit 7 is set. */
const pshufb: Body = withOperands((c) => {
  splat(c, 0x8f);
  c.simd(V128_AND).simd(I8X16_SWIZZLE);
});

/** pshufd: dword i of d is dword (imm >> 2i) & 3 of s (all four read before d is written). */
const pshufd: Body = (c, base) => {
  for (let i = 0; i < 4; i++) {
    c.get(S).get(IMM).i32(2 * i).op(W.i32_shr_u).i32(3).op(W.i32_and).i32(2).op(W.i32_shl).op(W.i32_add);
    c.mem(W.i32_load, 2, base).set(4 + i);
  }
  for (let i = 0; i < 4; i++) c.get(D).get(4 + i).mem(W.i32_store, 2, base + 4 * i);
};

/** The 128-bit helpers (by helper name) with a wasm version. */
const BODIES: Record<string, Body> = {
  'paddd.128': binary(I32X4_ADD),
  'paddq.128': binary(I64X2_ADD),
  'punpckldq.128': shuffle(unpackDwords(false)),
  'punpckhdq.128': shuffle(unpackDwords(true)),
  'punpcklqdq.128': shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]),
  'punpckhqdq.128': shuffle([8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31]),
  'pslld.128': shiftDwords(I32X4_SHL),
  'psrld.128': shiftDwords(I32X4_SHR_U),
  'pshufb.128': pshufb,
  'pshufd.128': pshufd,
};

export const SIMD_WASM_HELPERS: readonly string[] = Object.keys(BODIES);

/** Instantiates the helpers for a CPU whose state block is at `stateBase` in `memory`: functions by helper name. */
export function buildSimdHelpers(stateBase: number, memory: WebAssembly.Memory): Record<string, unknown> {
  const mb = new ModuleBuilder();
  mb.importMemory('e', 'mem');
  const I = Ty.I32;
  const type = mb.type([I, I, I, I], []);
  for (const [name, body] of Object.entries(BODIES)) {
    const c = new Code(256);
    body(c, stateBase);
    c.op(W.end);
    mb.export(name, mb.func(type, [[4, I]], c.view().slice()));
  }
  const inst = new WebAssembly.Instance(new WebAssembly.Module(mb.finish()), { e: { mem: memory } });
  return inst.exports as Record<string, unknown>;
}
