// Legacy-encoded MMX/SSE tables (0F, 0F 38, 0F 3A) against GNU objdump: assembled samples of every tabled
// instruction, and sweeps of every opcode x mandatory prefix x a spread of ModRM bytes.
import { describe, expect, it } from 'vitest';
import { decode, newInstruction } from '../src/decoder/decode.ts';
import { parseEntry, type Node, type OpcodeMap } from '../src/decoder/notation.ts';
import { map0fSse } from '../src/decoder/tables/map0f-sse.ts';
import { map0f38Sse } from '../src/decoder/tables/map0f38-sse.ts';
import { map0f3a } from '../src/decoder/tables/map0f3a.ts';
import { Attr, Invalid, OpKind, RegClass, type Instruction } from '../src/decoder/types.ts';
import { assemble, mnemonicOf, objdumpRaw, type ObjdumpLine } from './util/gnu.ts';

// ---------------------------------------------------------------------------------------------------------------
// Comparison with objdump

/**
 * objdump spells some immediate-selected forms as pseudo-ops (cmpeqps for cmpps ..,0; pclmullqlqdq for
 * pclmulqdq ..,0). The decoder names the instruction; printing the pseudo-op is the disassembler's job.
 */
const pseudoOp = (m: string) =>
  m.replace(/^cmp(eq|lt|le|unord|neq|nlt|nle|ord)(ps|pd|ss|sd)$/, 'cmp$2').replace(/^pclmul[lh]q[lh]qdq$/, 'pclmulqdq');

const hex = (b: ArrayLike<number>) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

/** Compares one objdump line with our decode at the same address; returns an error text or ''. */
function compare(l: ObjdumpLine, insn: Instruction): string {
  const what = `${hex(l.bytes)} (${l.text})`;
  if (l.text.includes('(bad)')) {
    return insn.invalid === Invalid.None ? `${what}: objdump (bad), we decode ${insn.mnemonic}` : '';
  }
  if (insn.invalid !== Invalid.None) return `${what}: we say invalid (${insn.invalid})`;
  if (insn.length !== l.bytes.length) return `${what}: length ${insn.length}`;
  const m = mnemonicOf(l.text);
  if (insn.mnemonic !== m && insn.mnemonic !== pseudoOp(m)) return `${what}: mnemonic ${insn.mnemonic}`;
  return '';
}

/** Decodes every instruction objdump found in `code` and returns the disagreements. */
function checkListing(code: Uint8Array, mode: 32 | 64): { errors: string[]; lines: ObjdumpLine[] } {
  const lines = objdumpRaw(code, mode);
  const insn = newInstruction();
  const errors: string[] = [];
  for (const l of lines) {
    const e = compare(l, decode(code, l.addr, mode, insn));
    if (e) errors.push(e);
  }
  return { errors, lines };
}

const STRIDE = 16; // longest sample: 2 prefixes + 3 opcode bytes + ModRM + SIB + disp32 + 2 imm8 = 14

/**
 * Places each sample at a 16-byte stride (padding 0x90, which also serves as SIB/displacement/immediate bytes)
 * and compares decodes at the sample starts. objdump resynchronises after a (bad), so a sample whose start it
 * skipped over is not compared; the caller checks there are few.
 */
function sweep(samples: number[][], mode: 32 | 64): { errors: string[]; compared: number } {
  const code = new Uint8Array(samples.length * STRIDE).fill(0x90);
  samples.forEach((s, i) => code.set(s, i * STRIDE));
  const at = new Map(objdumpRaw(code, mode).map((l) => [l.addr, l]));
  const insn = newInstruction();
  const errors: string[] = [];
  let compared = 0;
  for (let i = 0; i < samples.length; i++) {
    const l = at.get(i * STRIDE);
    if (!l) continue;
    compared++;
    const e = compare(l, decode(code, i * STRIDE, mode, insn));
    if (e) errors.push(e);
  }
  return { errors, compared };
}

// ---------------------------------------------------------------------------------------------------------------
// The tables parse

function* entries(n: Node): Generator<string> {
  if (n === null || n === undefined) return;
  if (typeof n === 'string') yield n;
  else if ('sw' in n) for (const c of n.c) yield* entries(c);
}
const allEntries = (m: OpcodeMap) => Object.values(m).flatMap((n: Node) => [...entries(n)]);

