// The memory slow paths compiled code calls (a TLB miss, a page crossing, MMIO, any access outside 64-bit mode):
// small wasm functions in front of the CPU's JS read/write entries that take the address, and a 64-bit value, as
// one i64 and split them here, and store the accessing instruction's RIP (the state a fault or a device sees)
// given as an argument. Each call site in a block then passes them as they are instead of splitting and storing
// them itself, and a 64-bit load gets its value back as an i64 in one call; block modules (generated and compiled
// per batch of hot blocks) shrink by the difference at every access.
import * as L from '../cpu/layout.ts';
import { Code, ModuleBuilder, Ty, W } from './wasm.ts';

type Fn = (...args: never[]) => unknown;

const I = Ty.I32;
const J = Ty.I64;

/** The CPU's entries: rd(n, size, seg, lo, hi, w) -> v, rd64(n, seg, lo, hi, w) -> lo, hi64() -> hi, wr, wr64. */
export interface MemJs {
  rd: Fn;
  rd64: Fn;
  hi64: Fn;
  wr: Fn;
  wr64: Fn;
}

/** Signatures of the exported slow paths (what compiled code calls); each ends with the instruction's RIP. */
export const MEM_SLOW = {
  /** (n, size, seg, addr, forWrite, rip) -> value */
  ld: { params: [I, I, I, J, I, J], results: [I] },
  /** (n, seg, addr, forWrite, rip) -> value */
  ld64: { params: [I, I, J, I, J], results: [J] },
  /** (n, size, seg, addr, value, rip) */
  st: { params: [I, I, I, J, I, J], results: [] },
  /** (n, seg, addr, value, rip) */
  st64: { params: [I, I, J, J, J], results: [] },
} as const;

/** Compiled modules by state base. */
const compiled = new Map<number, WebAssembly.Module>();

export function buildMemSlowPaths(stateBase: number, memory: WebAssembly.Memory, js: MemJs): Record<keyof typeof MEM_SLOW, Fn> {
  let mod = compiled.get(stateBase);
  if (!mod) compiled.set(stateBase, (mod = new WebAssembly.Module(memModule(stateBase))));
  const inst = new WebAssembly.Instance(mod, { e: { ...js, mem: memory } as unknown as WebAssembly.Imports['e'] });
  const e = inst.exports;
  return { ld: e.ld as Fn, ld64: e.ld64 as Fn, st: e.st as Fn, st64: e.st64 as Fn };
}

function memModule(stateBase: number): Uint8Array {
  const mb = new ModuleBuilder();
  mb.importMemory('e', 'mem');
  const rd = mb.importFunc('e', 'rd', [I, I, I, I, I, I], [I]);
  const rd64 = mb.importFunc('e', 'rd64', [I, I, I, I, I], [I]);
  const hi64 = mb.importFunc('e', 'hi64', [], [I]);
  const wr = mb.importFunc('e', 'wr', [I, I, I, I, I, I], []);
  const wr64 = mb.importFunc('e', 'wr64', [I, I, I, I, I, I], []);
  /** Pushes the i64 in local `l` as its low and high words. */
  const words = (c: Code, l: number) => c.get(l).op(W.i32_wrap_i64).get(l).i64(32, 0).op(W.i64_shr_u).op(W.i32_wrap_i64);
  const def = (name: keyof typeof MEM_SLOW, body: (c: Code) => void) => {
    const c = new Code();
    const s = MEM_SLOW[name];
    c.i32(0).get(s.params.length - 1).mem(W.i64_store, 3, stateBase + L.RIP);
    body(c);
    c.op(W.end);
    mb.export(name, mb.func(mb.type([...s.params], [...s.results]), [], c.view().slice()));
  };
  /** (n, size, seg, addr, x) -> f(n, size, seg, lo, hi, x): ld's forWrite, st's value. */
  const sized = (f: number) => (c: Code) => {
    c.get(0).get(1).get(2);
    words(c, 3);
    c.get(4).op(W.call).u32(f);
  };
  def('ld', sized(rd));
  def('st', sized(wr));
  def('ld64', (c) => {
    c.get(0).get(1);
    words(c, 2);
    c.get(3).op(W.call).u32(rd64).op(W.i64_extend_i32_u);
    c.op(W.call).u32(hi64).op(W.i64_extend_i32_u).i64(32, 0).op(W.i64_shl).op(W.i64_or);
  });
  def('st64', (c) => {
    c.get(0).get(1);
    words(c, 2);
    words(c, 3);
    c.op(W.call).u32(wr64);
  });
  return mb.finish();
}
