// The JIT tier: a BlockCompiler (cpu.ts) that turns a hot block's IR into a WebAssembly function over the CPU's
// own WebAssembly.Memory (guest RAM, state block and TLB), so compiled code and the interpreter share all state.
//
// Hot blocks are compiled in batches, one wasm module per batch (compile cost is measured by bench/jit-loop.ts and
// reported by `stats`), generated from data alone (batch-gen.ts), so that with asyncCompile the compile worker
// generates and compiles it, and this thread only instantiates it and links its exits. Imports: the memory, the
// CPU's memory slow paths and raise, the helpers the blocks call, and the module's own link table. Every import
// receives the instruction count so far as its first argument and stores it into cpu.icount, so helpers and faults
// see the count the interpreter would have produced.
//
// Chaining: a block exit tail-calls the next compiled block through a slot of its module's link table (any
// module's function can sit in it), as long as the run loop's budget (cpu.runEnd) allows and no JS the block
// called asked for the run loop (only JS can change what the run loop checks between blocks: stop requests,
// interrupts, halt, the mode; JS sets CHAIN_BREAK, which a block that called JS checks at its exits). 64-bit mode only
// (linear = RIP). A chained target must be exactly the block the run loop's lookup would find:
// - same mode, same RIP, and its code lies on one page (lookup also checks a second page);
// - a target on the exit's own linear and physical page is entered directly (the run loop validated that page when
//   it entered the chain); any other target through its entry check, which compares the exec TLB entry of its page
//   with the physical page it was translated from, and returns to the run loop if they differ (remapped, flushed).
// Exits to a known RIP get their slot linked when the target is compiled. Exits to a computed RIP (ret, indirect
// jmp/call) keep the last target in a wasm global; on a mismatch a small JS handler links the slot to the compiled
// block at the new target (if any) and the prediction moves there. A dropped block's incoming slots go to another
// translation of that address or back to the stub (return to the run loop) until it is compiled again. An exit of
// a linkable block to its own start loops inside its function instead (codegen.ts, CodegenOptions.loop).
//
// Self-modifying code: compiled code may run several blocks per entry from the run loop, so before each call that
// may write guest memory it sets a shared wasm global to its block's token and instruction index; Cpu.codeWritten
// asks locate() which block and instruction wrote.
import { CPU_EXTRA_BYTES, type Block, type BlockCompiler, type Cpu } from '../cpu/cpu.ts';
import type { Program } from '../cpu/ir/builder.ts';
import { HELPERS } from '../cpu/ir/helpers.ts';
import { ModeBits, MODE_KEYS } from '../cpu/mode.ts';
import type { CodegenOptions } from './codegen.ts';
import { ModuleBuilder, Ty } from './wasm.ts';
import { H_CC_FLAGS, buildCcFlags } from './cc-wasm.ts';
import {
  chainKey, firstRip, genBatch, helperInWasm, helperKey, type GenBatch, type GenBlock, type GenRuntime, type TableEntry,
} from './batch-gen.ts';
import { JumpCache } from './jump-cache.ts';
import { SIMD_WASM_HELPERS, buildSimdHelpers } from './simd-wasm.ts';
import { buildRepBulk } from './rep-wasm.ts';
import { buildMemSlowPaths } from './mem-wasm.ts';
import { H_REP_BULK, repBulk } from '../cpu/frontend/string.ts';
import { u64 } from '../cpu/words.ts';
import { CompileWorker } from './compile-worker.ts';
import { setFlagsFromString } from 'node:v8';

// V8 reads the branch hints codegen.ts emits (TLB misses are unlikely) only with this flag; it is read when a
// module is compiled, so setting it before the first one is enough.
setFlagsFromString('--experimental-wasm-branch-hinting');
// How much a wasm function runs in V8's baseline code before it is recompiled by the optimizing tier (read when a
// module is instantiated). The default (1.8 M) had thousands of kernel blocks that run a few thousand times each
// recompiled, ~4 s of the second core during a Linux boot, which the compile worker needs; hot loops still reach
// the budget within milliseconds. Boot to /init, 4 interleaved rounds each: vmlinux median 11.5 -> 11.2 s,
// bzImage 17.2 -> 16.1 s (a slow hour of this machine).
setFlagsFromString('--wasm-tiering-budget=20000000');

export interface JitOptions {
  /** Interpreter runs of a block before it is compiled (0: compile before the first run). */
  threshold?: number;
  /** Inline the software-TLB fast path (default true; false forces every access through the CPU's methods). */
  inlineTlb?: boolean;
  /** Chain compiled blocks through their exits (default true). */
  chaining?: boolean;
  /** Blocks compiled together into one wasm module (default 16; 1: each alone; threshold 0 compiles at once). */
  batch?: number;
  /**
   * Code-cache budget: bytes of wasm of the modules alive at once (default 64 MiB). When a new module would go
   * over it, the least recently entered modules are evicted (whole: all their blocks) until it fits; an evicted
   * block runs in the interpreter again and is recompiled once hot. Infinity: no bound.
   */
  maxCodeBytes?: number;
  /** Code-cache budget in modules alive at once (default: no bound). */
  maxModules?: number;
  /**
   * Compile batches on a worker thread (compile-worker.ts): the blocks of a batch run in the interpreter until its
   * module is back, and are installed when one of them runs next. Default false (the tests' JIT is synchronous,
   * so what runs compiled does not depend on timing); `kemu run` turns it on.
   */
  asyncCompile?: boolean;
}

