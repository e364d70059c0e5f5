// IR program -> one WebAssembly function `(n: i32, limit: i32) -> i32` that runs the program to its exit exactly
// like interpret() does: same state-block effects, same helper calls, same guest memory accesses, same faults.
// `n` is the number of instructions retired before the call (earlier blocks of a chain); the result is n plus the
// instructions retired since. Every import call passes the count so far as its first argument, so a fault or a
// helper sees the same instruction count the interpreter would have.
//
// Assumptions (shared with the interpreter's block cache): the mode word does not change inside a block (an
// instruction that changes it ends the block), and the memory slow path (cpu.read/write, MMIO devices) changes no
// state-block field other than CR2 when it raises #PF.
//
// Mapping:
// - temps -> wasm locals of their width, few of them: a temp used once (a constant: any number of times) by an op
//   that reads it as a plain operand is not stored at all, its expression is emitted at the use (a state load too,
//   while its slot keeps its value); the others share locals (a temp is dead after its last use in program order).
//   V8's baseline compiler (Liftoff) zeroes every local at each call: measured here, a call of a function with 4
//   i64 locals costs ~3 ns, with 6-12 ~7 ns, with 16 or more 15-20 ns, more than many blocks take to run;
//   calls out of wasm (memory slow paths, helpers) go through the module's table (see CodegenEnv);
// - state-block fields the program reads (GPRs, lazy flags ...) -> i64 locals, one per 8-byte slot, loaded at
//   entry and written back at exits and before anything that may observe memory (helper calls, the memory slow
//   path, raises). Fields it only writes are stored directly (after dead-store elimination, opt.ts);
// - RIP: stored at exits and before observers (the INSN op's address), not at every instruction;
// - labels -> nested wasm blocks (IR branches only go forward). The instruction count and RIP stay static: a
//   label's count is its first edge's, an edge with another count (superblock paths that skip instructions) adds
//   the difference to the base `n` on its way, and where edges come from different instructions each edge stores
//   its RIP if something may need it before the next instruction;
// - stores and computations only slow paths need (opt.ts: Analysis.fast) are left out of the fast path: each
//   memory access's slow path stores them (the state a fault or a device sees), anything else that could observe
//   them gets them stored first (the `pending` list);
// - ldm/stm in 64-bit mode -> an inline software-TLB lookup (mmu.ts layout) with a call to the CPU's read/write
//   methods on a miss, a page crossing or a non-canonical address; in other modes always the call for now;
// - chaining: an exit to a known RIP may tail-call the next block through a table slot (env.link) when the
//   instruction budget allows (`limit`, the second parameter) and, if the block called out of wasm, JS did not ask
//   for the run loop (the CHAIN_BREAK word: a stop request, an interrupt, a mode or paging change ...);
// - an exit to the block's own start (opts.loop) branches back to the top of a wasm loop under the same
//   conditions, keeping guest state in locals.
import type { Program } from '../cpu/ir/builder.ts';
import { A, Cond, OPS, Op } from '../cpu/ir/ops.ts';
import * as L from '../cpu/layout.ts';
import { ModeBits } from '../cpu/mode.ts';
import { TLB_ENTRIES, TLB_ENTRY, TLB_OFFSET } from '../cpu/mmu.ts';
import {
  analyse, isLoadState, isPure, isStoreState, observesAll, segBase, sourceArgs, stateAccessOffset, stateAccessSize,
  type Analysis,
} from './opt.ts';
import { Code, Ty, VOID, W } from './wasm.ts';
import { type Scratch, releaseScratch, takeScratch } from './scratch.ts';

/**
 * A function the generated code calls through table 0: its table index and the type index of its signature
 * (allocated by the caller on first use).
 */
export interface Callee {
  index: number;
  type: number;
}

/** What the code generator calls out to; each is a Callee (see above). */
export interface CodegenEnv {
  /** (n, size, seg, addr i64, forWrite, rip i64) -> i32: stores RIP, cpu.read (mem-wasm.ts) */
  read(): Callee;
  /** (n, seg, addr i64, forWrite, rip i64) -> i64: stores RIP, cpu.read64 */
  read64(): Callee;
  /** (n, size, seg, addr i64, v i32, rip i64): stores RIP, cpu.write */
  write(): Callee;
  /** (n, seg, addr i64, v i64, rip i64): stores RIP, cpu.write64 */
  write64(): Callee;
  /** (n, vector, errorCode): cpu.raise, never returns */
  raise(): Callee;
  /** (n, ...args) -> result: helper `h` with these argument widths and result width (0: none). */
  helper(h: number, args: (32 | 64)[], result: 0 | 32 | 64): Callee;
  /**
   * Chaining: a table slot through which an exit to the known RIP (lo, hi) may tail-call the next block's
   * function, or -1. Slots are in the module's imported table 0; `blockType` is the type index of block functions.
   */
  link?(lo: number, hi: number): number;
  blockType?(): number;
  /**
   * Chaining to a block compiled into the same module, on the same linear and physical page, by a direct
   * `return_call` (cheaper than the table): a token naming that function, or -1 (then `link` is asked). The call's
   * function index is not known yet: the code has a 5-byte LEB128 placeholder, listed in `directCalls` (offset in
   * the body, token) for the module builder to patch.
   */
  direct?(lo: number, hi: number): number;
  /**
   * Chaining through an exit to a computed RIP: a table slot for this exit (`slot`: its index in table 0; its number
   * for the miss handler is the value of the immutable i32 global `idBase` plus `id`), the function index of the
   * miss handler `(number, lo, hi) -> 1 if it linked the slot to the block at hi:lo, else 0`, a new mutable i64
   * global for the predicted target (initially non-canonical, so it never matches), a new mutable i32 global
   * counting the handler's calls (asked at most `maxTries` times), and the function index of the jump cache
   * `(n, limit) -> n` (jump-cache.ts; -1: none). Undefined: no chaining.
   */
  linkIndirect?():
    | {
        slot: number; id: number; idBase: number; miss: Callee; pred: number; tries: number; maxTries: number;
        jumpCache?: Callee;
      }
    | undefined;
  /**
   * Helper `h` is implemented in wasm (same semantics, compiled from its IR): calling it does not leave wasm in
   * normal operation, so it does not stop chaining. It may still read and write the state block.
   */
  helperInWasm?(h: number, args: (32 | 64)[], result: 0 | 32 | 64): boolean;
  /**
   * Where compiled code is, for the self-modifying-code check (Cpu.codeWritten): before each call that may write
   * guest memory (the store slow path, helpers), the code sets this mutable i32 global to `token * 256 + the
   * index of the instruction in the program` (in program order, from 0).
   */
  where?: { global: number; token: number };
}

export interface CodegenOptions {
  stateBase: number;
  /** The mode word the block was translated for (its cache key's low bits). */
  mode: number;
  /** Inline the software-TLB fast path for guest memory (default true). */
  inlineTlb?: boolean;
  /**
   * The program is a helper's body, not a block: its exits return without storing RIP (the JS helper restores RIP
   * after interpreting it, so it leaves RIP unchanged).
   */
  helperMode?: boolean;
  /**
   * The program's own first RIP, when an exit back to it may loop inside the function (the compiler allows it
   * exactly when it would allow chaining to the block itself): such an exit branches back to the top, keeping
   * guest state in locals, while the budget allows and nothing asked for the run loop, like a chain would.
   */
  loop?: { lo: number; hi: number };
}

export interface GeneratedFunction {
  params: Ty[];
  results: Ty[];
  locals: [number, Ty][];
  body: Uint8Array;
  /** Direct calls to patch (see CodegenEnv.direct): [offset of the 5-byte function index in body, token]. */
  directCalls: [number, number][];
  /** Branch hints for ModuleBuilder.func: (offset in body of an `if`, 1 likely / 0 unlikely) pairs. */
  hints: number[];
}

const CMP32 = [W.i32_eq, W.i32_ne, W.i32_lt_u, W.i32_le_u, W.i32_gt_u, W.i32_ge_u, W.i32_lt_s, W.i32_le_s, W.i32_gt_s, W.i32_ge_s];
const CMP64 = [W.i64_eq, W.i64_ne, W.i64_lt_u, W.i64_le_u, W.i64_gt_u, W.i64_ge_u, W.i64_lt_s, W.i64_le_s, W.i64_gt_s, W.i64_ge_s];
if (CMP32.length !== Cond.GES + 1) throw new Error('codegen: condition table out of date');

