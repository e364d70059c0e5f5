// The lazy-flags helper: materialises the status flags when their producing operation was in an earlier block.
// It runs, through the IR interpreter, the same formulas (flags.ts) the translator emits inline, so the flag
// semantics exist once. One small program per CC_OP value, built on first use.
import { IrBuilder, type Program } from '../ir/builder.ts';
import { defineHelper } from '../ir/helpers.ts';
import { interpret } from '../ir/interp.ts';
import * as L from '../layout.ts';
import { CC_KINDS, ccFromState, statusFlags } from './flags.ts';

const programs: (Program | undefined)[] = new Array(CC_KINDS * 4);

function build(op: number): Program {
  const b = new IrBuilder();
  b.st32(L.SCRATCH, statusFlags(b, ccFromState(b, op)));
  b.exitTo(0n); // never taken as a guest RIP: the helper restores RIP below
  return b.finish();
}

export const H_CC_FLAGS = defineHelper('cc_flags', [], 32, false, (h) => {
  const i32 = h.i32;
  const s = h.stateBase >> 2;
  const op = i32[s + (L.CC_OP >> 2)]!;
  if (op < 0 || op >= programs.length) throw new Error(`bad CC_OP ${op}`);
  const rip0 = i32[s + (L.RIP >> 2)]!;
  const rip1 = i32[s + (L.RIP >> 2) + 1]!;
  interpret((programs[op] ??= build(op)), h);
  i32[s + (L.RIP >> 2)] = rip0;
  i32[s + (L.RIP >> 2) + 1] = rip1;
  return i32[s + (L.SCRATCH >> 2)]!;
});

/** The program the helper runs for CC_OP value `op` (the JIT compiles the same programs), or undefined. */
export function ccFlagsProgram(op: number): Program | undefined {
  return op >= 0 && op < programs.length ? (programs[op] ??= build(op)) : undefined;
}
export const CC_FLAGS_PROGRAMS = programs.length;