export interface JitStats {
  compiled: number;
  dropped: number;
  failed: number;
  /** Milliseconds spent generating code / compiling + instantiating modules. */
  genMs: number;
  wasmMs: number;
  /** Bytes of wasm produced. */
  bytes: number;
  /** Wasm modules instantiated (a batch of blocks shares one). */
  modules: number;
  /** Exit slots linked to a compiled block. */
  links: number;
  /** Indirect exits that missed their prediction and asked the JS handler. */
  misses: number;
  /** Entries into compiled code from the run loop (what chaining and the jump cache save). */
  entries: number;
  /** Batches compiled on the worker but not installed: a block of theirs was dropped meanwhile. */
  cancelled: number;
  /** Blocks and modules evicted to keep the code cache within its budget. */
  evicted: number;
  evictedModules: number;
  /** Modules and bytes of wasm alive now (compiled, not yet evicted or dropped), and the most bytes ever alive. */
  liveModules: number;
  liveBytes: number;
  peakBytes: number;
}

type Fn = (...args: never[]) => unknown;

// Calls out of compiled code go through the module's own table (codegen.ts Callee), not through imports: V8 11
// compiles an import wrapper for each imported function in each module, which made a module with ~6 function imports
// cost ~0.8 ms to compile and instantiate against ~0.15 ms with none.

/** Per-CPU glue: the functions compiled code calls, created once and shared by all modules. */
export class JitRuntime {
  /** cpu.icount when the running compiled block was entered. */
  base = 0;
  /** What every module imports: the memory and the `where` global (its table is its own). */
  readonly imports: Record<string, WebAssembly.Memory | WebAssembly.Global> = {};
  /** Functions compiled code calls, by name: JS functions, or wasm ones (the jump cache, helpers in wasm). */
  private readonly js: Record<string, Fn> = {};
  /** Their wasm-callable form (what goes into tables), made on first use. */
  private readonly callables = new Map<string, Fn>();
  private readonly helperKeys = new Set<string>();
  /**
   * What an unlinked exit slot holds: a function `(n, limit) -> n` that just returns n. Slots live in the link
   * table of their module (each module has its own: V8 keeps a copy of an imported table per instance, so a
   * table shared by all modules made every Table.set and instantiation cost in proportion to the code cache).
   */
  readonly stub: Fn;
  /** Where exits to computed RIPs look for the next block (jump-cache.ts). */
  readonly jumpCache?: JumpCache;
  /** Slot ids in use (global across modules) and the freed ones. */
  slotIds = 0;
  private readonly free: number[] = [];
  /**
   * Set by compiled code before each call that may write guest memory: `token * 256 + instruction index` of the
   * block running (see CodegenEnv.where), for the self-modifying-code check. Valid while `active`.
   */
  readonly where = new WebAssembly.Global({ value: 'i32', mutable: true }, -1);
  /** Compiled code is running (entered from the run loop, not yet returned or thrown). */
  active = false;
  /** Blocks by token (see `where`); freed tokens are reused. */
  readonly tokens: (Block | undefined)[] = [];
  private readonly freeTokens: number[] = [];
  /** What code generation needs to know of this runtime (batch-gen.ts). */
  readonly gen: GenRuntime;

  constructor(readonly cpu: Cpu) {
    const rt = this;
    this.imports.mem = cpu.memory.memory;
    this.imports.at = this.where;
    const mb = new ModuleBuilder();
    mb.export('f', mb.func(mb.type([Ty.I32, Ty.I32], [Ty.I32]), [], new Uint8Array([0x20, 0x00, 0x0b])));
    this.stub = new WebAssembly.Instance(new WebAssembly.Module(mb.finish())).exports.f as Fn;
    // (a CPU whose memory has no room for the jump cache, e.g. one built with a smaller reserve, goes without)
    if (cpu.memory.memory.buffer.byteLength >= cpu.stateBase + CPU_EXTRA_BYTES) {
      this.jumpCache = new JumpCache(cpu.memory.memory, cpu.stateBase, this.stub as BlockFn);
      this.callables.set('jc', this.jumpCache.fn);
    }
    const js = this.js;
    // the CPU's memory entries, behind the wasm slow paths block code calls (mem-wasm.ts)
    const slow = buildMemSlowPaths(cpu.stateBase, cpu.memory.memory, {
      rd: (n: number, size: number, seg: number, lo: number, hi: number, w: number) => {
        cpu.icount = rt.base + n;
        return cpu.read(size, seg, lo, hi, w !== 0);
      },
      rd64: (n: number, seg: number, lo: number, hi: number, w: number) => {
        cpu.icount = rt.base + n;
        return cpu.read64(seg, lo, hi, w !== 0);
      },
      hi64: () => cpu.hi64,
      wr: (n: number, size: number, seg: number, lo: number, hi: number, v: number) => {
        cpu.icount = rt.base + n;
        cpu.write(size, seg, lo, hi, v);
      },
      wr64: (n: number, seg: number, lo: number, hi: number, vlo: number, vhi: number) => {
        cpu.icount = rt.base + n;
        cpu.write64(seg, lo, hi, vlo, vhi);
      },
    });
    for (const name of Object.keys(slow) as (keyof typeof slow)[]) this.callables.set(name, slow[name]);
    js.raise = (n: number, vector: number, errorCode: number) => {
      cpu.icount = rt.base + n;
      cpu.raise(vector, errorCode);
    };
    js.miss = (id: number, lo: number, hi: number) => rt.onMiss(id, lo, hi);
    const simd = new Set(SIMD_WASM_HELPERS);
    const wasmHelpers: GenRuntime['wasmHelpers'] = {};
    HELPERS.forEach((h, i) => {
      if (i === H_CC_FLAGS) wasmHelpers[i] = 'cc';
      else if (simd.has(h.name)) wasmHelpers[i] = 'simd';
    });
    this.gen = { wasmHelpers, jumpCache: this.jumpCache !== undefined, names: process.env.KEMU_JIT_NAMES === '1' };
  }

