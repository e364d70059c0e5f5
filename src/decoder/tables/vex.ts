// VEX-encoded maps (C4/C5 prefix): VEX.mmmmm = 1 (0F), 2 (0F38), 3 (0F3A). SDM Vol. 2 Appendix A, Tables A-3..A-5
// (the "v" entries), and the per-instruction pages for the VEX.L / VEX.W restrictions.
//
// Conventions:
// - Slot layout: pfx(none, 66, F3, F2) for VEX.pp, then L() for VEX.L, then W() for VEX.W where they matter.
//   A case left out is #UD (objdump 2.40 prints (bad) there too: e.g. vmovlps with VEX.L=1, vbroadcastss W1).
// - Packed operands use x (16 or 32 bytes by VEX.L); scalar operands use ss/sd and live in XMM registers.
//   Half/quarter/eighth-width sources (conversions, pmovzx) use h/qu/oc.
// - Integer ops are AVX at VEX.L=0 and AVX2 at VEX.L=1: `avx2()` splits them so the feature is exact.
// - @a16 marks the alignment-checked forms (vmovaps, vmovapd, vmovdqa, vmovntps/pd/dq, vmovntdqa); the size
//   checked is the operand size.
// - Gathers name the element size on the VSIB operand (objdump prints `DWORD PTR [rax+ymm2*4]`).
import { L, mod, mode, pfx, reg, W, type Node, type OpcodeMap } from '../notation.ts';

/** An integer op: AVX with 128-bit vectors, AVX2 with 256-bit. */
const avx2 = (e: string): Node => L(`${e} #avx`, `${e} #avx2`);
/** A 66-prefixed integer op `op Vx,Hx,Wx` (most of the VEX integer space). */
const int3 = (m: string): Node => pfx(null, avx2(`${m} Vx,Hx,Wx`));
/** A 66-prefixed op valid only with VEX.L=0. */
const p66L0 = (e: Node): Node => pfx(null, L(e));
/** The ps/pd/ss/sd quartet of an arithmetic op. */
const arith = (m: string): Node =>
  pfx(`${m}ps Vx,Hx,Wx #avx`, `${m}pd Vx,Hx,Wx #avx`, `${m}ss Vss,Hss,Wss #avx`, `${m}sd Vsd,Hsd,Wsd #avx`);
/** A W1 form that exists only in 64-bit mode (outside it VEX.W is ignored and the W0 form decodes). */
const wq = (d: string, q: string): Node => W(d, mode(d, q));
/** The ps/pd pair of a packed-only op. */
const packed = (m: string, ops = 'Vx,Hx,Wx'): Node => pfx(`${m}ps ${ops} #avx`, `${m}pd ${ops} #avx`);

/** Opmask op on two sources (VEX.L=1): w/q without prefix, b/d with 66, by VEX.W. */
const kop3 = (m: string, fw = 'avx512f'): Node =>
  pfx(
    L(null, W(`${m}w KGw,KHw,KRw #${fw}`, `${m}q KGq,KHq,KRq #avx512bw`)),
    L(null, W(`${m}b KGb,KHb,KRb #avx512dq`, `${m}d KGd,KHd,KRd #avx512bw`)),
  );
/** Opmask op on one source (VEX.L=0). */
const kop2 = (m: string): Node =>
  pfx(
    L(W(`${m}w KGw,KRw #avx512f`, `${m}q KGq,KRq #avx512bw`)),
    L(W(`${m}b KGb,KRb #avx512dq`, `${m}d KGd,KRd #avx512bw`)),
  );

