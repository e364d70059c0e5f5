// IR analyses for the JIT: which ops survive (dead state stores, dead pure computations), and whether the
// instruction count / current RIP are known statically at every point of a program.
//
// Dead-store elimination works on state-block bytes: walking backwards, a store is dead when every byte it writes
// is written again before anything could observe it. Observers are loads of those bytes and every point where the
// whole state must be in memory: helper calls, guest memory accesses (their slow path may fault), raises, exits,
// and (conservatively) branches and labels. So the lazy-flag fields of an instruction whose flags the next
// flag-setting instruction overwrites are never stored, and the values computed only for them are never computed.
import type { Program } from '../cpu/ir/builder.ts';
import { A, OPS, Op } from '../cpu/ir/ops.ts';
import { STATE_SIZE } from '../cpu/layout.ts';

// Per-opcode facts, as tables (the hot loops below must not compare against imported constants).
const SIZE = new Uint8Array(OPS.length);
const KIND = new Uint8Array(OPS.length); // 1 state load, 2 state store, 3 pure (result only), 4 observer, 0 other
const SOURCES: number[][] = [];
for (const [ops, size] of [[[Op.LD8, Op.ST8], 1], [[Op.LD16, Op.ST16], 2], [[Op.LD32, Op.ST32], 4], [[Op.LD64, Op.ST64], 8]] as const) {
  for (const o of ops) SIZE[o] = size;
}
OPS.forEach((d, o) => {
  const k0 = d.args[0];
  const memLoad = (o >= Op.LDM8 && o <= Op.LDM64) || (o >= Op.LDMW8 && o <= Op.LDMW64);
  KIND[o] = o >= Op.LD8 && o <= Op.LD64 ? 1 : o >= Op.ST8 && o <= Op.ST64 ? 2
    : (k0 === A.D32 || k0 === A.D64) && !memLoad ? 3 : o === Op.INSN ? 0 : 4;
  SOURCES[o] = o === Op.CALL ? [3, 4, 5] : d.args.flatMap((k, i) => (k === A.S32 || k === A.S64 ? [i + 1] : []));
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

/** Start offsets of the ops of a program, in order. */
export function opStarts(code: Int32Array): Int32Array {
  const out = new Int32Array(code.length);
  let n = 0;
  for (let pc = 0; pc < code.length; pc += 1 + OPS[code[pc]!]!.args.length) out[n++] = pc;
  return out.slice(0, n);
}

export interface Analysis {
  starts: Int32Array;
  /** Per op (index into starts): 1 if the op must be emitted. */
  live: Uint8Array;
  /** Per temp: number of live uses. */
  uses: Int32Array;
  /** The instruction count and RIP are static at every op (no label is reached with two different counts). */
  staticInsn: boolean;
  /** Some live op reads or writes the RIP field directly: keep RIP in memory exactly like the interpreter. */
  ripTouched: boolean;
}

export function analyse(p: Program, rip: number): Analysis {
  const code = p.code;
  const starts = opStarts(code);
  const n = starts.length;
  const live = new Uint8Array(n);
  const uses = new Int32Array(p.widths.length);
  const killed = new Int32Array(STATE_SIZE);
  let gen = 1;
  let ripTouched = false;

  for (let i = n - 1; i >= 0; i--) {
    const pc = starts[i]!;
    const o = code[pc]!;
    const kind = KIND[o]!;
    if (kind === 1 || kind === 2) {
      const size = SIZE[o]!;
      const off = stateAccessOffset(code[pc + (kind === 1 ? 2 : 1)]!, size);
      if (off < rip + 8 && off + size > rip) ripTouched = true;
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
        if (inState) for (let b = off; b < off + size; b++) killed[b] = gen;
      }
      continue;
    }
    if (kind === 3 && uses[code[pc + 1]!] === 0) continue;
    live[i] = 1;
    if (kind === 4) gen++; // an observation point
    const src = SOURCES[o]!;
    for (let a = 0; a < src.length; a++) {
      const t = code[pc + src[a]!]!;
      if (t >= 0) uses[t]!++;
    }
  }

  // Static instruction count: every label must be reached with one count.
  let staticInsn = true;
  const labelCount = new Int32Array(p.labels).fill(-1);
  let cur = 0;
  let reachable = true;
  const arrive = (l: number) => {
    if (labelCount[l] === -1) labelCount[l] = cur;
    else if (labelCount[l] !== cur) staticInsn = false;
  };
  for (let i = 0; i < n && staticInsn; i++) {
    const pc = starts[i]!;
    const o = code[pc]!;
    if (o === LABEL) {
      const l = code[pc + 1]!;
      if (reachable) arrive(l);
      reachable = labelCount[l] !== -1;
      cur = reachable ? labelCount[l]! : 0;
      continue;
    }
    if (!reachable) continue;
    switch (o) {
      case INSN: cur++; break;
      case BR: arrive(code[pc + 1]!); reachable = false; break;
      case BRNZ: case BRZ: arrive(code[pc + 2]!); break;
      case EXIT: case EXITI: case RAISE: reachable = false; break;
    }
  }
  return { starts, live, uses, staticInsn, ripTouched };
}