  /**
   * The wasm function to put in a table for the function `name` with this signature: a JS function gets a
   * trampoline (a module that imports it and exports it again), made once.
   */
  callable(name: string, params: Ty[], results: Ty[]): Fn {
    let f = this.callables.get(name);
    if (f) return f;
    const fn = this.js[name];
    if (!fn) throw new Error(`JIT: no function ${name}`);
    const mb = new ModuleBuilder();
    mb.export('f', mb.importFunc('e', 'f', params, results));
    f = new WebAssembly.Instance(new WebAssembly.Module(mb.finish()), { e: { f: fn } }).exports.f as Fn;
    this.callables.set(name, f);
    return f;
  }

  /**
   * The indirect-exit miss handler (set by the Jit): link the slot of the exit numbered `id` (see
   * CodegenEnv.linkIndirect) to the block at hi:lo if compiled; 1 if linked.
   */
  onMiss: (id: number, lo: number, hi: number) => number = () => 0;

  /** A new slot id (its table and index are set when its module is instantiated). */
  allocSlot(): number {
    return this.free.pop() ?? this.slotIds++;
  }

  releaseSlot(s: number): void {
    this.free.push(s);
  }

  allocToken(b: Block): number {
    const t = this.freeTokens.pop() ?? this.tokens.length;
    this.tokens[t] = b;
    return t;
  }

  releaseToken(t: number): void {
    this.tokens[t] = undefined;
    this.freeTokens.push(t);
  }

  /** The block compiled code is running and the index of its instruction that called out (see `where`). */
  locate(): { block: Block; index: number } | undefined {
    if (!this.active) return undefined;
    const w = this.where.value as number;
    const block = w >= 0 ? this.tokens[w >> 8] : undefined;
    return block && { block, index: w & 255 };
  }

  private ccWasm?: Fn;

  private simd?: Record<string, unknown>;

  /** REP MOVS/STOS runs the wasm fast path handed to the JS helper (rep-wasm.ts). */
  repToJs = 0;

  /** Name of the callable of helper `h` called with these widths (created on first use). */
  helperName(h: number, args: (32 | 64)[], result: 0 | 32 | 64): string {
    // (REP's helper is wasm in front of JS: compiled code calls it as it calls a JS helper, since the JS part may
    // write code pages and stop the chain)
    if (h === H_REP_BULK) return this.repHelper();
    if (!helperInWasm(this.gen, h, args, result)) return this.jsHelper(h, args, result);
    if (h === H_CC_FLAGS) {
      if (!this.ccWasm) {
        const key = this.jsHelper(h, args, result);
        const js = this.js[key]!;
        this.ccWasm = buildCcFlags(this.cpu.stateBase, this.cpu.memory.memory, js);
        this.callables.set('ccw', this.ccWasm);
      }
      return 'ccw';
    }
    const name = HELPERS[h]!.name;
    const key = `simd_${name}`;
    if (!this.callables.has(key)) {
      this.simd ??= buildSimdHelpers(this.cpu.stateBase, this.cpu.memory.memory);
      this.callables.set(key, this.simd[name] as Fn);
    }
    return key;
  }

  private repHelper(): string {
    if (!this.callables.has('repw')) {
      const cpu = this.cpu;
      const js = (n: number, spec: number, budget: number) => {
        this.repToJs++;
        cpu.icount = this.base + n;
        repBulk(cpu, spec, budget);
      };
      this.callables.set('repw', buildRepBulk(cpu.stateBase, cpu.memory.memory, js));
    }
    return 'repw';
  }

  /** Name of the JS wrapper of helper `h` called with these widths (created on first use). */
  private jsHelper(h: number, args: (32 | 64)[], result: 0 | 32 | 64): string {
    const key = helperKey(h, args, result);
    if (this.helperKeys.has(key)) return key;
    const helper = HELPERS[h];
    if (!helper) throw new Error(`JIT: no helper ${h}`);
    const fn = helper.fn;
    const cpu = this.cpu;
    const rt = this;
    // i64 arguments arrive as signed BigInts; the interpreter passes them unsigned.
    const arg = (v: number | bigint) => (typeof v === 'bigint' ? BigInt.asUintN(64, v) : v);
    const conv =
      result === 64 ? (r: unknown) => BigInt(r as bigint | number) : result === 32 ? (r: unknown) => Number(r) | 0 : () => undefined;
    let w: Fn;
    switch (args.length) {
      case 0: w = (n: number) => { cpu.icount = rt.base + n; return conv(fn(cpu)); }; break;
      case 1: w = (n: number, a: number | bigint) => { cpu.icount = rt.base + n; return conv(fn(cpu, arg(a))); }; break;
      case 2: w = (n: number, a: number | bigint, b: number | bigint) => {
        cpu.icount = rt.base + n;
        return conv(fn(cpu, arg(a), arg(b)));
      }; break;
      default: w = (n: number, a: number | bigint, b: number | bigint, c: number | bigint) => {
        cpu.icount = rt.base + n;
        return conv(fn(cpu, arg(a), arg(b), arg(c)));
      };
    }
    this.js[key] = w;
    this.helperKeys.add(key);
    return key;
  }
}