export const vex0f: OpcodeMap = {
  0x10: pfx(
    'vmovups Vx,Wx #avx',
    'vmovupd Vx,Wx #avx',
    mod('vmovss Vss,Mss #avx', 'vmovss Vss,Hss,Uss #avx'),
    mod('vmovsd Vsd,Msd #avx', 'vmovsd Vsd,Hsd,Usd #avx'),
  ),
  0x11: pfx(
    'vmovups Wx,Vx #avx',
    'vmovupd Wx,Vx #avx',
    mod('vmovss Mss,Vss #avx', 'vmovss Uss,Hss,Vss #avx'),
    mod('vmovsd Msd,Vsd #avx', 'vmovsd Usd,Hsd,Vsd #avx'),
  ),
  0x12: pfx(
    L(mod('vmovlps Vdq,Hdq,Mq #avx', 'vmovhlps Vdq,Hdq,Udq #avx')),
    L('vmovlpd Vdq,Hdq,Mq #avx'),
    'vmovsldup Vx,Wx #avx',
    L('vmovddup Vdq,Wq #avx', 'vmovddup Vx,Wx #avx'),
  ),
  0x13: pfx(L('vmovlps Mq,Vdq #avx'), L('vmovlpd Mq,Vdq #avx')),
  0x14: packed('vunpckl'),
  0x15: packed('vunpckh'),
  0x16: pfx(
    L(mod('vmovhps Vdq,Hdq,Mq #avx', 'vmovlhps Vdq,Hdq,Udq #avx')),
    L('vmovhpd Vdq,Hdq,Mq #avx'),
    'vmovshdup Vx,Wx #avx',
  ),
  0x17: pfx(L('vmovhps Mq,Vdq #avx'), L('vmovhpd Mq,Vdq #avx')),

  0x28: pfx('vmovaps Vx,Wx @a16 #avx', 'vmovapd Vx,Wx @a16 #avx'),
  0x29: pfx('vmovaps Wx,Vx @a16 #avx', 'vmovapd Wx,Vx @a16 #avx'),
  0x2a: pfx(null, null, 'vcvtsi2ss Vss,Hss,Ey #avx', 'vcvtsi2sd Vsd,Hsd,Ey #avx'),
  0x2b: pfx('vmovntps Mx,Vx @a16 #avx', 'vmovntpd Mx,Vx @a16 #avx'),
  0x2c: pfx(null, null, 'vcvttss2si Gy,Wss #avx', 'vcvttsd2si Gy,Wsd #avx'),
  0x2d: pfx(null, null, 'vcvtss2si Gy,Wss #avx', 'vcvtsd2si Gy,Wsd #avx'),
  0x2e: pfx('vucomiss Vss,Wss #avx', 'vucomisd Vsd,Wsd #avx'),
  0x2f: pfx('vcomiss Vss,Wss #avx', 'vcomisd Vsd,Wsd #avx'),

  // Opmask logic (AVX-512, VEX-encoded).
  0x41: kop3('kand'),
  0x42: kop3('kandn'),
  0x44: kop2('knot'),
  0x45: kop3('kor'),
  0x46: kop3('kxnor'),
  0x47: kop3('kxor'),
  0x4a: kop3('kadd', 'avx512dq'),
  0x4b: pfx(
    L(null, W('kunpckwd KGd,KHw,KRw #avx512bw', 'kunpckdq KGq,KHd,KRd #avx512bw')),
    L(null, W('kunpckbw KGw,KHb,KRb #avx512f', null)),
  ),

  0x50: packed('vmovmsk', 'Gy,Ux'),
  0x51: pfx('vsqrtps Vx,Wx #avx', 'vsqrtpd Vx,Wx #avx', 'vsqrtss Vss,Hss,Wss #avx', 'vsqrtsd Vsd,Hsd,Wsd #avx'),
  0x52: pfx('vrsqrtps Vx,Wx #avx', null, 'vrsqrtss Vss,Hss,Wss #avx'),
  0x53: pfx('vrcpps Vx,Wx #avx', null, 'vrcpss Vss,Hss,Wss #avx'),
  0x54: packed('vand'),
  0x55: packed('vandn'),
  0x56: packed('vor'),
  0x57: packed('vxor'),
  0x58: arith('vadd'),
  0x59: arith('vmul'),
  0x5a: pfx('vcvtps2pd Vx,Wh #avx', 'vcvtpd2ps Vh,Wx #avx', 'vcvtss2sd Vsd,Hsd,Wss #avx', 'vcvtsd2ss Vss,Hss,Wsd #avx'),
  0x5b: pfx('vcvtdq2ps Vx,Wx #avx', 'vcvtps2dq Vx,Wx #avx', 'vcvttps2dq Vx,Wx #avx'),
  0x5c: arith('vsub'),
  0x5d: arith('vmin'),
  0x5e: arith('vdiv'),
  0x5f: arith('vmax'),

  0x60: int3('vpunpcklbw'),
  0x61: int3('vpunpcklwd'),
  0x62: int3('vpunpckldq'),
  0x63: int3('vpacksswb'),
  0x64: int3('vpcmpgtb'),
  0x65: int3('vpcmpgtw'),
  0x66: int3('vpcmpgtd'),
  0x67: int3('vpackuswb'),
  0x68: int3('vpunpckhbw'),
  0x69: int3('vpunpckhwd'),
  0x6a: int3('vpunpckhdq'),
  0x6b: int3('vpackssdw'),
  0x6c: int3('vpunpcklqdq'),
  0x6d: int3('vpunpckhqdq'),
  0x6e: p66L0(wq('vmovd Vdq,Ed #avx', 'vmovq Vdq,Eq #avx')),
  0x6f: pfx(null, 'vmovdqa Vx,Wx @a16 #avx', 'vmovdqu Vx,Wx #avx'),
  0x70: pfx(null, avx2('vpshufd Vx,Wx,Ib'), avx2('vpshufhw Vx,Wx,Ib'), avx2('vpshuflw Vx,Wx,Ib')),
  0x71: pfx(null, reg(null, null, avx2('vpsrlw Hx,Ux,Ib'), null, avx2('vpsraw Hx,Ux,Ib'), null, avx2('vpsllw Hx,Ux,Ib'))),
  0x72: pfx(null, reg(null, null, avx2('vpsrld Hx,Ux,Ib'), null, avx2('vpsrad Hx,Ux,Ib'), null, avx2('vpslld Hx,Ux,Ib'))),
  0x73: pfx(
    null,
    reg(null, null, avx2('vpsrlq Hx,Ux,Ib'), avx2('vpsrldq Hx,Ux,Ib'), null, null, avx2('vpsllq Hx,Ux,Ib'), avx2('vpslldq Hx,Ux,Ib')),
  ),
  0x74: int3('vpcmpeqb'),
  0x75: int3('vpcmpeqw'),
  0x76: int3('vpcmpeqd'),
  0x77: pfx(L('vzeroupper #avx', 'vzeroall #avx')),
  0x7c: pfx(null, 'vhaddpd Vx,Hx,Wx #avx', null, 'vhaddps Vx,Hx,Wx #avx'),
  0x7d: pfx(null, 'vhsubpd Vx,Hx,Wx #avx', null, 'vhsubps Vx,Hx,Wx #avx'),
  0x7e: pfx(null, L(wq('vmovd Ed,Vdq #avx', 'vmovq Eq,Vdq #avx')), L('vmovq Vdq,Wq #avx')),
  0x7f: pfx(null, 'vmovdqa Wx,Vx @a16 #avx', 'vmovdqu Wx,Vx #avx'),

  0x90: pfx(
    L(W('kmovw KGw,KEw #avx512f', 'kmovq KGq,KEq #avx512bw')),
    L(W('kmovb KGb,KEb #avx512dq', 'kmovd KGd,KEd #avx512bw')),
  ),
  0x91: pfx(
    L(W('kmovw Mw,KGw #avx512f', 'kmovq Mq,KGq #avx512bw')),
    L(W('kmovb Mb,KGb #avx512dq', 'kmovd Md,KGd #avx512bw')),
  ),
  0x92: pfx(
    L(W('kmovw KGw,Rd #avx512f', null)),
    L(W('kmovb KGb,Rd #avx512dq', null)),
    null,
    L(wq('kmovd KGd,Rd #avx512bw', 'kmovq KGq,Rq #avx512bw')),
  ),
  0x93: pfx(
    L(W('kmovw Gd,KRw #avx512f', null)),
    L(W('kmovb Gd,KRb #avx512dq', null)),
    null,
    L(wq('kmovd Gd,KRd #avx512bw', 'kmovq Gq,KRq #avx512bw')),
  ),
  0x98: kop2('kortest'),
  0x99: pfx(
    L(W('ktestw KGw,KRw #avx512dq', 'ktestq KGq,KRq #avx512bw')),
    L(W('ktestb KGb,KRb #avx512dq', 'ktestd KGd,KRd #avx512bw')),
  ),

  0xae: pfx(L(reg(null, null, 'vldmxcsr Md #avx', 'vstmxcsr Md #avx'))),
  0xc2: pfx(
    'vcmpps Vx,Hx,Wx,Ib #avx',
    'vcmppd Vx,Hx,Wx,Ib #avx',
    'vcmpss Vss,Hss,Wss,Ib #avx',
    'vcmpsd Vsd,Hsd,Wsd,Ib #avx',
  ),
  0xc4: p66L0(mod('vpinsrw Vdq,Hdq,Mw,Ib #avx', 'vpinsrw Vdq,Hdq,Rd,Ib #avx')),
  0xc5: p66L0('vpextrw Gd,Udq,Ib #avx'),
  0xc6: packed('vshuf', 'Vx,Hx,Wx,Ib'),

  0xd0: pfx(null, 'vaddsubpd Vx,Hx,Wx #avx', null, 'vaddsubps Vx,Hx,Wx #avx'),
  0xd1: pfx(null, avx2('vpsrlw Vx,Hx,Wdq')),
  0xd2: pfx(null, avx2('vpsrld Vx,Hx,Wdq')),
  0xd3: pfx(null, avx2('vpsrlq Vx,Hx,Wdq')),
  0xd4: int3('vpaddq'),
  0xd5: int3('vpmullw'),
  0xd6: p66L0('vmovq Wq,Vdq #avx'),
  0xd7: pfx(null, avx2('vpmovmskb Gy,Ux')),
  0xd8: int3('vpsubusb'),
  0xd9: int3('vpsubusw'),
  0xda: int3('vpminub'),
  0xdb: int3('vpand'),
  0xdc: int3('vpaddusb'),
  0xdd: int3('vpaddusw'),
  0xde: int3('vpmaxub'),
  0xdf: int3('vpandn'),

  0xe0: int3('vpavgb'),
  0xe1: pfx(null, avx2('vpsraw Vx,Hx,Wdq')),
  0xe2: pfx(null, avx2('vpsrad Vx,Hx,Wdq')),
  0xe3: int3('vpavgw'),
  0xe4: int3('vpmulhuw'),
  0xe5: int3('vpmulhw'),
  0xe6: pfx(null, 'vcvttpd2dq Vh,Wx #avx', 'vcvtdq2pd Vx,Wh #avx', 'vcvtpd2dq Vh,Wx #avx'),
  0xe7: pfx(null, 'vmovntdq Mx,Vx @a16 #avx'),
  0xe8: int3('vpsubsb'),
  0xe9: int3('vpsubsw'),
  0xea: int3('vpminsw'),
  0xeb: int3('vpor'),
  0xec: int3('vpaddsb'),
  0xed: int3('vpaddsw'),
  0xee: int3('vpmaxsw'),
  0xef: int3('vpxor'),

  0xf0: pfx(null, null, null, 'vlddqu Vx,Mx #avx'),
  0xf1: pfx(null, avx2('vpsllw Vx,Hx,Wdq')),
  0xf2: pfx(null, avx2('vpslld Vx,Hx,Wdq')),
  0xf3: pfx(null, avx2('vpsllq Vx,Hx,Wdq')),
  0xf4: int3('vpmuludq'),
  0xf5: int3('vpmaddwd'),
  0xf6: int3('vpsadbw'),
  0xf7: p66L0('vmaskmovdqu Vdq,Udq #avx'),
  0xf8: int3('vpsubb'),
  0xf9: int3('vpsubw'),
  0xfa: int3('vpsubd'),
  0xfb: int3('vpsubq'),
  0xfc: int3('vpaddb'),
  0xfd: int3('vpaddw'),
  0xfe: int3('vpaddd'),
};

