// The jump cache: how an exit to a computed RIP (ret, jmp/call through a register or memory) finds the next
// compiled block without going back to the run loop, as QEMU's lookup_and_goto_ptr does. Direct-mapped, keyed by
// RIP and mode word: the keys live in the CPU's memory after the TLB (cpu.ts JUMP_CACHE_OFFSET), the functions in
// a wasm table that only one small module imports; compiled blocks import its `jc(n, limit)` and tail-call it.
// (A table imported by every module of the code cache would make each instantiation copy it.)
// Entries hold blocks' checked entries, which verify that their code page is still mapped where it was, so an
// entry is right for any page mapping; the run loop fills them as it enters compiled blocks, and a block that is
// dropped or evicted clears its own.
import { JUMP_CACHE_ENTRIES, JUMP_CACHE_ENTRY, JUMP_CACHE_OFFSET } from '../cpu/cpu.ts';
import * as L from '../cpu/layout.ts';
import { Code, ModuleBuilder, Ty, W } from './wasm.ts';

const MASK = JUMP_CACHE_ENTRIES - 1;

/** The entry of a RIP (its low half as int32); the wasm lookup computes the same. */
export const jumpCacheIndex = (lo: number): number => (lo ^ (lo >>> 13)) & MASK;

type BlockFn = (n: number, limit: number) => number;

export class JumpCache {
  /** `(n, limit) -> n`: runs the compiled block at the stored RIP if the cache has it, else returns n. */
  readonly fn: BlockFn;
  private readonly table: WebAssembly.Table;
  private readonly owners: (object | undefined)[] = new Array(JUMP_CACHE_ENTRIES).fill(undefined);
  private readonly base: number;

  constructor(private readonly memory: WebAssembly.Memory, stateBase: number, private readonly stub: BlockFn) {
    this.base = stateBase + JUMP_CACHE_OFFSET;
    this.table = new WebAssembly.Table({ element: 'anyfunc', initial: JUMP_CACHE_ENTRIES }, stub);
    this.clearAll();
    const mb = new ModuleBuilder();
    mb.importMemory('e', 'mem');
    mb.importTable('e', 'jct');
    const type = mb.type([Ty.I32, Ty.I32], [Ty.I32]);
    const RIP = 2;
    const E = 3;
    const c = new Code(128);
    c.i32(0).mem(W.i64_load, 3, stateBase + L.RIP).set(RIP);
    // entry byte offset: index * 16
    c.get(RIP).op(W.i32_wrap_i64).set(E);
    c.get(E).get(E).i32(13).op(W.i32_shr_u).op(W.i32_xor).i32(MASK).op(W.i32_and).i32(4).op(W.i32_shl).set(E);
    c.get(E).mem(W.i64_load, 3, this.base).get(RIP).op(W.i64_eq);
    c.get(E).mem(W.i32_load, 2, this.base + 8).i32(0).mem(W.i32_load, 2, stateBase + L.MODE).op(W.i32_eq).op(W.i32_and);
    c.op(W.if_).byte(0x40);
    c.get(0).get(1).get(E).i32(4).op(W.i32_shr_u).op(W.return_call_indirect).u32(type).u32(0);
    c.op(W.end);
    c.get(0).op(W.end);
    mb.export('jc', mb.func(type, [[1, Ty.I64], [1, Ty.I32]], c.view().slice()));
    const inst = new WebAssembly.Instance(new WebAssembly.Module(mb.finish()), { e: { mem: memory, jct: this.table } });
    this.fn = inst.exports.jc as BlockFn;
  }

  /** Makes the entry of RIP hi:lo in `mode` run `fn` (a checked entry); `owner` identifies the block for clear(). */
  fill(lo: number, hi: number, mode: number, fn: BlockFn, owner: object): void {
    const i = jumpCacheIndex(lo);
    if (this.owners[i] === owner) return;
    const dv = new DataView(this.memory.buffer, this.base + i * JUMP_CACHE_ENTRY, JUMP_CACHE_ENTRY);
    dv.setInt32(0, lo, true);
    dv.setInt32(4, hi, true);
    dv.setInt32(8, mode, true);
    this.table.set(i, fn);
    this.owners[i] = owner;
  }

  /** Empties the entry of RIP lo if `owner` holds it. */
  clear(lo: number, owner: object): void {
    const i = jumpCacheIndex(lo);
    if (this.owners[i] !== owner) return;
    this.invalidate(i);
  }

  clearAll(): void {
    for (let i = 0; i < JUMP_CACHE_ENTRIES; i++) this.invalidate(i);
  }

  private invalidate(i: number): void {
    // a non-canonical RIP matches no block
    const dv = new DataView(this.memory.buffer, this.base + i * JUMP_CACHE_ENTRY, JUMP_CACHE_ENTRY);
    dv.setInt32(0, 0, true);
    dv.setInt32(4, 0x80000000 | 0, true);
    dv.setInt32(8, -1, true);
    this.table.set(i, this.stub);
    this.owners[i] = undefined;
  }
}