/** A compiled block function: `n` instructions retired so far, chain while below `limit`; returns the new n. */
export type BlockFn = (n: number, limit: number) => number;

export interface Compiled {
  fn: BlockFn;
  checked?: BlockFn;
  /** Bytes of the module it belongs to. */
  moduleBytes: number;
  /** The module's table and, by index, the slot ids of its entries (-1: a function its code calls). */
  table?: WebAssembly.Table;
  slots: number[];
}

/** A link-table entry that is an exit slot (see TableEntry). */
export type ExitEntry = Extract<TableEntry, { block: number }>;

/**
 * Generates and compiles blocks into one module (a module has a fixed cost of ~0.1-0.2 ms to compile and
 * instantiate in V8, a function in a shared module a small fraction of it) on this thread; returns their
 * instantiated functions, in order. `slot` numbers the exit slots (see instantiateBatch).
 */
export function compileBatch(
  rt: JitRuntime, blocks: GenBlock[], stats?: JitStats, slot?: (e: ExitEntry) => number, missBase = 0,
): { gen: GenBatch; done: Compiled[] } {
  const gen = genBatch(rt.gen, blocks);
  if (stats) {
    stats.genMs += gen.ms;
    stats.bytes += gen.size;
  }
  const t1 = performance.now();
  const module = new WebAssembly.Module(gen.bytes);
  if (stats) stats.wasmMs += performance.now() - t1;
  return { gen, done: instantiateBatch(rt, gen, module, blocks.length, stats, slot, missBase) };
}

/**
 * Instantiates a batch's compiled module; returns its blocks' functions, in order. Its link table gets the runtime's
 * functions and helpers the code calls, and the stub in each exit slot, whose slot id `slot` gives; the module's
 * indirect exits are numbered from `missBase` for the miss handler.
 */
export function instantiateBatch(
  rt: JitRuntime, gen: Pick<GenBatch, 'table' | 'size'>, module: WebAssembly.Module, count: number, stats?: JitStats,
  slot?: (e: ExitEntry) => number, missBase = 0,
): Compiled[] {
  const t1 = performance.now();
  let imports = rt.imports as WebAssembly.Imports['e'];
  let tbl: WebAssembly.Table | undefined;
  const slots: number[] = [];
  if (gen.table.length) {
    tbl = new WebAssembly.Table({ element: 'anyfunc', initial: gen.table.length }, rt.stub);
    gen.table.forEach((e, i) => {
      if ('block' in e) {
        if (!slot) throw new Error('JIT: exit slots without a slot allocator');
        slots.push(slot(e));
        return;
      }
      slots.push(-1);
      const name = 'fn' in e ? e.fn : rt.helperName(e.helper, e.args, e.result);
      tbl!.set(i, rt.callable(name, e.params, e.results));
    });
    imports = { ...imports, tbl };
  }
  // (an immutable i32 global import takes a number)
  imports = { ...imports, ib: missBase as unknown as WebAssembly.Global };
  const inst = new WebAssembly.Instance(module, { e: imports });
  if (stats) {
    stats.wasmMs += performance.now() - t1;
    stats.modules++;
  }
  const x = inst.exports as Record<string, unknown>;
  const out: Compiled[] = [];
  for (let i = 0; i < count; i++) {
    out.push({ fn: x[`f${i}`] as BlockFn, checked: x[`g${i}`] as BlockFn | undefined, moduleBytes: gen.size, table: tbl, slots });
  }
  return out;
}

/** Compiles one program into a module of its own (no chaining). */
export function compileProgram(rt: JitRuntime, p: Program, opts: CodegenOptions, stats?: JitStats): Compiled {
  return compileBatch(rt, [{ prog: p, opts }], stats).done[0]!;
}

/** One instantiated wasm module of the code cache. */
interface CodeModule {
  bytes: number;
  /** Its blocks still compiled (neither dropped nor evicted). */
  blocks: Set<Block>;
  /** cpu.icount when one of its blocks was last entered from the run loop (the eviction order). */
  used: number;
}

interface Entry {
  fn: BlockFn;
  mod: CodeModule;
  /** The same, entered through the check that its page is still mapped where it was (for links from other pages). */
  checked?: BlockFn;
  /** mode:rip */
  key: string;
  rip: bigint;
  /** Physical address of its code page. */
  page: number;
  /** Its last instruction continues on the next page (links to it always check both pages). */
  twoPages: boolean;
  /** Slots of this block's exits. */
  out: number[];
  /** Its token (JitRuntime.where). */
  token: number;
  /** Slots of other blocks linked to this one. */
  in: Set<number>;
  /** Blocks of the same module that tail-call this one directly (forgotten with it: its exit slots get reused). */
  directIn?: Block[];
  /** The blocks this one tail-calls directly. */
  directOut?: Block[];
}

