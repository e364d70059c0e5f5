// The Intel-syntax formatter on hand-built Instructions (independent of the decode engine). The expected
// texts are what objdump 2.40 prints for the same bytes.
import { describe, expect, it } from 'vitest';
import { decode, newInstruction } from '../src/decoder/decode.ts';
import { regId, RIP } from '../src/decoder/regs.ts';
import { Invalid, OpKind, OpMap, Pfx, RegClass, type Instruction, type Mode, type Operand } from '../src/decoder/types.ts';
import { formatIntel, type FormatOptions } from '../src/disasm/intel.ts';
import { listing } from '../src/disasm/listing.ts';

const G = (i: number): number => regId(RegClass.GPR, i);
const X = (cls: RegClass, i: number): number => regId(cls, i);
const [RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI] = [0, 1, 2, 3, 4, 5, 6, 7].map(G) as number[] as [number, number, number, number, number, number, number, number];

function op(o: Partial<Operand>): Operand {
  return { kind: OpKind.None, size: 0, reg: 0, seg: 3, base: -1, index: -1, scale: 1, disp: 0, dispSize: 0, imm: 0, immSize: 0, wide: 0n, sel: 0, bcst: 0, ...o };
}
const reg = (r: number, size: number): Operand => op({ kind: OpKind.Reg, reg: r, size });
const imm = (v: number, immSize: number, size = immSize): Operand => op({ kind: OpKind.Imm, imm: v, immSize, size });
const mem = (size: number, m: Partial<Operand>): Operand => op({ kind: OpKind.Mem, size, ...m });

interface Spec {
  bytes: number[];
  mode?: Mode;
  mnemonic: string;
  ops?: Operand[];
  map?: OpMap;
  opcode: number;
  modrm?: number;
  opSize?: number;
  addrSize?: number;
  prefixes?: number;
  rex?: number;
  mandatoryPrefix?: number;
  vexL?: number;
  vexW?: number;
  evex?: [aaa: number, z: number, b: number];
  evexRc?: number;
  attrs?: number;
}

function build(s: Spec): Instruction {
  const insn = newInstruction();
  const mode = s.mode ?? 64;
  Object.assign(insn, {
    length: s.bytes.length,
    mnemonic: s.mnemonic,
    mode,
    operands: s.ops ?? [],
    map: s.map ?? OpMap.Primary,
    opcode: s.opcode,
    modrm: s.modrm ?? -1,
    opSize: s.opSize ?? (mode === 16 ? 2 : 4),
    addrSize: s.addrSize ?? (mode === 64 ? 8 : mode),
    prefixes: s.prefixes ?? 0,
    rex: s.rex ?? 0,
    mandatoryPrefix: s.mandatoryPrefix ?? 0,
    vexL: s.vexL ?? 0,
    vexW: s.vexW ?? 0,
    attrs: s.attrs ?? 0,
  });
  // Which table entry and switch cases the bytes select is the decoder's knowledge, not the formatter's.
  const walked = decode(Uint8Array.from(s.bytes), 0, mode);
  insn.entry = walked.entry;
  insn.walk = walked.walk;
  insn.pfxCase = walked.pfxCase;
  if (s.addrSize === undefined && mode === 16) insn.addrSize = 2;
  if (s.addrSize === undefined && mode === 32) insn.addrSize = 4;
  if (s.evex) [insn.evexAaa, insn.evexZ, insn.evexB] = s.evex;
  insn.evexRc = s.evexRc ?? -1;
  return insn;
}

function fmt(s: Spec, address: bigint | number = 0, options?: FormatOptions): string {
  return formatIntel(build(s), new Uint8Array(s.bytes), 0, address, options);
}

