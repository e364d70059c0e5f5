// MMX and SSE2-SSE4.2 integer SIMD and the data moves against this machine's CPU: every operation in its MMX and
// XMM register and memory forms with lane edge values, all imm8 values that matter for shuffles/shifts/blends,
// alignment #GP, and the x87 side effects of MMX (TOP, tags, exponents; compared through the FXSAVE image).
// Each test runs kemu's interpreter and its JIT against one native run.
import { describe, expect, it } from 'vitest';
import { DATA, NATIVE_ORACLE, Oracle, Rng, report } from './util/oracle.ts';
import { bytesOf, cat, vec } from './cpu-sse-util.ts';

const BOTH = { jit: 'both' } as const;

/** Lane operations with MMX and XMM forms. */
const MMX_XMM = [
  'paddb', 'paddw', 'paddd', 'paddq', 'psubb', 'psubw', 'psubd', 'psubq', 'paddsb', 'paddsw', 'paddusb', 'paddusw',
  'psubsb', 'psubsw', 'psubusb', 'psubusw', 'pmullw', 'pmulhw', 'pmulhuw', 'pmuludq', 'pmaddwd', 'pand', 'pandn',
  'por', 'pxor', 'pcmpeqb', 'pcmpeqw', 'pcmpeqd', 'pcmpgtb', 'pcmpgtw', 'pcmpgtd', 'packsswb', 'packssdw', 'packuswb',
  'punpcklbw', 'punpcklwd', 'punpckldq', 'punpckhbw', 'punpckhwd', 'punpckhdq', 'pavgb', 'pavgw', 'pminub', 'pminsw',
  'pmaxub', 'pmaxsw', 'psadbw', 'pshufb', 'phaddw', 'phaddd', 'phaddsw', 'phsubw', 'phsubd', 'phsubsw', 'pabsb',
  'pabsw', 'pabsd', 'psignb', 'psignw', 'psignd', 'pmulhrsw', 'pmaddubsw',
];
/** XMM-only lane operations. */
const XMM_ONLY = [
  'punpcklqdq', 'punpckhqdq', 'pmulld', 'pmuldq', 'pcmpeqq', 'pcmpgtq', 'packusdw', 'pminsb', 'pminsd', 'pminuw',
  'pminud', 'pmaxsb', 'pmaxsd', 'pmaxuw', 'pmaxud', 'phminposuw',
];
const SHIFTS = ['psllw', 'pslld', 'psllq', 'psrlw', 'psrld', 'psrlq', 'psraw', 'psrad'];
const EXTENDS = ['pmovsxbw', 'pmovsxbd', 'pmovsxbq', 'pmovsxwd', 'pmovsxwq', 'pmovsxdq', 'pmovzxbw', 'pmovzxbd',
  'pmovzxbq', 'pmovzxwd', 'pmovzxwq', 'pmovzxdq'];

/** MMX register values (the low 64 bits of a vector). */
const mm = (v: bigint) => v & 0xffffffffffffffffn;

