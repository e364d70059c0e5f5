// What the control registers do to MMX/SSE (SDM Vol. 3 §2.5, §13.1; not reachable from the native oracle, which
// runs in a Linux process): CR4.OSFXSR=0 makes SSE instructions #UD but leaves MMX ones alone, CR0.EM makes both
// #UD, CR0.TS makes both #NM, and an unmasked SIMD exception is #XM with CR4.OSXMMEXCPT or #UD without it.
// Interpreter and JIT.
import { describe, expect, it } from 'vitest';
import { Machine } from '../src/machine/machine.ts';
import * as L from '../src/cpu/layout.ts';
import { enableJit } from '../src/jit/compiler.ts';
import { buildKernel } from './loader-build.ts';

class Fault {
  constructor(readonly vector: number) {}
}

const CR0_MP = 0x2n, CR0_EM = 0x4n, CR0_TS = 0x8n, CR0_NE = 0x20n;
const CR4_OSFXSR = 0x200n, CR4_OSXMMEXCPT = 0x400n;

let lastMxcsr = 0;

/** Runs `code` (64-bit, at CPL 0) with the given CR0/CR4 bits and MXCSR; returns the exception vector or -1. */
function run(code: string, opts: { cr0?: bigint; cr4?: bigint; mxcsr?: number; jit?: boolean }): number {
  const m = new Machine({ ramSize: 16 << 20, output: () => {} });
  m.load(buildKernel(`.intel_syntax noprefix\n.globl _start\n_start:\n lea rsp, [rip + stack_top]\n ${code}\n hlt\n.data\n.p2align 4\nbuf: .fill 64, 1, 0x3f\n.fill 256, 1, 0\nstack_top:\n`, { bits: 64 }));
  if (opts.jit) enableJit(m.cpu, { threshold: 0 });
  const st = m.cpu.getState();
  m.cpu.setState({
    ...st,
    cr0: (st.cr0 & ~(CR0_EM | CR0_TS)) | CR0_MP | CR0_NE | (opts.cr0 ?? 0n),
    cr4: (st.cr4 & ~(CR4_OSFXSR | CR4_OSXMMEXCPT)) | (opts.cr4 ?? CR4_OSFXSR | CR4_OSXMMEXCPT),
  });
  m.cpu.set32(L.MXCSR, opts.mxcsr ?? 0x1f80);
  m.cpu.set32(L.FCW, 0x37f);
  m.cpu.onException = (vector) => {
    throw new Fault(vector);
  };
  try {
    const r = m.run(10_000);
    expect(r.kind).toBe('halt');
    return -1;
  } catch (e) {
    if (e instanceof Fault) return e.vector;
    throw e;
  } finally {
    lastMxcsr = m.cpu.get32(L.MXCSR);
  }
}

const SSE = ['movaps xmm0, xmm1', 'movdqu xmm0, [rip + buf]', 'paddb xmm0, xmm1', 'addps xmm0, xmm1', 'ldmxcsr [rip + buf + 64]',
  'stmxcsr [rip + buf]', 'pshufb xmm0, xmm1', 'pcmpistri xmm0, xmm1, 0', 'cvtsi2sd xmm0, rax', 'cvttsd2si eax, xmm0',
  'cvtpi2ps xmm0, mm1', 'cvtps2pi mm0, xmm1', 'movq2dq xmm0, mm1', 'movdq2q mm0, xmm1', 'ptest xmm0, xmm1', 'roundsd xmm0, xmm1, 1',
  'comisd xmm0, xmm1', 'pmovmskb eax, xmm0', 'maskmovdqu xmm0, xmm1', 'movd xmm0, eax', 'pextrw eax, xmm0, 1'];
const MMX = ['movq mm0, mm1', 'paddb mm0, mm1', 'emms', 'pshufb mm0, mm1', 'pavgb mm0, [rip + buf]', 'movd eax, mm0',
  'pextrw eax, mm0, 1', 'movntq [rip + buf], mm0', 'psllq mm0, 3', 'pmuludq mm0, mm1'];

describe('MMX/SSE and the control registers (kemu only)', () => {
  for (const jit of [false, true]) {
    const mode = jit ? 'JIT' : 'interpreter';
    it(`CR4.OSFXSR=0: SSE #UD, MMX runs (${mode})`, () => {
      for (const c of SSE) expect([c, run(c, { cr4: 0n, jit })]).toEqual([c, 6]);
      for (const c of MMX) expect([c, run(c, { cr4: 0n, jit })]).toEqual([c, -1]);
    });
    it(`CR0.EM: #UD for both; CR0.TS: #NM for both; all clear: they run (${mode})`, () => {
      for (const c of [...SSE, ...MMX]) {
        expect([c, run(c, { cr0: CR0_EM, jit })]).toEqual([c, 6]);
        expect([c, run(c, { cr0: CR0_TS, jit })]).toEqual([c, 7]);
        expect([c, run(c, { jit })]).toEqual([c, -1]);
      }
    });
    it(`unmasked SIMD exception: #XM with CR4.OSXMMEXCPT, #UD without; flags set either way (${mode})`, () => {
      const code = 'mov eax, 0x3f800000\n movd xmm0, eax\n xorps xmm1, xmm1\n divss xmm0, xmm1'; // 1/0
      expect(run(code, { mxcsr: 0x1f80 & ~0x200, jit })).toBe(19);
      expect(lastMxcsr).toBe((0x1f80 & ~0x200) | 4);
      expect(run(code, { mxcsr: 0x1f80 & ~0x200, cr4: CR4_OSFXSR, jit })).toBe(6);
      expect(lastMxcsr).toBe((0x1f80 & ~0x200) | 4);
      expect(run(code, { mxcsr: 0x1f80, cr4: CR4_OSFXSR, jit })).toBe(-1);
      expect(lastMxcsr).toBe(0x1f84);
    });
  }
});
