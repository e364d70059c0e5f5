// Branch hints: compiled blocks mark the inline TLB hit of every memory access as the likely way, in the
// `metadata.code.branch_hint` custom section, so V8's optimizing tier lays the slow paths (state stores and a call
// out) out of line and keeps their register spills there.
import { describe, expect, it } from 'vitest';
import { translateBlock } from '../src/cpu/frontend/block.ts';
import { generate, type Callee, type CodegenEnv } from '../src/jit/codegen.ts';
import '../src/jit/compiler.ts'; // (sets V8's branch-hinting flag)
import { ModuleBuilder, Ty, W } from '../src/jit/wasm.ts';
import { JitRig } from './jit-rig.ts';

function leb(b: Uint8Array, at: number): [number, number] {
  let v = 0;
  let shift = 0;
  for (;;) {
    const x = b[at++]!;
    v += (x & 0x7f) * 2 ** shift;
    shift += 7;
    if (!(x & 0x80)) return [v, at];
  }
}

/** The module's sections in order: id, custom section name, payload start and end. */
function sections(b: Uint8Array): { id: number; name?: string; start: number; end: number }[] {
  const out = [];
  let at = 8;
  while (at < b.length) {
    const id = b[at++]!;
    const [size, p] = leb(b, at);
    let start = p;
    let name: string | undefined;
    if (id === 0) {
      const [n, q] = leb(b, p);
      name = new TextDecoder().decode(b.subarray(q, q + n));
      start = q + n;
    }
    out.push({ id, name, start, end: p + size });
    at = p + size;
  }
  return out;
}

describe('JIT: branch hints', () => {
  it('every memory access of a block hints its TLB hit as likely, at its `if`', () => {
    const rig = new JitRig({
      kernel: '.intel_syntax noprefix\n.globl _start\n_start:\nmov rax, [rbx + 8]\nadd rax, rcx\nmov [rbx + 16], rax\ninc qword ptr [rbx]\nint3\n',
    });
    const cpu = rig.cpu;
    const t = translateBlock(cpu, cpu.rip, cpu.rip, cpu.mode);
    let next = 0;
    const callee = (): Callee => ({ index: next++, type: 0 });
    const env: CodegenEnv = { read: callee, read64: callee, write: callee, write64: callee, raise: callee, helper: callee };
    const g = generate(t.prog, env, { stateBase: cpu.stateBase, mode: cpu.mode });
    // a load, a store, and inc's load and store: each TLB hit likely (whether JS asked for the run loop after a
    // call out is checked where the block would chain, and this one ends in int3's helper: no chain)
    const likely: number[] = [];
    for (let k = 0; k < g.hints.length; k += 2) {
      expect(g.body[g.hints[k]!], `hint at ${g.hints[k]}`).toBe(W.if_);
      likely.push(g.hints[k + 1]!);
      if (k) expect(g.hints[k]!).toBeGreaterThan(g.hints[k - 2]!);
    }
    expect(likely).toEqual([1, 1, 1, 1]);
  });

  it('the section comes before the code and counts offsets from the function body with its locals', () => {
    const mb = new ModuleBuilder();
    // (param i32) (result i32) (local i64 i32): if (x) 7 else 9
    const body = new Uint8Array([W.local_get, 0, W.if_, Ty.I32, W.i32_const, 7, W.else_, W.i32_const, 9, W.end, W.end]);
    const f = mb.func(mb.type([Ty.I32], [Ty.I32]), [[1, Ty.I64], [1, Ty.I32]], body, [2, 0]);
    mb.export('f', f);
    const bytes = mb.finish();
    const secs = sections(bytes);
    const hint = secs.findIndex((s) => s.name === 'metadata.code.branch_hint');
    const code = secs.findIndex((s) => s.id === 10);
    expect(hint).toBeGreaterThanOrEqual(0);
    expect(hint).toBeLessThan(code);
    const h = secs[hint]!;
    // one function (0) with one hint: offset 5 (locals: count 2, (1 i64), (1 i32) = 5 bytes; then the `if` at 2)
    expect([...bytes.subarray(h.start, h.end)]).toEqual([1, 0, 1, 7, 1, 0]);
    const [, bodyStart] = leb(bytes, secs[code]!.start + 1); // (skip the function count, then the body size)
    expect(bytes[bodyStart + 7]).toBe(W.if_);
    const run = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.f as (x: number) => number;
    expect([run(1), run(0)]).toEqual([7, 9]);
  });
});