/** A 66-prefixed op with VEX.W0 only. */
const p66W0 = (e: Node): Node => pfx(null, W(e, null));
/** A 66-prefixed op valid only with VEX.L=1 and W0 (the 256-bit-only AVX/AVX2 permutes and lane moves). */
const p66L1W0 = (e: string): Node => pfx(null, L(null, W(e, null)));
/** A 66-prefixed op selecting the dword/qword form by VEX.W. */
const p66W = (e0: Node, e1: Node): Node => pfx(null, W(e0, e1));

/** The FMA3 row for one operand order (132, 213, 231): opcodes x6..xF. */
function fmaRow(order: number): Record<number, Node> {
  const p = (m: string) => p66W(`${m}${order}ps Vx,Hx,Wx #fma`, `${m}${order}pd Vx,Hx,Wx #fma`);
  const s = (m: string) => p66W(`${m}${order}ss Vss,Hss,Wss #fma`, `${m}${order}sd Vsd,Hsd,Wsd #fma`);
  const base = { 132: 0x90, 213: 0xa0, 231: 0xb0 }[order]!;
  return {
    [base + 6]: p('vfmaddsub'),
    [base + 7]: p('vfmsubadd'),
    [base + 8]: p('vfmadd'),
    [base + 9]: s('vfmadd'),
    [base + 10]: p('vfmsub'),
    [base + 11]: s('vfmsub'),
    [base + 12]: p('vfnmadd'),
    [base + 13]: s('vfnmadd'),
    [base + 14]: p('vfnmsub'),
    [base + 15]: s('vfnmsub'),
  };
}

