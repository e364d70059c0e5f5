// The JIT's wasm SIMD helpers (src/jit/simd-wasm.ts) against the JS helpers they stand in for (simd/int-ops.ts):
// same state block bytes after each operation, on random registers, shift counts and shuffle controls.
import { describe, expect, it } from 'vitest';
import '../src/cpu/frontend/semantics.ts';
import { HELPERS } from '../src/cpu/ir/helpers.ts';
import * as L from '../src/cpu/layout.ts';
import { SIMD_WASM_HELPERS, buildSimdHelpers } from '../src/jit/simd-wasm.ts';
import type { IrHost } from '../src/cpu/ir/interp.ts';
import { Rng } from './util/oracle.ts';

const BASE = 65536;

function machine() {
  const memory = new WebAssembly.Memory({ initial: 2 });
  const u8 = new Uint8Array(memory.buffer);
  return { memory, u8, host: { u8, stateBase: BASE } as unknown as IrHost };
}

describe('wasm SIMD helpers', () => {
  it('compute what the JS helpers compute', () => {
    const js = machine();
    const wasm = machine();
    const fns = buildSimdHelpers(BASE, wasm.memory);
    const r = new Rng(77n);
    const regs = [L.xmmOff(0), L.xmmOff(1), L.xmmOff(7), L.VTMP];
    for (const name of SIMD_WASM_HELPERS) {
      const helper = HELPERS.find((h) => h.name === name);
      expect(helper, name).toBeDefined();
      const w = fns[name] as (n: number, d: number, s: number, imm: number) => void;
      for (let k = 0; k < 300; k++) {
        const block = r.bytes(2048);
        const s = regs[r.int(regs.length)]!;
        const d = r.int(5) === 0 ? s : regs[r.int(regs.length)]!;
        if (name.startsWith('psll') || name.startsWith('psrl')) {
          // counts around the lane width, sometimes with a non-zero high dword
          const lo = r.int(3) === 0 ? r.int(0x10000) : r.int(40);
          new DataView(block.buffer).setUint32(s, lo, true);
          new DataView(block.buffer).setUint32(s + 4, r.int(4) === 0 ? 1 + r.int(5) : 0, true);
        }
        const imm = r.int(256);
        js.u8.set(block, BASE);
        wasm.u8.set(block, BASE);
        helper!.fn(js.host, d, s, imm);
        w(0, d, s, imm);
        expect(Buffer.from(wasm.u8.subarray(BASE, BASE + 2048)).equals(Buffer.from(js.u8.subarray(BASE, BASE + 2048))), `${name} d=${d} s=${s} imm=${imm}`).toBe(true);
      }
    }
  });
});
