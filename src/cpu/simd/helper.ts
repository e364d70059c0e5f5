// Registration of SIMD helpers. A vector operation is one function over byte indices into the state block's
// memory (destination d, source s, operand width n = 8 for MMX or 16 for XMM, an immediate); it is registered
// once per width so the JIT's imports stay (i32, i32, i32) -> void.
import { defineHelper } from '../ir/helpers.ts';
import type { IrHost } from '../ir/interp.ts';
import { views, type StateViews } from './state.ts';

export type VecFn = (v: StateViews, d: number, s: number, n: number, imm: number) => void;
export type VecResFn = (v: StateViews, d: number, s: number, n: number, imm: number) => number;

/** Helper numbers of one operation for 8-byte (MMX) and 16-byte (XMM) operands. */
export interface VecHelper {
  8: number;
  16: number;
}

/** Registers `fn` as the helpers `name.64` and `name.128`: (dOff, sOff, imm) with state-block offsets. */
export function vecHelper(name: string, fn: VecFn, faults = false): VecHelper {
  const mk = (n: 8 | 16) =>
    defineHelper(`${name}.${n * 8}`, [32, 32, 32], 0, faults, (h: IrHost, d, s, imm) => {
      const v = views(h);
      fn(v, v.base + (d as number), v.base + (s as number), n, imm as number);
    });
  return { 8: mk(8), 16: mk(16) };
}

/** Like vecHelper, for operations with an i32 result (a mask, EFLAGS bits, an index). */
export function vecResHelper(name: string, fn: VecResFn, faults = false): VecHelper {
  const mk = (n: 8 | 16) =>
    defineHelper(`${name}.${n * 8}`, [32, 32, 32], 32, faults, (h: IrHost, d, s, imm) => {
      const v = views(h);
      return fn(v, v.base + (d as number), v.base + (s as number), n, imm as number) | 0;
    });
  return { 8: mk(8), 16: mk(16) };
}
