// IR analyses for the JIT: which ops survive (dead state stores, dead pure computations), and whether a program
// touches RIP in the state block directly.
//
// Dead-store elimination works on state-block bytes: walking backwards (labels keep their state for the branches
// to them), a store is dead when every byte it writes is written again on every path before anything could
// observe it. Observers are loads of those bytes and every point where the whole state must be in memory: helper
// calls, guest memory accesses (their slow path may fault), raises, exits. So the lazy-flag fields of an
// instruction whose flags the next flag-setting instruction overwrites are never stored, and the values computed
// only for them are never computed. A second pass finds what the fast path needs (memory accesses hitting the
// inline TLB observe nothing): the rest is only needed on slow paths, where the code generator emits it.
import type { Program } from '../cpu/ir/builder.ts';
import { A, OPS, OP_LEN, Op } from '../cpu/ir/ops.ts';
import { SEG_BASE, STATE_SIZE, segOff } from '../cpu/layout.ts';
import { Scratch } from './scratch.ts';

// Per-opcode facts, as tables (the hot loops below must not compare against imported constants).
const SIZE = new Uint8Array(OPS.length);
const KIND = new Uint8Array(OPS.length); // 1 state load, 2 state store, 3 pure (result only), 4 observer, 0 other
const SOURCES: number[][] = [];
for (let o = Op.MOVI32; o <= Op.SELECT64; o++) {
  const k = OPS[o]!.args[0];
  if (k !== A.D32 && k !== A.D64) throw new Error(`opt.ts: ${OPS[o]!.name} in the range of value ops has no result`);
}
const MEM = new Uint8Array(OPS.length); // guest memory accesses
for (const [ops, size] of [[[Op.LD8, Op.ST8], 1], [[Op.LD16, Op.ST16], 2], [[Op.LD32, Op.ST32], 4], [[Op.LD64, Op.ST64], 8]] as const) {
  for (const o of ops) SIZE[o] = size;
}
OPS.forEach((d, o) => {
  const memLoad = (o >= Op.LDM8 && o <= Op.LDM64) || (o >= Op.LDMW8 && o <= Op.LDMW64);
  // Pure: the value ops (constants, moves, arithmetic, comparisons, selections), a range of the op table; any other
  // op (one added later too) counts as an observer: never removed, deferred or computed again.
  const pure = o >= Op.MOVI32 && o <= Op.SELECT64;
  KIND[o] = o >= Op.LD8 && o <= Op.LD64 ? 1 : o >= Op.ST8 && o <= Op.ST64 ? 2 : pure ? 3 : o === Op.INSN ? 0 : 4;
  SOURCES[o] = o === Op.CALL ? [3, 4, 5] : d.args.flatMap((k, i) => (k === A.S32 || k === A.S64 ? [i + 1] : []));
  MEM[o] = memLoad || (o >= Op.STM8 && o <= Op.STM64) ? 1 : 0;
});

const LABEL = Op.LABEL, INSN = Op.INSN, BR = Op.BR, BRNZ = Op.BRNZ, BRZ = Op.BRZ, EXIT = Op.EXIT, EXITI = Op.EXITI, RAISE = Op.RAISE;

/** Byte size of a state-block ld/st op, or 0. */
export function stateAccessSize(op: number): number {
  return SIZE[op]!;
}

/**
 * The state offset an ld/st op really touches: the interpreter indexes typed arrays, so a 16-bit access is
 * aligned down to 2 bytes and 32/64-bit accesses to 4 (a 64-bit access is two 32-bit halves).
 */
export function stateAccessOffset(off: number, size: number): number {
  return size === 1 ? off : size === 2 ? off & ~1 : off & ~3;
}

export const isLoadState = (op: number) => KIND[op] === 1;
export const isStoreState = (op: number) => KIND[op] === 2;
/** An op whose only effect is its result temp (no state, memory or control flow). */
export const isPure = (op: number) => KIND[op] === 3;
/**
 * An op before which nothing may be left pending (it may observe the state in ways the code generator does not
 * track): every op that is not a value op, a state load/store, a guest memory access, a branch, a label, INSN or
 * an exit (exits store what is pending themselves, after a loop's way back to the top).
 */
export const observesAll = (op: number) =>
  KIND[op] === 4 && !MEM[op] && op !== LABEL && op !== BR && op !== BRNZ && op !== BRZ && op !== EXIT && op !== EXITI;
/** The operand indexes (1-based, into the op's words) of an op's source temps. */
export const sourceArgs = (op: number): readonly number[] => SOURCES[op]!;