/** Simple binary ops: IR op -> wasm opcode. */
const BIN: [number, number][] = [
  [Op.ADD32, W.i32_add], [Op.SUB32, W.i32_sub], [Op.MUL32, W.i32_mul], [Op.AND32, W.i32_and], [Op.OR32, W.i32_or],
  [Op.XOR32, W.i32_xor], [Op.SHL32, W.i32_shl], [Op.SHR32, W.i32_shr_u], [Op.SAR32, W.i32_shr_s],
  [Op.ROTL32, W.i32_rotl], [Op.ROTR32, W.i32_rotr],
  [Op.ADD64, W.i64_add], [Op.SUB64, W.i64_sub], [Op.MUL64, W.i64_mul], [Op.AND64, W.i64_and], [Op.OR64, W.i64_or],
  [Op.XOR64, W.i64_xor], [Op.SHL64, W.i64_shl], [Op.SHR64, W.i64_shr_u], [Op.SAR64, W.i64_shr_s],
  [Op.ROTL64, W.i64_rotl], [Op.ROTR64, W.i64_rotr],
];
/** Simple unary ops. */
const UN: [number, number[]][] = [
  [Op.CLZ32, [W.i32_clz]], [Op.CTZ32, [W.i32_ctz]], [Op.POPCNT32, [W.i32_popcnt]],
  [Op.CLZ64, [W.i64_clz]], [Op.CTZ64, [W.i64_ctz]], [Op.POPCNT64, [W.i64_popcnt]],
  [Op.SEXT8, [W.i32_extend8_s]], [Op.SEXT16, [W.i32_extend16_s]],
  [Op.ZEXT32TO64, [W.i64_extend_i32_u]], [Op.SEXT32TO64, [W.i64_extend_i32_s]], [Op.LO32, [W.i32_wrap_i64]],
  [Op.MOV32, []], [Op.MOV64, []],
];

const SLOTS = L.STATE_SIZE >> 3;
const RIP_SLOT = L.RIP >> 3;
const OP_LABEL = Op.LABEL;
const OP_INSN = Op.INSN;
/** Instructions an in-function loop runs before it re-enters itself through a chain (see Gen.loopBack). */
const LOOP_INSNS = 16384;
const PARAM_N = 0;
const PARAM_LIMIT = 1;

type OpGen = (g: Gen, o: number, pc: number, a1: number, a2: number, a3: number) => void;
let GEN: (OpGen | undefined)[] = [];

/**
 * Value ops that are one wasm expression over their sources, each source read once (Gen.use): pushes the value.
 * A result of one of these used once, by an op that reads it through use() in program order, is not given a local:
 * its expression is emitted where it is used (Gen.inlined), and so are constants, at every use.
 */
const EXPR: (OpGen | undefined)[] = new Array(OPS.length);
{
  const set = (ops: number[], f: OpGen) => ops.forEach((o) => (EXPR[o] = f));
  for (const [o, w] of BIN) {
    EXPR[o] = (g, _o, _pc, _d, a, b) => {
      g.use(a);
      g.use(b);
      g.c.op(w);
    };
  }
  for (const [o, ws] of UN) {
    EXPR[o] = (g, _o, _pc, _d, a) => {
      g.use(a);
      for (const w of ws) g.c.op(w);
    };
  }
  set([Op.MOVI32], (g, _o, _pc, _d, v) => g.c.i32(v));
  set([Op.MOVI64], (g, _o, _pc, _d, lo, hi) => g.c.i64(lo, hi));
  const un = (pre: (g: Gen) => void, post: (g: Gen) => void): OpGen => (g, _o, _pc, _d, a) => {
    pre(g);
    g.use(a);
    post(g);
  };
  const none = () => {};
  set([Op.NEG32], un((g) => g.c.i32(0), (g) => g.c.op(W.i32_sub)));
  set([Op.NOT32], un(none, (g) => g.c.i32(-1).op(W.i32_xor)));
  set([Op.NEG64], un((g) => g.c.i64(0, 0), (g) => g.c.op(W.i64_sub)));
  set([Op.NOT64], un(none, (g) => g.c.i64(-1, -1).op(W.i64_xor)));
  set([Op.ZEXT8], un(none, (g) => g.c.i32(0xff).op(W.i32_and)));
  set([Op.ZEXT16], un(none, (g) => g.c.i32(0xffff).op(W.i32_and)));
  set([Op.HI32], un(none, (g) => g.c.i64(32, 0).op(W.i64_shr_u).op(W.i32_wrap_i64)));
  set([Op.PAIR64], (g, _o, _pc, _d, lo, hi) => {
    g.use(lo);
    g.c.op(W.i64_extend_i32_u);
    g.use(hi);
    g.c.op(W.i64_extend_i32_u).i64(32, 0).op(W.i64_shl).op(W.i64_or);
  });
  set([Op.MULU32W, Op.MULS32W], (g, o, _pc, _d, a, b) => {
    const ext = o === Op.MULU32W ? W.i64_extend_i32_u : W.i64_extend_i32_s;
    g.use(a);
    g.c.op(ext);
    g.use(b);
    g.c.op(ext).op(W.i64_mul);
  });
  set([Op.SETCC32, Op.SETCC64], (g, o, pc, _d, cond, a) => {
    const w = (o === Op.SETCC32 ? CMP32 : CMP64)[cond];
    if (w === undefined) throw new Error(`codegen: bad condition ${cond}`);
    g.use(a);
    g.use(g.code[pc + 4]!);
    g.c.op(w);
  });
  set([Op.SELECT32, Op.SELECT64], (g, _o, pc, _d, cond, a) => {
    g.use(a);
    g.use(g.code[pc + 4]!);
    g.use(cond);
    g.c.op(W.select);
  });
}
/** Ops that read each source through Gen.use, once, in straight-line code: the EXPR ops, state stores, branches. */
const USES = new Uint8Array(OPS.length);
EXPR.forEach((f, o) => f && (USES[o] = 1));
for (const o of [Op.ST8, Op.ST16, Op.ST32, Op.ST64, Op.BRNZ, Op.BRZ]) USES[o] = 1;

/**
 * Per label: the edges into it, and whether it is reached from different instructions (edges after different INSN
 * ops) where something may need RIP before the next INSN (mixed: there every edge stores its RIP).
 */
function labelFacts(p: Program, a: Analysis, scratch: Scratch): { mixed: Uint8Array; edges: Int32Array } {
  const code = p.code;
  const { starts } = a;
  const mixed = scratch.u8(p.labels);
  const edges = scratch.i32(p.labels);
  const from = new Float64Array(p.labels).fill(NaN); // index of the INSN before the first edge
  let insn = -1;
  let reachable = true;
  const edge = (l: number) => {
    edges[l]!++;
    if (Number.isNaN(from[l]!)) from[l] = insn;
    else if (from[l] !== insn) mixed[l] = 1;
  };
  for (let i = 0; i < starts.length; i++) {
    const pc = starts[i]!;
    const o = code[pc]!;
    if (o === Op.LABEL) {
      const l = code[pc + 1]!;
      if (reachable) edge(l);
      reachable = true;
      // after a label with edges from different instructions, the RIP is "this label's" (another label's differs)
      insn = mixed[l] ? -2 - l : from[l]!;
      continue;
    }
    if (o === Op.INSN) insn = i;
    else if (o === Op.BR) {
      edge(code[pc + 1]!);
      reachable = false;
    } else if (o === Op.BRNZ || o === Op.BRZ) edge(code[pc + 2]!);
    else if (o === Op.EXIT || o === Op.EXITI || o === Op.RAISE) reachable = false;
  }
  // only where RIP may be needed before the next instruction: not if an instruction or an exit comes first
  for (let l = 0; l < p.labels; l++) {
    let pc = p.labelAt[l]!;
    if (!mixed[l] || pc < 0) continue;
    while (pc < code.length && code[pc] === Op.LABEL) pc += 2;
    const o = pc < code.length ? code[pc] : Op.EXIT;
    if (o === Op.INSN || o === Op.EXIT || o === Op.EXITI) mixed[l] = 0;
  }
  return { mixed, edges };
}

export function generate(p: Program, env: CodegenEnv, opts: CodegenOptions): GeneratedFunction {
  const scratch = takeScratch();
  try {
    return new Gen(p, env, opts, scratch).run();
  } finally {
    releaseScratch(scratch);
  }
}

/** Ops the generator handles (the tests check this against ops.ts, so a new op cannot be forgotten). */
export function handledOps(): Set<number> {
  return new Set(GEN.flatMap((f, o) => (f ? [o] : [])));
}

interface LabelIn {
  reached: boolean;
  dirty: Uint8Array;
  count: number;
  ripLo: number;
  ripHi: number;
  ripInMemory: boolean;
  /** Deferred stores still pending on the (single) edge to this label. */
  pending: Pending[];
}