/** vpgather/vgather: the dword-index (d) forms index with Vx-sized, the qword-index (q) forms with full-width. */
const gather = (dq: 'd' | 'q', m0: string, t0: string, m1: string, t1: string): Node =>
  dq === 'd'
    ? p66W(
        L(`${m0} Vdq,MVX${t0},Hdq #avx2`, `${m0} Vqq,MVY${t0},Hqq #avx2`),
        L(`${m1} Vdq,MVX${t1},Hdq #avx2`, `${m1} Vqq,MVX${t1},Hqq #avx2`),
      )
    : p66W(
        L(`${m0} Vdq,MVX${t0},Hdq #avx2`, `${m0} Vdq,MVY${t0},Hdq #avx2`),
        L(`${m1} Vdq,MVX${t1},Hdq #avx2`, `${m1} Vqq,MVY${t1},Hqq #avx2`),
      );

/** CMPccXADD (66, VEX.L=0, 64-bit mode only): E0-EF by condition code, W selects 32/64-bit. */
function cmpccxadd(): Record<number, Node> {
  const cc = ['o', 'no', 'b', 'nb', 'z', 'nz', 'be', 'nbe', 's', 'ns', 'p', 'np', 'l', 'nl', 'le', 'nle'];
  const out: Record<number, Node> = {};
  cc.forEach((c, i) => (out[0xe0 + i] = pfx(null, L(`cmp${c}xadd My,Gy,By @o64 #cmpccxadd`))));
  return out;
}