/** Start offsets of the ops of a program, in order. */
export function opStarts(code: Int32Array, scratch?: Scratch): Int32Array {
  let n = 0;
  for (let pc = 0; pc < code.length; pc += 1 + OP_LEN[code[pc]!]!) n++;
  const out = scratch ? scratch.i32(n) : new Int32Array(n);
  n = 0;
  for (let pc = 0; pc < code.length; pc += 1 + OP_LEN[code[pc]!]!) out[n++] = pc;
  return out;
}

export interface Analysis {
  starts: Int32Array;
  /** Per op (index into starts): 1 if the op must be emitted. */
  live: Uint8Array;
  /** Per temp: number of live uses. */
  uses: Int32Array;
  /**
   * Per op: 1 if the op is needed on the fast path: when no guest memory access takes its slow path and, at an
   * exit to the program's own start (`loop`), the loop goes on. A live state store or pure op that is not fast is
   * needed only on those slow paths (it may be deferred to them: see codegen.ts).
   */
  fast: Uint8Array;
  /**
   * Per state byte: 1 if every path from the program's start stores it before anything could observe it, and
   * before any branch, label or memory access (what an exit to the start may leave unstored on the fast path).
   */
  topKilled: Uint8Array;
  /** Some live op reads or writes the RIP field directly: keep RIP in memory exactly like the interpreter. */
  ripTouched: boolean;
}

// Scratch for liveness, shared by all calls (a block is analysed in microseconds; allocating and zeroing these
// per call cost more than the analysis). `killed[b] === gen` means byte b is killed in the current generation;
// generations only grow, so values left by earlier calls never match.
const killed = new Int32Array(STATE_SIZE);
let nextGen = 1;
const isTouched = new Uint8Array(STATE_SIZE);

/**
 * Liveness, walking backwards over the program's forward-only control flow. A label's state is kept for the
 * branches to it (processed later, as they come earlier); a conditional branch continues with what both its
 * successors kill. `memObserves`: guest memory accesses are observation points (their slow path may fault or
 * look); else they are not (the fast path). `loop`/`loopKilled`: an exit to the program's start continues with
 * the bytes killed there (the loop goes on) instead of observing everything.
 */
function liveness(
  p: Program, starts: Int32Array, memObserves: boolean, live: Uint8Array, uses: Int32Array,
  loop?: { lo: number; hi: number }, loopKilled?: number[], exitKilled?: number[],
): void {
  const code = p.code;
  if (nextGen > 0x3fffffff) {
    killed.fill(0);
    nextGen = 1;
  }
  let gen = nextGen;
  const touched: number[] = []; // bytes ever killed (the candidates of a snapshot)
  const labelKilled: (number[] | undefined)[] = new Array(p.labels);
  const snapshot = () => touched.filter((b) => killed[b] === gen);
  const kill = (b: number) => {
    killed[b] = gen;
    if (!isTouched[b]) {
      isTouched[b] = 1;
      touched.push(b);
    }
  };
  const restore = (bytes: number[] | undefined) => {
    gen++;
    if (bytes) for (const b of bytes) kill(b);
  };
  const meet = (bytes: number[] | undefined) => {
    const g0 = gen++;
    if (bytes) for (const b of bytes) if (killed[b] === g0) killed[b] = gen;
  };
  for (let i = starts.length - 1; i >= 0; i--) {
    const pc = starts[i]!;
    const o = code[pc]!;
    const kind = KIND[o]!;
    if (kind === 1 || kind === 2) {
      const size = SIZE[o]!;
      const off = stateAccessOffset(code[pc + (kind === 1 ? 2 : 1)]!, size);
      const inState = off >= 0 && off + size <= STATE_SIZE;
      if (kind === 1) {
        if (uses[code[pc + 1]!] === 0) continue; // result unused
        live[i] = 1;
        if (inState) for (let b = off; b < off + size; b++) killed[b] = 0;
      } else {
        let dead = inState;
        if (inState) for (let b = off; b < off + size; b++) if (killed[b] !== gen) dead = false;
        if (dead) continue;
        live[i] = 1;
        uses[code[pc + 2]!]!++;
        if (inState) for (let b = off; b < off + size; b++) kill(b);
      }
      continue;
    }
    if (kind === 3 && uses[code[pc + 1]!] === 0) continue;
    live[i] = 1;
    switch (o) {
      case LABEL: labelKilled[code[pc + 1]!] = snapshot(); break;
      case BR: restore(labelKilled[code[pc + 1]!]); break;
      case BRNZ: case BRZ: meet(labelKilled[code[pc + 2]!]); break;
      case EXITI:
        if (loop && code[pc + 1] === loop.lo && code[pc + 2] === loop.hi) restore(loopKilled);
        else if (exitKilled) restore(exitKilled);
        else gen++;
        break;
      case EXIT:
        if (exitKilled) restore(exitKilled);
        else gen++;
        break;
      case INSN: break;
      default:
        if (kind === 4 && (memObserves || !MEM[o])) gen++; // an observation point
        else if (MEM[o]) {
          // the fast path of an FS/GS access reads the segment base
          const seg = code[pc + (o >= Op.STM8 && o <= Op.STM64 ? 1 : 2)]!;
          if (seg === 4 || seg === 5) for (let b = segBase(seg); b < segBase(seg) + 8; b++) killed[b] = 0;
        }
    }
    const src = SOURCES[o]!;
    for (let a = 0; a < src.length; a++) {
      const t = code[pc + src[a]!]!;
      if (t >= 0) uses[t]!++;
    }
  }
  nextGen = gen + 1;
  for (const b of touched) isTouched[b] = 0;
}