/** A live state store deferred to slow paths (Analysis.fast): the ST op at `pc`, writing `size` bytes at `off`. */
interface Pending {
  pc: number;
  off: number;
  size: number;
}

class Gen {
  readonly c: Code;
  readonly code: Int32Array;
  private readonly a: Analysis;
  private readonly sb: number;
  private readonly flat64: boolean;
  private readonly helperMode: boolean;
  private readonly tlb: number; // memory offset of this privilege's TLB table
  private localTypes: Ty[] = [Ty.I32, Ty.I32]; // the parameters n and limit
  private readonly tempLocal: Int32Array;
  /**
   * Local sharing: a temp whose definition and uses are all emitted in program order (none deferred to slow
   * paths) is dead after its last use, so its local goes back to a pool for later temps of its type. Per op
   * index, the first temp that dies there (a list through `nextDying`); `shared`: the temp's local is pooled.
   */
  private readonly dyingAt: Int32Array;
  private readonly nextDying: Int32Array;
  private readonly shared: Uint8Array;
  /** Per temp: 1 if its value is not kept in a local but emitted where it is used (see EXPR). */
  readonly inlined: Uint8Array;
  private readonly freeLocals: [number[], number[]] = [[], []]; // i32, i64
  /**
   * Temps computed only on slow paths (compute) live within one emission scope: their locals come from pools of
   * their own, all returned when a new scope begins.
   */
  private readonly slowFree: [number[], number[]] = [[], []];
  private slowTaken: number[] = [];
  private readonly slotLocal: Int32Array;
  private readonly cached: number[] = [];
  private dirty: Uint8Array;
  private readonly scratch = new Map<string, number>();
  /** Labels in order of position; `closed` of them have had their block ended. */
  private readonly order: number[];
  private readonly rank: Int32Array;
  private closed = 0;
  private readonly labelIn: (LabelIn | undefined)[];
  private reachable = true;
  private count = 0; // instructions started so far (on top of the base PARAM_N)
  private ripLo = 0;
  private ripHi = 0;
  private chaining = false; // exits may chain (env.link)
  private ordinal = -1; // index of the current instruction in program order
  /** Per label: 1 if edges come from different instructions (their RIPs differ) and RIP may be needed before the next one. */
  private readonly ripMixed: Uint8Array;
  private ripInMemory = false; // RIP in the state block is the current instruction's (no store needed at sync)
  /** Edges into each label (branches, and the fall-through if reachable). */
  private readonly edgesIn: Int32Array;
  /**
   * Live state stores the fast path leaves out (Analysis.fast), not yet overwritten: each slow path of a guest
   * memory access stores them (the state a fault or device sees), and anything else that could observe them gets
   * them stored first. Their bytes are disjoint (a store that overlaps one partially stores it first).
   */
  private pending: Pending[] = [];
  /** Per temp: the pc of its defining op, and whether the fast path computes it. */
  private readonly defPc: Int32Array;
  private readonly onFastPath: Uint8Array;
  /** Per temp: the emission scope that last computed it (ops the fast path leaves out are computed per scope). */
  private readonly availIn: Int32Array;
  private scope = 0;
  private readonly loopRip?: { lo: number; hi: number };
  private looping = false; // the body is inside a wasm loop (some exit goes back to the top)
  private loopEnd = -1; // the count (PARAM_N based) at which the loop stops going round: min(limit, entry + LOOP_INSNS)
  /** A call out to JS was emitted (so on any path to what comes after it in the code, JS may have set CHAIN_BREAK). */
  private calledJs = false;

  constructor(private readonly p: Program, private readonly env: CodegenEnv, opts: CodegenOptions, scratch: Scratch) {
    this.code = p.code;
    this.slotLocal = scratch.i32(SLOTS, -1);
    this.c = new Code(scratch.bytes(16384));
    this.sb = opts.stateBase;
    this.helperMode = opts.helperMode ?? false;
    this.loopRip = opts.loop;
    this.a = analyse(p, L.RIP, opts.helperMode ? undefined : opts.loop, scratch);
    // (with alignment checks on, every access goes through the CPU's memory path, which checks them)
    this.flat64 = (opts.inlineTlb ?? true) && (opts.mode & ModeBits.CODE_MASK) === 2 && (opts.mode & ModeBits.LMA) !== 0 &&
      !(opts.mode & ModeBits.AC);
    const user = (opts.mode & ModeBits.CPL_MASK) === 3 << ModeBits.CPL_SHIFT;
    this.tlb = this.sb + TLB_OFFSET + (user ? TLB_ENTRIES * TLB_ENTRY : 0);
    this.tempLocal = scratch.i32(p.widths.length, -1);
    this.order = [];
    for (let l = 0; l < p.labels; l++) if (p.labelAt[l]! >= 0) this.order.push(l);
    this.order.sort((x, y) => p.labelAt[x]! - p.labelAt[y]!);
    this.rank = scratch.i32(p.labels, -1);
    this.order.forEach((l, i) => (this.rank[l] = i));
    this.labelIn = new Array(p.labels);
    const facts = labelFacts(p, this.a, scratch);
    this.ripMixed = facts.mixed;
    this.edgesIn = facts.edges;
    this.defPc = scratch.i32(p.widths.length, -1);
    this.onFastPath = scratch.u8(p.widths.length);
    this.availIn = scratch.i32(p.widths.length, -1);
    {
      const { starts, live, fast } = this.a;
      for (let i = 0; i < starts.length; i++) {
        const pc = starts[i]!;
        const o = this.code[pc]!;
        const d = this.code[pc + 1]!;
        const k = OPS[o]!.args[0];
        if (o === Op.CALL ? d < 0 : k !== 0 && k !== 1) continue; // no result temp (A.D32, A.D64)
        this.defPc[d] = pc;
        if (live[i] && (fast[i] || !isPure(o))) this.onFastPath[d] = 1;
      }
    }
    this.dyingAt = scratch.i32(this.a.starts.length, -1);
    this.nextDying = scratch.i32(p.widths.length, -1);
    this.shared = scratch.u8(p.widths.length);
    this.inlined = scratch.u8(p.widths.length);
    this.chooseSlots(scratch);
    this.planLocals(scratch);
    this.dirty = new Uint8Array(this.cached.length);
    this.chaining = env.link !== undefined;
  }

  private local(ty: Ty): number {
    this.localTypes.push(ty);
    return this.localTypes.length - 1;
  }

  private scratchLocal(name: string, ty: Ty): number {
    let l = this.scratch.get(name);
    if (l === undefined) this.scratch.set(name, (l = this.local(ty)));
    return l;
  }

  private t(temp: number): number {
    let l = this.tempLocal[temp]!;
    if (l < 0) {
      if (this.inlined[temp]) throw new Error(`codegen: temp ${temp} is inlined, it has no local`);
      const wide = this.p.widths[temp] === 64;
      const slow = !this.onFastPath[temp];
      if (slow) this.slowTaken.push(temp);
      const pool = slow ? this.slowFree[wide ? 1 : 0] : this.shared[temp] ? this.freeLocals[wide ? 1 : 0] : undefined;
      l = this.tempLocal[temp] = pool?.pop() ?? this.local(wide ? Ty.I64 : Ty.I32);
    }
    return l;
  }

  /** Pushes the value of `temp`: its local, or its expression if it is inlined. */
  use(temp: number): void {
    if (!this.inlined[temp]) {
      this.c.get(this.t(temp));
      return;
    }
    const pc = this.defPc[temp]!;
    const o = this.code[pc]!;
    if (isLoadState(o)) {
      const size = stateAccessSize(o);
      this.ldStateValue(stateAccessOffset(this.code[pc + 2]!, size), size);
    } else EXPR[o]!(this, o, pc, this.code[pc + 1]!, this.code[pc + 2]!, this.code[pc + 3]!);
  }