describe('Intel formatter: operands', () => {
  it('memory operands: base, index, scale, signed displacement', () => {
    const m = mem(4, { base: RBX, index: RCX, scale: 4, disp: -8, dispSize: 1 });
    expect(fmt({ bytes: [0x8b, 0x44, 0x8b, 0xf8], mnemonic: 'mov', opcode: 0x8b, modrm: 0x44, ops: [reg(RAX, 4), m] })).toBe(
      'mov eax,DWORD PTR [rbx+rcx*4-0x8]',
    );
    // An encoded zero displacement is printed.
    expect(fmt({ bytes: [0x48, 0x8b, 0x45, 0x00], mnemonic: 'mov', opcode: 0x8b, modrm: 0x45, rex: 0x48, prefixes: Pfx.REX, opSize: 8, ops: [reg(RAX, 8), mem(8, { base: RBP, dispSize: 1 })] })).toBe(
      'mov rax,QWORD PTR [rbp+0x0]',
    );
  });

  it('rip-relative, absolute and segment-override addresses', () => {
    expect(fmt({ bytes: [0x48, 0x8d, 0x05, 0xf0, 0xff, 0xff, 0xff], mnemonic: 'lea', opcode: 0x8d, modrm: 0x05, rex: 0x48, prefixes: Pfx.REX, opSize: 8, ops: [reg(RAX, 8), mem(0, { base: RIP, disp: -16, dispSize: 4 })] })).toBe(
      'lea rax,[rip+0xfffffffffffffff0]',
    );
    const fs28 = mem(8, { disp: 0x28, dispSize: 4, seg: 4 });
    expect(fmt({ bytes: [0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0], mnemonic: 'mov', opcode: 0x8b, modrm: 0x04, rex: 0x48, prefixes: Pfx.REX | Pfx.SEG, opSize: 8, ops: [reg(RAX, 8), fs28] })).toBe(
      'mov rax,QWORD PTR fs:0x28',
    );
    expect(fmt({ bytes: [0x8b, 0x05, 0x34, 0x12, 0, 0], mode: 32, mnemonic: 'mov', opcode: 0x8b, modrm: 0x05, ops: [reg(RAX, 4), mem(4, { disp: 0x1234, dispSize: 4 })] })).toBe(
      'mov eax,DWORD PTR ds:0x1234',
    );
    // 64-bit moffs: no size, always a segment.
    expect(fmt({ bytes: [0xa1, 0x89, 0x67, 0x45, 0x23, 0x01, 0, 0, 0], mnemonic: 'movabs', opcode: 0xa1, ops: [reg(RAX, 4), mem(4, { dispSize: 8, wide: 0x123456789n })] })).toBe(
      'movabs eax,ds:0x123456789',
    );
  });

  it('SIB without an index prints eiz/riz where objdump does', () => {
    expect(fmt({ bytes: [0x8d, 0x04, 0x20], mode: 32, mnemonic: 'lea', opcode: 0x8d, modrm: 0x04, ops: [reg(RAX, 4), mem(0, { base: RAX })] })).toBe('lea eax,[eax+eiz*1]');
    expect(fmt({ bytes: [0x8d, 0x04, 0x24], mode: 32, mnemonic: 'lea', opcode: 0x8d, modrm: 0x04, ops: [reg(RAX, 4), mem(0, { base: RSP })] })).toBe('lea eax,[esp]');
    expect(fmt({ bytes: [0x8b, 0x04, 0x64], mnemonic: 'mov', opcode: 0x8b, modrm: 0x04, ops: [reg(RAX, 4), mem(4, { base: RSP })] })).toBe('mov eax,DWORD PTR [rsp+riz*2]');
  });

  it('16-bit addressing', () => {
    expect(fmt({ bytes: [0x8b, 0x00], mode: 16, mnemonic: 'mov', opcode: 0x8b, modrm: 0x00, ops: [reg(RAX, 2), mem(2, { base: RBX, index: RSI })] })).toBe('mov ax,WORD PTR [bx+si]');
    expect(fmt({ bytes: [0x8b, 0x46, 0xfe], mode: 16, mnemonic: 'mov', opcode: 0x8b, modrm: 0x46, ops: [reg(RAX, 2), mem(2, { base: RBP, disp: -2, dispSize: 1, seg: 2 })] })).toBe('mov ax,WORD PTR [bp-0x2]');
    expect(fmt({ bytes: [0x8b, 0x06, 0x34, 0x12], mode: 16, mnemonic: 'mov', opcode: 0x8b, modrm: 0x06, ops: [reg(RAX, 2), mem(2, { disp: 0x1234, dispSize: 2 })] })).toBe('mov ax,WORD PTR ds:0x1234');
  });

  it('immediates are printed masked to the operand size', () => {
    expect(fmt({ bytes: [0x48, 0x83, 0xc0, 0x80], mnemonic: 'add', opcode: 0x83, modrm: 0xc0, rex: 0x48, prefixes: Pfx.REX, opSize: 8, ops: [reg(RAX, 8), imm(-128, 1, 8)] })).toBe(
      'add rax,0xffffffffffffff80',
    );
    expect(fmt({ bytes: [0x83, 0xc0, 0xff], mnemonic: 'add', opcode: 0x83, modrm: 0xc0, ops: [reg(RAX, 4), imm(-1, 1, 4)] })).toBe('add eax,0xffffffff');
    expect(fmt({ bytes: [0x6a, 0xff], mnemonic: 'push', opcode: 0x6a, opSize: 8, ops: [imm(-1, 1, 8)] })).toBe('push 0xffffffffffffffff');
    expect(fmt({ bytes: [0xc8, 0x10, 0x00, 0x01], mnemonic: 'enter', opcode: 0xc8, ops: [imm(0x10, 2), imm(1, 1)] })).toBe('enter 0x10,0x1');
    expect(fmt({ bytes: [0xd1, 0xe0], mnemonic: 'shl', opcode: 0xd1, modrm: 0xe0, ops: [reg(RAX, 4), imm(1, 0, 1)] })).toBe('shl eax,1');
    const wide = op({ kind: OpKind.Imm, immSize: 8, size: 8, wide: 0x123456789abcdef0n });
    expect(fmt({ bytes: [0x48, 0xb8, 0xf0, 0xde, 0xbc, 0x9a, 0x78, 0x56, 0x34, 0x12], mnemonic: 'movabs', opcode: 0xb8, rex: 0x48, prefixes: Pfx.REX, opSize: 8, ops: [reg(RAX, 8), wide] })).toBe(
      'movabs rax,0x123456789abcdef0',
    );
  });

  it('branch targets: absolute, objdump masking, symbols', () => {
    const call = (a: number, o?: FormatOptions): string =>
      fmt({ bytes: [0xe8, 0, 0, 0, 0], mnemonic: 'call', opcode: 0xe8, opSize: 8, ops: [op({ kind: OpKind.Rel, imm: 0x10, immSize: 4, size: 8 })] }, a, o);
    expect(call(0x1000)).toBe('call 0x1015');
    expect(call(0x1000, { bareTargets: true })).toBe('call 1015');
    expect(call(0x1000, { bareTargets: true, symbolize: (t) => (t === 0x1015n ? 'foo+0x5' : undefined) })).toBe('call 1015 <foo+0x5>');
    // 16-bit code: rel16 wraps inside the current 64K; rel8 does not wrap.
    const jmp16 = (bytes: number[], d: number, a: number): string =>
      fmt({ bytes, mode: 16, mnemonic: 'jmp', opcode: bytes[0]!, opSize: 2, ops: [op({ kind: OpKind.Rel, imm: d, immSize: bytes.length - 1, size: 2 })] }, a);
    expect(jmp16([0xe9, 0xfd, 0xff], -3, 0x1fffe)).toBe('jmp 0x2fffe');
    expect(jmp16([0xeb, 0x00], 0, 0x1fffe)).toBe('jmp 0x20000');
    // 32-bit code: targets are 32-bit values.
    expect(fmt({ bytes: [0xeb, 0xfe], mode: 32, mnemonic: 'jmp', opcode: 0xeb, ops: [op({ kind: OpKind.Rel, imm: -4, immSize: 1, size: 4 })] }, 0)).toBe('jmp 0xfffffffe');
    expect(fmt({ bytes: [0xea, 0, 0x10, 0, 0, 0x10, 0], mode: 32, mnemonic: 'jmp', opcode: 0xea, ops: [op({ kind: OpKind.Far, imm: 0x1000, sel: 0x10, immSize: 4 })] })).toBe(
      'jmp 0x10:0x1000',
    );
  });

  it('x87 registers: st for the stack top, st(i) from ModRM', () => {
    const st = (i: number): Operand => reg(X(RegClass.ST, i), 10);
    expect(fmt({ bytes: [0xd8, 0xc2], mnemonic: 'fadd', map: OpMap.X87, opcode: 0xd8, modrm: 0xc2, ops: [st(0), st(2)] })).toBe('fadd st,st(2)');
    expect(fmt({ bytes: [0xd9, 0xc0], mnemonic: 'fld', map: OpMap.X87, opcode: 0xd9, modrm: 0xc0, ops: [st(0)] })).toBe('fld st(0)');
    expect(fmt({ bytes: [0xdb, 0x28], mnemonic: 'fld', map: OpMap.X87, opcode: 0xdb, modrm: 0x28, ops: [mem(10, { base: RAX })] })).toBe('fld TBYTE PTR [rax]');
  });

  it('invalid encodings', () => {
    const i = build({ bytes: [0xd6], mnemonic: '(bad)', opcode: 0xd6 });
    i.invalid = Invalid.Undefined;
    expect(formatIntel(i, new Uint8Array([0xd6]), 0, 0)).toBe('(bad)');
  });
});

