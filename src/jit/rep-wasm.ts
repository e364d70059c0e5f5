// REP MOVS/STOS's bulk helper (frontend/string.ts repBulk) for compiled code: the common case in wasm, the rest
// handed to the JS helper. Linux copies and clears memory with REP MOVSB/STOSB/STOSQ (memcpy, memset, clear_page,
// copy_to_user): ~500 k such helper calls in a boot to /init, each a trip from wasm into JS and back.
//
// The fast path is the JS helper's own 64-bit one (bulk64) over runs of elements that stay within a page, taken
// only where the inline TLB would take a load or store: 64-bit mode, 64-bit addresses, DF clear, RCX below 2^32,
// no FS/GS source, and a TLB entry tagged for the access (so RAM, canonical, no translated code on a written page,
// accessed/dirty bits already set). Anything else it meets — a TLB miss, an element straddling a page, a forward
// copy onto its own source, a STOS pattern whose bytes differ — goes to the JS helper with the budget that is left,
// so a REP moves exactly what the JS helper alone would have moved in that execution (the same registers, memory
// and instruction count as in the interpreter).
import * as L from '../cpu/layout.ts';
import { ModeBits } from '../cpu/mode.ts';
import { TLB_ENTRIES, TLB_ENTRY, TLB_OFFSET } from '../cpu/mmu.ts';
import { BULK_LIMIT } from '../cpu/frontend/string.ts';
import { Code, ModuleBuilder, Ty, VOID, W } from './wasm.ts';

type Fn = (...args: never[]) => unknown;

const I = Ty.I32;
const J = Ty.I64;
const MEMORY_COPY = 10; // 0xfc-prefixed (bulk memory)
const MEMORY_FILL = 11;

// parameters and locals
const N = 0, SPEC = 1;
const SIZE = 2, MOVS = 3, COUNT = 4, BUDGET = 5, DLO = 6, DHI = 7, SLO = 8, SHI = 9, K = 10, BYTES = 11, PD = 12, PS = 13, E = 14, TLB = 15, T = 16;
const V = 17; // i64

const compiled = new Map<number, WebAssembly.Module>();

/** Instantiates the helper for this memory; `js(n, spec, budget)` is the JS helper given what is left of the budget. */
export function buildRepBulk(stateBase: number, memory: WebAssembly.Memory, js: Fn): Fn {
  let mod = compiled.get(stateBase);
  if (!mod) compiled.set(stateBase, (mod = new WebAssembly.Module(repModule(stateBase))));
  const inst = new WebAssembly.Instance(mod, { e: { mem: memory, js } as unknown as WebAssembly.Imports['e'] });
  return inst.exports.rep as Fn;
}