/** A block being compiled: what generates it, and its exits' slots once its module is instantiated. */
interface Prepared {
  gen: GenBlock;
  /** Slots of its exits, and for those to a known RIP the key (mode:rip) of the block they lead to. */
  out: number[];
  wants: [number, string][];
  mode: number;
  key: string;
  rip: bigint;
  page: number;
  twoPages: boolean;
  linkable: boolean;
  token: number;
}

/** A batch on the compile worker. */
interface InFlight {
  blocks: Block[];
  prepared: Prepared[];
  /** One of its blocks was dropped meanwhile: the module is not installed. */
  cancelled: boolean;
}

interface SlotInfo {
  /** Its module's link table and its index there (set once the module is instantiated). */
  table?: WebAssembly.Table;
  index: number;
  /** The block whose exit it is: its mode, linear page (rip >> 12) and physical page address. */
  mode: number;
  vpage: bigint;
  page: number;
  /** What it points to now, or the key of the block it waits for. */
  target?: Entry;
  waitKey?: string;
  /** An indirect exit's number for the miss handler. */
  missId?: number;
}


export class Jit implements BlockCompiler {
  readonly threshold: number;
  readonly rt: JitRuntime;
  readonly stats: JitStats = {
    compiled: 0, dropped: 0, failed: 0, cancelled: 0, genMs: 0, wasmMs: 0, bytes: 0, modules: 0, links: 0, misses: 0, entries: 0,
    evicted: 0, evictedModules: 0, liveModules: 0, liveBytes: 0, peakBytes: 0,
  };
  readonly maxCodeBytes: number;
  readonly maxModules: number;
  /** Live modules, oldest first (the eviction scan order among equal use stamps). */
  private readonly modules = new Set<CodeModule>();
  private readonly inlineTlb: boolean;
  private readonly chaining: boolean;
  private readonly entries = new Map<Block, Entry>();
  /** Compiled blocks that can be chain targets, by mode:rip. */
  private readonly byKey = new Map<string, Set<Entry>>();
  /** Slots waiting for a block with this key to be compiled. */
  private readonly waiting = new Map<string, Set<number>>();
  private readonly slots: (SlotInfo | undefined)[] = [];
  /** Slots of indirect exits by their number for the miss handler, and the next unused number. */
  private readonly missSlots = new Map<number, number>();
  private nextMissId = 0;
  private readonly batch: number;
  /** Blocks waiting for a batch, with their hit count when they were queued. */
  private readonly pending = new Map<Block, number>();
  private worker?: CompileWorker;
  /** Batches on the worker, by id, and the batch each of their blocks is in. */
  private readonly inFlight = new Map<number, InFlight>();
  private readonly flightOf = new Map<Block, InFlight>();

  constructor(readonly cpu: Cpu, opts: JitOptions = {}) {
    this.threshold = opts.threshold ?? 50;
    this.batch = opts.batch ?? 16;
    this.inlineTlb = opts.inlineTlb ?? true;
    this.chaining = opts.chaining ?? true;
    this.maxCodeBytes = opts.maxCodeBytes ?? 64 << 20;
    this.maxModules = opts.maxModules ?? Infinity;
    this.rt = new JitRuntime(cpu);
    this.rt.onMiss = (slot, lo, hi) => this.miss(slot, lo, hi);
    if (opts.asyncCompile && this.threshold > 0) this.worker = new CompileWorker(this.rt.gen);
  }

  /** Batches on the compile worker now. */
  get compiling(): number {
    return this.inFlight.size;
  }

  /** Waits until the compile worker (if any) has started, at most `ms` milliseconds (see CompileWorker.waitStarted). */
  waitForWorker(ms = 10_000): boolean {
    return this.worker?.waitStarted(ms) ?? false;
  }

  /** Stops the compile worker (if any); compiles happen on this thread from then on. */
  close(): void {
    this.worker?.close();
    if (this.worker) this.withoutWorker();
  }

  /**
   * The run loop asks for `block` once it ran `threshold` times (and again on every later run while this returns
   * undefined). Blocks are queued and compiled in batches of `batch` (one wasm module each); a block compiles with
   * whatever is queued once the batch is full or it has waited `batch` more runs of its own.
   */
  compile(cpu: Cpu, block: Block): (() => void) | undefined {
    if (this.worker?.ready) this.receive();
    if (this.worker?.lost) this.withoutWorker();
    if (this.flightOf.has(block)) return undefined;
    if (block.compiled) return block.compiled; // (installed just now)
    if (this.batch <= 1 || this.threshold === 0) {
      this.flush([block]);
      return block.compiled;
    }
    const since = this.pending.get(block);
    if (since === undefined) this.pending.set(block, block.hits);
    if (this.pending.size >= this.batch || (since !== undefined && block.hits - since >= this.batch)) {
      const blocks = [...this.pending.keys()];
      this.pending.clear();
      this.flush(blocks);
      return block.compiled;
    }
    void cpu;
    return undefined;
  }

  /** Compiles blocks into one module, links them, and gives each its `compiled` runner (later, with a worker). */
  private flush(blocks: Block[], sync = false): void {
    const prepared = blocks.map((b) => this.prepare(b));
    const id = this.worker && !sync ? this.worker.submit(prepared.map((p) => p.gen)) : -1;
    if (id >= 0) {
      const f: InFlight = { blocks, prepared, cancelled: false };
      this.inFlight.set(id, f);
      for (const b of blocks) this.flightOf.set(b, f);
      return;
    }
    let done: Compiled[], gen: GenBatch;
    try {
      const missBase = this.nextMissId;
      ({ done, gen } = compileBatch(this.rt, prepared.map((p) => p.gen), this.stats, (e) => this.exitSlot(prepared, e, missBase), missBase));
    } catch (e) {
      this.failed(blocks, prepared, e);
      return;
    }
    this.installBatch(blocks, prepared, done, gen.direct);
  }