describe.skipIf(!NATIVE_ORACLE.ok)('MMX/SSE integer SIMD (native oracle)', () => {
  it('lane operations, register and memory forms, MMX and XMM', () => {
    const o = new Oracle();
    const r = new Rng(700n);
    for (const op of [...MMX_XMM, ...XMM_ONLY]) {
      const forms = [`${op} xmm1, xmm2`, `${op} xmm1, [rdi]`, `${op} xmm9, xmm14`, `${op} xmm3, xmm3`];
      if (MMX_XMM.includes(op)) forms.push(`${op} mm1, mm2`, `${op} mm1, [rdi]`, `${op} mm3, mm3`);
      for (const f of forms) {
        const c = o.code(f);
        for (let k = 0; k < 24; k++) {
          const a = vec(r), b = vec(r, a);
          o.add(c, { xmm: { 1: a, 2: b, 3: a, 9: a, 14: b }, mm: { 1: mm(a), 2: mm(b), 3: mm(a) }, regs: { rdi: DATA }, data: bytesOf(b) });
        }
      }
    }
    expect(report(o.run(BOTH))).toBe('');
  });

  it('shifts by register, memory and immediate counts; byte shifts; shuffles, palignr and blends with every imm8', () => {
    const o = new Oracle();
    const r = new Rng(701n);
    const counts = [0n, 1n, 3n, 7n, 8n, 15n, 16n, 17n, 31n, 32n, 33n, 63n, 64n, 65n, 255n, 256n, 1n << 32n, 0x8000000000000000n];
    for (const op of SHIFTS) {
      for (const f of [`${op} xmm1, xmm2`, `${op} xmm1, [rdi]`, `${op} mm1, mm2`, `${op} mm1, [rdi]`]) {
        const c = o.code(f);
        for (const n of counts) {
          const a = vec(r);
          const hiGarbage = r.u64() << 64n; // the count is the low quadword only
          o.add(c, { xmm: { 1: a, 2: n | hiGarbage }, mm: { 1: mm(a), 2: n }, regs: { rdi: DATA }, data: bytesOf(n | hiGarbage) });
        }
      }
      for (const imm of [0, 1, 5, 15, 16, 31, 32, 63, 64, 200, 255]) {
        for (const f of [`${op} xmm1, ${imm}`, `${op} mm1, ${imm}`]) {
          const c = o.code(f);
          for (let k = 0; k < 2; k++) {
            const a = vec(r);
            o.add(c, { xmm: { 1: a }, mm: { 1: mm(a) } });
          }
        }
      }
    }
    const imms = (n: number) => Array.from({ length: n }, (_, i) => i);
    const forms: [string, number[], boolean][] = [
      ['pslldq xmm1, #', [...imms(18), 31, 128, 255], false], ['psrldq xmm1, #', [...imms(18), 31, 128, 255], false],
      ['pshufd xmm1, xmm2, #', imms(256), false], ['pshufhw xmm1, xmm2, #', imms(256).filter((i) => i % 3 === 0), false],
      ['pshuflw xmm1, xmm2, #', imms(256).filter((i) => i % 3 === 1), false], ['pshufw mm1, mm2, #', imms(256).filter((i) => i % 3 === 2), false],
      ['pshufd xmm1, [rdi], #', [0x1b, 0xe4], false], ['pshufw mm1, [rdi], #', [0x1b, 0x4e], false],
      ['palignr xmm1, xmm2, #', [...imms(34), 48, 255], false], ['palignr mm1, mm2, #', [...imms(18), 100], false],
      ['palignr xmm1, [rdi], #', [3, 17], false], ['palignr mm1, [rdi], #', [5], false],
      ['pblendw xmm1, xmm2, #', imms(256).filter((i) => i % 5 === 0), false], ['blendps xmm1, xmm2, #', imms(16), false],
      ['blendpd xmm1, xmm2, #', imms(4), false], ['blendps xmm1, [rdi], #', [5], false],
      ['mpsadbw xmm1, xmm2, #', imms(8), false], ['mpsadbw xmm1, [rdi], #', [5, 0xfa], false],
      ['pblendvb xmm1, xmm2, xmm0', [0], false], ['blendvps xmm1, xmm2, xmm0', [0], false], ['blendvpd xmm1, xmm2, xmm0', [0], false],
      ['pblendvb xmm1, [rdi], xmm0', [0], false], ['blendvpd xmm1, [rdi], xmm0', [0], false],
    ];
    for (const [f, list] of forms) {
      for (const imm of list) {
        const c = o.code(f.replace('#', String(imm)));
        for (let k = 0; k < (list.length > 30 ? 1 : 4); k++) {
          const a = vec(r), b = vec(r);
          o.add(c, { xmm: { 0: vec(r), 1: a, 2: b }, mm: { 1: mm(a), 2: mm(b) }, regs: { rdi: DATA }, data: bytesOf(b) });
        }
      }
    }
    expect(report(o.run(BOTH))).toBe('');
  });

  it('sign/zero extensions, mask extraction, ptest, extracts and inserts', () => {
    const o = new Oracle();
    const r = new Rng(702n);
    const memSize: Record<string, string> = { b: 'qword', w: 'qword', d: 'qword' };
    for (const op of EXTENDS) {
      const from = op[6]!, to = op[7]!;
      const ratio = { b: 1, w: 2, d: 4, q: 8 }[to]! / { b: 1, w: 2, d: 4, q: 8 }[from]!;
      const ptr = ratio === 2 ? 'qword' : ratio === 4 ? 'dword' : 'word';
      void memSize;
      for (const f of [`${op} xmm1, xmm2`, `${op} xmm1, ${ptr} ptr [rdi]`, `${op} xmm1, ${ptr} ptr [rdi+3]`]) {
        const c = o.code(f);
        for (let k = 0; k < 16; k++) {
          const b = vec(r);
          o.add(c, { xmm: { 1: vec(r), 2: b }, regs: { rdi: DATA }, data: bytesOf(b) });
        }
      }
    }
    const forms = [
      'pmovmskb eax, xmm1', 'pmovmskb rax, xmm9', 'pmovmskb eax, mm1', 'movmskps eax, xmm1', 'movmskpd rax, xmm1',
      'ptest xmm1, xmm2', 'ptest xmm1, [rdi]', 'ptest xmm1, xmm1',
      'pextrb eax, xmm1, 0', 'pextrb eax, xmm1, 15', 'pextrb eax, xmm1, 17', 'pextrb rax, xmm1, 9', 'pextrb [rdi+3], xmm1, 7',
      'pextrw eax, xmm1, 0', 'pextrw eax, xmm1, 7', 'pextrw eax, xmm1, 9', 'pextrw rax, xmm1, 5', 'pextrw eax, mm1, 3', 'pextrw eax, mm1, 6',
      'pextrw [rdi+1], xmm1, 6', 'pextrd eax, xmm1, 0', 'pextrd eax, xmm1, 3', 'pextrd eax, xmm1, 6', 'pextrd [rdi+2], xmm1, 2',
      'pextrq rax, xmm1, 0', 'pextrq rax, xmm1, 1', 'pextrq [rdi+5], xmm1, 3', 'extractps eax, xmm1, 2', 'extractps [rdi], xmm1, 3',
      'pinsrb xmm1, eax, 0', 'pinsrb xmm1, eax, 15', 'pinsrb xmm1, ebx, 18', 'pinsrb xmm1, [rdi+1], 5',
      'pinsrw xmm1, eax, 0', 'pinsrw xmm1, ebx, 7', 'pinsrw xmm1, word ptr [rdi+1], 12', 'pinsrw mm1, eax, 2', 'pinsrw mm1, word ptr [rdi], 7',
      'pinsrd xmm1, eax, 1', 'pinsrd xmm1, [rdi+2], 3', 'pinsrq xmm1, rax, 1', 'pinsrq xmm1, [rdi], 0', 'pinsrq xmm1, rbx, 2',
      ...Array.from({ length: 16 }, (_, i) => `insertps xmm1, xmm2, ${i * 17}`), 'insertps xmm1, [rdi], 0x35', 'insertps xmm1, [rdi+1], 0xf0',
    ];
    for (const f of forms) {
      const c = o.code(f);
      for (let k = 0; k < 12; k++) {
        const a = vec(r), b = vec(r, a);
        o.add(c, { xmm: { 1: a, 2: b, 9: b }, mm: { 1: mm(a) }, regs: { rdi: DATA, rax: r.u64(), rbx: r.u64() }, data: bytesOf(b) });
      }
    }
    expect(report(o.run(BOTH))).toBe('');
  });

  it('moves: movd/movq in every form, full, scalar and half moves, duplicating moves, movnti, maskmov', () => {
    const o = new Oracle();
    const r = new Rng(703n);
    const forms = [
      'movd mm1, eax', 'movd mm1, [rdi+1]', 'movd eax, mm1', 'movd [rdi+3], mm1', 'movq mm1, rax', 'movq rax, mm1',
      'movq mm1, [rdi]', 'movq [rdi+1], mm1', 'movq mm1, mm2', 'movq mm3, mm3',
      'movd xmm1, eax', 'movd xmm1, [rdi+1]', 'movd eax, xmm1', 'movd [rdi+3], xmm1', 'movq xmm1, rax', 'movq rax, xmm1',
      'movq xmm1, [rdi]', 'movq [rdi+1], xmm1', 'movq xmm1, xmm2', 'movq xmm9, xmm1', 'movd r9d, xmm12',
      'movaps xmm1, xmm2', 'movaps xmm1, [rdi]', 'movaps [rdi+16], xmm1', 'movapd xmm1, [rdi]', 'movapd [rdi], xmm2',
      'movdqa xmm1, [rdi]', 'movdqa [rdi+32], xmm1', 'movdqa xmm10, xmm1', 'movups xmm1, [rdi+1]', 'movups [rdi+3], xmm1',
      'movupd xmm1, [rdi+5]', 'movupd [rdi+7], xmm1', 'movdqu xmm1, [rdi+9]', 'movdqu [rdi+11], xmm15', 'lddqu xmm1, [rdi+13]',
      'movntdqa xmm1, [rdi]', 'movntdq [rdi], xmm1', 'movntps [rdi+16], xmm1', 'movntpd [rdi], xmm1', 'movnti [rdi+1], eax',
      'movnti [rdi+3], rax', 'movntq [rdi+1], mm1',
      'movss xmm1, xmm2', 'movss xmm1, [rdi+1]', 'movss [rdi+2], xmm1', 'movsd xmm1, xmm2', 'movsd xmm1, [rdi+1]', 'movsd [rdi+2], xmm1',
      'movhps xmm1, [rdi+1]', 'movhps [rdi+3], xmm1', 'movhpd xmm1, [rdi]', 'movhpd [rdi], xmm1', 'movlps xmm1, [rdi+1]',
      'movlps [rdi+3], xmm1', 'movlpd xmm1, [rdi]', 'movlpd [rdi], xmm1', 'movhlps xmm1, xmm2', 'movlhps xmm1, xmm2',
      'movq2dq xmm1, mm2', 'movdq2q mm1, xmm2', 'movddup xmm1, xmm2', 'movddup xmm1, [rdi+1]', 'movshdup xmm1, xmm2',
      'movshdup xmm1, [rdi]', 'movsldup xmm1, xmm2', 'movsldup xmm1, [rdi]',
      'maskmovq mm1, mm2', 'maskmovdqu xmm1, xmm2', 'maskmovdqu xmm1, xmm1',
    ];
    for (const f of forms) {
      const c = o.code(f);
      for (let k = 0; k < 6; k++) {
        const a = vec(r), b = vec(r);
        o.add(c, {
          xmm: { 1: a, 2: b, 12: vec(r) }, mm: { 1: mm(a), 2: mm(b), 3: r.u64() }, regs: { rdi: DATA + 0x40, rax: r.u64() },
          data: cat(new Uint8Array(0x40), r.bytes(64)),
        });
      }
    }
    expect(report(o.run(BOTH))).toBe('');
  });

  it('alignment: #GP for misaligned 16-byte operands of legacy SSE (not with MXCSR.MM, except the aligned moves)', () => {
    const o = new Oracle();
    const r = new Rng(704n);
    const forms = ['paddb xmm1, [rdi+1]', 'pshufb xmm1, [rdi+8]', 'ptest xmm1, [rdi+4]', 'pshufd xmm1, [rdi+2], 1',
      'movaps xmm1, [rdi+8]', 'movaps [rdi+4], xmm1', 'movdqa xmm1, [rdi+1]', 'movdqa [rdi+15], xmm1', 'movapd xmm1, [rdi+8]',
      'movntdq [rdi+8], xmm1', 'movntdqa xmm1, [rdi+8]', 'movntps [rdi+1], xmm1', 'punpcklbw xmm1, [rdi+2]', 'movshdup xmm1, [rdi+4]',
      'pblendvb xmm1, [rdi+1], xmm0', 'palignr xmm1, [rdi+3], 4', 'pcmpeqb xmm1, [rdi+1]', 'pminub xmm1, [rdi+6]',
      'pmovmskb eax, xmm1\npor xmm1, [rdi+2]', 'movdqu xmm1, [rdi+1]', 'paddb mm1, [rdi+1]', 'pcmpeqb xmm1, [rdi+16]'];
    for (const f of forms) {
      const c = o.code(f);
      for (const mxcsr of [0x1f80, 0x21f80]) o.add(c, { xmm: { 1: vec(r) }, mxcsr, regs: { rdi: DATA }, data: r.bytes(64) });
    }
    // misaligned and not mapped (or not canonical): which comes first
    for (const f of ['movaps xmm1, [rdi]', 'movdqa [rdi], xmm1', 'paddb xmm1, [rdi]', 'movups xmm1, [rdi]']) {
      const c = o.code(f);
      for (const rdi of [0x800008n, 0x800000n, 0x8000000000000008n, BigInt(DATA + 0x10000 - 8)]) o.add(c, { regs: { rdi } });
    }
    // FS/GS bases count: the linear address must be aligned
    const fsCase = o.code('movdqa xmm1, fs:[rdi]');
    o.add(fsCase, { regs: { rdi: 0 }, fsBase: DATA + 8, data: r.bytes(32) });
    o.add(fsCase, { regs: { rdi: 8 }, fsBase: DATA + 8, data: r.bytes(32) });
    expect(report(o.run(BOTH))).toBe('');
  });

  it('MMX instructions: #MF with a pending x87 exception (SSE ones not), TOP = 0 and tags valid after, EMMS', () => {
    const o = new Oracle();
    const r = new Rng(706n);
    const forms = ['paddb mm0, mm1', 'emms', 'movq mm0, mm1', 'movq mm0, [rsp]', 'paddb xmm0, xmm1', 'cvtpi2ps xmm0, mm1',
      'cvtpi2ps xmm0, [rsp]', 'cvtps2pi mm0, xmm1', 'cvtpd2pi mm0, [rsp]', 'movdq2q mm0, xmm1', 'movq2dq xmm0, mm1', 'pshufb mm0, mm1',
      'pavgb mm0, mm1', 'movd eax, mm0', 'movntq [rsp], mm0', 'pextrw eax, mm0, 1', 'pinsrw mm0, eax, 1', 'pmovmskb eax, mm0',
      'movq mm0, mm1\nemms', 'emms\nmovd mm2, eax', 'ldmxcsr [rsp]', 'movdqu xmm0, [rsp]', 'pmuludq mm0, mm1', 'psllq mm0, 3'];
    for (const f of forms) {
      const c = o.code(f);
      for (const [fcw, fsw] of [[0x37e, 0x81], [0x37f, 0x81], [0x37f, 0x3800], [0x37b, 0x1804], [0x37f, 0x2000]]) {
        o.add(c, { fcw, fsw, mm: { 0: r.u64(), 1: r.u64(), 2: r.u64() }, regs: { rsp: DATA + 0x100, rax: r.u64() }, data: bytesOf(0x1f80n, 0x110) });
      }
    }
    expect(report(o.run(BOTH))).toBe('');
  });

  it('32-bit code (compatibility mode): addressing, movd, extracts, maskmovdqu through EDI, conversions', () => {
    const o = new Oracle();
    const r = new Rng(707n);
    const forms = ['movdqu xmm1, [edi+1]', 'movdqa xmm1, [edi+16]', 'movaps xmm1, [edi+4]', 'paddb xmm1, [edi]', 'movd xmm1, eax',
      'movd ebx, xmm1', 'movq xmm1, [edi+3]', 'movq [edi+5], xmm1', 'pextrw eax, xmm1, 3', 'pinsrd xmm1, eax, 2', 'pmovmskb eax, xmm1',
      'maskmovdqu xmm1, xmm2', 'maskmovq mm1, mm2', 'pcmpistri xmm1, [edi], 0x0c', 'cvtsi2sd xmm1, eax', 'cvttsd2si eax, xmm1',
      'movdqu [edi+7], xmm2', 'paddd mm1, [edi+1]', 'psadbw xmm1, xmm2', 'ldmxcsr [edi]\nstmxcsr [edi+8]'];
    for (const f of forms) {
      const c = o.code(f, { bits: 32 });
      for (let k = 0; k < 8; k++) {
        const a = vec(r), b = vec(r);
        o.add(c, { xmm: { 1: a, 2: b }, mm: { 1: mm(a), 2: mm(b) }, regs: { rdi: DATA, rax: r.u64() & 0xffffffffn },
          data: cat(bytesOf(0x1f80n | (BigInt(r.int(2)) << 13n), 4), r.bytes(60)) });
      }
    }
    expect(report(o.run(BOTH))).toBe('');
  });

  it('16-byte stores that fault write nothing; loads that fault change no register', () => {
    const o = new Oracle();
    const r = new Rng(705n);
    // the data area's last page is followed by an unmapped page
    const end = 0x10000;
    for (const f of ['movdqu [rdi], xmm1', 'movups [rdi], xmm1', 'movdqu xmm1, [rdi]', 'movq [rdi], xmm1', 'maskmovdqu xmm1, xmm2',
      'movhps [rdi], xmm1', 'movdqa [rdi], xmm1', 'lddqu xmm2, [rdi]']) {
      const c = o.code(f);
      for (const off of [16, 12, 9, 8, 4, 1, 0]) {
        o.add(c, { xmm: { 1: vec(r), 2: vec(r) | (0x80n << 120n) }, regs: { rdi: DATA + end - off }, data: r.bytes(end), outLen: end });
      }
    }
    // the masked moves check their whole destination, even with a zero mask (and maskmovq enters MMX mode first)
    for (const f of ['maskmovdqu xmm1, xmm2', 'maskmovq mm1, mm2']) {
      const c = o.code(f);
      for (const rdi of [BigInt(DATA + end - 8), BigInt(DATA + end - 4), 0x800000n, 0x8000000000000000n, BigInt(DATA)]) {
        for (const mask of [0n, 0x80n, 0x80n << 56n, 0x80n << 120n, vec(r)]) {
          o.add(c, { xmm: { 1: vec(r), 2: mask }, mm: { 1: r.u64(), 2: mask & 0xffffffffffffffffn }, regs: { rdi }, data: r.bytes(end), outLen: end });
        }
      }
    }
    expect(report(o.run(BOTH))).toBe('');
  });
});