export const vex0f38: OpcodeMap = {
  0x00: int3('vpshufb'),
  0x01: int3('vphaddw'),
  0x02: int3('vphaddd'),
  0x03: int3('vphaddsw'),
  0x04: int3('vpmaddubsw'),
  0x05: int3('vphsubw'),
  0x06: int3('vphsubd'),
  0x07: int3('vphsubsw'),
  0x08: int3('vpsignb'),
  0x09: int3('vpsignw'),
  0x0a: int3('vpsignd'),
  0x0b: int3('vpmulhrsw'),
  0x0c: p66W0('vpermilps Vx,Hx,Wx #avx'),
  0x0d: p66W0('vpermilpd Vx,Hx,Wx #avx'),
  0x0e: p66W0('vtestps Vx,Wx #avx'),
  0x0f: p66W0('vtestpd Vx,Wx #avx'),
  0x13: p66W0('vcvtph2ps Vx,Wh #f16c'),
  0x16: p66L1W0('vpermps Vqq,Hqq,Wqq #avx2'),
  0x17: pfx(null, 'vptest Vx,Wx #avx'),
  // The register-source broadcasts came with AVX2.
  0x18: p66W0(mod('vbroadcastss Vx,Md #avx', 'vbroadcastss Vx,Ud #avx2')),
  0x19: pfx(null, L(null, W(mod('vbroadcastsd Vqq,Mq #avx', 'vbroadcastsd Vqq,Uq #avx2'), null))),
  0x1a: p66L1W0('vbroadcastf128 Vqq,Mdq #avx'),
  0x1c: pfx(null, avx2('vpabsb Vx,Wx')),
  0x1d: pfx(null, avx2('vpabsw Vx,Wx')),
  0x1e: pfx(null, avx2('vpabsd Vx,Wx')),
  0x20: pfx(null, avx2('vpmovsxbw Vx,Wh')),
  0x21: pfx(null, avx2('vpmovsxbd Vx,Wqu')),
  0x22: pfx(null, avx2('vpmovsxbq Vx,Woc')),
  0x23: pfx(null, avx2('vpmovsxwd Vx,Wh')),
  0x24: pfx(null, avx2('vpmovsxwq Vx,Wqu')),
  0x25: pfx(null, avx2('vpmovsxdq Vx,Wh')),
  0x28: int3('vpmuldq'),
  0x29: int3('vpcmpeqq'),
  0x2a: pfx(null, avx2('vmovntdqa Vx,Mx @a16')),
  0x2b: int3('vpackusdw'),
  0x2c: p66W0('vmaskmovps Vx,Hx,Mx #avx'),
  0x2d: p66W0('vmaskmovpd Vx,Hx,Mx #avx'),
  0x2e: p66W0('vmaskmovps Mx,Hx,Vx #avx'),
  0x2f: p66W0('vmaskmovpd Mx,Hx,Vx #avx'),
  0x30: pfx(null, avx2('vpmovzxbw Vx,Wh')),
  0x31: pfx(null, avx2('vpmovzxbd Vx,Wqu')),
  0x32: pfx(null, avx2('vpmovzxbq Vx,Woc')),
  0x33: pfx(null, avx2('vpmovzxwd Vx,Wh')),
  0x34: pfx(null, avx2('vpmovzxwq Vx,Wqu')),
  0x35: pfx(null, avx2('vpmovzxdq Vx,Wh')),
  0x36: p66L1W0('vpermd Vqq,Hqq,Wqq #avx2'),
  0x37: int3('vpcmpgtq'),
  0x38: int3('vpminsb'),
  0x39: int3('vpminsd'),
  0x3a: int3('vpminuw'),
  0x3b: int3('vpminud'),
  0x3c: int3('vpmaxsb'),
  0x3d: int3('vpmaxsd'),
  0x3e: int3('vpmaxuw'),
  0x3f: int3('vpmaxud'),
  0x40: int3('vpmulld'),
  0x41: p66L0('vphminposuw Vdq,Wdq #avx'),
  0x45: p66W('vpsrlvd Vx,Hx,Wx #avx2', 'vpsrlvq Vx,Hx,Wx #avx2'),
  0x46: p66W0('vpsravd Vx,Hx,Wx #avx2'),
  0x47: p66W('vpsllvd Vx,Hx,Wx #avx2', 'vpsllvq Vx,Hx,Wx #avx2'),
  // AVX-VNNI (objdump prints them with a {vex} pseudo-prefix to tell them from the EVEX forms).
  // AVX-VNNI-INT8 shares the slots under the other prefixes.
  0x50: pfx(
    W('vpdpbuud Vx,Hx,Wx #avx_vnni_int8', null),
    W('vpdpbusd Vx,Hx,Wx #avx_vnni', null),
    W('vpdpbsud Vx,Hx,Wx #avx_vnni_int8', null),
    W('vpdpbssd Vx,Hx,Wx #avx_vnni_int8', null),
  ),
  0x51: pfx(
    W('vpdpbuuds Vx,Hx,Wx #avx_vnni_int8', null),
    W('vpdpbusds Vx,Hx,Wx #avx_vnni', null),
    W('vpdpbsuds Vx,Hx,Wx #avx_vnni_int8', null),
    W('vpdpbssds Vx,Hx,Wx #avx_vnni_int8', null),
  ),
  0x52: p66W0('vpdpwssd Vx,Hx,Wx #avx_vnni'),
  0x53: p66W0('vpdpwssds Vx,Hx,Wx #avx_vnni'),
  0x58: p66W0('vpbroadcastd Vx,Wd #avx2'),
  0x59: p66W0('vpbroadcastq Vx,Wq #avx2'),
  0x5a: p66L1W0('vbroadcasti128 Vqq,Mdq #avx2'),
  0x72: pfx(null, null, W('vcvtneps2bf16 Vh,Wx #avx_ne_convert', null)),
  0x78: p66W0('vpbroadcastb Vx,Wb #avx2'),
  0x79: p66W0('vpbroadcastw Vx,Ww #avx2'),
  0x8c: p66W('vpmaskmovd Vx,Hx,Mx #avx2', 'vpmaskmovq Vx,Hx,Mx #avx2'),
  0x8e: p66W('vpmaskmovd Mx,Hx,Vx #avx2', 'vpmaskmovq Mx,Hx,Vx #avx2'),
  0x90: gather('d', 'vpgatherdd', 'd', 'vpgatherdq', 'q'),
  0x91: gather('q', 'vpgatherqd', 'd', 'vpgatherqq', 'q'),
  0x92: gather('d', 'vgatherdps', 'd', 'vgatherdpd', 'q'),
  0x93: gather('q', 'vgatherqps', 'd', 'vgatherqpd', 'q'),
  // AVX-NE-CONVERT: memory-only sources.
  0xb0: pfx(
    W('vcvtneoph2ps Vx,Mx #avx_ne_convert', null),
    W('vcvtneeph2ps Vx,Mx #avx_ne_convert', null),
    W('vcvtneebf162ps Vx,Mx #avx_ne_convert', null),
    W('vcvtneobf162ps Vx,Mx #avx_ne_convert', null),
  ),
  0xb1: pfx(null, W('vbcstnesh2ps Vx,Mw #avx_ne_convert', null), W('vbcstnebf162ps Vx,Mw #avx_ne_convert', null)),
  // AVX-IFMA (objdump prints {vex} before them).
  0xb4: p66W(null, 'vpmadd52luq Vx,Hx,Wx #avx_ifma'),
  0xb5: p66W(null, 'vpmadd52huq Vx,Hx,Wx #avx_ifma'),
  ...fmaRow(132),
  ...fmaRow(213),
  ...fmaRow(231),
  0xcf: p66W0('vgf2p8mulb Vx,Hx,Wx #gfni'),
  ...cmpccxadd(),
  0xdb: p66L0('vaesimc Vdq,Wdq #aes'),
  0xdc: pfx(null, L('vaesenc Vx,Hx,Wx #aes', 'vaesenc Vx,Hx,Wx #vaes')),
  0xdd: pfx(null, L('vaesenclast Vx,Hx,Wx #aes', 'vaesenclast Vx,Hx,Wx #vaes')),
  0xde: pfx(null, L('vaesdec Vx,Hx,Wx #aes', 'vaesdec Vx,Hx,Wx #vaes')),
  0xdf: pfx(null, L('vaesdeclast Vx,Hx,Wx #aes', 'vaesdeclast Vx,Hx,Wx #vaes')),

  // BMI1 / BMI2: GPR operands, VEX.L must be 0, VEX.W selects 32/64-bit.
  0xf2: pfx(L('andn Gy,By,Ey #bmi1')),
  0xf3: pfx(L(reg(null, 'blsr By,Ey #bmi1', 'blsmsk By,Ey #bmi1', 'blsi By,Ey #bmi1'))),
  0xf5: pfx(L('bzhi Gy,Ey,By #bmi2'), null, L('pext Gy,By,Ey #bmi2'), L('pdep Gy,By,Ey #bmi2')),
  0xf6: pfx(null, null, null, L('mulx Gy,By,Ey #bmi2')),
  0xf7: pfx(L('bextr Gy,Ey,By #bmi1'), L('shlx Gy,Ey,By #bmi2'), L('sarx Gy,Ey,By #bmi2'), L('shrx Gy,Ey,By #bmi2')),
};