  /** Installs the batches the worker has finished; those that lost a block meanwhile are dropped whole. */
  private receive(): void {
    for (const r of this.worker!.take()) {
      const f = this.inFlight.get(r.id)!;
      this.inFlight.delete(r.id);
      for (const b of f.blocks) if (this.flightOf.get(b) === f) this.flightOf.delete(b);
      if (r.gen) {
        this.stats.genMs += r.gen.ms;
        this.stats.bytes += r.gen.size;
      }
      if (f.cancelled) {
        this.stats.cancelled++;
        this.giveBack(f.prepared);
        continue;
      }
      let done: Compiled[];
      try {
        // (a batch the worker could not generate or V8 rejected fails the same way here: its blocks are tried one
        // by one)
        if (!r.module || !r.gen) throw new Error(r.error);
        const missBase = this.nextMissId;
        const prepared = f.prepared;
        done = instantiateBatch(this.rt, r.gen, r.module, f.blocks.length, this.stats, (e) => this.exitSlot(prepared, e, missBase), missBase);
      } catch (e) {
        this.failed(f.blocks, f.prepared, e);
        continue;
      }
      this.installBatch(f.blocks, f.prepared, done, r.gen.direct);
    }
  }

  /**
   * The slot of an exit of a block being instantiated: a known target's key goes on the block's wants; an indirect
   * exit gets its number for the miss handler (missBase + its number in the module).
   */
  private exitSlot(prepared: Prepared[], e: ExitEntry, missBase: number): number {
    const p = prepared[e.block]!;
    const slot = this.rt.allocSlot();
    const info: SlotInfo = { mode: p.mode, vpage: p.rip >> 12n, page: p.page, index: -1 };
    this.slots[slot] = info;
    p.out.push(slot);
    if ('indirect' in e) {
      info.missId = missBase + e.indirect;
      this.missSlots.set(info.missId, slot);
      if (info.missId >= this.nextMissId) this.nextMissId = info.missId + 1;
    } else p.wants.push([slot, chainKey(p.mode, u64(e.lo, e.hi))]);
    return slot;
  }

  /** The worker is gone: compile here from now on; the blocks it had go back to the interpreter's count. */
  private withoutWorker(): void {
    this.worker = undefined;
    for (const f of this.inFlight.values()) {
      this.giveBack(f.prepared);
      for (const b of f.blocks) this.flightOf.delete(b);
    }
    this.inFlight.clear();
  }

  /** Gives back what prepare() took for blocks that will not be installed. */
  private giveBack(prepared: Prepared[]): void {
    for (const p of prepared) {
      for (const slot of p.out) this.freeSlot(slot);
      p.out.length = 0;
      p.wants.length = 0;
      this.rt.releaseToken(p.token);
    }
  }

  /** A batch did not compile: its blocks are compiled one by one to find the culprit, which is not tried again. */
  private failed(blocks: Block[], prepared: Prepared[], e: unknown): void {
    this.giveBack(prepared);
    if (blocks.length > 1) for (const b of blocks) this.flush([b], true);
    else {
      this.stats.failed++;
      blocks[0]!.hits = -1e9; // do not retry
      if (process.env.KEMU_JIT_DEBUG) console.error('JIT: compile failed:', e);
    }
  }

  private installBatch(blocks: Block[], prepared: Prepared[], done: Compiled[], directPairs: [number, number][]): void {
    const mod: CodeModule = { bytes: done[0]!.moduleBytes, blocks: new Set(blocks), used: this.cpu.icount };
    // Make room before anything links to the new code (no compiled code is running: the run loop asked).
    this.evictFor(mod.bytes);
    this.modules.add(mod);
    this.stats.liveModules++;
    this.stats.liveBytes += mod.bytes;
    if (this.stats.liveBytes > this.stats.peakBytes) this.stats.peakBytes = this.stats.liveBytes;
    // the slots' entries in the module's link table
    done[0]!.slots.forEach((id, i) => {
      if (id < 0) return; // a function the code calls
      const slot = this.slots[id]!;
      slot.table = done[0]!.table;
      slot.index = i;
    });
    done.forEach((c, i) => this.install(blocks[i]!, prepared[i]!, c, mod));
    for (const [ci, ti] of directPairs) {
      if (ci === ti) continue;
      const t = this.entries.get(blocks[ti]!)!;
      (t.directIn ??= []).push(blocks[ci]!);
      (this.entries.get(blocks[ci]!)!.directOut ??= []).push(blocks[ti]!);
    }
  }

  /**
   * Evicts the least recently entered modules until one of `bytes` more fits the budget (or nothing is left).
   * Each block of an evicted module goes back to the interpreter: its `compiled` runner is cleared, the exits of
   * other blocks that led into it return to the run loop (the stub) until it is compiled again, and its own exit
   * slots are freed; once nothing references the module's functions V8 can collect it.
   */
  private evictFor(bytes: number): void {
    const s = this.stats;
    while (this.modules.size && (s.liveBytes + bytes > this.maxCodeBytes || this.modules.size + 1 > this.maxModules)) {
      let victim: CodeModule | undefined;
      for (const m of this.modules) if (!victim || m.used < victim.used) victim = m;
      for (const b of [...victim!.blocks]) {
        this.forget(b);
        b.compiled = undefined;
        b.hits = 0;
        s.evicted++;
      }
      s.evictedModules++;
    }
  }

