// Two-byte map 0F xx: the MMX / SSE / SSE2 / SSE3 / SSE4a slots (SDM Vol. 2 Table A-3), legacy (non-VEX) encoding.
// The GP/system slots of this map are in map0f-gp.ts; tables/index.ts merges the two.
//
// Conventions:
// - pfx(none, 66, F3, F2). A prefix case left out is #UD: objdump 2.40 also prints (bad) there, e.g. F3 0F FC.
// - MMX forms use P/Q/N (mm registers, 8 bytes); 128-bit SSE forms use V/W/U with dq (integer) or ps/pd.
// - @a16: legacy SSE requires 16-byte alignment of any 16-byte memory operand (SDM Vol. 2 §2.4, exception
//   types 1/2/4), except the explicitly unaligned movups/movupd/movdqu/lddqu. 8-byte and smaller operands and
//   MMX forms are never alignment-checked.
// - Feature names follow CPUID: mmx sse sse2 sse3 sse4a vmx.
import { mod, pfx, reg, W, type OpcodeMap } from '../notation.ts';

/** An MMX op and its SSE2 twin under 66: `op Pq,Qq` / `op Vdq,Wdq`. */
const mmx = (m: string, f = 'mmx', f66 = 'sse2') => pfx(`${m} Pq,Qq #${f}`, `${m} Vdq,Wdq @a16 #${f66}`);
/** The ps/pd/ss/sd quartet of an SSE arithmetic op. */
const arith = (m: string) =>
  pfx(`${m}ps Vps,Wps @a16 #sse`, `${m}pd Vpd,Wpd @a16 #sse2`, `${m}ss Vss,Wss #sse`, `${m}sd Vsd,Wsd #sse2`);
/** The ps/pd pair of a packed-only SSE op. */
const packed = (m: string) => pfx(`${m}ps Vps,Wps @a16 #sse`, `${m}pd Vpd,Wpd @a16 #sse2`);