describe('SSE tables', () => {
  it('every entry parses', () => {
    let count = 0;
    for (const m of [map0fSse, map0f38Sse, map0f3a]) {
      for (const text of allEntries(m)) {
        const e = parseEntry(text);
        expect(e.feature, text).not.toBe('');
        count++;
      }
    }
    expect(count).toBeGreaterThan(350);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Assembled samples of every tabled instruction
//
// Templates use placeholders; variant k of a line picks alternative k of every placeholder, so each template
// yields register forms with low and REX registers and memory forms with SIB and RIP-relative addressing.

const ALT: Record<string, string[]> = {
  X: ['xmm1', 'xmm9', 'xmm15', 'xmm0'],
  XM: ['xmm2', 'xmm10', '[rax+r9*4+0x10]', '[rip+0x200]'],
  XMq: ['xmm2', 'xmm10', 'QWORD PTR [rax+r9*4+0x10]', 'QWORD PTR [rip+0x200]'],
  XMd: ['xmm2', 'xmm10', 'DWORD PTR [rax+r9*4+0x10]', 'DWORD PTR [rip+0x200]'],
  XMw: ['xmm2', 'xmm10', 'WORD PTR [rax+r9*4+0x10]', 'WORD PTR [rip+0x200]'],
  M: ['[rbx]', '[r13+0x7f]', '[rax+r9*4+0x10]', '[rip+0x200]'],
  Mq: ['QWORD PTR [rbx]', 'QWORD PTR [r13+0x7f]', 'QWORD PTR [rax+r9*4+0x10]', 'QWORD PTR [rip+0x200]'],
  Md: ['DWORD PTR [rbx]', 'DWORD PTR [r13+0x7f]', 'DWORD PTR [rax+r9*4+0x10]', 'DWORD PTR [rip+0x200]'],
  Mw: ['WORD PTR [rbx]', 'WORD PTR [r13+0x7f]', 'WORD PTR [rax+r9*4+0x10]', 'WORD PTR [rip+0x200]'],
  Mb: ['BYTE PTR [rbx]', 'BYTE PTR [r13+0x7f]', 'BYTE PTR [rax+r9*4+0x10]', 'BYTE PTR [rip+0x200]'],
  P: ['mm0', 'mm7', 'mm3', 'mm1'],
  PM: ['mm2', 'mm5', '[rax+r9*4+0x10]', '[rip+0x200]'],
  PMq: ['mm2', 'mm5', 'QWORD PTR [rax+r9*4+0x10]', 'QWORD PTR [rip+0x200]'],
  PMd: ['mm2', 'mm5', 'DWORD PTR [rax+r9*4+0x10]', 'DWORD PTR [rip+0x200]'],
  G: ['eax', 'r11d', 'esi', 'r8d'],
  Gq: ['rax', 'r11', 'rsi', 'r8'],
  RMd: ['ecx', 'r14d', 'DWORD PTR [rax+r9*4+0x10]', 'DWORD PTR [rip+0x200]'],
  RMq: ['rcx', 'r14', 'QWORD PTR [rax+r9*4+0x10]', 'QWORD PTR [rip+0x200]'],
  I: ['0x0', '0x7', '0x11', '0xff'],
  I4: ['0x0', '0x1', '0x2', '0x3'],
};

const MMX_SSE2 = [
  'packsswb', 'pcmpgtb', 'pcmpgtw', 'pcmpgtd', 'packuswb', 'punpckhbw', 'punpckhwd', 'punpckhdq', 'packssdw',
  'pcmpeqb', 'pcmpeqw', 'pcmpeqd', 'psrlw', 'psrld', 'psrlq', 'paddq', 'pmullw', 'psubusb', 'psubusw', 'pminub',
  'pand', 'paddusb', 'paddusw', 'pmaxub', 'pandn', 'pavgb', 'psraw', 'psrad', 'pavgw', 'pmulhuw', 'pmulhw', 'psubsb',
  'psubsw', 'pminsw', 'por', 'paddsb', 'paddsw', 'pmaxsw', 'pxor', 'psllw', 'pslld', 'psllq', 'pmuludq', 'pmaddwd',
  'psadbw', 'psubb', 'psubw', 'psubd', 'psubq', 'paddb', 'paddw', 'paddd',
  'pshufb', 'phaddw', 'phaddd', 'phaddsw', 'pmaddubsw', 'phsubw', 'phsubd', 'phsubsw', 'psignb', 'psignw', 'psignd',
  'pmulhrsw', 'pabsb', 'pabsw', 'pabsd',
];
const SSE_XX = [
  'sqrtps', 'sqrtpd', 'addps', 'addpd', 'mulps', 'mulpd', 'subps', 'subpd', 'minps', 'minpd', 'divps', 'divpd', 'maxps',
  'maxpd', 'rsqrtps', 'rcpps', 'andps', 'andpd', 'andnps', 'andnpd', 'orps', 'orpd', 'xorps', 'xorpd', 'unpcklps',
  'unpcklpd', 'unpckhps', 'unpckhpd', 'movups', 'movupd', 'movaps', 'movapd', 'movdqa', 'movdqu', 'movsldup',
  'movshdup', 'cvtpd2ps', 'cvtdq2ps', 'cvtps2dq', 'cvttps2dq', 'cvttpd2dq', 'cvtpd2dq', 'punpcklqdq', 'punpckhqdq',
  'haddpd', 'haddps', 'hsubpd', 'hsubps', 'addsubpd', 'addsubps', 'ptest', 'pmuldq', 'pcmpeqq', 'packusdw', 'pcmpgtq',
  'pminsb', 'pminsd', 'pminuw', 'pminud', 'pmaxsb', 'pmaxsd', 'pmaxuw', 'pmaxud', 'pmulld', 'phminposuw', 'sha1nexte',
  'sha1msg1', 'sha1msg2', 'sha256msg1', 'sha256msg2', 'gf2p8mulb', 'aesimc', 'aesenc', 'aesenclast', 'aesdec',
  'aesdeclast', 'punpcklbw', 'punpcklwd', 'punpckldq',
];
const SSE_XXI = [
  'pshufd', 'pshufhw', 'pshuflw', 'cmpps', 'cmppd', 'shufps', 'shufpd', 'roundps', 'roundpd', 'blendps', 'blendpd',
  'pblendw', 'palignr', 'dpps', 'dppd', 'mpsadbw', 'pclmulqdq', 'pcmpestrm', 'pcmpestri', 'pcmpistrm', 'pcmpistri',
  'gf2p8affineqb', 'gf2p8affineinvqb', 'aeskeygenassist',
];

const TEMPLATES = [
  ...MMX_SSE2.flatMap((m) => [`${m} P,PM`, `${m} X,XM`]),
  ...SSE_XX.map((m) => `${m} X,XM`),
  ...SSE_XXI.map((m) => `${m} X,XM,I`),
  ...['sqrt', 'add', 'mul', 'sub', 'min', 'div', 'max'].flatMap((m) => [`${m}ss X,XMd`, `${m}sd X,XMq`]),
  'rsqrtss X,XMd', 'rcpss X,XMd', 'cmpss X,XMd,I', 'cmpsd X,XMq,I', 'roundss X,XMd,I', 'roundsd X,XMq,I',
  'movups M,X', 'movupd M,X', 'movaps M,X', 'movapd M,X', 'movdqa M,X', 'movdqu M,X',
  'movss X,XMd', 'movss Md,X', 'movsd X,XMq', 'movsd Mq,X',
  'movlps X,M', 'movlps M,X', 'movhlps X,X', 'movlpd X,M', 'movlpd M,X', 'movddup X,XMq',
  'movhps X,M', 'movhps M,X', 'movlhps X,X', 'movhpd X,M', 'movhpd M,X',
  'cvtpi2ps X,PMq', 'cvtpi2pd X,PMq', 'cvtsi2ss X,RMd', 'cvtsi2ss X,RMq', 'cvtsi2sd X,RMd', 'cvtsi2sd X,RMq',
  'movntps M,X', 'movntpd M,X', 'movntss Md,X', 'movntsd Mq,X', 'movntdq M,X', 'movntq M,P', 'movntdqa X,M',
  'cvttps2pi P,XMq', 'cvtps2pi P,XMq', 'cvttpd2pi P,XM', 'cvtpd2pi P,XM',
  'cvttss2si G,XMd', 'cvttss2si Gq,XMd', 'cvtss2si G,XMd', 'cvtss2si Gq,XMd',
  'cvttsd2si G,XMq', 'cvttsd2si Gq,XMq', 'cvtsd2si G,XMq', 'cvtsd2si Gq,XMq',
  'ucomiss X,XMd', 'ucomisd X,XMq', 'comiss X,XMd', 'comisd X,XMq',
  'movmskps G,X', 'movmskps Gq,X', 'movmskpd G,X', 'pmovmskb G,P', 'pmovmskb G,X', 'pmovmskb Gq,X',
  'cvtps2pd X,XMq', 'cvtss2sd X,XMd', 'cvtsd2ss X,XMq', 'cvtdq2pd X,XMq',
  'punpcklbw P,PMd', 'punpcklwd P,PMd', 'punpckldq P,PMd',
  'movd P,RMd', 'movd X,RMd', 'movq P,RMq', 'movq X,RMq', 'movd RMd,P', 'movd RMd,X', 'movq RMq,P', 'movq RMq,X',
  'movq P,PM', 'movq PM,P', 'movq X,XMq', 'movq XMq,X', 'movq2dq X,P', 'movdq2q P,X',
  'pshufw P,PM,I', 'palignr P,PM,I',
  ...['psrlw', 'psraw', 'psllw', 'psrld', 'psrad', 'pslld', 'psrlq', 'psllq'].flatMap((m) => [`${m} P,I`, `${m} X,I`]),
  'psrldq X,I', 'pslldq X,I', 'emms',
  'extrq X,I,I', 'extrq X,X', 'insertq X,X,I,I', 'insertq X,X',
  'vmread RMq,Gq', 'vmwrite Gq,RMq',
  'pinsrw P,G,I', 'pinsrw P,Mw,I', 'pinsrw X,G,I', 'pinsrw X,Mw,I', 'pextrw G,P,I', 'pextrw G,X,I', 'pextrw Mw,X,I',
  'lddqu X,M', 'maskmovq P,P', 'maskmovdqu X,X',
  'pblendvb X,XM,xmm0', 'blendvps X,XM,xmm0', 'blendvpd X,XM,xmm0', 'sha256rnds2 X,XM,xmm0', 'sha1rnds4 X,XM,I4',
  ...['bw', 'bd', 'bq', 'wd', 'wq', 'dq'].flatMap((t) => {
    const src = { bw: 'XMq', bd: 'XMd', bq: 'XMw', wd: 'XMq', wq: 'XMd', dq: 'XMq' }[t];
    return [`pmovsx${t} X,${src}`, `pmovzx${t} X,${src}`];
  }),
  'invept Gq,M', 'invvpid Gq,M', 'invpcid Gq,M',
  'aesenc128kl X,M', 'aesdec128kl X,M', 'aesenc256kl X,M', 'aesdec256kl X,M', 'loadiwkey X,X',
  'aesencwide128kl M', 'aesdecwide128kl M', 'aesencwide256kl M', 'aesdecwide256kl M',
  'pextrb G,X,I', 'pextrb Mb,X,I', 'pextrd RMd,X,I', 'pextrq RMq,X,I', 'extractps RMd,X,I',
  'pinsrb X,G,I', 'pinsrb X,Mb,I', 'insertps X,XMd,I', 'pinsrd X,RMd,I', 'pinsrq X,RMq,I', 'hreset I',
];

/** Encodings the assembler cannot be asked for by name (REX.W variants, alternative opcodes). */
const RAW = [
  '66 48 0f 3a 61 c1 05', // pcmpestriq
  '66 48 0f 3a 60 00 05', // pcmpestrmq
  '66 4c 0f 3a 63 c1 05', // rex.WR pcmpistri
  '66 0f 3a 15 c1 05', // pextrw Rd (0F 3A form)
  '66 48 0f 3a 14 c1 05', // rex.W pextrb: still a 32-bit register
  '48 0f c5 c1 05', // rex.W pextrw mm
  '66 0f d6 c1', // movq xmm1,xmm0 (store form)
  'f3 0f 7e c1', // movq xmm0,xmm1 (load form)
  '66 f3 0f 58 c1', // data16 addss: F3 wins over 66
  'f2 f3 0f 58 c1', // the last of F2/F3 wins
  'f3 f2 0f 58 c1',
  'f3 0f d7 c1', // objdump: repz pmovmskb (MMX form, prefix ignored)
  '66 0f 78 c8 01 02', // extrq with ModRM.reg=1: objdump does not check it
  '48 0f 78 c1', // rex.W vmread (64-bit anyway)
  '66 41 0f 73 f9 04', // pslldq xmm9,4
];

/** The 32-bit version of a 64-bit sample line (REX registers folded onto the low eight). */
const TO32: Record<string, string> = {
  r13: 'ebp', r9: 'ecx', r11d: 'ebx', r8d: 'edx', r14d: 'edi', rax: 'eax', rbx: 'ebx',
};
const to32 = (line: string) =>
  line
    .replace(/\[rip\+(0x[0-9a-f]+)\]/g, '[$1]')
    .replace(/xmm(\d+)/g, (_, n) => `xmm${Number(n) & 7}`)
    .replace(/\b(r13|r9|r11d|r8d|r14d|rax|rbx)\b/g, (r) => TO32[r]!);

function expand(t: string): string[] {
  const [m, ops = ''] = t.split(' ');
  const parts = ops ? ops.split(',') : [];
  const varies = parts.some((p) => ALT[p]);
  const out: string[] = [];
  for (let k = 0; k < (varies ? 4 : 1); k++) {
    out.push(`${m} ${parts.map((p) => (ALT[p] ? ALT[p][k] : p)).join(', ')}`.trim());
  }
  return out;
}

describe('SSE instructions match objdump', () => {
  for (const mode of [64, 32] as const) {
    it(`assembled samples, ${mode}-bit`, () => {
      const only64 = /\b(Gq|RMq)\b|pextrq|pinsrq/;
      const lines = TEMPLATES.filter((t) => mode === 64 || !only64.test(t)).flatMap(expand);
      const src = (mode === 64 ? lines : lines.map(to32)).join('\n');
      const raw = RAW.filter((r) => mode === 64 || !/^(66 )?4/.test(r))
        .map((r) => `.byte ${r.split(' ').map((h) => '0x' + h).join(',')}`)
        .join('\n');
      const code = assemble(`${src}\n${raw}`, mode);
      const { errors, lines: listing } = checkListing(code, mode);
      expect(errors).toEqual([]);
      expect(listing.length).toBe(lines.length + raw.split('\n').length);
      expect(listing.filter((l) => l.text.includes('(bad)'))).toEqual([]);
    });
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Sweeps: every opcode of the three maps (the SSE slots of 0F) under each mandatory prefix

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const SLOTS_0F = [
  ...range(0x10, 0x17), ...range(0x28, 0x2f), ...range(0x50, 0x7f), 0xc2, ...range(0xc4, 0xc6), ...range(0xd0, 0xfe),
];
const SLOTS_0F38 = range(0x00, 0xef);
const SLOTS_0F3A = range(0x00, 0xff);
// Memory forms (plain, SIB, RIP/disp32, disp8, disp32) and every ModRM.reg with mod=3 and with mod=0.
const MODRMS = [0x04, 0x05, 0x44, 0x8c, ...range(0, 7).flatMap((r) => [(r << 3) | 0x01, 0xc0 | (r << 3) | (r ^ 5)])];
const PREFIXES = [[], [0x66], [0xf3], [0xf2]];

function samples(esc: number[], slots: number[], rex: number[], modrms = MODRMS): number[][] {
  const out: number[][] = [];
  for (const op of slots) {
    for (const p of PREFIXES) {
      for (const r of rex) for (const m of modrms) out.push([...p, ...(r ? [r] : []), ...esc, op, m]);
    }
  }
  return out;
}

describe('SSE opcode sweeps match objdump', () => {
  const maps: [string, number[], number[]][] = [
    ['0F', [0x0f], SLOTS_0F],
    ['0F 38', [0x0f, 0x38], SLOTS_0F38],
    ['0F 3A', [0x0f, 0x3a], SLOTS_0F3A],
  ];
  for (const [name, esc, slots] of maps) {
    for (const mode of [64, 32] as const) {
      it(`${name}, ${mode}-bit`, () => {
        // REX.W matters for movd/movq, pextrd/pinsrd, cvt*2si, movmskps ...; REX.R/B pick the upper registers.
        const rex = mode === 64 ? [0, 0x48, 0x45] : [0];
        const all = samples(esc, slots, rex);
        const { errors, compared } = sweep(all, mode);
        expect(errors).toEqual([]);
        expect(compared).toBeGreaterThan(all.length * 0.95);
      });
    }
  }
});

// ---------------------------------------------------------------------------------------------------------------
// The decoded form: sizes, attributes, features

const dec = (bytes: string, mode: 32 | 64 = 64) => {
  const b = new Uint8Array(bytes.split(' ').map((h) => parseInt(h, 16)));
  const insn = decode(b, 0, mode);
  expect(insn.invalid, bytes).toBe(Invalid.None);
  expect(insn.length, bytes).toBe(b.length);
  return insn;
};

describe('SSE decoded form', () => {
  it('marks alignment-checked forms', () => {
    const a16 = (bytes: string) => (dec(bytes).attrs & Attr.A16) !== 0;
    expect(a16('0f 28 00')).toBe(true); // movaps
    expect(a16('0f 10 00')).toBe(false); // movups
    expect(a16('0f 58 00')).toBe(true); // addps xmm, m128
    expect(a16('f3 0f 58 00')).toBe(false); // addss
    expect(a16('66 0f 6f 00')).toBe(true); // movdqa
    expect(a16('f3 0f 6f 00')).toBe(false); // movdqu
    expect(a16('f2 0f f0 00')).toBe(false); // lddqu
    expect(a16('66 0f 3a 61 00 00')).toBe(false); // pcmpestri
    expect(a16('0f fc 00')).toBe(false); // paddb mm, m64
    expect(a16('66 0f 38 2a 00')).toBe(true); // movntdqa
  });

  it('gives memory operands their SDM sizes', () => {
    const memSize = (bytes: string) => dec(bytes).operands.find((o) => o.kind === OpKind.Mem)!.size;
    expect(memSize('0f 60 00')).toBe(4); // punpcklbw mm, m32
    expect(memSize('66 0f 60 00')).toBe(16);
    expect(memSize('66 0f 38 31 00')).toBe(4); // pmovzxbd
    expect(memSize('66 0f 38 32 00')).toBe(2); // pmovzxbq
    expect(memSize('66 0f 38 20 00')).toBe(8); // pmovsxbw
    expect(memSize('0f 16 00')).toBe(8); // movhps
    expect(memSize('f3 0f e6 00')).toBe(8); // cvtdq2pd
    expect(memSize('0f 5a 00')).toBe(8); // cvtps2pd
    expect(memSize('f3 48 0f 2a 00')).toBe(8); // cvtsi2ss xmm, m64
    expect(memSize('f3 0f 2a 00')).toBe(4);
    expect(memSize('66 0f c4 00 01')).toBe(2); // pinsrw
    expect(memSize('66 0f 3a 14 00 01')).toBe(1); // pextrb
    expect(memSize('66 0f 3a 21 00 01')).toBe(4); // insertps
    expect(memSize('66 0f 38 80 00')).toBe(16); // invept
  });

  it('sizes GPR operands', () => {
    const regOp = (bytes: string, i: number, mode: 32 | 64 = 64) => dec(bytes, mode).operands[i]!;
    expect(regOp('0f 78 c1', 0).size).toBe(8); // vmread: 64-bit in long mode without REX.W
    expect(regOp('0f 78 c1', 0, 32).size).toBe(4);
    expect(regOp('66 48 0f 3a 14 c1 05', 0).size).toBe(4); // pextrb r32 even with REX.W
    expect(regOp('66 48 0f 7e c1', 0).size).toBe(8); // movq rcx, xmm0
    expect(regOp('66 0f 7e c1', 0).size).toBe(4); // movd ecx, xmm0
    expect(regOp('48 0f 50 c1', 0).size).toBe(8); // movmskps rax, xmm1
    expect(regOp('0f 50 c1', 0).size).toBe(4);
    const x = regOp('66 45 0f 3a 16 c1 05', 0); // pextrd r9d, xmm8
    expect([x.reg >> 8, x.reg & 0xff, x.size]).toEqual([RegClass.GPR, 9, 4]);
  });

  it('names registers by file', () => {
    const regs = (bytes: string) => dec(bytes).operands.map((o) => [o.reg >> 8, o.reg & 0xff]);
    expect(regs('0f fc c1')).toEqual([[RegClass.MMX, 0], [RegClass.MMX, 1]]); // paddb mm0, mm1
    expect(regs('66 45 0f fc c1')).toEqual([[RegClass.XMM, 8], [RegClass.XMM, 9]]);
    expect(regs('f3 41 0f d6 c1')).toEqual([[RegClass.XMM, 0], [RegClass.MMX, 1]]); // movq2dq: REX.B ignored for mm
    expect(regs('66 0f 38 10 c1')).toEqual([[RegClass.XMM, 0], [RegClass.XMM, 1], [RegClass.XMM, 0]]); // pblendvb
  });

  it('names features', () => {
    expect(dec('66 0f 38 40 c1').feature).toBe('sse4_1');
    expect(dec('66 0f 38 37 c1').feature).toBe('sse4_2');
    expect(dec('66 0f 38 00 c1').feature).toBe('ssse3');
    expect(dec('66 0f 3a 44 c1 00').feature).toBe('pclmulqdq');
    expect(dec('0f 38 c8 c1').feature).toBe('sha');
    expect(dec('0f ef c1').feature).toBe('mmx');
    expect(dec('0f e0 c1').feature).toBe('sse'); // pavgb mm: added by SSE
  });
});