/** kshift: VEX.L=0, 66, W selects the narrower/wider pair. */
const kshift = (m: string, a: string, b: string, fa: string, fb: string): Node =>
  pfx(null, L(W(`${m}${a} KG${a},KR${a},Ib #${fa}`, `${m}${b} KG${b},KR${b},Ib #${fb}`)));

/**
 * AMD FMA4 (66, is4): W0 takes the third source from imm8[7:4] (`Vx,Hx,Wx,Lx`), W1 swaps the last two sources.
 * The XOP-era vpermil2ps/pd (48/49) also take an imm8[3:0] selector that the notation cannot name; only their
 * register operands are listed (their length is right: the is4 byte is the imm8).
 */
function fma4(): Record<number, Node> {
  const out: Record<number, Node> = {};
  const add = (op: number, m: string, t: string) =>
    (out[op] = pfx(null, W(`${m} V${t},H${t},W${t},L${t} #fma4`, `${m} V${t},H${t},L${t},W${t} #fma4`)));
  const rows: [number, string][] = [[0x68, 'vfmadd'], [0x6c, 'vfmsub'], [0x78, 'vfnmadd'], [0x7c, 'vfnmsub']];
  for (const [op, m] of rows) {
    add(op, `${m}ps`, 'x');
    add(op + 1, `${m}pd`, 'x');
    add(op + 2, `${m}ss`, 'ss');
    add(op + 3, `${m}sd`, 'sd');
  }
  add(0x5c, 'vfmaddsubps', 'x');
  add(0x5d, 'vfmaddsubpd', 'x');
  add(0x5e, 'vfmsubaddps', 'x');
  add(0x5f, 'vfmsubaddpd', 'x');
  out[0x48] = pfx(null, W('vpermil2ps Vx,Hx,Wx,Lx #xop', 'vpermil2ps Vx,Hx,Lx,Wx #xop'));
  out[0x49] = pfx(null, W('vpermil2pd Vx,Hx,Wx,Lx #xop', 'vpermil2pd Vx,Hx,Lx,Wx #xop'));
  return out;
}