/** Some exit of the program goes to `loop` (its own start). */
function selfExit(p: Program, starts: Int32Array, loop: { lo: number; hi: number }): boolean {
  const code = p.code;
  for (let i = 0; i < starts.length; i++) {
    const pc = starts[i]!;
    if (code[pc] === EXITI && code[pc + 1] === loop.lo && code[pc + 2] === loop.hi) return true;
  }
  return false;
}

/** The state offset of a segment's base. */
export const segBase = (seg: number): number => segOff(seg) + SEG_BASE;

// scratch for analyse: bytes loaded so far from the top / stored anywhere (stored is all zero between calls)
const loaded = new Uint8Array(STATE_SIZE);
const stored = new Uint8Array(STATE_SIZE);

/**
 * `loop`: the program's own start RIP, when an exit to it loops (see Analysis.fast). With `scratch`, the arrays of
 * the result are the scratch set's (valid until it is released).
 */
export function analyse(p: Program, rip: number, loop?: { lo: number; hi: number }, scratch = new Scratch()): Analysis {
  const code = p.code;
  const starts = opStarts(code, scratch);
  const n = starts.length;
  let ripTouched = false;
  // bytes stored from the start before any observation, branch, label or memory access (the top of the program)
  const topKilled = scratch.u8(STATE_SIZE);
  loaded.fill(0);
  const loopKilled: number[] = [];
  let top = true;
  for (let i = 0; i < n; i++) {
    const pc = starts[i]!;
    const o = code[pc]!;
    const kind = KIND[o]!;
    if (kind === 1 || kind === 2) {
      const size = SIZE[o]!;
      const off = stateAccessOffset(code[pc + (kind === 1 ? 2 : 1)]!, size);
      if (off < rip + 8 && off + size > rip) ripTouched = true;
      if (!top || off < 0 || off + size > STATE_SIZE) continue;
      for (let b = off; b < off + size; b++) {
        if (kind === 1) loaded[b] = 1;
        else if (!loaded[b] && !topKilled[b]) {
          topKilled[b] = 1;
          loopKilled.push(b);
        }
      }
    } else if (kind !== 3 && o !== INSN) top = false;
  }
  const live = scratch.u8(n);
  const uses = scratch.i32(p.widths.length);
  liveness(p, starts, true, live, uses);
  const fast = scratch.u8(n);
  // In a loop, the fast path is the way around the loop: what only the exits need is stored on the way out (the
  // code generator stores pending stores at every exit), so an exit counts as overwriting every byte stored.
  let exitKilled: number[] | undefined;
  if (loop && selfExit(p, starts, loop)) {
    exitKilled = [];
    for (let i = 0; i < n; i++) {
      const pc = starts[i]!;
      const o = code[pc]!;
      if (KIND[o] !== 2) continue;
      const size = SIZE[o]!;
      const off = stateAccessOffset(code[pc + 1]!, size);
      if (off < 0 || off + size > STATE_SIZE) continue;
      for (let b = off; b < off + size; b++) {
        if (!stored[b]) {
          stored[b] = 1;
          exitKilled.push(b);
        }
      }
    }
    for (const b of exitKilled) stored[b] = 0;
  }
  liveness(p, starts, false, fast, scratch.i32(p.widths.length), loop, loopKilled, exitKilled);
  // (what is not live is not fast either: the fast pass may keep a store the full pass found dead on every path)
  for (let i = 0; i < n; i++) fast[i]! &= live[i]!;
  return { starts, live, uses, fast, topKilled, ripTouched };
}