function repModule(sb: number): Uint8Array {
  const mb = new ModuleBuilder();
  mb.importMemory('e', 'mem');
  const js = mb.importFunc('e', 'js', [I, I, I], []);
  const c = new Code();
  const ld32 = (off: number) => c.i32(0).mem(W.i32_load, 2, sb + off);
  const st32 = (off: number, push: () => void) => {
    c.i32(0);
    push();
    c.mem(W.i32_store, 2, sb + off);
  };
  /** Leaves the function (the JS helper's `return`: nothing more to do in bulk) if the i32 on the stack is set. */
  const returnIf = () => c.op(W.if_).byte(VOID).op(W.return_).op(W.end);
  /** Goes to the JS helper if the i32 on the stack is set. */
  const toJs = (depth: number) => c.op(W.br_if).u32(depth);
  /** The i32 on the stack: hi:lo is not canonical (hi >> 15 is neither 0 nor -1). */
  const nonCanonical = (hi: number) => c.get(hi).i32(15).op(W.i32_shr_s).i32(1).op(W.i32_add).i32(1).op(W.i32_gt_u);
  /** k = min(k, the i32 on the stack). */
  const minK = () => c.set(T).get(T).get(K).get(T).get(K).op(W.i32_lt_u).op(W.select).set(K);
  /** k = min(k, (4096 - (lo & 0xfff)) / size): the elements left in lo's page. */
  const minPageRoom = (lo: number) => {
    c.i32(4096).get(lo).i32(0xfff).op(W.i32_and).op(W.i32_sub).get(SIZE).op(W.i32_div_u);
    minK();
  };
  /** The i32 on the stack: lo's page straddled by an element ((lo & 0xfff) + size > 4096). */
  const straddles = (lo: number) => c.get(lo).i32(0xfff).op(W.i32_and).get(SIZE).op(W.i32_add).i32(4096).op(W.i32_gt_u);
  /** Loads a pointer register into lo/hi; returns if an element there straddles a page or it is not canonical. */
  const pointer = (reg: number, lo: number, hi: number) => {
    ld32(reg).set(lo);
    ld32(reg + 4).set(hi);
    straddles(lo);
    returnIf();
    nonCanonical(hi);
    returnIf();
  };
  /**
   * Through the TLB entry of hi:lo's page: the host address into `to` if the entry is tagged for `access` (0 read,
   * 1 write), else to the JS helper (branch depth `depth`).
   */
  const translate = (lo: number, hi: number, access: number, to: number, depth: number) => {
    // (the entry's offset as ((lo >> 12) & (TLB_ENTRIES - 1)) * 32 in two operations, as codegen.ts computes it)
    if (TLB_ENTRY !== 32) throw new Error('rep-wasm: TLB entry size changed');
    c.get(lo).i32(7).op(W.i32_shr_u).i32((TLB_ENTRIES - 1) << 5).op(W.i32_and).get(TLB).op(W.i32_add).set(E);
    c.get(E).mem(W.i64_load, 3, access * 8);
    c.get(lo).op(W.i64_extend_i32_u).get(hi).op(W.i64_extend_i32_u).i64(32, 0).op(W.i64_shl).op(W.i64_or);
    c.i64(12, 0).op(W.i64_shr_u).op(W.i64_ne);
    toJs(depth);
    c.get(E).mem(W.i32_load, 2, 24).get(lo).op(W.i32_add).set(to);
  };
  /** reg += bytes (its two halves, with the carry). */
  const advance = (reg: number, lo: number, hi: number) => {
    c.get(lo).get(BYTES).op(W.i32_add).set(T);
    st32(reg, () => c.get(T));
    c.get(T).get(lo).op(W.i32_lt_u).op(W.if_).byte(VOID);
    st32(reg + 4, () => c.get(hi).i32(1).op(W.i32_add));
    c.op(W.end);
  };

  c.i32(BULK_LIMIT).set(BUDGET);
  c.op(W.block).byte(VOID); // the JS helper
  c.get(SPEC).i32(1).op(W.i32_and).set(MOVS);
  c.get(SPEC).i32(4).op(W.i32_shr_u).i32(15).op(W.i32_and).set(SIZE);
  c.get(SPEC).i32(8).op(W.i32_shr_u).i32(15).op(W.i32_and).i32(8).op(W.i32_ne);
  toJs(0);
  c.get(MOVS).get(SPEC).i32(12).op(W.i32_shr_u).i32(7).op(W.i32_and).i32(4).op(W.i32_ge_u).op(W.i32_and);
  toJs(0);
  ld32(L.MODE).set(T);
  c.get(T).i32(3).op(W.i32_and).i32(2).op(W.i32_ne);
  toJs(0);
  ld32(L.EFLAGS).i32(0x400).op(W.i32_and);
  toJs(0);
  ld32(L.gprOff(1) + 4);
  toJs(0);
  // the TLB of this privilege (user: CPL 3)
  c.i32(sb + TLB_OFFSET + TLB_ENTRIES * TLB_ENTRY).i32(sb + TLB_OFFSET);
  c.get(T).i32(ModeBits.CPL_MASK).op(W.i32_and).i32(ModeBits.CPL_MASK).op(W.i32_eq).op(W.select).set(TLB);

  c.op(W.loop).byte(VOID);
  ld32(L.gprOff(1)).tee(COUNT).op(W.i32_eqz);
  returnIf();
  c.get(BUDGET).get(SIZE).op(W.i32_lt_u);
  returnIf();
  pointer(L.gprOff(7), DLO, DHI);
  c.get(MOVS).op(W.if_).byte(VOID);
  pointer(L.gprOff(6), SLO, SHI);
  c.op(W.end);
  // k = min(count, room in the destination's page, [room in the source's page,] budget / size)
  c.get(COUNT).set(K);
  minPageRoom(DLO);
  c.get(MOVS).op(W.if_).byte(VOID);
  minPageRoom(SLO);
  c.op(W.end);
  c.get(BUDGET).get(SIZE).op(W.i32_div_u);
  minK();
  c.get(K).get(SIZE).op(W.i32_mul).set(BYTES);
  // (the reads come first, as in an iteration; inside the `if` the JS helper is two blocks out)
  c.get(MOVS).op(W.if_).byte(VOID);
  translate(SLO, SHI, 0, PS, 2);
  c.op(W.end);
  translate(DLO, DHI, 1, PD, 1);
  c.get(MOVS).op(W.if_).byte(VOID);
  // a forward copy onto its own source repeats the first bytes (element by element): the JS helper does that
  c.get(PD).get(PS).op(W.i32_gt_u).get(PD).get(PS).get(BYTES).op(W.i32_add).op(W.i32_lt_u).op(W.i32_and);
  toJs(2);
  c.get(PD).get(PS).get(BYTES).byte(0xfc).u32(MEMORY_COPY).byte(0).byte(0);
  c.op(W.else_);
  c.i32(0).mem(W.i64_load, 3, sb + L.gprOff(0)).set(V);
  // a fill byte by byte needs the element's bytes to be equal: (v ^ (v & 0xff) * 0x0101010101010101) & mask == 0
  c.get(V).get(V).i64(0xff, 0).op(W.i64_and).i64(0x01010101, 0x01010101).op(W.i64_mul).op(W.i64_xor);
  c.i64(-1, -1).i64(1, 0).get(SIZE).i32(3).op(W.i32_shl).op(W.i64_extend_i32_u).op(W.i64_shl).i64(1, 0).op(W.i64_sub);
  c.get(SIZE).i32(8).op(W.i32_eq).op(W.select).op(W.i64_and).op(W.i64_eqz).op(W.i32_eqz);
  toJs(2);
  c.get(PD).get(V).op(W.i32_wrap_i64).get(BYTES).byte(0xfc).u32(MEMORY_FILL).byte(0);
  c.op(W.end);
  st32(L.gprOff(1), () => c.get(COUNT).get(K).op(W.i32_sub));
  advance(L.gprOff(7), DLO, DHI);
  c.get(MOVS).op(W.if_).byte(VOID);
  advance(L.gprOff(6), SLO, SHI);
  c.op(W.end);
  c.get(BUDGET).get(BYTES).op(W.i32_sub).set(BUDGET);
  c.op(W.br).u32(0);
  c.op(W.end); // loop
  c.op(W.return_);
  c.op(W.end); // the JS helper's block
  c.get(N).get(SPEC).get(BUDGET).op(W.call).u32(js);
  c.op(W.end);
  const locals: [number, Ty][] = [[V - SIZE, I], [1, J]];
  mb.export('rep', mb.func(mb.type([I, I], []), locals, c.view().slice()));
  return mb.finish();
}