export const vex0f3a: OpcodeMap = {
  0x00: pfx(null, L(null, W(null, 'vpermq Vqq,Wqq,Ib #avx2'))),
  0x01: pfx(null, L(null, W(null, 'vpermpd Vqq,Wqq,Ib #avx2'))),
  0x02: p66W0('vpblendd Vx,Hx,Wx,Ib #avx2'),
  0x04: p66W0('vpermilps Vx,Wx,Ib #avx'),
  0x05: p66W0('vpermilpd Vx,Wx,Ib #avx'),
  0x06: p66L1W0('vperm2f128 Vqq,Hqq,Wqq,Ib #avx'),
  0x08: pfx(null, 'vroundps Vx,Wx,Ib #avx'),
  0x09: pfx(null, 'vroundpd Vx,Wx,Ib #avx'),
  0x0a: pfx(null, 'vroundss Vss,Hss,Wss,Ib #avx'),
  0x0b: pfx(null, 'vroundsd Vsd,Hsd,Wsd,Ib #avx'),
  0x0c: pfx(null, 'vblendps Vx,Hx,Wx,Ib #avx'),
  0x0d: pfx(null, 'vblendpd Vx,Hx,Wx,Ib #avx'),
  0x0e: pfx(null, avx2('vpblendw Vx,Hx,Wx,Ib')),
  0x0f: pfx(null, avx2('vpalignr Vx,Hx,Wx,Ib')),
  0x14: p66L0(mod('vpextrb Mb,Vdq,Ib #avx', 'vpextrb Rd,Vdq,Ib #avx')),
  0x15: p66L0(mod('vpextrw Mw,Vdq,Ib #avx', 'vpextrw Rd,Vdq,Ib #avx')),
  0x16: p66L0(wq('vpextrd Ed,Vdq,Ib #avx', 'vpextrq Eq,Vdq,Ib #avx')),
  0x17: p66L0('vextractps Ed,Vdq,Ib #avx'),
  0x18: p66L1W0('vinsertf128 Vqq,Hqq,Wdq,Ib #avx'),
  0x19: p66L1W0('vextractf128 Wdq,Vqq,Ib #avx'),
  0x1d: p66W0('vcvtps2ph Wh,Vx,Ib #f16c'),
  0x20: p66L0(mod('vpinsrb Vdq,Hdq,Mb,Ib #avx', 'vpinsrb Vdq,Hdq,Rd,Ib #avx')),
  0x21: p66L0(mod('vinsertps Vdq,Hdq,Md,Ib #avx', 'vinsertps Vdq,Hdq,Udq,Ib #avx')),
  0x22: p66L0(wq('vpinsrd Vdq,Hdq,Ed,Ib #avx', 'vpinsrq Vdq,Hdq,Eq,Ib #avx')),
  0x30: kshift('kshiftr', 'b', 'w', 'avx512dq', 'avx512f'),
  0x31: kshift('kshiftr', 'd', 'q', 'avx512bw', 'avx512bw'),
  0x32: kshift('kshiftl', 'b', 'w', 'avx512dq', 'avx512f'),
  0x33: kshift('kshiftl', 'd', 'q', 'avx512bw', 'avx512bw'),
  0x38: p66L1W0('vinserti128 Vqq,Hqq,Wdq,Ib #avx2'),
  0x39: p66L1W0('vextracti128 Wdq,Vqq,Ib #avx2'),
  0x40: pfx(null, 'vdpps Vx,Hx,Wx,Ib #avx'),
  0x41: p66L0('vdppd Vdq,Hdq,Wdq,Ib #avx'),
  0x42: pfx(null, avx2('vmpsadbw Vx,Hx,Wx,Ib')),
  0x44: pfx(null, L('vpclmulqdq Vx,Hx,Wx,Ib #pclmulqdq', 'vpclmulqdq Vx,Hx,Wx,Ib #vpclmulqdq')),
  0x46: p66L1W0('vperm2i128 Vqq,Hqq,Wqq,Ib #avx2'),
  0x4a: p66W0('vblendvps Vx,Hx,Wx,Lx #avx'),
  0x4b: p66W0('vblendvpd Vx,Hx,Wx,Lx #avx'),
  0x4c: p66W0(avx2('vpblendvb Vx,Hx,Wx,Lx')),
  // VEX.W1 widens the explicit lengths to rAX/rDX (objdump then appends q).
  0x60: p66L0(wq('vpcmpestrm Vdq,Wdq,Ib #avx', 'vpcmpestrmq Vdq,Wdq,Ib #avx')),
  0x61: p66L0(wq('vpcmpestri Vdq,Wdq,Ib #avx', 'vpcmpestriq Vdq,Wdq,Ib #avx')),
  0x62: p66L0('vpcmpistrm Vdq,Wdq,Ib #avx'),
  0x63: p66L0('vpcmpistri Vdq,Wdq,Ib #avx'),
  ...fma4(),
  0xce: pfx(null, W(null, 'vgf2p8affineqb Vx,Hx,Wx,Ib #gfni')),
  0xcf: pfx(null, W(null, 'vgf2p8affineinvqb Vx,Hx,Wx,Ib #gfni')),
  0xdf: p66L0('vaeskeygenassist Vdq,Wdq,Ib #aes'),
  0xf0: pfx(null, null, null, L('rorx Gy,Ey,Ib #bmi2')),
};