describe('Intel formatter: prefixes', () => {
  it('string instructions show their segments and rep', () => {
    const src = mem(8, { base: RSI }), dst = mem(8, { base: RDI, seg: 0 });
    expect(fmt({ bytes: [0xf3, 0x48, 0xa5], mnemonic: 'movs', opcode: 0xa5, rex: 0x48, prefixes: Pfx.REP | Pfx.REX, opSize: 8, ops: [dst, src] })).toBe(
      'rep movs QWORD PTR es:[rdi],QWORD PTR ds:[rsi]',
    );
    const fsSrc = mem(1, { base: RSI, seg: 4 }), dst1 = mem(1, { base: RDI, seg: 0 });
    expect(fmt({ bytes: [0x64, 0xa4], mnemonic: 'movs', opcode: 0xa4, prefixes: Pfx.SEG, ops: [dst1, fsSrc] })).toBe('movs BYTE PTR es:[rdi],BYTE PTR fs:[rsi]');
    expect(fmt({ bytes: [0xf3, 0xa6], mnemonic: 'cmps', opcode: 0xa6, prefixes: Pfx.REP, ops: [mem(1, { base: RSI }), dst1] })).toBe('repz cmps BYTE PTR ds:[rsi],BYTE PTR es:[rdi]');
    expect(fmt({ bytes: [0xd7], mnemonic: 'xlat', opcode: 0xd7 })).toBe('xlat BYTE PTR ds:[rbx]');
  });

  it('unused prefixes become words, in byte order', () => {
    const nopMem = mem(2, { base: RAX, index: RAX, dispSize: 4 });
    expect(fmt({ bytes: [0x66, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0], mnemonic: 'nop', map: OpMap.M0F, opcode: 0x1f, modrm: 0x84, opSize: 2, prefixes: Pfx.OPSIZE | Pfx.SEG, ops: [nopMem] })).toBe(
      'data16 cs nop WORD PTR [rax+rax*1+0x0]',
    );
    expect(fmt({ bytes: [0x42, 0x01, 0xc0], mnemonic: 'add', opcode: 0x01, modrm: 0xc0, rex: 0x42, prefixes: Pfx.REX, ops: [reg(RAX, 4), reg(RAX, 4)] })).toBe('rex.X add eax,eax');
    expect(fmt({ bytes: [0x48, 0xe8, 0, 0, 0, 0], mnemonic: 'call', opcode: 0xe8, rex: 0x48, prefixes: Pfx.REX, opSize: 8, attrs: 1 << 3, ops: [op({ kind: OpKind.Rel, immSize: 4, size: 8 })] })).toBe(
      'rex.W call 0x6',
    );
    expect(fmt({ bytes: [0x67, 0xe2, 0x00], mnemonic: 'loop', opcode: 0xe2, addrSize: 4, prefixes: Pfx.ADDRSIZE, ops: [op({ kind: OpKind.Rel, immSize: 1, size: 8 })] })).toBe('addr32 loop 0x3');
    expect(fmt({ bytes: [0x2e, 0x74, 0x00], mode: 32, mnemonic: 'je', opcode: 0x74, prefixes: Pfx.SEG, ops: [op({ kind: OpKind.Rel, immSize: 1, size: 4 })] })).toBe('cs je 0x3');
    // In 64-bit mode only fs/gs overrides apply to memory operands; others are printed as words.
    expect(fmt({ bytes: [0x26, 0x8b, 0x00], mnemonic: 'mov', opcode: 0x8b, modrm: 0x00, prefixes: Pfx.SEG, ops: [reg(RAX, 4), mem(4, { base: RAX, seg: 0 })] })).toBe('es mov eax,DWORD PTR [rax]');
    expect(fmt({ bytes: [0x26, 0x8b, 0x00], mode: 32, mnemonic: 'mov', opcode: 0x8b, modrm: 0x00, prefixes: Pfx.SEG, ops: [reg(RAX, 4), mem(4, { base: RAX, seg: 0 })] })).toBe('mov eax,DWORD PTR es:[eax]');
  });

  it('F2/F3/3E named by their role: lock elision, bnd, notrack', () => {
    const m = mem(4, { base: RAX });
    expect(fmt({ bytes: [0xf2, 0xf0, 0x01, 0x00], mnemonic: 'add', opcode: 0x01, modrm: 0x00, prefixes: Pfx.REPNE | Pfx.LOCK, attrs: 1, ops: [m, reg(RAX, 4)] })).toBe(
      'xacquire lock add DWORD PTR [rax],eax',
    );
    expect(fmt({ bytes: [0xf3, 0x89, 0x00], mnemonic: 'mov', opcode: 0x89, modrm: 0x00, prefixes: Pfx.REP, ops: [m, reg(RAX, 4)] })).toBe('xrelease mov DWORD PTR [rax],eax');
    expect(fmt({ bytes: [0xf2, 0x89, 0x00], mnemonic: 'mov', opcode: 0x89, modrm: 0x00, prefixes: Pfx.REPNE, ops: [m, reg(RAX, 4)] })).toBe('repnz mov DWORD PTR [rax],eax');
    expect(fmt({ bytes: [0xf2, 0xc3], mnemonic: 'ret', opcode: 0xc3, prefixes: Pfx.REPNE, opSize: 8 })).toBe('bnd ret');
    expect(fmt({ bytes: [0xf3, 0xc3], mnemonic: 'ret', opcode: 0xc3, prefixes: Pfx.REP, opSize: 8 })).toBe('repz ret');
    expect(fmt({ bytes: [0x3e, 0xff, 0xe0], mnemonic: 'jmp', opcode: 0xff, modrm: 0xe0, prefixes: Pfx.SEG, opSize: 8, ops: [reg(RAX, 8)] })).toBe('notrack jmp rax');
    expect(fmt({ bytes: [0xf0, 0x90], mnemonic: 'nop', opcode: 0x90, prefixes: Pfx.LOCK })).toBe('lock nop');
  });
});

