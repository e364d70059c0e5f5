// Generating the wasm module of a batch of blocks from plain data: no CPU, no JS functions, so it runs on the
// compile worker (gen-worker.ts) as well as on the CPU's thread (the synchronous JIT). What the module's link table
// must hold is described, not filled in: runtime functions by name, helpers by number, exit slots by block and
// target. The CPU's thread fills the table when it instantiates the module (compiler.ts instantiateBatch), where
// exit slots get their numbers.
import type { Program } from '../cpu/ir/builder.ts';
import { Op } from '../cpu/ir/ops.ts';
import { ModeBits } from '../cpu/mode.ts';
import { TLB_ENTRIES, TLB_ENTRY, TLB_OFFSET, tlbAddend } from '../cpu/mmu.ts';
import { u64 } from '../cpu/words.ts';
import { generate, type Callee, type CodegenEnv, type CodegenOptions } from './codegen.ts';
import { MEM_SLOW } from './mem-wasm.ts';
import { Code, ModuleBuilder, Ty, W } from './wasm.ts';

/** What a block entered from another page checks first: that its code page is still mapped where it was. */
export interface EntryCheck {
  stateBase: number;
  mode: number;
  rip: bigint;
  /** Physical address of the code page. */
  page: number;
  /** For a block whose last instruction continues on the next linear page: where that page must map. */
  page2?: number;
}

/** One block to generate. */
export interface GenBlock {
  prog: Program;
  opts: CodegenOptions;
  /**
   * Chaining (64-bit mode: linear = RIP): its exits get link-table slots, and the module exports its checked entry
   * g<i> besides f<i>. `key` is mode:rip (what exits to it name); `page` its code page's physical address.
   */
  chain?: { key: string; check: EntryCheck; twoPages: boolean };
  /** The block's token for the self-modifying-code check (JitRuntime.where), if any. */
  token?: number;
}

/**
 * The key of the block at `rip` translated for `mode`: what chained exits name their target by, on the worker
 * (direct calls within a batch) and on the CPU's thread (links, waiting slots, the miss handler) alike.
 */
export const chainKey = (mode: number, rip: bigint | undefined): string => `${mode}:${rip}`;

/** Constants of the runtime the code is generated for. */
export interface GenRuntime {
  /** Helpers implemented in wasm (cc-wasm.ts, simd-wasm.ts): by helper number, which kind. */
  wasmHelpers: Record<number, 'cc' | 'simd'>;
  /** The runtime has a jump cache (`jc`) for exits to computed RIPs. */
  jumpCache: boolean;
  /** Name each function guest_<rip> (KEMU_JIT_NAMES=1, for profilers). */
  names: boolean;
}

/** One entry of a module's link table (table 0), as generated. */
export type TableEntry =
  /** A runtime function (JitRuntime.callable) by name. */
  | { fn: string; params: Ty[]; results: Ty[] }
  /** Helper `helper` called with these widths. */
  | { helper: number; args: (32 | 64)[]; result: 0 | 32 | 64; params: Ty[]; results: Ty[] }
  /** The slot of an exit of block `block` to the known RIP hi:lo. */
  | { block: number; lo: number; hi: number }
  /**
   * The slot of an exit of block `block` to a computed RIP; its miss handler is called with the number the module
   * imports as `ib` plus `indirect` (compiler.ts gives each module a range of such numbers).
   */
  | { block: number; indirect: number };

export interface GenBatch {
  bytes: Uint8Array;
  /** bytes.length (the bytes may stay on the worker). */
  size: number;
  /** The link table's entries, by index (none: the module imports no table). */
  table: TableEntry[];
  /** Exits that tail-call another block of the batch directly: (caller, callee) block indices. */
  direct: [number, number][];
  /** Milliseconds it took. */
  ms: number;
}

/**
 * Prediction misses for which an indirect exit asks the handler to relink its slot (see compiler.ts miss); an exit
 * whose target keeps changing (a return from a function with many callers) then goes to the jump cache without asking.
 */
const MAX_RELINKS = 8;

const ty = (w: 32 | 64) => (w === 64 ? Ty.I64 : Ty.I32);

/** The name of helper `h` called with these widths: one link-table entry (and one JS wrapper) per name. */
export const helperKey = (h: number, args: (32 | 64)[], result: 0 | 32 | 64): string =>
  `h${h}_${args.join('_')}_r${result}`;

/** Helper `h` called with these widths runs in wasm (see GenRuntime.wasmHelpers). */
export function helperInWasm(rt: GenRuntime, h: number, args: (32 | 64)[], result: 0 | 32 | 64): boolean {
  const kind = rt.wasmHelpers[h];
  if (kind === 'cc') return args.length === 0 && result === 32;
  return kind === 'simd' && args.length === 3 && result === 0;
}