  /** A module lost a block (dropped or evicted): the module leaves the cache with its last block. */
  private release(mod: CodeModule, block: Block): void {
    if (!mod.blocks.delete(block) || mod.blocks.size) return;
    if (this.modules.delete(mod)) {
      this.stats.liveModules--;
      this.stats.liveBytes -= mod.bytes;
    }
  }

  private prepare(block: Block): Prepared {
    const cpu = this.cpu;
    const mode = block.key % MODE_KEYS;
    const phys = Math.floor(block.key / MODE_KEYS);
    const page = phys - (phys % 4096);
    const rip = firstRip(block.prog);
    // Chaining in 64-bit mode only (linear address = RIP). A block whose last instruction continues on the next
    // page is entered through the check of both pages, as the run loop checks them.
    const chain = this.chaining && rip !== undefined && (mode & ModeBits.CODE_MASK) === 2;
    // (a block has one page, or two when its last instruction straddles them)
    const twoPages = block.pages.length === 2;
    const key = chainKey(mode, rip);
    const token = this.rt.allocToken(block);
    const gen: GenBlock = {
      prog: block.prog,
      opts: {
        stateBase: cpu.stateBase, mode, inlineTlb: this.inlineTlb,
        // an exit to itself loops inside the function (where a chain to itself would be allowed)
        loop: chain ? { lo: Number(rip! & 0xffffffffn) | 0, hi: Number(rip! >> 32n) | 0 } : undefined,
      },
      chain: chain
        ? { key, twoPages, check: { stateBase: cpu.stateBase, mode, rip: rip!, page, page2: twoPages ? block.pages[1]! * 4096 : undefined } }
        : undefined,
      token,
    };
    return { gen, out: [], wants: [], mode, key, rip: rip ?? 0n, page, twoPages, linkable: chain, token };
  }

  private install(block: Block, p: Prepared, c: Compiled, mod: CodeModule): void {
    const cpu = this.cpu;
    const rt = this.rt;
    this.stats.compiled++;
    const e: Entry = {
      fn: c.fn, mod, checked: c.checked, key: p.key, rip: p.rip, page: p.page, twoPages: p.twoPages, out: p.out, in: new Set(), token: p.token,
    };
    this.entries.set(block, e);
    if (p.linkable) {
      let set = this.byKey.get(e.key);
      if (!set) this.byKey.set(e.key, (set = new Set()));
      // Blocks at the same address from other pages (an older mapping, most likely): move their checked links
      // to the newest translation.
      for (const old of set) {
        for (const slot of old.in) if (!this.isDirect(slot, old)) this.linkSlot(slot, e);
      }
      set.add(e);
      const w = this.waiting.get(e.key);
      if (w) {
        this.waiting.delete(e.key);
        for (const s of w) this.linkSlot(s, e);
      }
    }
    for (const [slot, key] of p.wants) {
      const t = this.byKey.get(key);
      if (t && t.size) this.linkSlot(slot, this.pick(t, slot));
      else this.wait(slot, key);
    }
    const fn = c.fn;
    const jc = p.linkable && e.checked ? rt.jumpCache : undefined;
    const ripLo = Number(p.rip & 0xffffffffn) | 0;
    const ripHi = Number(p.rip >> 32n) | 0;
    const mode = block.key % MODE_KEYS;
    const checked = e.checked!;
    const stats = this.stats;
    block.compiled = () => {
      // the run loop found this block at its RIP: exits to a computed RIP will find it in the jump cache
      jc?.fill(ripLo, ripHi, mode, checked, e);
      stats.entries++;
      const base = cpu.icount;
      rt.base = base;
      mod.used = base;
      // chain only below the run loop's budget end, and not while something traces every block
      let limit = cpu.onBlock ? 0 : cpu.runEnd - base;
      if (!(limit > 0)) limit = 0;
      else if (limit > 0x3fffffff) limit = 0x3fffffff;
      rt.active = true;
      try {
        // Entered through the jump cache's one exported function when it can be: V8 gives a JS-to-wasm call a
        // fast wrapper only once the export it calls has been called often, which each block's own never is.
        // (It returns 0, having run nothing, if the entry's page check fails; a block always runs something.)
        const n = jc ? jc.fn(0, limit) : 0;
        cpu.icount = base + (n === 0 ? fn(0, limit) : n);
      } finally {
        rt.active = false;
      }
    };
  }

  /** Of several compiled blocks at one address (other mappings), the one on the slot's own page, else the newest. */
  private pick(set: Set<Entry>, slot: number): Entry {
    let last: Entry | undefined;
    for (const e of set) {
      if (this.isDirect(slot, e)) return e;
      last = e;
    }
    return last!;
  }

  /**
   * A target on the same linear and physical page as the exit's own block: the run loop validated that page when
   * it entered the chain, so the link needs no check. Other targets check their page mapping on entry.
   */
  private isDirect(slot: number, target: Entry): boolean {
    const s = this.slots[slot]!;
    return s.vpage === target.rip >> 12n && s.page === target.page && !target.twoPages;
  }