  /**
   * Decides which temps are inlined (EXPR) and which share locals, and where each shared one dies (dyingAt).
   * Program order is a valid order of execution (branches only go forward), so a temp is live exactly from its
   * definition to its last use; an inlined temp's sources are read where it is used.
   */
  private planLocals(scratch: Scratch): void {
    const { starts, live, fast } = this.a;
    const code = this.code;
    const n = this.p.widths.length;
    const fastUses = scratch.u8(n); // uses through use() in program order, saturating at 2
    const slowUses = scratch.u8(n); // uses through use() by deferred ops (computed on slow paths), saturating at 2
    const other = scratch.u8(n); // read otherwise (by ops that take the local itself)
    const user = scratch.i32(n, -1); // the op index of the last in-order use through use()
    const inOrder = (i: number, o: number) => fast[i] === 1 || !(isPure(o) || isStoreState(o));
    const result = (pc: number, o: number) => {
      const k0 = OPS[o]!.args[0];
      return o === Op.CALL ? code[pc + 1]! : k0 === A.D32 || k0 === A.D64 ? code[pc + 1]! : -1;
    };
    for (let i = 0; i < starts.length; i++) {
      if (!live[i]) continue;
      const pc = starts[i]!;
      const o = code[pc]!;
      const ordered = inOrder(i, o);
      const counts = USES[o] === 1 ? (ordered ? fastUses : slowUses) : other;
      for (const k of sourceArgs(o)) {
        const t = code[pc + k]!;
        if (t < 0) continue;
        if (counts[t]! < 2) counts[t]!++;
        if (counts === fastUses) user[t] = i;
      }
    }
    // A value computed on the fast path is inlined into its one use there; one computed only on slow paths (flags
    // for a deferred store) into its one use there; a constant into all its uses of either kind.
    for (let i = 0; i < starts.length; i++) {
      if (!live[i]) continue;
      const pc = starts[i]!;
      const o = code[pc]!;
      const d = result(pc, o);
      if (d >= 0 && isLoadState(o) && !other[d] && slowUses[d] === 0 && fastUses[d] === 1) {
        this.inlined[d] = 1; // (if the slot keeps its value until it is read: checked below)
        continue;
      }
      if (d < 0 || !EXPR[o] || other[d]) continue;
      const constant = o === Op.MOVI32 || o === Op.MOVI64;
      const fastDef = this.onFastPath[d] === 1 && inOrder(i, o);
      const ok = constant ? fastDef || !this.onFastPath[d]
        : fastDef ? slowUses[d] === 0 && fastUses[d] === 1
        : !this.onFastPath[d] && fastUses[d] === 0 && slowUses[d] === 1;
      if (ok && fastUses[d]! + slowUses[d]! > 0) this.inlined[d] = 1;
    }
    // An inlined load reads its slot where the expression it is inlined into (and so on) is finally emitted.
    for (let i = 0; i < starts.length; i++) {
      const pc = starts[i]!;
      const d = code[pc + 1]!;
      if (!live[i] || !isLoadState(code[pc]!) || !this.inlined[d]) continue;
      let j = user[d]!;
      for (let e = result(starts[j]!, code[starts[j]!]!); e >= 0 && this.inlined[e]; e = result(starts[j]!, code[starts[j]!]!)) {
        j = user[e]!;
      }
      if (!this.loadStaysValid(i, j)) this.inlined[d] = 0;
    }
    const last = scratch.i32(n, -1);
    const bad = scratch.u8(n);
    // A read of temp t at op index i (through the sources of inlined temps, read where those are used); i < 0: a
    // read at a time program order does not tell (t is then never shared).
    const read = (t: number, i: number): void => {
      if (!this.inlined[t]) {
        if (i < 0) bad[t] = 1;
        else if (bad[t] === 0) last[t] = i;
        return;
      }
      const pc = this.defPc[t]!;
      for (const k of sourceArgs(code[pc]!)) read(code[pc + k]!, i);
    };
    for (let i = 0; i < starts.length; i++) {
      if (!live[i]) continue;
      const pc = starts[i]!;
      const o = code[pc]!;
      const ordered = inOrder(i, o);
      const d = result(pc, o);
      if (d >= 0 && this.inlined[d]) continue; // its sources are read where it is used
      for (const k of sourceArgs(o)) {
        const t = code[pc + k]!;
        if (t < 0) continue;
        read(t, ordered ? i : -1);
      }
      if (d < 0) continue;
      if (!ordered) bad[d] = 1;
      else if (last[d] < i) last[d] = i; // (never used: dies where it is defined)
    }
    for (let t = 1; t < n; t++) {
      const i = last[t]!;
      if (bad[t] || i < 0 || !this.onFastPath[t] || this.inlined[t]) continue;
      this.shared[t] = 1;
      this.nextDying[t] = this.dyingAt[i]!;
      this.dyingAt[i] = t;
    }
  }

  /**
   * The state load at op index `i` reads a cached slot, and the slot local holds the same value at op index `j`:
   * no store to the slot (emitted in order or deferred) and no helper call (it reloads the slots) comes between.
   */
  private loadStaysValid(i: number, j: number): boolean {
    const { starts, live } = this.a;
    const code = this.code;
    const pc = starts[i]!;
    const size = stateAccessSize(code[pc]!);
    const off = stateAccessOffset(code[pc + 2]!, size);
    if (off < 0 || off + size > L.STATE_SIZE || this.slotLocal[off >> 3]! < 0) return false;
    const slot = off >> 3;
    for (let k = i + 1; k < j; k++) {
      if (!live[k]) continue;
      const o = code[starts[k]!]!;
      if (o === Op.CALL) return false;
      if (isStoreState(o)) {
        const sz = stateAccessSize(o);
        const so = stateAccessOffset(code[starts[k]! + 1]!, sz);
        if (so >> 3 <= slot && slot <= (so + sz - 1) >> 3) return false;
      }
    }
    return true;
  }

  /** After op `i` is emitted: the locals of the temps that die there go back to their pools. */
  private release(i: number): void {
    for (let t = this.dyingAt[i]!; t >= 0; t = this.nextDying[t]!) {
      const l = this.tempLocal[t]!;
      if (l >= 0) this.freeLocals[this.p.widths[t] === 64 ? 1 : 0].push(l);
    }
  }