/** Generates one module holding the blocks' functions (f<i>, and g<i> for chained ones: their checked entries). */
export function genBatch(rt: GenRuntime, blocks: GenBlock[]): GenBatch {
  const t0 = performance.now();
  const mb = new ModuleBuilder();
  mb.importMemory('e', 'mem');
  const blockType = mb.type([Ty.I32, Ty.I32], [Ty.I32]);
  const table: TableEntry[] = [];
  const callees = new Map<string, Callee>();
  const useTable = (e: TableEntry): number => {
    if (!table.length) mb.importTable('e', 'tbl');
    return table.push(e) - 1;
  };
  const callee = (key: string, e: TableEntry & { params: Ty[]; results: Ty[] }): Callee => {
    let c = callees.get(key);
    if (c === undefined) callees.set(key, (c = { index: useTable(e), type: mb.type(e.params, e.results) }));
    return c;
  };
  const fn = (name: string, params: Ty[], results: Ty[]) => callee(name, { fn: name, params, results });
  const memFn = (name: keyof typeof MEM_SLOW) => fn(name, [...MEM_SLOW[name].params], [...MEM_SLOW[name].results]);
  const I = Ty.I32;
  const whereGlobal = blocks.some((b) => b.token !== undefined) ? mb.importGlobal('e', 'at', Ty.I32, true) : -1;
  const missBase = blocks.some((b) => b.chain) ? mb.importGlobal('e', 'ib', Ty.I32, false) : -1;
  let indirect = 0;
  // chained blocks by key, for direct calls within the batch
  const byKey = new Map<string, number>();
  blocks.forEach((b, i) => b.chain && byKey.set(b.chain.key, i));
  const direct: [number, number][] = [];
  const bodies = blocks.map((b, bi) => {
    const env: CodegenEnv = {
      read: () => memFn('ld'),
      read64: () => memFn('ld64'),
      write: () => memFn('st'),
      write64: () => memFn('st64'),
      raise: () => fn('raise', [I, I, I], []),
      helper: (h, args, result) =>
        callee(helperKey(h, args, result), { helper: h, args, result, params: [I, ...args.map(ty)], results: result ? [ty(result)] : [] }),
      helperInWasm: (h, args, result) => helperInWasm(rt, h, args, result),
    };
    if (b.token !== undefined) env.where = { global: whereGlobal, token: b.token };
    const chain = b.chain;
    if (chain) {
      const mode = b.opts.mode;
      const vpage = chain.check.rip >> 12n;
      env.blockType = () => blockType;
      env.link = (lo, hi) => useTable({ block: bi, lo, hi });
      // an exit to another block of the batch on the same linear and physical page (see compiler.ts isDirect)
      env.direct = (lo, hi) => {
        const rip = u64(lo, hi);
        const i = byKey.get(chainKey(mode, rip));
        if (i === undefined) return -1;
        const t = blocks[i]!.chain!;
        if (t.check.page !== chain.check.page || rip >> 12n !== vpage || t.twoPages) return -1;
        direct.push([bi, i]);
        return i;
      };
      env.linkIndirect = () => ({
        slot: useTable({ block: bi, indirect }), id: indirect++, idBase: missBase, miss: fn('miss', [I, I, I], [I]),
        // the prediction starts non-canonical: no RIP equals it
        pred: mb.global(Ty.I64, true, 0, 0x80000000 | 0), tries: mb.global(Ty.I32, true, 0), maxTries: MAX_RELINKS,
        jumpCache: rt.jumpCache ? fn('jc', [I, I], [I]) : undefined,
      });
    }
    return generate(b.prog, env, b.opts);
  });
  // (the module imports no functions: block i is function i)
  for (const g of bodies) {
    for (const [at, i] of g.directCalls) {
      let v = i;
      for (let k = 0; k < 5; k++, v >>>= 7) g.body[at + k] = (v & 0x7f) | (k < 4 ? 0x80 : 0);
    }
  }
  const main = bodies.map((g) => mb.func(mb.type(g.params, g.results), g.locals, g.body, g.hints));
  if (main.length && main[0] !== 0) throw new Error('JIT: unexpected function numbering');
  blocks.forEach((b, i) => {
    mb.export(`f${i}`, main[i]!);
    if (rt.names) mb.name(main[i]!, `guest_${(firstRip(b.prog) ?? 0n).toString(16)}`);
    if (b.chain) mb.export(`g${i}`, mb.func(blockType, [], checkBody(b.chain.check, main[i]!)));
  });
  const bytes = mb.finish();
  return { bytes, size: bytes.length, table, direct, ms: performance.now() - t0 };
}

/**
 * `(n, limit) -> n`: if the exec TLB entry for the block's page still maps it to the same physical page (so the run
 * loop's lookup would find this very block), runs the block; else returns n (the caller stored RIP: the run loop
 * takes over). All addresses are constants.
 */