export const map0fSse: OpcodeMap = {
  0x10: pfx('movups Vps,Wps #sse', 'movupd Vpd,Wpd #sse2', 'movss Vss,Wss #sse', 'movsd Vsd,Wsd #sse2'),
  0x11: pfx('movups Wps,Vps #sse', 'movupd Wpd,Vpd #sse2', 'movss Wss,Vss #sse', 'movsd Wsd,Vsd #sse2'),
  0x12: pfx(
    mod('movlps Vq,Mq #sse', 'movhlps Vq,Uq #sse'),
    'movlpd Vq,Mq #sse2',
    'movsldup Vps,Wps @a16 #sse3',
    'movddup Vdq,Wq #sse3',
  ),
  0x13: pfx('movlps Mq,Vq #sse', 'movlpd Mq,Vq #sse2'),
  0x14: packed('unpckl'),
  0x15: packed('unpckh'),
  0x16: pfx(mod('movhps Vdq,Mq #sse', 'movlhps Vdq,Uq #sse'), 'movhpd Vdq,Mq #sse2', 'movshdup Vps,Wps @a16 #sse3'),
  0x17: pfx('movhps Mq,Vdq #sse', 'movhpd Mq,Vdq #sse2'),

  0x28: pfx('movaps Vps,Wps @a16 #sse', 'movapd Vpd,Wpd @a16 #sse2'),
  0x29: pfx('movaps Wps,Vps @a16 #sse', 'movapd Wpd,Vpd @a16 #sse2'),
  0x2a: pfx('cvtpi2ps Vps,Qpi #sse', 'cvtpi2pd Vpd,Qpi #sse2', 'cvtsi2ss Vss,Ey #sse', 'cvtsi2sd Vsd,Ey #sse2'),
  0x2b: pfx(
    'movntps Mps,Vps @a16 #sse',
    'movntpd Mpd,Vpd @a16 #sse2',
    'movntss Md,Vss #sse4a',
    'movntsd Mq,Vsd #sse4a',
  ),
  0x2c: pfx('cvttps2pi Pq,Wq #sse', 'cvttpd2pi Pq,Wpd @a16 #sse2', 'cvttss2si Gy,Wss #sse', 'cvttsd2si Gy,Wsd #sse2'),
  0x2d: pfx('cvtps2pi Pq,Wq #sse', 'cvtpd2pi Pq,Wpd @a16 #sse2', 'cvtss2si Gy,Wss #sse', 'cvtsd2si Gy,Wsd #sse2'),
  0x2e: pfx('ucomiss Vss,Wss #sse', 'ucomisd Vsd,Wsd #sse2'),
  0x2f: pfx('comiss Vss,Wss #sse', 'comisd Vsd,Wsd #sse2'),

  0x50: pfx('movmskps Gy,Ups #sse', 'movmskpd Gy,Upd #sse2'),
  0x51: arith('sqrt'),
  0x52: pfx('rsqrtps Vps,Wps @a16 #sse', null, 'rsqrtss Vss,Wss #sse'),
  0x53: pfx('rcpps Vps,Wps @a16 #sse', null, 'rcpss Vss,Wss #sse'),
  0x54: packed('and'),
  0x55: packed('andn'),
  0x56: packed('or'),
  0x57: packed('xor'),
  0x58: arith('add'),
  0x59: arith('mul'),
  0x5a: pfx('cvtps2pd Vpd,Wq #sse2', 'cvtpd2ps Vps,Wpd @a16 #sse2', 'cvtss2sd Vsd,Wss #sse2', 'cvtsd2ss Vss,Wsd #sse2'),
  0x5b: pfx('cvtdq2ps Vps,Wdq @a16 #sse2', 'cvtps2dq Vdq,Wps @a16 #sse2', 'cvttps2dq Vdq,Wps @a16 #sse2'),
  0x5c: arith('sub'),
  0x5d: arith('min'),
  0x5e: arith('div'),
  0x5f: arith('max'),

  // The MMX low unpacks read only 4 bytes of memory (mm/m32).
  0x60: pfx('punpcklbw Pq,Qd #mmx', 'punpcklbw Vdq,Wdq @a16 #sse2'),
  0x61: pfx('punpcklwd Pq,Qd #mmx', 'punpcklwd Vdq,Wdq @a16 #sse2'),
  0x62: pfx('punpckldq Pq,Qd #mmx', 'punpckldq Vdq,Wdq @a16 #sse2'),
  0x63: mmx('packsswb'),
  0x64: mmx('pcmpgtb'),
  0x65: mmx('pcmpgtw'),
  0x66: mmx('pcmpgtd'),
  0x67: mmx('packuswb'),
  0x68: mmx('punpckhbw'),
  0x69: mmx('punpckhwd'),
  0x6a: mmx('punpckhdq'),
  0x6b: mmx('packssdw'),
  0x6c: pfx(null, 'punpcklqdq Vdq,Wdq @a16 #sse2'),
  0x6d: pfx(null, 'punpckhqdq Vdq,Wdq @a16 #sse2'),
  // REX.W widens movd to movq (objdump then prints movq).
  0x6e: pfx(W('movd Pq,Ed #mmx', 'movq Pq,Eq #mmx'), W('movd Vdq,Ed #sse2', 'movq Vdq,Eq #sse2')),
  0x6f: pfx('movq Pq,Qq #mmx', 'movdqa Vdq,Wdq @a16 #sse2', 'movdqu Vdq,Wdq #sse2'),

  0x70: pfx(
    'pshufw Pq,Qq,Ib #sse',
    'pshufd Vdq,Wdq,Ib @a16 #sse2',
    'pshufhw Vdq,Wdq,Ib @a16 #sse2',
    'pshuflw Vdq,Wdq,Ib @a16 #sse2',
  ),
  // Groups 12, 13, 14: shifts by an immediate, register operand only.
  0x71: pfx(
    reg(null, null, 'psrlw Nq,Ib #mmx', null, 'psraw Nq,Ib #mmx', null, 'psllw Nq,Ib #mmx'),
    reg(null, null, 'psrlw Udq,Ib #sse2', null, 'psraw Udq,Ib #sse2', null, 'psllw Udq,Ib #sse2'),
  ),
  0x72: pfx(
    reg(null, null, 'psrld Nq,Ib #mmx', null, 'psrad Nq,Ib #mmx', null, 'pslld Nq,Ib #mmx'),
    reg(null, null, 'psrld Udq,Ib #sse2', null, 'psrad Udq,Ib #sse2', null, 'pslld Udq,Ib #sse2'),
  ),
  0x73: pfx(
    reg(null, null, 'psrlq Nq,Ib #mmx', null, null, null, 'psllq Nq,Ib #mmx'),
    reg(null, null, 'psrlq Udq,Ib #sse2', 'psrldq Udq,Ib #sse2', null, null, 'psllq Udq,Ib #sse2', 'pslldq Udq,Ib #sse2'),
  ),
  0x74: mmx('pcmpeqb'),
  0x75: mmx('pcmpeqw'),
  0x76: mmx('pcmpeqd'),
  0x77: pfx('emms #mmx'),
  // VMX vmread/vmwrite use 64-bit operands in long mode whatever REX.W says. With 66/F2 the slots are AMD SSE4a;
  // objdump ignores ModRM.reg of extrq Udq,Ib,Ib (the APM says /0), and so do we.
  0x78: pfx('vmread Ey,Gy @f64 @priv #vmx', 'extrq Udq,Ib,Ib #sse4a', null, 'insertq Vdq,Udq,Ib,Ib #sse4a'),
  0x79: pfx('vmwrite Gy,Ey @f64 @priv #vmx', 'extrq Vdq,Udq #sse4a', null, 'insertq Vdq,Udq #sse4a'),
  0x7c: pfx(null, 'haddpd Vpd,Wpd @a16 #sse3', null, 'haddps Vps,Wps @a16 #sse3'),
  0x7d: pfx(null, 'hsubpd Vpd,Wpd @a16 #sse3', null, 'hsubps Vps,Wps @a16 #sse3'),
  0x7e: pfx(
    W('movd Ed,Pd #mmx', 'movq Eq,Pq #mmx'),
    W('movd Ed,Vd #sse2', 'movq Eq,Vq #sse2'),
    'movq Vdq,Wq #sse2',
  ),
  0x7f: pfx('movq Qq,Pq #mmx', 'movdqa Wdq,Vdq @a16 #sse2', 'movdqu Wdq,Vdq #sse2'),

  // With imm8 < 8 objdump prints the cmpeqps .. cmpordps pseudo-ops; the disassembler does that renaming.
  0xc2: pfx(
    'cmpps Vps,Wps,Ib @a16 #sse',
    'cmppd Vpd,Wpd,Ib @a16 #sse2',
    'cmpss Vss,Wss,Ib #sse',
    'cmpsd Vsd,Wsd,Ib #sse2',
  ),
  // pinsrw reads a 16-bit memory word but names a 32-bit register.
  0xc4: pfx(
    mod('pinsrw Pq,Mw,Ib #sse', 'pinsrw Pq,Rd,Ib #sse'),
    mod('pinsrw Vdq,Mw,Ib #sse2', 'pinsrw Vdq,Rd,Ib #sse2'),
  ),
  0xc5: pfx('pextrw Gd,Nq,Ib #sse', 'pextrw Gd,Udq,Ib #sse2'),
  0xc6: pfx('shufps Vps,Wps,Ib @a16 #sse', 'shufpd Vpd,Wpd,Ib @a16 #sse2'),

  0xd0: pfx(null, 'addsubpd Vpd,Wpd @a16 #sse3', null, 'addsubps Vps,Wps @a16 #sse3'),
  0xd1: mmx('psrlw'),
  0xd2: mmx('psrld'),
  0xd3: mmx('psrlq'),
  0xd4: mmx('paddq', 'sse2'),
  0xd5: mmx('pmullw'),
  0xd6: pfx(null, 'movq Wq,Vq #sse2', 'movq2dq Vdq,Nq #sse2', 'movdq2q Pq,Uq #sse2'),
  // objdump decodes F3/F2 0F D7 as the MMX form with an ignored prefix.
  0xd7: pfx('pmovmskb Gy,Nq #sse', 'pmovmskb Gy,Udq #sse2', 'pmovmskb Gy,Nq #sse', 'pmovmskb Gy,Nq #sse'),
  0xd8: mmx('psubusb'),
  0xd9: mmx('psubusw'),
  0xda: mmx('pminub', 'sse'),
  0xdb: mmx('pand'),
  0xdc: mmx('paddusb'),
  0xdd: mmx('paddusw'),
  0xde: mmx('pmaxub', 'sse'),
  0xdf: mmx('pandn'),

  0xe0: mmx('pavgb', 'sse'),
  0xe1: mmx('psraw'),
  0xe2: mmx('psrad'),
  0xe3: mmx('pavgw', 'sse'),
  0xe4: mmx('pmulhuw', 'sse'),
  0xe5: mmx('pmulhw'),
  0xe6: pfx(null, 'cvttpd2dq Vdq,Wpd @a16 #sse2', 'cvtdq2pd Vpd,Wq #sse2', 'cvtpd2dq Vdq,Wpd @a16 #sse2'),
  0xe7: pfx('movntq Mq,Pq #sse', 'movntdq Mdq,Vdq @a16 #sse2'),
  0xe8: mmx('psubsb'),
  0xe9: mmx('psubsw'),
  0xea: mmx('pminsw', 'sse'),
  0xeb: mmx('por'),
  0xec: mmx('paddsb'),
  0xed: mmx('paddsw'),
  0xee: mmx('pmaxsw', 'sse'),
  0xef: mmx('pxor'),

  0xf0: pfx(null, null, null, 'lddqu Vdq,Mdq #sse3'),
  0xf1: mmx('psllw'),
  0xf2: mmx('pslld'),
  0xf3: mmx('psllq'),
  0xf4: mmx('pmuludq', 'sse2'),
  0xf5: mmx('pmaddwd'),
  0xf6: mmx('psadbw', 'sse'),
  // Byte-masked store to DS:[rDI] (implicit memory operand; segment overridable).
  0xf7: pfx('maskmovq Pq,Nq #sse', 'maskmovdqu Vdq,Udq #sse2'),
  0xf8: mmx('psubb'),
  0xf9: mmx('psubw'),
  0xfa: mmx('psubd'),
  0xfb: mmx('psubq', 'sse2'),
  0xfc: mmx('paddb'),
  0xfd: mmx('paddw'),
  0xfe: mmx('paddd'),
};