  /** Slots read by a live op and never accessed across a slot boundary get a local. */
  private chooseSlots(scratch: Scratch): void {
    const { starts, live } = this.a;
    const read = scratch.u8(SLOTS);
    const bad = scratch.u8(SLOTS);
    for (let i = 0; i < starts.length; i++) {
      if (!live[i]) continue;
      const pc = starts[i]!;
      const o = this.code[pc]!;
      const size = stateAccessSize(o);
      if (!size) continue;
      const off = stateAccessOffset(this.code[pc + (isLoadState(o) ? 2 : 1)]!, size);
      if (off < 0 || off + size > L.STATE_SIZE) continue;
      const s = off >> 3;
      if ((off + size - 1) >> 3 !== s) {
        bad[s] = 1;
        bad[(off + size - 1) >> 3] = 1;
      } else if (isLoadState(o)) read[s] = 1;
    }
    for (let s = 0; s < SLOTS; s++) {
      if (read[s] && !bad[s] && s !== RIP_SLOT) {
        this.slotLocal[s] = this.local(Ty.I64);
        this.cached.push(s);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------------

  run(): GeneratedFunction {
    const c = this.c;
    const { starts, live, fast } = this.a;
    this.reloadSlots();
    if (this.loopRip && this.chaining && !this.helperMode && this.selfExits()) {
      // Slots stored anywhere in the body may be dirty when the top is reached again.
      this.looping = true;
      for (let i = 0; i < starts.length; i++) {
        const pc = starts[i]!;
        const o = this.code[pc]!;
        const size = stateAccessSize(o);
        if (!live[i] || !size || isLoadState(o)) continue;
        const off = stateAccessOffset(this.code[pc + 1]!, size);
        const k = this.cached.indexOf(off >> 3);
        if (k >= 0) this.dirty[k] = 1;
      }
      this.loopEnd = this.local(Ty.I32);
      // loopEnd = min(n + LOOP_INSNS, limit)
      c.get(PARAM_N).i32(LOOP_INSNS).op(W.i32_add).tee(this.loopEnd).get(PARAM_LIMIT);
      c.get(this.loopEnd).get(PARAM_LIMIT).op(W.i32_lt_u).op(W.select).set(this.loopEnd);
      c.op(W.loop).byte(VOID);
    }
    for (let i = this.order.length - 1; i >= 0; i--) c.op(W.block).byte(VOID);
    for (let i = 0; i < starts.length; i++) {
      const pc = starts[i]!;
      const o = this.code[pc]!;
      if (o === OP_LABEL) {
        this.label(this.code[pc + 1]!);
        continue;
      }
      if (o === OP_INSN) this.ordinal++;
      if (!this.reachable) continue;
      const size = stateAccessSize(o);
      if (!live[i]) {
        // A dead store still overwrites what is pending (nothing can observe those bytes until they are stored
        // again: it would not be dead otherwise).
        if (size && this.pending.length && isStoreState(o)) this.touchPending(stateAccessOffset(this.code[pc + 1]!, size), size, true);
        continue;
      }
      if (!fast[i] && (isPure(o) || isStoreState(o))) {
        // needed on slow paths only: computed there (pure ops) or stored there (stores)
        if (size) {
          const off = stateAccessOffset(this.code[pc + 1]!, size);
          this.touchPending(off, size, true);
          this.pending.push({ pc, off, size });
        }
        continue;
      }
      if (size && this.pending.length) {
        const st = isStoreState(o);
        this.touchPending(stateAccessOffset(this.code[pc + (st ? 1 : 2)]!, size), size, st);
      } else if (this.pending.length && observesAll(o)) this.storePending();
      this.op(o, pc);
      this.release(i);
    }
    if (this.reachable) {
      // Falling off the end (the interpreter returns without writing RIP).
      this.storePending();
      this.flush();
      this.pushCount();
      c.op(W.return_);
    }
    if (this.looping) c.op(W.end).op(W.unreachable);
    c.op(W.end);
    // Local declarations (after the parameters), as runs of one type.
    const locals: [number, Ty][] = [];
    for (let i = 2; i < this.localTypes.length; i++) {
      const ty = this.localTypes[i]!;
      const last = locals[locals.length - 1];
      if (last && last[1] === ty) last[0]++;
      else locals.push([1, ty]);
    }
    return { params: [Ty.I32, Ty.I32], results: [Ty.I32], locals, body: c.view().slice(), directCalls: this.directCalls, hints: this.hints };
  }

  /** Some live exit goes to the program's own start. */
  private selfExits(): boolean {
    const { starts, live } = this.a;
    const r = this.loopRip!;
    for (let i = 0; i < starts.length; i++) {
      const pc = starts[i]!;
      if (live[i] && this.code[pc] === Op.EXITI && this.code[pc + 1] === r.lo && this.code[pc + 2] === r.hi) return true;
    }
    return false;
  }

  /**
   * An exit to the program's own start: while the budget allows and nothing asked for the run loop (what a
   * chain to itself would check), branch back to the top with the count so far as the new base. After
   * LOOP_INSNS instructions it leaves the loop instead and chains to itself (a new call): V8 tiers wasm functions
   * up from their baseline code only at calls, not inside a running loop. (One compare against loopEnd checks
   * both the budget and that bound.)
   */
  private loopBack(): void {
    const c = this.c;
    const nx = this.scratchLocal('nx', Ty.I32);
    this.pushCount();
    c.set(nx);
    c.get(nx);
    this.mayGoOn(this.loopEnd);
    this.ifLikely(1, VOID);
    // deferred stores the top overwrites before anything could observe them are dropped; others are stored
    const keep = this.pending;
    this.pending = keep.filter((e) => !this.a.topKilled.subarray(e.off, e.off + e.size).every((k) => k === 1));
    this.storePending();
    this.pending = keep;
    c.get(nx).set(PARAM_N);
    c.op(W.br).u32(this.order.length - this.closed + 1);
    c.op(W.end);
  }

  // ---- guest state ----

  private reloadSlots(): void {
    for (const s of this.cached) this.c.i32(0).mem(W.i64_load, 3, this.sb + s * 8).set(this.slotLocal[s]!);
    this.dirty.fill(0);
  }

  /** Writes dirty slots back (their locals stay valid and, statically, dirty). */
  private flush(): void {
    for (let k = 0; k < this.cached.length; k++) {
      if (!this.dirty[k]) continue;
      const s = this.cached[k]!;
      this.c.i32(0).get(this.slotLocal[s]!).mem(W.i64_store, 3, this.sb + s * 8);
    }
  }

  /** Pushes the instruction count so far (n + instructions started). */
  private pushCount(): void {
    if (this.count === 0) this.c.get(PARAM_N);
    else this.c.get(PARAM_N).i32(this.count).op(W.i32_add);
  }

  /** Makes memory what the interpreter would have at this point (before a call that may fault or look). */
  private sync(): void {
    this.flush();
    if (!this.a.ripTouched && this.count > 0 && !this.ripInMemory) {
      this.c.i32(0).i64(this.ripLo, this.ripHi).mem(W.i64_store, 3, this.sb + L.RIP);
    }
  }

  /** Pushes a state field (from its slot local if the block caches its slot). */
  ldStateValue(off: number, size: number): void {
    const c = this.c;
    const s = off >> 3;
    const sl = off >= 0 && off + size <= L.STATE_SIZE ? this.slotLocal[s]! : -1;
    if (sl >= 0) {
      c.get(sl);
      if (size < 8) {
        const sh = (off & 7) * 8;
        if (sh) c.i64(sh, 0).op(W.i64_shr_u);
        c.op(W.i32_wrap_i64);
        if (size < 4) c.i32(size === 1 ? 0xff : 0xffff).op(W.i32_and);
      }
    } else {
      c.i32(0);
      if (size === 8) c.mem(W.i64_load, 3, this.sb + off);
      else if (size === 4) c.mem(W.i32_load, 2, this.sb + off);
      else if (size === 2) c.mem(W.i32_load16_u, 1, this.sb + off);
      else c.mem(W.i32_load8_u, 0, this.sb + off);
    }
  }

  private stState(off: number, size: number, v: number): void {
    const c = this.c;
    const s = off >> 3;
    const sl = off >= 0 && off + size <= L.STATE_SIZE ? this.slotLocal[s]! : -1;
    if (sl >= 0) {
      if (size === 8) this.use(v);
      else {
        const sh = (off & 7) * 8;
        const mask = size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
        // keep = ~(mask << sh) as an i64 (lo, hi)
        const keepLo = sh < 32 ? ~((mask << sh) | 0) : -1;
        const keepHi = sh >= 32 ? ~((mask << (sh - 32)) | 0) : sh + size * 8 > 32 ? ~(mask >>> (32 - sh)) : -1;
        c.get(sl).i64(keepLo, keepHi).op(W.i64_and);
        this.use(v);
        c.op(W.i64_extend_i32_u);
        if (size < 4) c.i64(mask, 0).op(W.i64_and);
        if (sh) c.i64(sh, 0).op(W.i64_shl);
        c.op(W.i64_or);
      }
      c.set(sl);
      this.dirty[this.cached.indexOf(s)] = 1;
    } else {
      c.i32(0);
      this.use(v);
      if (size === 8) c.mem(W.i64_store, 3, this.sb + off);
      else if (size === 4) c.mem(W.i32_store, 2, this.sb + off);
      else if (size === 2) c.mem(W.i32_store16, 1, this.sb + off);
      else c.mem(W.i32_store8, 0, this.sb + off);
    }
  }

  /** Pushes an i64 state field (a segment base): from its slot local if the block caches it. */
  private stateI64(off: number): void {
    const sl = this.slotLocal[off >> 3]!;
    if (sl >= 0 && (off & 7) === 0) this.c.get(sl);
    else this.c.i32(0).mem(W.i64_load, 3, this.sb + off);
  }

  // ---- control flow ----

  private depth(l: number): number {
    return this.rank[l]! - this.closed;
  }

  /**
   * Records an edge to label `l` from here. The label's instruction count is the one of its first edge: an edge
   * with another count (paths of a superblock that skip instructions) adds the difference to the base PARAM_N on
   * its way. Where edges come from different instructions (ripMixed), each edge stores its RIP. Returns whether
   * this edge needs code of its own (see edge()).
   */
  private arrive(l: number): boolean {
    const cur = this.labelIn[l];
    const rip = this.ripMixed[l] === 1 && this.count > 0 && !this.ripInMemory && !this.a.ripTouched;
    if (!cur) {
      this.labelIn[l] = {
        reached: true, dirty: this.dirty.slice(), count: this.count, ripLo: this.ripLo, ripHi: this.ripHi,
        ripInMemory: this.ripInMemory, pending: this.pending.slice(),
      };
      return rip;
    }
    for (let k = 0; k < this.dirty.length; k++) cur.dirty[k]! |= this.dirty[k]!;
    return rip || this.count !== cur.count;
  }

  /** The code on an edge to `l` (after arrive() said it needs some): rebase the count, store RIP. */
  private edge(l: number): void {
    const c = this.c;
    const d = this.count - this.labelIn[l]!.count;
    if (d) c.get(PARAM_N).i32(d).op(W.i32_add).set(PARAM_N);
    if (this.ripMixed[l] === 1 && this.count > 0 && !this.ripInMemory && !this.a.ripTouched) {
      c.i32(0).i64(this.ripLo, this.ripHi).mem(W.i64_store, 3, this.sb + L.RIP);
    }
  }

  /** Deferred stores cannot wait across an edge to a label other edges reach too: stored on the edge. */
  private pendingAcross(l: number): boolean {
    return this.pending.length > 0 && this.edgesIn[l]! > 1;
  }

  /** A conditional branch to `l` on the i32 on the stack (negated with `ifZero`). */
  private branchTo(l: number, ifZero: boolean): void {
    const c = this.c;
    if (ifZero) c.op(W.i32_eqz);
    if (this.pendingAcross(l)) {
      c.op(W.if_).byte(VOID);
      const keep = this.pending;
      this.storePending(); // (on this edge only: the fall-through keeps them pending)
      this.arrive(l);
      this.edge(l);
      this.pending = keep;
      c.op(W.br).u32(this.depth(l) + 1);
      c.op(W.end);
      return;
    }
    if (!this.arrive(l)) {
      c.op(W.br_if).u32(this.depth(l));
      return;
    }
    c.op(W.if_).byte(VOID);
    this.edge(l);
    c.op(W.br).u32(this.depth(l) + 1);
    c.op(W.end);
  }

  private label(l: number): void {
    if (this.reachable) {
      if (this.pendingAcross(l)) this.storePending();
      if (this.arrive(l)) this.edge(l);
    }
    this.c.op(W.end);
    this.closed++;
    const st = this.labelIn[l];
    this.reachable = st !== undefined;
    this.pending = [];
    if (st) {
      this.dirty = st.dirty;
      this.count = st.count;
      this.ripLo = st.ripLo;
      this.ripHi = st.ripHi;
      // edges from different instructions stored their RIP (until the next instruction, RIP is in memory)
      this.ripInMemory = this.ripMixed[l] === 1 || st.ripInMemory;
      if (this.edgesIn[l] === 1) this.pending = st.pending;
    }
  }

  // ---- stores deferred to slow paths ----

  /** Begins an emission scope for compute(): what earlier scopes computed is recomputed, their locals reused. */
  private newScope(): void {
    this.scope++;
    for (const t of this.slowTaken) {
      this.slowFree[this.p.widths[t] === 64 ? 1 : 0].push(this.tempLocal[t]!);
      this.tempLocal[t] = -1;
    }
    this.slowTaken = [];
  }

  /** Computes temp `t` where the fast path does not (ops it left out), in the current emission scope. */
  private compute(t: number): void {
    if (this.onFastPath[t] || this.availIn[t] === this.scope) return;
    const pc = this.defPc[t]!;
    const o = this.code[pc]!;
    if (pc < 0 || !isPure(o)) throw new Error(`codegen: temp ${t} has no pure definition to compute`);
    for (const a of sourceArgs(o)) this.compute(this.code[pc + a]!);
    this.op(o, pc);
    this.availIn[t] = this.scope;
  }

  /** Stores the pending deferred stores the way the fast path stores (through the slot locals), and forgets them. */
  private storePending(): void {
    if (!this.pending.length) return;
    this.newScope();
    for (const e of this.pending) {
      const v = this.code[e.pc + 2]!;
      this.compute(v);
      this.stState(e.off, e.size, v);
    }
    this.pending = [];
  }

  /** On a slow path, after sync(): stores the pending deferred stores to the state block (they stay pending). */
  private pendingToMemory(): void {
    if (!this.pending.length) return;
    const c = this.c;
    this.newScope();
    for (const e of this.pending) {
      const v = this.code[e.pc + 2]!;
      this.compute(v);
      c.i32(0);
      this.use(v);
      const at = this.sb + e.off;
      if (e.size === 8) c.mem(W.i64_store, 3, at);
      else if (e.size === 4) c.mem(W.i32_store, 2, at);
      else if (e.size === 2) c.mem(W.i32_store16, 1, at);
      else c.mem(W.i32_store8, 0, at);
    }
  }

  /**
   * A state access of [off, off + size) on the fast path (or a store being deferred): pending stores it covers
   * are dropped (overwritten), ones it overlaps otherwise are stored first (a load reads them, a partial
   * overwrite must land on them).
   */
  private touchPending(off: number, size: number, store: boolean): void {
    const end = off + size;
    let keep: Pending[] | undefined;
    for (let i = 0; i < this.pending.length; i++) {
      const e = this.pending[i]!;
      const overlap = e.off < end && off < e.off + e.size;
      const covered = store && off <= e.off && e.off + e.size <= end;
      if (!overlap || covered) {
        if (!covered) (keep ??= []).push(e);
        continue;
      }
      this.newScope();
      const v = this.code[e.pc + 2]!;
      this.compute(v);
      this.stState(e.off, e.size, v);
    }
    this.pending = keep ?? [];
  }

  /**
   * After a call out to JS: from here on (in code order, which every path follows: branches only go forward, and a
   * way round the loop checks first) chains and loops also check that JS did not ask for the run loop. One check
   * at each exit instead of one after each call keeps the slow paths of memory accesses short.
   */
  private calledOut(): void {
    this.calledJs = true;
  }

  /** With the count (i32) on the stack, whether it may go on to `limit` (a local): below it and no CHAIN_BREAK. */
  private mayGoOn(limit: number): void {
    const c = this.c;
    c.get(limit).op(W.i32_lt_u);
    if (this.calledJs) c.i32(0).mem(W.i32_load, 2, this.sb + L.CHAIN_BREAK).op(W.i32_eqz).op(W.i32_and);
  }

  /** Before a call that may write guest memory: tell the self-modifying-code check which instruction runs. */
  private markWhere(): void {
    const w = this.env.where;
    if (w) this.c.i32(w.token * 256 + Math.max(0, this.ordinal)).op(W.global_set).u32(w.global);
  }

  // ---- ops ----

  private op(o: number, pc: number): void {
    const code = this.code;
    const f = GEN[o];
    if (!f) throw new Error(`codegen: no code for op ${OPS[o]?.name ?? o}`);
    f(this, o, pc, code[pc + 1]!, code[pc + 2]!, code[pc + 3]!);
  }

  /** Code generators by opcode (a table: a switch over imported constants would be a compare chain). */
  static table(): (OpGen | undefined)[] {
    const t: (OpGen | undefined)[] = new Array(OPS.length);
    const set = (ops: number[], f: OpGen) => ops.forEach((o) => (t[o] = f));
    // the value ops that are one expression over their sources (see EXPR): the value goes to the result's local,
    // or nowhere when the result is inlined into its one use
    EXPR.forEach((f, o) => {
      if (!f) return;
      t[o] = (g, o2, pc, d, a2, a3) => {
        if (g.inlined[d]) return;
        f(g, o2, pc, d, a2, a3);
        g.c.set(g.t(d));
      };
    });
    set([Op.MULHU64, Op.MULHS64], (g, o, _pc, d, a, b) => g.mulh(o === Op.MULHS64, d, a, b));
    set([Op.DIVU32, Op.DIVS32, Op.REMU32, Op.REMS32], (g, o, _pc, d, a, b) => g.div32(o, d, a, b));
    set([Op.DIVU64, Op.DIVS64, Op.REMU64, Op.REMS64], (g, o, _pc, d, a, b) => g.div64(o, d, a, b));
    set([Op.BSWAP32], (g, _o, _pc, d, a) => {
      g.bswap32(a);
      g.c.set(g.t(d));
    });
    set([Op.BSWAP64], (g, _o, _pc, d, a) => g.bswap64(d, a));
    set([Op.LD8, Op.LD16, Op.LD32, Op.LD64], (g, o, _pc, d, off) => {
      if (g.inlined[d]) return;
      const size = stateAccessSize(o);
      g.ldStateValue(stateAccessOffset(off, size), size);
      g.c.set(g.t(d));
    });
    set([Op.ST8, Op.ST16, Op.ST32, Op.ST64], (g, o, _pc, off, v) => {
      const size = stateAccessSize(o);
      g.stState(stateAccessOffset(off, size), size, v);
    });
    const sizes = [1, 2, 4, 8];
    [Op.LDM8, Op.LDM16, Op.LDM32, Op.LDM64].forEach((o, i) => (t[o] = (g, _o, _pc, d, seg, addr) => g.ldm(sizes[i]!, d, seg, addr, false)));
    [Op.LDMW8, Op.LDMW16, Op.LDMW32, Op.LDMW64].forEach((o, i) => (t[o] = (g, _o, _pc, d, seg, addr) => g.ldm(sizes[i]!, d, seg, addr, true)));
    [Op.STM8, Op.STM16, Op.STM32, Op.STM64].forEach((o, i) => (t[o] = (g, _o, _pc, seg, addr, v) => g.stm(sizes[i]!, seg, addr, v)));
    set([Op.LABEL], () => {}); // handled by the main loop
    set([Op.BR], (g, _o, _pc, l) => {
      if (g.pendingAcross(l)) g.storePending();
      if (g.arrive(l)) g.edge(l);
      g.c.op(W.br).u32(g.depth(l));
      g.reachable = false;
    });
    set([Op.BRNZ], (g, _o, _pc, v, l) => {
      g.use(v);
      g.branchTo(l, false);
    });
    set([Op.BRZ], (g, _o, _pc, v, l) => {
      g.use(v);
      g.branchTo(l, true);
    });
    set([Op.CALL], (g, _o, pc) => g.call(pc));
    set([Op.RAISE], (g, _o, _pc, vector, code) => {
      g.storePending();
      g.sync();
      g.pushCount();
      g.c.i32(vector).i32(code);
      g.callOut(g.env.raise());
      g.c.op(W.unreachable);
      g.reachable = false;
    });
    set([Op.INSN], (g, _o, _pc, lo, hi) => {
      g.count++;
      g.ripInMemory = false;
      g.ripLo = lo;
      g.ripHi = hi;
      if (g.a.ripTouched) {
        if (g.pending.length) g.touchPending(L.RIP, 8, true); // (the RIP field is written here too)
        g.c.i32(0).i64(lo, hi).mem(W.i64_store, 3, g.sb + L.RIP);
      }
    });
    set([Op.EXIT, Op.EXITI], (g, o, _pc, a1, a2) => {
      const c = g.c;
      const self = o === Op.EXITI && g.looping && a1 === g.loopRip!.lo && a2 === g.loopRip!.hi;
      if (self) g.loopBack();
      g.storePending();
      g.flush();
      if (!g.helperMode) {
        c.i32(0);
        if (o === Op.EXIT) c.get(g.t(a1));
        else c.i64(a1, a2);
        c.mem(W.i64_store, 3, g.sb + L.RIP);
        if (o === Op.EXITI) g.chain(a1, a2);
        else g.chainIndirect(a1);
      }
      g.pushCount();
      c.op(W.return_);
      g.reachable = false;
    });
    return t;
  }

  /** If the budget allows and nothing asked for the run loop, tail-calls the block at (lo, hi) through its link slot. */
  private chain(lo: number, hi: number): void {
    const env = this.env;
    if (!env.link || !env.blockType) return;
    const direct = env.direct ? env.direct(lo, hi) : -1;
    const slot = direct >= 0 ? -1 : env.link(lo, hi);
    if (direct < 0 && slot < 0) return;
    const c = this.c;
    const nx = this.scratchLocal('nx', Ty.I32);
    this.pushCount();
    c.set(nx);
    c.get(nx);
    this.mayGoOn(PARAM_LIMIT);
    this.ifLikely(1, VOID);
    c.get(nx).get(PARAM_LIMIT);
    if (direct >= 0) {
      c.op(W.return_call);
      this.directCalls.push([c.len, direct]);
      c.byte(0x80).byte(0x80).byte(0x80).byte(0x80).byte(0x00); // patched later
    } else c.i32(slot).op(W.return_call_indirect).u32(env.blockType()).u32(0);
    c.op(W.end);
  }

  private readonly directCalls: [number, number][] = [];
  private readonly hints: number[] = [];

  /** An `if` of the given type whose condition is (1) usually true or (0) usually false. */
  private ifLikely(likely: 0 | 1, type: number): void {
    this.hints.push(this.c.len, likely);
    this.c.op(W.if_).byte(type);
  }

  /**
   * Exit to a computed RIP (ret, indirect jumps and calls): an inline cache of the last target. On a hit, tail-call
   * through this exit's slot; on a miss, the JIT's handler links the slot to the compiled block at that address if
   * there is one (it changes nothing the run loop looks at), and the prediction becomes this target.
   */
  private chainIndirect(target: number): void {
    const ic = this.env.linkIndirect?.();
    if (!ic) return;
    const c = this.c;
    const t = this.t(target);
    const nx = this.scratchLocal('nx', Ty.I32);
    const type = this.env.blockType!();
    this.pushCount();
    c.set(nx);
    c.get(nx);
    this.mayGoOn(PARAM_LIMIT);
    this.ifLikely(1, VOID);
    c.get(t).op(W.global_get).u32(ic.pred).op(W.i64_eq);
    this.ifLikely(1, VOID);
    c.get(nx).get(PARAM_LIMIT).i32(ic.slot).op(W.return_call_indirect).u32(type).u32(0);
    c.op(W.end);
    // the handler relinks the slot a few times; an exit whose target keeps changing stops asking it
    c.op(W.global_get).u32(ic.tries).i32(ic.maxTries).op(W.i32_lt_u);
    this.ifLikely(0, VOID);
    c.op(W.global_get).u32(ic.tries).i32(1).op(W.i32_add).op(W.global_set).u32(ic.tries);
    c.op(W.global_get).u32(ic.idBase).i32(ic.id).op(W.i32_add);
    c.get(t).op(W.i32_wrap_i64).get(t).i64(32, 0).op(W.i64_shr_u).op(W.i32_wrap_i64);
    this.callOut(ic.miss);
    c.op(W.if_).byte(VOID);
    c.get(t).op(W.global_set).u32(ic.pred);
    c.get(nx).get(PARAM_LIMIT).i32(ic.slot).op(W.return_call_indirect).u32(type).u32(0);
    c.op(W.end);
    c.op(W.end);
    // the jump cache (RIP is stored): the block there if there is one, else back to the run loop
    if (ic.jumpCache) {
      c.get(nx).get(PARAM_LIMIT).i32(ic.jumpCache.index);
      c.op(W.return_call_indirect).u32(ic.jumpCache.type).u32(0);
    }
    c.op(W.end);
  }

  /** Calls `f` with its arguments on the stack (through table 0). */
  private callOut(f: Callee): void {
    this.c.i32(f.index).op(W.call_indirect).u32(f.type).u32(0);
  }

  private call(pc: number): void {
    const c = this.c;
    const code = this.code;
    const d = code[pc + 1]!;
    const args: (32 | 64)[] = [];
    for (let i = 3; i < 6; i++) {
      const t = code[pc + i]!;
      if (t < 0) break;
      args.push(this.p.widths[t] === 64 ? 64 : 32);
    }
    const result = d < 0 ? 0 : this.p.widths[d] === 64 ? 64 : 32;
    const h = code[pc + 2]!;
    const f = this.env.helper(h, args, result);
    this.storePending();
    this.sync(); // a wasm helper can still fall back to JS (the cc_flags helper does for a bad CC_OP)
    const js = !this.env.helperInWasm?.(h, args, result);
    if (js) this.markWhere();
    this.pushCount();
    for (let i = 0; i < args.length; i++) c.get(this.t(code[pc + 3 + i]!));
    this.callOut(f);
    if (d >= 0) c.set(this.t(d));
    if (js) this.calledOut();
    this.reloadSlots(); // the helper may have changed any state
  }

  // ---- guest memory ----

  /**
   * Pushes the i32 condition "the TLB entry for `lin` allows this access and the access stays in its page"; leaves
   * the entry offset (from the table) in the `e` scratch local. The entry is the one of the first byte's page;
   * its tag is compared with the last byte's page number, so a page-crossing access misses. Non-canonical
   * addresses miss too: the MMU tags canonical addresses only (mmu.ts fillTlb).
   */
  private tlbHit(lin: number, size: number, access: number): void {
    const c = this.c;
    const e = this.scratchLocal('e', Ty.I32);
    // the entry's byte offset, ((lin >> 12) & (TLB_ENTRIES - 1)) * 32, in two operations on the low word
    c.get(lin).op(W.i32_wrap_i64).i32(7).op(W.i32_shr_u).i32((TLB_ENTRIES - 1) << 5).op(W.i32_and).tee(e);
    c.mem(W.i64_load, 3, this.tlb + access * 8);
    c.get(lin);
    if (size > 1) c.i64(size - 1, 0).op(W.i64_add);
    c.i64(12, 0).op(W.i64_shr_u).op(W.i64_eq);
    if (TLB_ENTRY !== 32) throw new Error('codegen: TLB entry size changed');
  }

  /** Pushes the host address for `lin` through TLB entry `e` (after a hit). */
  private physAddr(lin: number): void {
    const e = this.scratchLocal('e', Ty.I32);
    this.c.get(e).mem(W.i32_load, 2, this.tlb + 24).get(lin).op(W.i32_wrap_i64).op(W.i32_add);
  }

  /** The linear address local for seg:addr in 64-bit mode (FS/GS add their base). */
  private linear(seg: number, addr: number): number {
    if (seg !== 4 && seg !== 5) return this.t(addr);
    if (this.pending.length) this.touchPending(segBase(seg), 8, false);
    const lin = this.scratchLocal('lin', Ty.I64);
    this.c.get(this.t(addr));
    this.stateI64(L.segOff(seg) + L.SEG_BASE);
    this.c.op(W.i64_add).set(lin);
    return lin;
  }

  /**
   * The RIP argument of a memory slow path, which stores it (sync()'s store, made by the callee): the current
   * instruction's; what the state block holds (stored back unchanged) where sync() would store nothing: the
   * program writes RIP itself, or RIP is in memory already (where paths from different instructions merge, each
   * stored its own, and ripLo/ripHi are only one path's).
   */
  private pushRip(): void {
    if (this.a.ripTouched || this.count === 0 || this.ripInMemory) this.c.i32(0).mem(W.i64_load, 3, this.sb + L.RIP);
    else this.c.i64(this.ripLo, this.ripHi);
  }

  private slowLoad(size: number, seg: number, addr: number, forWrite: boolean): void {
    const c = this.c;
    this.flush(); // (RIP: pushRip)
    this.pendingToMemory();
    this.pushCount();
    if (size !== 8) c.i32(size);
    c.i32(seg).get(this.t(addr)).i32(forWrite ? 1 : 0);
    this.pushRip();
    this.callOut(size === 8 ? this.env.read64() : this.env.read());
    this.calledOut();
  }

  private slowStore(size: number, seg: number, addr: number, v: number): void {
    const c = this.c;
    this.flush(); // (RIP: pushRip)
    this.pendingToMemory();
    this.markWhere();
    this.pushCount();
    if (size !== 8) c.i32(size);
    c.i32(seg).get(this.t(addr)).get(this.t(v));
    this.pushRip();
    this.callOut(size === 8 ? this.env.write64() : this.env.write());
    this.calledOut();
  }

  /** A load; `forWrite` (read-modify-write destinations) checks the write tag, so the slow path faults as a write. */
  private ldm(size: number, d: number, seg: number, addr: number, forWrite: boolean): void {
    const c = this.c;
    if (!this.flat64) {
      this.slowLoad(size, seg, addr, forWrite);
      c.set(this.t(d));
      return;
    }
    const lin = this.linear(seg, addr);
    this.tlbHit(lin, size, forWrite ? 1 : 0);
    this.ifLikely(1, size === 8 ? Ty.I64 : Ty.I32);
    this.physAddr(lin);
    if (size === 8) c.mem(W.i64_load, 3, 0);
    else if (size === 4) c.mem(W.i32_load, 2, 0);
    else if (size === 2) c.mem(W.i32_load16_u, 1, 0);
    else c.mem(W.i32_load8_u, 0, 0);
    c.op(W.else_);
    this.slowLoad(size, seg, addr, forWrite);
    c.op(W.end).set(this.t(d));
  }

  private stm(size: number, seg: number, addr: number, v: number): void {
    const c = this.c;
    if (!this.flat64) {
      this.slowStore(size, seg, addr, v);
      return;
    }
    const lin = this.linear(seg, addr);
    this.tlbHit(lin, size, 1);
    this.ifLikely(1, VOID);
    this.physAddr(lin);
    c.get(this.t(v));
    if (size === 8) c.mem(W.i64_store, 3, 0);
    else if (size === 4) c.mem(W.i32_store, 2, 0);
    else if (size === 2) c.mem(W.i32_store16, 1, 0);
    else c.mem(W.i32_store8, 0, 0);
    c.op(W.else_);
    this.slowStore(size, seg, addr, v);
    c.op(W.end);
  }

  // ---- arithmetic that needs more than one wasm op ----

  /** 32-bit division as the interpreter computes it in doubles: x/0 gives 0, INT_MIN/-1 wraps (no traps). */
  private div32(o: number, d: number, a: number, b: number): void {
    const c = this.c;
    const ta = this.t(a), tb = this.t(b);
    // safe divisor: b | (b == 0)
    const safe = () => c.get(tb).get(tb).op(W.i32_eqz).op(W.i32_or);
    switch (o) {
      case Op.DIVU32: c.get(ta); safe(); c.op(W.i32_div_u); break;
      case Op.REMU32: c.get(ta); safe(); c.op(W.i32_rem_u); break;
      case Op.REMS32: c.get(ta); safe(); c.op(W.i32_rem_s); break;
      default: // DIVS32 in 64 bits: INT_MIN / -1 = 2^31 wraps to INT_MIN like (x / y) | 0
        c.get(ta).op(W.i64_extend_i32_s);
        safe();
        c.op(W.i64_extend_i32_s).op(W.i64_div_s).op(W.i32_wrap_i64);
    }
    c.i32(0).get(tb).op(W.select).set(this.t(d));
  }

  /** 64-bit division without traps: x/0 gives 0 (the front end never divides by 0), INT64_MIN / -1 wraps. */
  private div64(o: number, d: number, a: number, b: number): void {
    const c = this.c;
    const ta = this.t(a), tb = this.t(b);
    if (o === Op.DIVS64) {
      c.i64(0, 0).get(ta).op(W.i64_sub); // -a, the quotient for b == -1
      // a / (b == 0 || b == -1 ? 1 : b)
      c.get(ta).i64(1, 0).get(tb).get(tb).i64(1, 0).op(W.i64_add).i64(1, 0).op(W.i64_le_u).op(W.select).op(W.i64_div_s);
      c.get(tb).i64(-1, -1).op(W.i64_eq).op(W.select);
    } else {
      const safe = () => c.get(tb).get(tb).op(W.i64_eqz).op(W.i64_extend_i32_u).op(W.i64_or);
      c.get(ta);
      safe();
      c.op(o === Op.DIVU64 ? W.i64_div_u : o === Op.REMU64 ? W.i64_rem_u : W.i64_rem_s);
    }
    c.i64(0, 0).get(tb).op(W.i64_eqz).op(W.i32_eqz).op(W.select).set(this.t(d));
  }
  /** High 64 bits of the 128-bit product, from 32x32->64 partial products. */
  private mulh(signed: boolean, d: number, a: number, b: number): void {
    const c = this.c;
    const ta = this.t(a), tb = this.t(b);
    const lh = this.scratchLocal('mh1', Ty.I64), hl = this.scratchLocal('mh2', Ty.I64);
    const lo = (l: number) => c.get(l).i64(-1, 0).op(W.i64_and);
    const hi = (l: number) => c.get(l).i64(32, 0).op(W.i64_shr_u);
    lo(ta); hi(tb); c.op(W.i64_mul).set(lh);
    hi(ta); lo(tb); c.op(W.i64_mul).set(hl);
    hi(ta); hi(tb); c.op(W.i64_mul);
    hi(lh); c.op(W.i64_add);
    hi(hl); c.op(W.i64_add);
    lo(ta); lo(tb); c.op(W.i64_mul).i64(32, 0).op(W.i64_shr_u);
    lo(lh); c.op(W.i64_add);
    lo(hl); c.op(W.i64_add);
    c.i64(32, 0).op(W.i64_shr_u).op(W.i64_add);
    if (signed) {
      // signed high = unsigned high - (a < 0 ? b : 0) - (b < 0 ? a : 0)
      c.get(ta).i64(63, 0).op(W.i64_shr_s).get(tb).op(W.i64_and).op(W.i64_sub);
      c.get(tb).i64(63, 0).op(W.i64_shr_s).get(ta).op(W.i64_and).op(W.i64_sub);
    }
    c.set(this.t(d));
  }

  /** Pushes the byte-swapped i32 temp `a`. */
  private bswap32(a: number): void {
    const ta = this.t(a);
    this.c.get(ta).i32(8).op(W.i32_rotr).i32(0xff00ff00 | 0).op(W.i32_and);
    this.c.get(ta).i32(8).op(W.i32_rotl).i32(0x00ff00ff).op(W.i32_and).op(W.i32_or);
  }

  private bswap64(d: number, a: number): void {
    const c = this.c;
    const ta = this.t(a);
    const s = this.scratchLocal('bs', Ty.I64);
    // swap adjacent bytes, then adjacent 16-bit halves, then the 32-bit halves
    c.get(ta).i64(8, 0).op(W.i64_shr_u).i64(0x00ff00ff, 0x00ff00ff).op(W.i64_and);
    c.get(ta).i64(0x00ff00ff, 0x00ff00ff).op(W.i64_and).i64(8, 0).op(W.i64_shl).op(W.i64_or).set(s);
    c.get(s).i64(16, 0).op(W.i64_shr_u).i64(0x0000ffff, 0x0000ffff).op(W.i64_and);
    c.get(s).i64(0x0000ffff, 0x0000ffff).op(W.i64_and).i64(16, 0).op(W.i64_shl).op(W.i64_or);
    c.i64(32, 0).op(W.i64_rotl).set(this.t(d));
  }
}

GEN = Gen.table();