function checkBody(k: EntryCheck, f: number): Uint8Array {
  const user = (k.mode & ModeBits.CPL_MASK) === 3 << ModeBits.CPL_SHIFT;
  const c = new Code(96);
  // pushes "the exec TLB entry of linear page `vpn` maps it to physical `page`" (its addend: mmu.ts)
  const maps = (vpn: bigint, page: number) => {
    const e = k.stateBase + TLB_OFFSET + ((user ? TLB_ENTRIES : 0) + Number(vpn & BigInt(TLB_ENTRIES - 1))) * TLB_ENTRY;
    c.i32(0).mem(W.i64_load, 3, e + 16).i64(Number(vpn & 0xffffffffn) | 0, Number(vpn >> 32n) | 0).op(W.i64_eq);
    c.i32(0).mem(W.i32_load, 2, e + 24).i32(tlbAddend(page, Number(vpn & 0xffffffffn) | 0)).op(W.i32_eq).op(W.i32_and);
  };
  const vpn = k.rip >> 12n;
  maps(vpn, k.page);
  if (k.page2 !== undefined) {
    maps(BigInt.asUintN(52, vpn + 1n), k.page2);
    c.op(W.i32_and);
  }
  c.op(W.if_).byte(Ty.I32).get(0).get(1).op(W.return_call).u32(f).op(W.else_).get(0).op(W.end).op(W.end);
  return c.view().slice();
}

/** The RIP of a program's first instruction (its block's address), or undefined. */
export function firstRip(p: Program): bigint | undefined {
  if (p.code[0] !== Op.INSN) return undefined;
  return u64(p.code[1]!, p.code[2]!);
}

// A batch crosses to the compile worker as one Int32Array, a job of the shared-memory queue (job-ring.ts): plain
// words, nothing to clone (cloning the blocks as objects, three typed arrays each, was ~10% of what postMessage
// cost the CPU's thread; the rest was waking the worker, which the queue avoids). Per block: a header of HEADER
// words (below), then its code, its label positions and its temp widths (bytes, in whole words).
const HEADER = 17;

/** The blocks of a batch in one array (see unpackBlocks). */
export function packBlocks(blocks: GenBlock[]): Int32Array<ArrayBuffer> {
  let words = 1;
  for (const b of blocks) words += HEADER + b.prog.code.length + b.prog.labelAt.length + ((b.prog.widths.length + 3) >> 2);
  const out = new Int32Array(words);
  out[0] = blocks.length;
  let at = 1;
  for (const b of blocks) {
    const { prog: p, opts: o, chain: c } = b;
    const k = c?.check;
    out.set([
      p.code.length, p.labelAt.length, p.widths.length, p.labels, o.stateBase, o.mode, o.inlineTlb === false ? 0 : 1,
      o.loop ? 1 : 0, o.loop?.lo ?? 0, o.loop?.hi ?? 0, b.token ?? -1, c ? (c.twoPages ? 3 : 1) : 0,
      k ? Number(k.rip & 0xffffffffn) | 0 : 0, k ? Number(k.rip >> 32n) | 0 : 0, k?.page ?? 0,
      k?.page2 === undefined ? -1 : k.page2, o.helperMode ? 1 : 0,
    ], at);
    at += HEADER;
    out.set(p.code, at);
    at += p.code.length;
    out.set(p.labelAt, at);
    at += p.labelAt.length;
    new Uint8Array(out.buffer, at * 4, p.widths.length).set(p.widths);
    at += (p.widths.length + 3) >> 2;
  }
  return out;
}

/** The blocks packBlocks packed (their programs are views into `buf`). */
export function unpackBlocks(buf: Int32Array): GenBlock[] {
  const blocks: GenBlock[] = [];
  let at = 1;
  for (let i = 0; i < buf[0]!; i++) {
    const h = buf.subarray(at, at + HEADER);
    at += HEADER;
    const [nCode, nLabelAt, nWidths, labels, stateBase, mode, inlineTlb, loop, loopLo, loopHi, token, chain, ripLo, ripHi, page, page2, helperMode] = h;
    const code = buf.subarray(at, (at += nCode!));
    const labelAt = buf.subarray(at, (at += nLabelAt!));
    const widths = new Uint8Array(buf.buffer, buf.byteOffset + at * 4, nWidths);
    at += (nWidths! + 3) >> 2;
    // (addresses above 2 GiB come back negative from the array)
    const sb = stateBase! >>> 0;
    const opts: CodegenOptions = { stateBase: sb, mode: mode!, inlineTlb: inlineTlb === 1 };
    if (loop) opts.loop = { lo: loopLo!, hi: loopHi! };
    if (helperMode) opts.helperMode = true;
    const b: GenBlock = { prog: { code, widths, labels: labels!, labelAt }, opts };
    if (token! >= 0) b.token = token;
    if (chain) {
      const rip = u64(ripLo!, ripHi!);
      b.chain = {
        key: chainKey(mode!, rip), twoPages: chain === 3,
        check: { stateBase: sb, mode: mode!, rip, page: page! >>> 0, page2: page2 === -1 ? undefined : page2! >>> 0 },
      };
    }
    blocks.push(b);
  }
  return blocks;
}