describe('Intel formatter: vector forms', () => {
  const z = (i: number): Operand => reg(X(RegClass.ZMM, i), 64);
  const xm = (i: number): Operand => reg(X(RegClass.XMM, i), 16);
  const evex = (b: number[], p: Partial<Spec>): Spec => ({ bytes: b, mnemonic: 'vaddps', map: OpMap.M0F, opcode: b[4]!, modrm: b[5], prefixes: Pfx.EVEX, ...p });

  it('EVEX masking, zeroing, broadcast and rounding', () => {
    expect(fmt(evex([0x62, 0xf1, 0x74, 0xc9, 0x58, 0xc2], { vexL: 2, evex: [1, 1, 0], ops: [z(0), z(1), z(2)] }))).toBe('vaddps zmm0{k1}{z},zmm1,zmm2');
    expect(fmt(evex([0x62, 0xf1, 0x74, 0x58, 0x58, 0x00], { vexL: 2, evex: [0, 0, 1], ops: [z(0), z(1), mem(4, { base: RAX, bcst: 4 })] }))).toBe(
      'vaddps zmm0,zmm1,DWORD BCST [rax]',
    );
    expect(fmt(evex([0x62, 0xf1, 0x74, 0x78, 0x58, 0xc2], { vexL: 3, evex: [0, 0, 1], evexRc: 3, ops: [z(0), z(1), z(2)] }))).toBe('vaddps zmm0,zmm1,zmm2{rz-sae}');
    expect(fmt(evex([0x62, 0xf1, 0x74, 0x18, 0x5f, 0xc2], { mnemonic: 'vmaxps', vexL: 0, evex: [0, 0, 1], evexRc: 4, ops: [z(0), z(1), z(2)] }))).toBe('vmaxps zmm0,zmm1,zmm2{sae}');
    // {1toN} only where the memory size would be ambiguous.
    expect(fmt(evex([0x62, 0xf1, 0xfd, 0x18, 0x5a, 0x00], { mnemonic: 'vcvtpd2ps', vexL: 0, vexW: 1, evex: [0, 0, 1], ops: [xm(0), mem(8, { base: RAX, bcst: 8 })] }))).toBe(
      'vcvtpd2ps xmm0,QWORD BCST [rax]{1to2}',
    );
    expect(fmt(evex([0x62, 0xf1, 0xfe, 0x49, 0x7f, 0x00], { mnemonic: 'vmovdqu64', vexL: 2, evex: [1, 0, 0], ops: [mem(64, { base: RAX }), z(0)] }))).toBe(
      'vmovdqu64 ZMMWORD PTR [rax]{k1},zmm0',
    );
  });

  it('compare and carry-less multiply predicates become pseudo-ops', () => {
    const cmp = (mn: string, v: number, vex: boolean): string =>
      fmt({ bytes: vex ? [0xc5, 0xf0, 0xc2, 0xc2, v] : [0x0f, 0xc2, 0xc1, v], mnemonic: mn, map: OpMap.M0F, opcode: 0xc2, modrm: vex ? 0xc2 : 0xc1, prefixes: vex ? Pfx.VEX : 0, ops: vex ? [xm(0), xm(1), xm(2), imm(v, 1)] : [xm(0), xm(1), imm(v, 1)] });
    expect(cmp('cmpps', 1, false)).toBe('cmpltps xmm0,xmm1');
    expect(cmp('cmpps', 8, false)).toBe('cmpps xmm0,xmm1,0x8');
    expect(cmp('vcmpps', 0x1f, true)).toBe('vcmptrue_usps xmm0,xmm1,xmm2');
    expect(cmp('vcmpps', 0x20, true)).toBe('vcmpps xmm0,xmm1,xmm2,0x20');
    const clmul = (v: number): string =>
      fmt({ bytes: [0x66, 0x0f, 0x3a, 0x44, 0xc1, v], mnemonic: 'pclmulqdq', map: OpMap.M0F3A, opcode: 0x44, modrm: 0xc1, mandatoryPrefix: 0x66, prefixes: Pfx.OPSIZE, ops: [xm(0), xm(1), imm(v, 1)] });
    expect([0, 1, 0x10, 0x11, 0x12].map(clmul)).toEqual([
      'pclmullqlqdq xmm0,xmm1', 'pclmulhqlqdq xmm0,xmm1', 'pclmullqhqdq xmm0,xmm1', 'pclmulhqhqdq xmm0,xmm1', 'pclmulqdq xmm0,xmm1,0x12',
    ]);
    const vpcmp = (v: number): string =>
      fmt({ bytes: [0x62, 0xf3, 0x75, 0x48, 0x3e, 0xca, v], mnemonic: 'vpcmpub', map: OpMap.M0F3A, opcode: 0x3e, modrm: 0xca, prefixes: Pfx.EVEX, vexL: 2, ops: [reg(X(RegClass.K, 1), 8), z(1), z(2), imm(v, 1)] });
    expect([1, 3, 4].map(vpcmp)).toEqual(['vpcmpltub k1,zmm1,zmm2', 'vpcmpub k1,zmm1,zmm2,0x3', 'vpcmpnequb k1,zmm1,zmm2']);
  });
});

describe('listing', () => {
  it('one line per instruction: address, bytes, text', () => {
    const code = new Uint8Array([0x55, 0x48, 0x89, 0xe5, 0xd6, 0xc3]);
    const lines = [...listing(code, 64, 0x401000n)].map((l) => l.line);
    expect(lines[0]).toBe('401000 55 push rbp');
    expect(lines[1]).toBe('401001 4889e5 mov rbp,rsp');
    expect(lines[2]).toBe('401004 d6 (bad)');
    expect(lines[3]).toBe('401005 c3 ret');
  });

  it('a truncated instruction at the end is one (bad) line', () => {
    const code = new Uint8Array([0x90, 0x48, 0x8b]);
    const lines = [...listing(code, 64, 0)].map((l) => l.line);
    expect(lines).toEqual(['0 90 nop', '1 488b (bad)']);
  });
});