  private linkSlot(slot: number, target: Entry): void {
    const s = this.slots[slot]!;
    this.unlink(slot);
    s.table!.set(s.index, this.isDirect(slot, target) ? target.fn : target.checked!);
    s.target = target;
    target.in.add(slot);
    this.stats.links++;
  }

  /** Detaches a slot from its target or from the waiting list it is on (the table entry is left as is). */
  private unlink(slot: number): void {
    const s = this.slots[slot]!;
    s.target?.in.delete(slot);
    s.target = undefined;
    if (s.waitKey !== undefined) {
      const w = this.waiting.get(s.waitKey);
      if (w?.delete(slot) && !w.size) this.waiting.delete(s.waitKey);
      s.waitKey = undefined;
    }
  }

  private wait(slot: number, key: string): void {
    this.unlink(slot);
    const s = this.slots[slot]!;
    s.table?.set(s.index, this.rt.stub);
    let w = this.waiting.get(key);
    if (!w) this.waiting.set(key, (w = new Set()));
    w.add(slot);
    this.slots[slot]!.waitKey = key;
  }

  private freeSlot(slot: number): void {
    this.unlink(slot);
    const s = this.slots[slot]!;
    s.table?.set(s.index, this.rt.stub);
    if (s.missId !== undefined) this.missSlots.delete(s.missId);
    this.slots[slot] = undefined;
    this.rt.releaseSlot(slot);
  }

  /**
   * The indirect exit numbered `id` missed its prediction: link its slot to the block at hi:lo, if one is compiled.
   */
  private miss(id: number, lo: number, hi: number): number {
    this.stats.misses++;
    const slot = this.missSlots.get(id);
    const s = slot === undefined ? undefined : this.slots[slot];
    if (!s) return 0;
    const set = this.byKey.get(chainKey(s.mode, u64(lo, hi)));
    if (!set || !set.size) return 0;
    this.linkSlot(slot!, this.pick(set, slot!));
    return 1;
  }

  /** The block compiled code is running now and the instruction that called out (see JitRuntime.where). */
  locate(): { block: Block; index: number } | undefined {
    return this.rt.locate();
  }

  dropped(block: Block): void {
    this.pending.delete(block);
    const f = this.flightOf.get(block);
    if (f) {
      f.cancelled = true;
      this.flightOf.delete(block);
    }
    if (this.forget(block)) this.stats.dropped++;
  }

  /** Unlinks a compiled block from everything (see dropped); false if it was not compiled. */
  private forget(block: Block): boolean {
    const e = this.entries.get(block);
    if (!e) return false;
    this.entries.delete(block);
    this.rt.jumpCache?.clear(Number(e.rip & 0xffffffffn) | 0, e);
    this.rt.releaseToken(e.token);
    this.release(e.mod, block);
    const set = this.byKey.get(e.key);
    set?.delete(e);
    if (set && !set.size) this.byKey.delete(e.key);
    // exits of other blocks that led here: to another block at this address, or back to the stub to wait
    for (const slot of [...e.in]) {
      if (set && set.size) this.linkSlot(slot, this.pick(set, slot));
      else this.wait(slot, e.key);
    }
    // this block's own exits: free them
    for (const slot of e.out) this.freeSlot(slot);
    // blocks that call this one directly would reach it and its freed slots: they go back to the interpreter
    if (e.directIn) {
      for (const b of e.directIn) {
        if (this.forget(b)) {
          b.compiled = undefined;
          b.hits = 0;
        }
      }
    }
    return true;
  }

  /**
   * Consistency check for the tests: every compiled block belongs to a live module, and every link slot in use
   * holds either the stub or a live block's function, the one its bookkeeping says. Returns the problems found.
   */
  checkInvariants(): string[] {
    const bad: string[] = [];
    const live = new Set<Entry>(this.entries.values());
    for (const [b, e] of this.entries) {
      if (!this.modules.has(e.mod) || !e.mod.blocks.has(b)) bad.push(`block ${e.key}: module not live`);
      if (!b.compiled) bad.push(`block ${e.key}: no runner`);
      for (const t of e.directOut ?? []) if (!this.entries.has(t)) bad.push(`block ${e.key}: calls a block that is gone`);
    }
    let bytes = 0;
    for (const m of this.modules) bytes += m.bytes;
    if (bytes !== this.stats.liveBytes) bad.push(`liveBytes ${this.stats.liveBytes} != ${bytes}`);
    this.slots.forEach((s, slot) => {
      if (!s) return;
      const f = (s.table ? s.table.get(s.index) : this.rt.stub) as unknown;
      if (s.target) {
        if (!live.has(s.target)) bad.push(`slot ${slot}: links to a block that is gone`);
        else if (f !== s.target.fn && f !== s.target.checked) bad.push(`slot ${slot}: table entry is not its target`);
      } else if (f !== this.rt.stub) bad.push(`slot ${slot}: unlinked but not the stub`);
    });
    return bad;
  }
}

/** Plugs the JIT into a CPU (threshold 0: compile every block before its first run). */
export function enableJit(cpu: Cpu, opts: JitOptions = {}): Jit {
  const jit = new Jit(cpu, opts);
  cpu.jit = jit;
  return jit;
}

/** Unplugs the JIT; blocks already compiled keep their compiled code until dropped. */
export function disableJit(cpu: Cpu): void {
  cpu.jit = undefined;
  cpu.flushTranslations();
}
