// EVEX-encoded maps (62 prefix, AVX-512): EVEX.mmm = 1 (0F), 2 (0F38), 3 (0F3A). Sources: the SDM Vol. 2
// instruction pages (opcode column "EVEX.LLL.pp.map.Wn op"); what objdump 2.40 prints was used to check names.
//
// Conventions:
// - Slot layout: pfx(none, 66, F3, F2) for EVEX.pp, then W() for EVEX.W where the SDM gives W0/W1 (a W the SDM
//   does not list is #UD; WIG instructions have no W switch), then L() for EVEX.L'L where only some vector
//   lengths exist (L(l0, l1, l2); EVEX.L'L = 3 is reserved and never matches).
// - Vector operands use x (16/32/64 bytes by L'L), h/qu/oc for the narrower side of conversions; scalar operands
//   ss/sd/d/q (XMM). Opmask destinations are KG with the width of the widest mask the instruction writes
//   (b for 8 elements ... q for 64).
// - Compares with a predicate immediate (vpcmp[u]b/w/d/q, vcmpps...) are recorded under their base mnemonic
//   with the Ib operand; the disassembler prints objdump's pseudo-ops (vpcmpltub, vcmpneqps ...).
// - EVEX.b is described by the tags @bcst/@bcst2 (broadcast), @er/@sae (rounding, register forms) and @e1..@e8
//   (disp8*N of compress/expand): see notation.ts.
import { L, mod, mode, pfx, reg, W, type Node, type OpcodeMap, type Switch } from '../notation.ts';

const F = 'avx512f';
const BW = 'avx512bw';
const DQ = 'avx512dq';
const CD = 'avx512cd';

const p66 = (n: Node): Node => pfx(null, n);
const w0 = (n: Node): Node => W(n, null);
const w1 = (n: Node): Node => W(null, n);
/** A W1 form that exists only in 64-bit mode (elsewhere EVEX.W is ignored and the W0 form decodes). */
const wq = (d: string, q: string): Node => W(d, mode(d, q));
/** Valid for 256- and 512-bit vectors only. */
const L12 = (e: string): Node => L(null, e, e);
/** Valid for 512-bit vectors only. */
const L2 = (e: string): Node => L(null, null, e);

/** 66-prefixed byte/word op, EVEX.W ignored: `op Vx,Hx,Wx`. */
const bw = (m: string, ops = 'Vx,Hx,Wx', f = BW): Node => p66(`${m} ${ops} #${f}`);
/** 66-prefixed dword/qword pair selected by EVEX.W, with broadcast. */
const dq = (m0: string, m1: string, ops = 'Vx,Hx,Wx', tags = '@bcst', f = F, f1 = f): Node =>
  p66(W(`${m0} ${ops} ${tags} #${f}`, `${m1} ${ops} ${tags} #${f1}`));
/** 66-prefixed dword op, W0 only, with broadcast. */
const d0 = (m: string, ops = 'Vx,Hx,Wx', tags = '@bcst', f = F): Node => p66(w0(`${m} ${ops} ${tags} #${f}`));
/** 66-prefixed qword op, W1 only, with broadcast. */
const q1 = (m: string, ops = 'Vx,Hx,Wx', tags = '@bcst', f = F): Node => p66(w1(`${m} ${ops} ${tags} #${f}`));
/** Packed single (no prefix, W0) / double (66, W1). */
const fpp = (m: string, ops = 'Vx,Hx,Wx', tags = '@bcst', f = F): Node =>
  pfx(w0(`${m}ps ${ops} ${tags} #${f}`), w1(`${m}pd ${ops} ${tags} #${f}`));
/** The ps/pd/ss/sd quartet; `t` is @er or @sae. */
const fpq = (m: string, t: string): Node =>
  pfx(
    w0(`${m}ps Vx,Hx,Wx @bcst ${t} #${F}`),
    w1(`${m}pd Vx,Hx,Wx @bcst ${t} #${F}`),
    w0(`${m}ss Vss,Hss,Wss ${t} #${F}`),
    w1(`${m}sd Vsd,Hsd,Wsd ${t} #${F}`),
  );
/** 66, ps/pd pair by W on one vector source (vgetexp, vrcp14...). */
const psd = (m: string, ops: string, tags: string, f = F): Node =>
  p66(W(`${m}ps ${ops} ${tags} #${f}`, `${m}pd ${ops} ${tags} #${f}`));
/** 66, ss/sd pair by W. */
const ssd = (m: string, tags: string, imm = '', f = F): Node =>
  p66(W(`${m}ss Vss,Hss,Wss${imm} ${tags} #${f}`, `${m}sd Vsd,Hsd,Wsd${imm} ${tags} #${f}`));

// ---------------------------------------------------------------------------------------------------------------

export const evex0f: OpcodeMap = {
  0x10: pfx(
    w0(`vmovups Vx,Wx #${F}`),
    w1(`vmovupd Vx,Wx #${F}`),
    w0(mod(`vmovss Vss,Mss #${F}`, `vmovss Vss,Hss,Uss #${F}`)),
    w1(mod(`vmovsd Vsd,Msd #${F}`, `vmovsd Vsd,Hsd,Usd #${F}`)),
  ),
  0x11: pfx(
    w0(`vmovups Wx,Vx #${F}`),
    w1(`vmovupd Wx,Vx #${F}`),
    w0(mod(`vmovss Mss,Vss #${F}`, `vmovss Uss,Hss,Vss #${F}`)),
    w1(mod(`vmovsd Msd,Vsd #${F}`, `vmovsd Usd,Hsd,Vsd #${F}`)),
  ),
  0x12: pfx(
    w0(L(mod(`vmovlps Vdq,Hdq,Mq #${F}`, `vmovhlps Vdq,Hdq,Udq #${F}`))),
    w1(L(`vmovlpd Vdq,Hdq,Mq #${F}`)),
    w0(`vmovsldup Vx,Wx #${F}`),
    w1(L(`vmovddup Vdq,Wq #${F}`, `vmovddup Vx,Wx #${F}`, `vmovddup Vx,Wx #${F}`)),
  ),
  0x13: pfx(w0(L(`vmovlps Mq,Vdq #${F}`)), w1(L(`vmovlpd Mq,Vdq #${F}`))),
  0x14: fpp('vunpckl'),
  0x15: fpp('vunpckh'),
  0x16: pfx(
    w0(L(mod(`vmovhps Vdq,Hdq,Mq #${F}`, `vmovlhps Vdq,Hdq,Udq #${F}`))),
    w1(L(`vmovhpd Vdq,Hdq,Mq #${F}`)),
    w0(`vmovshdup Vx,Wx #${F}`),
  ),
  0x17: pfx(w0(L(`vmovhps Mq,Vdq #${F}`)), w1(L(`vmovhpd Mq,Vdq #${F}`))),
  0x28: fpp('vmova', 'Vx,Wx', '@a16'),
  0x29: fpp('vmova', 'Wx,Vx', '@a16'),
  0x2a: pfx(
    null,
    null,
    `vcvtsi2ss Vss,Hss,Ey @er #${F}`,
    W(`vcvtsi2sd Vsd,Hsd,Ed #${F}`, `vcvtsi2sd Vsd,Hsd,Ey @er #${F}`),
  ),
  0x2b: fpp('vmovnt', 'Mx,Vx', '@a16'),
  0x2c: pfx(null, null, `vcvttss2si Gy,Wss @sae #${F}`, `vcvttsd2si Gy,Wsd @sae #${F}`),
  0x2d: pfx(null, null, `vcvtss2si Gy,Wss @er #${F}`, `vcvtsd2si Gy,Wsd @er #${F}`),
  0x2e: pfx(w0(`vucomiss Vss,Wss @sae #${F}`), w1(`vucomisd Vsd,Wsd @sae #${F}`)),
  0x2f: pfx(w0(`vcomiss Vss,Wss @sae #${F}`), w1(`vcomisd Vsd,Wsd @sae #${F}`)),

  0x51: pfx(
    w0(`vsqrtps Vx,Wx @bcst @er #${F}`),
    w1(`vsqrtpd Vx,Wx @bcst @er #${F}`),
    w0(`vsqrtss Vss,Hss,Wss @er #${F}`),
    w1(`vsqrtsd Vsd,Hsd,Wsd @er #${F}`),
  ),
  0x54: fpp('vand', 'Vx,Hx,Wx', '@bcst', DQ),
  0x55: fpp('vandn', 'Vx,Hx,Wx', '@bcst', DQ),
  0x56: fpp('vor', 'Vx,Hx,Wx', '@bcst', DQ),
  0x57: fpp('vxor', 'Vx,Hx,Wx', '@bcst', DQ),
  0x58: fpq('vadd', '@er'),
  0x59: fpq('vmul', '@er'),
  0x5a: pfx(
    w0(`vcvtps2pd Vx,Wh @bcst @sae #${F}`),
    w1(`vcvtpd2ps Vh,Wx @bcst @er #${F}`),
    w0(`vcvtss2sd Vsd,Hsd,Wss @sae #${F}`),
    w1(`vcvtsd2ss Vss,Hss,Wsd @er #${F}`),
  ),
  0x5b: pfx(
    W(`vcvtdq2ps Vx,Wx @bcst @er #${F}`, `vcvtqq2ps Vh,Wx @bcst @er #${DQ}`),
    w0(`vcvtps2dq Vx,Wx @bcst @er #${F}`),
    w0(`vcvttps2dq Vx,Wx @bcst @sae #${F}`),
  ),
  0x5c: fpq('vsub', '@er'),
  0x5d: fpq('vmin', '@sae'),
  0x5e: fpq('vdiv', '@er'),
  0x5f: fpq('vmax', '@sae'),

  0x60: bw('vpunpcklbw'),
  0x61: bw('vpunpcklwd'),
  0x62: d0('vpunpckldq'),
  0x63: bw('vpacksswb'),
  0x64: bw('vpcmpgtb', 'KGq,Hx,Wx'),
  0x65: bw('vpcmpgtw', 'KGd,Hx,Wx'),
  0x66: d0('vpcmpgtd', 'KGw,Hx,Wx'),
  0x67: bw('vpackuswb'),
  0x68: bw('vpunpckhbw'),
  0x69: bw('vpunpckhwd'),
  0x6a: d0('vpunpckhdq'),
  0x6b: d0('vpackssdw', 'Vx,Hx,Wx', '@bcst', BW),
  0x6c: q1('vpunpcklqdq'),
  0x6d: q1('vpunpckhqdq'),
  0x6e: p66(L(wq(`vmovd Vdq,Ed #${F}`, `vmovq Vdq,Eq #${F}`))),
  0x6f: pfx(
    null,
    W(`vmovdqa32 Vx,Wx @a16 #${F}`, `vmovdqa64 Vx,Wx @a16 #${F}`),
    W(`vmovdqu32 Vx,Wx #${F}`, `vmovdqu64 Vx,Wx #${F}`),
    W(`vmovdqu8 Vx,Wx #${BW}`, `vmovdqu16 Vx,Wx #${BW}`),
  ),
  0x70: pfx(null, w0(`vpshufd Vx,Wx,Ib @bcst #${F}`), `vpshufhw Vx,Wx,Ib #${BW}`, `vpshuflw Vx,Wx,Ib #${BW}`),
  0x71: p66(reg(null, null, `vpsrlw Hx,Wx,Ib #${BW}`, null, `vpsraw Hx,Wx,Ib #${BW}`, null, `vpsllw Hx,Wx,Ib #${BW}`)),
  0x72: p66(
    reg(
      W(`vprord Hx,Wx,Ib @bcst #${F}`, `vprorq Hx,Wx,Ib @bcst #${F}`),
      W(`vprold Hx,Wx,Ib @bcst #${F}`, `vprolq Hx,Wx,Ib @bcst #${F}`),
      w0(`vpsrld Hx,Wx,Ib @bcst #${F}`),
      null,
      W(`vpsrad Hx,Wx,Ib @bcst #${F}`, `vpsraq Hx,Wx,Ib @bcst #${F}`),
      null,
      w0(`vpslld Hx,Wx,Ib @bcst #${F}`),
    ),
  ),
  0x73: p66(
    reg(
      null,
      null,
      w1(`vpsrlq Hx,Wx,Ib @bcst #${F}`),
      `vpsrldq Hx,Wx,Ib #${BW}`,
      null,
      null,
      w1(`vpsllq Hx,Wx,Ib @bcst #${F}`),
      `vpslldq Hx,Wx,Ib #${BW}`,
    ),
  ),
  0x74: bw('vpcmpeqb', 'KGq,Hx,Wx'),
  0x75: bw('vpcmpeqw', 'KGd,Hx,Wx'),
  0x76: d0('vpcmpeqd', 'KGw,Hx,Wx'),
  0x78: pfx(
    W(`vcvttps2udq Vx,Wx @bcst @sae #${F}`, `vcvttpd2udq Vh,Wx @bcst @sae #${F}`),
    W(`vcvttps2uqq Vx,Wh @bcst @sae #${DQ}`, `vcvttpd2uqq Vx,Wx @bcst @sae #${DQ}`),
    `vcvttss2usi Gy,Wss @sae #${F}`,
    `vcvttsd2usi Gy,Wsd @sae #${F}`,
  ),
  0x79: pfx(
    W(`vcvtps2udq Vx,Wx @bcst @er #${F}`, `vcvtpd2udq Vh,Wx @bcst @er #${F}`),
    W(`vcvtps2uqq Vx,Wh @bcst @er #${DQ}`, `vcvtpd2uqq Vx,Wx @bcst @er #${DQ}`),
    `vcvtss2usi Gy,Wss @er #${F}`,
    `vcvtsd2usi Gy,Wsd @er #${F}`,
  ),
  0x7a: pfx(
    null,
    W(`vcvttps2qq Vx,Wh @bcst @sae #${DQ}`, `vcvttpd2qq Vx,Wx @bcst @sae #${DQ}`),
    W(`vcvtudq2pd Vx,Wh @bcst #${F}`, `vcvtuqq2pd Vx,Wx @bcst @er #${DQ}`),
    W(`vcvtudq2ps Vx,Wx @bcst @er #${F}`, `vcvtuqq2ps Vh,Wx @bcst @er #${DQ}`),
  ),
  0x7b: pfx(
    null,
    W(`vcvtps2qq Vx,Wh @bcst @er #${DQ}`, `vcvtpd2qq Vx,Wx @bcst @er #${DQ}`),
    `vcvtusi2ss Vss,Hss,Ey @er #${F}`,
    W(`vcvtusi2sd Vsd,Hsd,Ed #${F}`, `vcvtusi2sd Vsd,Hsd,Ey @er #${F}`),
  ),
  0x7e: pfx(null, L(wq(`vmovd Ed,Vdq #${F}`, `vmovq Eq,Vdq #${F}`)), w1(L(`vmovq Vdq,Wq #${F}`))),
  0x7f: pfx(
    null,
    W(`vmovdqa32 Wx,Vx @a16 #${F}`, `vmovdqa64 Wx,Vx @a16 #${F}`),
    W(`vmovdqu32 Wx,Vx #${F}`, `vmovdqu64 Wx,Vx #${F}`),
    W(`vmovdqu8 Wx,Vx #${BW}`, `vmovdqu16 Wx,Vx #${BW}`),
  ),

  0xc2: pfx(
    w0(`vcmpps KGw,Hx,Wx,Ib @bcst @sae #${F}`),
    w1(`vcmppd KGb,Hx,Wx,Ib @bcst @sae #${F}`),
    w0(`vcmpss KGb,Hss,Wss,Ib @sae #${F}`),
    w1(`vcmpsd KGb,Hsd,Wsd,Ib @sae #${F}`),
  ),
  0xc4: p66(L(mod(`vpinsrw Vdq,Hdq,Mw,Ib #${BW}`, `vpinsrw Vdq,Hdq,Rd,Ib #${BW}`))),
  0xc5: p66(L(`vpextrw Gd,Udq,Ib #${BW}`)),
  0xc6: fpp('vshuf', 'Vx,Hx,Wx,Ib'),

  0xd1: bw('vpsrlw', 'Vx,Hx,Wdq'),
  0xd2: d0('vpsrld', 'Vx,Hx,Wdq', ''),
  0xd3: q1('vpsrlq', 'Vx,Hx,Wdq', ''),
  0xd4: q1('vpaddq'),
  0xd5: bw('vpmullw'),
  0xd6: p66(w1(L(`vmovq Wq,Vdq #${F}`))),
  0xd8: bw('vpsubusb'),
  0xd9: bw('vpsubusw'),
  0xda: bw('vpminub'),
  0xdb: dq('vpandd', 'vpandq'),
  0xdc: bw('vpaddusb'),
  0xdd: bw('vpaddusw'),
  0xde: bw('vpmaxub'),
  0xdf: dq('vpandnd', 'vpandnq'),

  0xe0: bw('vpavgb'),
  0xe1: bw('vpsraw', 'Vx,Hx,Wdq'),
  0xe2: dq('vpsrad', 'vpsraq', 'Vx,Hx,Wdq', ''),
  0xe3: bw('vpavgw'),
  0xe4: bw('vpmulhuw'),
  0xe5: bw('vpmulhw'),
  0xe6: pfx(
    null,
    w1(`vcvttpd2dq Vh,Wx @bcst @sae #${F}`),
    W(`vcvtdq2pd Vx,Wh @bcst #${F}`, `vcvtqq2pd Vx,Wx @bcst @er #${DQ}`),
    w1(`vcvtpd2dq Vh,Wx @bcst @er #${F}`),
  ),
  0xe7: p66(w0(`vmovntdq Mx,Vx @a16 #${F}`)),
  0xe8: bw('vpsubsb'),
  0xe9: bw('vpsubsw'),
  0xea: bw('vpminsw'),
  0xeb: dq('vpord', 'vporq'),
  0xec: bw('vpaddsb'),
  0xed: bw('vpaddsw'),
  0xee: bw('vpmaxsw'),
  0xef: dq('vpxord', 'vpxorq'),

  0xf1: bw('vpsllw', 'Vx,Hx,Wdq'),
  0xf2: d0('vpslld', 'Vx,Hx,Wdq', ''),
  0xf3: q1('vpsllq', 'Vx,Hx,Wdq', ''),
  0xf4: q1('vpmuludq'),
  0xf5: bw('vpmaddwd'),
  0xf6: bw('vpsadbw'),
  0xf8: bw('vpsubb'),
  0xf9: bw('vpsubw'),
  0xfa: d0('vpsubd'),
  0xfb: q1('vpsubq'),
  0xfc: bw('vpaddb'),
  0xfd: bw('vpaddw'),
  0xfe: d0('vpaddd'),
};

// ---------------------------------------------------------------------------------------------------------------

/** 66: a zero/sign extension (WIG unless `w0`); F3: the matching down-conversion store (W0). */
const pmov = (ext: string, src: string, down: string, dst: string, extW0 = false): Node =>
  pfx(
    null,
    extW0 ? w0(`${ext} Vx,${src} #${F}`) : `${ext} Vx,${src} #${F}`,
    w0(`${down} ${dst},Vx #${F}`),
  );
const pmovBW = (ext: string, down: string): Node =>
  pfx(null, `${ext} Vx,Wh #${BW}`, w0(`${down} Wh,Vx #${BW}`));

/** Gathers (`dst` first) and scatters (memory first): the VSIB index width by EVEX.L'L. */
function vsib(m: string, dIndex: boolean, dataElem: 'd' | 'q', scatter: boolean, f = F): Node {
  // dword data with qword index: data is half the index width.
  const data = dataElem === 'd' && !dIndex ? 'Vh' : 'Vx';
  // qword data with dword index: index is half the data width.
  const idx = dataElem === 'q' && dIndex ? ['MVX', 'MVX', 'MVY'] : ['MVX', 'MVY', 'MVZ'];
  const e = (i: number) =>
    scatter ? `${m} ${idx[i]}${dataElem},${data} #${f}` : `${m} ${data},${idx[i]}${dataElem} #${f}`;
  return L(e(0), e(1), e(2));
}
const gatherW = (d: string, q: string, dIndex: boolean, scatter: boolean): Node =>
  p66(W(vsib(d, dIndex, 'd', scatter), vsib(q, dIndex, 'q', scatter)));

/** The FMA rows: 132 at 9x, 213 at Ax, 231 at Bx (x = 6..F). */
function fmaRows(): Record<number, Node> {
  const out: Record<number, Node> = {};
  for (const [order, base] of [[132, 0x90], [213, 0xa0], [231, 0xb0]] as const) {
    const p = (m: string) => p66(W(`${m}${order}ps Vx,Hx,Wx @bcst @er #${F}`, `${m}${order}pd Vx,Hx,Wx @bcst @er #${F}`));
    const s = (m: string) => p66(W(`${m}${order}ss Vss,Hss,Wss @er #${F}`, `${m}${order}sd Vsd,Hsd,Wsd @er #${F}`));
    const names = ['vfmaddsub', 'vfmsubadd', 'vfmadd', 'vfmadd', 'vfmsub', 'vfmsub', 'vfnmadd', 'vfnmadd', 'vfnmsub', 'vfnmsub'];
    names.forEach((m, i) => (out[base + 6 + i] = i >= 2 && i % 2 === 1 ? s(m) : p(m)));
  }
  return out;
}
const fma = fmaRows();
/** AVX512_4FMAPS / 4VNNIW (Xeon Phi): F2, W0, a block of 4 source registers and a 16-byte memory operand. */
const withF2 = (slot: Node, e: Node): Node => {
  const s = slot as Switch;
  return pfx(s.c[0], s.c[1], s.c[2], e);
};

export const evex0f38: OpcodeMap = {
  0x00: bw('vpshufb'),
  0x04: bw('vpmaddubsw'),
  0x0b: bw('vpmulhrsw'),
  0x0c: d0('vpermilps'),
  0x0d: q1('vpermilpd'),
  0x10: pfx(null, w1(`vpsrlvw Vx,Hx,Wx #${BW}`), w0(`vpmovuswb Wh,Vx #${BW}`)),
  0x11: pfx(null, w1(`vpsravw Vx,Hx,Wx #${BW}`), w0(`vpmovusdb Wqu,Vx #${F}`)),
  0x12: pfx(null, w1(`vpsllvw Vx,Hx,Wx #${BW}`), w0(`vpmovusqb Woc,Vx #${F}`)),
  0x13: pfx(null, w0(`vcvtph2ps Vx,Wh @sae #${F}`), w0(`vpmovusdw Wh,Vx #${F}`)),
  0x14: pfx(null, W(`vprorvd Vx,Hx,Wx @bcst #${F}`, `vprorvq Vx,Hx,Wx @bcst #${F}`), w0(`vpmovusqw Wqu,Vx #${F}`)),
  0x15: pfx(null, W(`vprolvd Vx,Hx,Wx @bcst #${F}`, `vprolvq Vx,Hx,Wx @bcst #${F}`), w0(`vpmovusqd Wh,Vx #${F}`)),
  0x16: p66(W(L12(`vpermps Vx,Hx,Wx @bcst #${F}`), L12(`vpermpd Vx,Hx,Wx @bcst #${F}`))),
  0x18: p66(w0(`vbroadcastss Vx,Wd #${F}`)),
  0x19: p66(W(L12(`vbroadcastf32x2 Vx,Wq #${DQ}`), L12(`vbroadcastsd Vx,Wq #${F}`))),
  0x1a: p66(W(L12(`vbroadcastf32x4 Vx,Mdq #${F}`), L12(`vbroadcastf64x2 Vx,Mdq #${DQ}`))),
  0x1b: p66(W(L2(`vbroadcastf32x8 Vx,Mqq #${DQ}`), L2(`vbroadcastf64x4 Vx,Mqq #${F}`))),
  0x1c: bw('vpabsb', 'Vx,Wx'),
  0x1d: bw('vpabsw', 'Vx,Wx'),
  0x1e: d0('vpabsd', 'Vx,Wx'),
  0x1f: q1('vpabsq', 'Vx,Wx'),
  0x20: pmovBW('vpmovsxbw', 'vpmovswb'),
  0x21: pmov('vpmovsxbd', 'Wqu', 'vpmovsdb', 'Wqu'),
  0x22: pmov('vpmovsxbq', 'Woc', 'vpmovsqb', 'Woc'),
  0x23: pmov('vpmovsxwd', 'Wh', 'vpmovsdw', 'Wh'),
  0x24: pmov('vpmovsxwq', 'Wqu', 'vpmovsqw', 'Wqu'),
  0x25: pmov('vpmovsxdq', 'Wh', 'vpmovsqd', 'Wh', true),
  0x26: pfx(
    null,
    W(`vptestmb KGq,Hx,Wx #${BW}`, `vptestmw KGd,Hx,Wx #${BW}`),
    W(`vptestnmb KGq,Hx,Wx #${BW}`, `vptestnmw KGd,Hx,Wx #${BW}`),
  ),
  0x27: pfx(
    null,
    W(`vptestmd KGw,Hx,Wx @bcst #${F}`, `vptestmq KGb,Hx,Wx @bcst #${F}`),
    W(`vptestnmd KGw,Hx,Wx @bcst #${F}`, `vptestnmq KGb,Hx,Wx @bcst #${F}`),
  ),
  0x28: pfx(null, w1(`vpmuldq Vx,Hx,Wx @bcst #${F}`), W(`vpmovm2b Vx,KRq #${BW}`, `vpmovm2w Vx,KRd #${BW}`)),
  0x29: pfx(null, w1(`vpcmpeqq KGb,Hx,Wx @bcst #${F}`), W(`vpmovb2m KGq,Ux #${BW}`, `vpmovw2m KGd,Ux #${BW}`)),
  0x2a: pfx(null, w0(`vmovntdqa Vx,Mx @a16 #${F}`), w1(`vpbroadcastmb2q Vx,KRb #${CD}`)),
  0x2b: d0('vpackusdw', 'Vx,Hx,Wx', '@bcst', BW),
  0x2c: psd('vscalef', 'Vx,Hx,Wx', '@bcst @er'),
  0x2d: ssd('vscalef', '@er'),
  0x30: pmovBW('vpmovzxbw', 'vpmovwb'),
  0x31: pmov('vpmovzxbd', 'Wqu', 'vpmovdb', 'Wqu'),
  0x32: pmov('vpmovzxbq', 'Woc', 'vpmovqb', 'Woc'),
  0x33: pmov('vpmovzxwd', 'Wh', 'vpmovdw', 'Wh'),
  0x34: pmov('vpmovzxwq', 'Wqu', 'vpmovqw', 'Wqu'),
  0x35: pmov('vpmovzxdq', 'Wh', 'vpmovqd', 'Wh', true),
  0x36: p66(W(L12(`vpermd Vx,Hx,Wx @bcst #${F}`), L12(`vpermq Vx,Hx,Wx @bcst #${F}`))),
  0x37: q1('vpcmpgtq', 'KGb,Hx,Wx'),
  0x38: pfx(null, `vpminsb Vx,Hx,Wx #${BW}`, W(`vpmovm2d Vx,KRw #${DQ}`, `vpmovm2q Vx,KRb #${DQ}`)),
  0x39: pfx(
    null,
    W(`vpminsd Vx,Hx,Wx @bcst #${F}`, `vpminsq Vx,Hx,Wx @bcst #${F}`),
    W(`vpmovd2m KGw,Ux #${DQ}`, `vpmovq2m KGb,Ux #${DQ}`),
  ),
  0x3a: pfx(null, `vpminuw Vx,Hx,Wx #${BW}`, w0(`vpbroadcastmw2d Vx,KRw #${CD}`)),
  0x3b: dq('vpminud', 'vpminuq'),
  0x3c: bw('vpmaxsb'),
  0x3d: dq('vpmaxsd', 'vpmaxsq'),
  0x3e: bw('vpmaxuw'),
  0x3f: dq('vpmaxud', 'vpmaxuq'),
  0x40: dq('vpmulld', 'vpmullq', 'Vx,Hx,Wx', '@bcst', F, DQ),
  0x42: psd('vgetexp', 'Vx,Wx', '@bcst @sae'),
  0x43: ssd('vgetexp', '@sae'),
  0x44: dq('vplzcntd', 'vplzcntq', 'Vx,Wx', '@bcst', CD),
  0x45: dq('vpsrlvd', 'vpsrlvq'),
  0x46: dq('vpsravd', 'vpsravq'),
  0x47: dq('vpsllvd', 'vpsllvq'),
  0x4c: psd('vrcp14', 'Vx,Wx', '@bcst'),
  0x4d: ssd('vrcp14', ''),
  0x4e: psd('vrsqrt14', 'Vx,Wx', '@bcst'),
  0x4f: ssd('vrsqrt14', ''),
  0x50: d0('vpdpbusd', 'Vx,Hx,Wx', '@bcst', 'avx512_vnni'),
  0x51: d0('vpdpbusds', 'Vx,Hx,Wx', '@bcst', 'avx512_vnni'),
  0x52: pfx(
    null,
    w0(`vpdpwssd Vx,Hx,Wx @bcst #avx512_vnni`),
    w0(`vdpbf16ps Vx,Hx,Wx @bcst #avx512_bf16`),
    w0(L2(`vp4dpwssd Vx,Hx,Mdq #avx512_4vnniw`)),
  ),
  0x53: pfx(null, w0(`vpdpwssds Vx,Hx,Wx @bcst #avx512_vnni`), null, w0(L2(`vp4dpwssds Vx,Hx,Mdq #avx512_4vnniw`))),
  0x54: p66(W(`vpopcntb Vx,Wx #avx512_bitalg`, `vpopcntw Vx,Wx #avx512_bitalg`)),
  0x55: dq('vpopcntd', 'vpopcntq', 'Vx,Wx', '@bcst', 'avx512_vpopcntdq'),
  0x58: p66(w0(`vpbroadcastd Vx,Wd #${F}`)),
  0x59: p66(W(`vbroadcasti32x2 Vx,Wq #${DQ}`, `vpbroadcastq Vx,Wq #${F}`)),
  0x5a: p66(W(L12(`vbroadcasti32x4 Vx,Mdq #${F}`), L12(`vbroadcasti64x2 Vx,Mdq #${DQ}`))),
  0x5b: p66(W(L2(`vbroadcasti32x8 Vx,Mqq #${DQ}`), L2(`vbroadcasti64x4 Vx,Mqq #${F}`))),
  0x62: p66(W(`vpexpandb Vx,Wx @e1 #avx512_vbmi2`, `vpexpandw Vx,Wx @e2 #avx512_vbmi2`)),
  0x63: p66(W(`vpcompressb Wx,Vx @e1 #avx512_vbmi2`, `vpcompressw Wx,Vx @e2 #avx512_vbmi2`)),
  0x64: dq('vpblendmd', 'vpblendmq'),
  0x65: p66(W(`vblendmps Vx,Hx,Wx @bcst #${F}`, `vblendmpd Vx,Hx,Wx @bcst #${F}`)),
  0x66: p66(W(`vpblendmb Vx,Hx,Wx #${BW}`, `vpblendmw Vx,Hx,Wx #${BW}`)),
  0x68: pfx(
    null,
    null,
    null,
    W(`vp2intersectd KGw,Hx,Wx @bcst #avx512_vp2intersect`, `vp2intersectq KGb,Hx,Wx @bcst #avx512_vp2intersect`),
  ),
  0x70: p66(w1(`vpshldvw Vx,Hx,Wx #avx512_vbmi2`)),
  0x71: dq('vpshldvd', 'vpshldvq', 'Vx,Hx,Wx', '@bcst', 'avx512_vbmi2'),
  0x72: pfx(
    null,
    w1(`vpshrdvw Vx,Hx,Wx #avx512_vbmi2`),
    w0(`vcvtneps2bf16 Vh,Wx @bcst #avx512_bf16`),
    w0(`vcvtne2ps2bf16 Vx,Hx,Wx @bcst #avx512_bf16`),
  ),
  0x73: dq('vpshrdvd', 'vpshrdvq', 'Vx,Hx,Wx', '@bcst', 'avx512_vbmi2'),
  0x75: p66(W(`vpermi2b Vx,Hx,Wx #avx512vbmi`, `vpermi2w Vx,Hx,Wx #${BW}`)),
  0x76: dq('vpermi2d', 'vpermi2q'),
  0x77: p66(W(`vpermi2ps Vx,Hx,Wx @bcst #${F}`, `vpermi2pd Vx,Hx,Wx @bcst #${F}`)),
  0x78: p66(w0(`vpbroadcastb Vx,Wb #${BW}`)),
  0x79: p66(w0(`vpbroadcastw Vx,Ww #${BW}`)),
  0x7a: p66(w0(`vpbroadcastb Vx,Rd #${BW}`)),
  0x7b: p66(w0(`vpbroadcastw Vx,Rd #${BW}`)),
  0x7c: p66(wq(`vpbroadcastd Vx,Rd #${F}`, `vpbroadcastq Vx,Rq #${F}`)),
  0x7d: p66(W(`vpermt2b Vx,Hx,Wx #avx512vbmi`, `vpermt2w Vx,Hx,Wx #${BW}`)),
  0x7e: dq('vpermt2d', 'vpermt2q'),
  0x7f: p66(W(`vpermt2ps Vx,Hx,Wx @bcst #${F}`, `vpermt2pd Vx,Hx,Wx @bcst #${F}`)),
  0x83: q1('vpmultishiftqb', 'Vx,Hx,Wx', '@bcst', 'avx512vbmi'),
  0x88: p66(W(`vexpandps Vx,Wx @e4 #${F}`, `vexpandpd Vx,Wx @e8 #${F}`)),
  0x89: p66(W(`vpexpandd Vx,Wx @e4 #${F}`, `vpexpandq Vx,Wx @e8 #${F}`)),
  0x8a: p66(W(`vcompressps Wx,Vx @e4 #${F}`, `vcompresspd Wx,Vx @e8 #${F}`)),
  0x8b: p66(W(`vpcompressd Wx,Vx @e4 #${F}`, `vpcompressq Wx,Vx @e8 #${F}`)),
  0x8d: p66(W(`vpermb Vx,Hx,Wx #avx512vbmi`, `vpermw Vx,Hx,Wx #${BW}`)),
  0x8f: p66(w0(`vpshufbitqmb KGq,Hx,Wx #avx512_bitalg`)),
  0x90: gatherW('vpgatherdd', 'vpgatherdq', true, false),
  0x91: gatherW('vpgatherqd', 'vpgatherqq', false, false),
  0x92: gatherW('vgatherdps', 'vgatherdpd', true, false),
  0x93: gatherW('vgatherqps', 'vgatherqpd', false, false),
  ...fma,
  0x9a: withF2(fma[0x9a], w0(L2(`v4fmaddps Vx,Hx,Mdq #avx512_4fmaps`))),
  0x9b: withF2(fma[0x9b], w0(`v4fmaddss Vdq,Hdq,Mdq #avx512_4fmaps`)),
  0xaa: withF2(fma[0xaa], w0(L2(`v4fnmaddps Vx,Hx,Mdq #avx512_4fmaps`))),
  0xab: withF2(fma[0xab], w0(`v4fnmaddss Vdq,Hdq,Mdq #avx512_4fmaps`)),
  0xa0: gatherW('vpscatterdd', 'vpscatterdq', true, true),
  0xa1: gatherW('vpscatterqd', 'vpscatterqq', false, true),
  0xa2: gatherW('vscatterdps', 'vscatterdpd', true, true),
  0xa3: gatherW('vscatterqps', 'vscatterqpd', false, true),
  0xb4: q1('vpmadd52luq', 'Vx,Hx,Wx', '@bcst', 'avx512ifma'),
  0xb5: q1('vpmadd52huq', 'Vx,Hx,Wx', '@bcst', 'avx512ifma'),
  0xc4: dq('vpconflictd', 'vpconflictq', 'Vx,Wx', '@bcst', CD),
  // AVX512PF gather/scatter prefetches (512-bit only).
  0xc6: p66(
    L2W(
      reg(null, 'vgatherpf0dps MVZd', 'vgatherpf1dps MVZd', null, null, 'vscatterpf0dps MVZd', 'vscatterpf1dps MVZd'),
      reg(null, 'vgatherpf0dpd MVYq', 'vgatherpf1dpd MVYq', null, null, 'vscatterpf0dpd MVYq', 'vscatterpf1dpd MVYq'),
    ),
  ),
  0xc7: p66(
    L2W(
      reg(null, 'vgatherpf0qps MVZd', 'vgatherpf1qps MVZd', null, null, 'vscatterpf0qps MVZd', 'vscatterpf1qps MVZd'),
      reg(null, 'vgatherpf0qpd MVZq', 'vgatherpf1qpd MVZq', null, null, 'vscatterpf0qpd MVZq', 'vscatterpf1qpd MVZq'),
    ),
  ),
  0xc8: p66(L2W(`vexp2ps Vx,Wx @bcst @sae #avx512er`, `vexp2pd Vx,Wx @bcst @sae #avx512er`)),
  0xca: p66(L2W(`vrcp28ps Vx,Wx @bcst @sae #avx512er`, `vrcp28pd Vx,Wx @bcst @sae #avx512er`)),
  0xcb: ssd('vrcp28', '@sae', '', 'avx512er'),
  0xcc: p66(L2W(`vrsqrt28ps Vx,Wx @bcst @sae #avx512er`, `vrsqrt28pd Vx,Wx @bcst @sae #avx512er`)),
  0xcd: ssd('vrsqrt28', '@sae', '', 'avx512er'),
  0xcf: p66(w0(`vgf2p8mulb Vx,Hx,Wx #gfni`)),
  0xdc: p66(`vaesenc Vx,Hx,Wx #vaes`),
  0xdd: p66(`vaesenclast Vx,Hx,Wx #vaes`),
  0xde: p66(`vaesdec Vx,Hx,Wx #vaes`),
  0xdf: p66(`vaesdeclast Vx,Hx,Wx #vaes`),
};

/** 512-bit only, W0/W1 pair (the AVX512ER / AVX512PF Xeon Phi instructions); feature added to bare entries. */
function L2W(w0n: Node, w1n: Node): Node {
  const feat = (n: Node): Node => {
    if (typeof n === 'string') return n.includes('#') ? n : `${n} #avx512pf`;
    if (n && typeof n === 'object' && 'sw' in n) return { sw: n.sw, c: n.c.map(feat) };
    return n;
  };
  return W(L(null, null, feat(w0n)), L(null, null, feat(w1n)));
}

// ---------------------------------------------------------------------------------------------------------------

/** 66: W-selected insert (Vx,Hx,W<part>,Ib) or extract (W<part>,Vx,Ib), for the given vector lengths. */
const lane = (m0: string, m1: string, ops: string, lens: (e: string) => Node, f0: string, f1: string): Node =>
  p66(W(lens(`${m0} ${ops} #${f0}`), lens(`${m1} ${ops} #${f1}`)));

/** AVX512-FP16 forms in this map (no prefix, W0); the rest of FP16 lives in EVEX maps 5 and 6. */
const fp16 = (e: string): Node => w0(`${e} #avx512_fp16`);
/** Adds a no-prefix case to a 66-only slot. */
const withNP = (slot: Node, e: Node): Node => {
  const s = slot as Switch;
  return pfx(e, s.c[1], s.c[2], s.c[3]);
};

export const evex0f3a: OpcodeMap = {
  0x00: p66(w1(L12(`vpermq Vx,Wx,Ib @bcst #${F}`))),
  0x01: p66(w1(L12(`vpermpd Vx,Wx,Ib @bcst #${F}`))),
  0x03: dq('valignd', 'valignq', 'Vx,Hx,Wx,Ib'),
  0x04: d0('vpermilps', 'Vx,Wx,Ib'),
  0x05: q1('vpermilpd', 'Vx,Wx,Ib'),
  0x08: pfx(fp16('vrndscaleph Vx,Wx,Ib @bcst2 @sae'), w0(`vrndscaleps Vx,Wx,Ib @bcst @sae #${F}`)),
  0x09: q1('vrndscalepd', 'Vx,Wx,Ib', '@bcst @sae'),
  0x0a: pfx(fp16('vrndscalesh Vw,Hw,Ww,Ib @sae'), w0(`vrndscaless Vss,Hss,Wss,Ib @sae #${F}`)),
  0x0b: q1('vrndscalesd', 'Vsd,Hsd,Wsd,Ib', '@sae'),
  0x0f: bw('vpalignr', 'Vx,Hx,Wx,Ib'),
  0x14: p66(L(mod(`vpextrb Mb,Vdq,Ib #${BW}`, `vpextrb Rd,Vdq,Ib #${BW}`))),
  0x15: p66(L(mod(`vpextrw Mw,Vdq,Ib #${BW}`, `vpextrw Rd,Vdq,Ib #${BW}`))),
  0x16: p66(L(wq(`vpextrd Ed,Vdq,Ib #${DQ}`, `vpextrq Eq,Vdq,Ib #${DQ}`))),
  0x17: p66(L(`vextractps Ed,Vdq,Ib #${F}`)),
  0x18: lane('vinsertf32x4', 'vinsertf64x2', 'Vx,Hx,Wdq,Ib', L12, F, DQ),
  0x19: lane('vextractf32x4', 'vextractf64x2', 'Wdq,Vx,Ib', L12, F, DQ),
  0x1a: lane('vinsertf32x8', 'vinsertf64x4', 'Vx,Hx,Wqq,Ib', L2, DQ, F),
  0x1b: lane('vextractf32x8', 'vextractf64x4', 'Wqq,Vx,Ib', L2, DQ, F),
  0x1d: p66(w0(`vcvtps2ph Wh,Vx,Ib @sae #${F}`)),
  0x1e: p66(W(`vpcmpud KGw,Hx,Wx,Ib @bcst #${F}`, `vpcmpuq KGb,Hx,Wx,Ib @bcst #${F}`)),
  0x1f: p66(W(`vpcmpd KGw,Hx,Wx,Ib @bcst #${F}`, `vpcmpq KGb,Hx,Wx,Ib @bcst #${F}`)),
  0x20: p66(L(mod(`vpinsrb Vdq,Hdq,Mb,Ib #${BW}`, `vpinsrb Vdq,Hdq,Rd,Ib #${BW}`))),
  0x21: p66(w0(L(mod(`vinsertps Vdq,Hdq,Md,Ib #${F}`, `vinsertps Vdq,Hdq,Udq,Ib #${F}`)))),
  0x22: p66(L(wq(`vpinsrd Vdq,Hdq,Ed,Ib #${DQ}`, `vpinsrq Vdq,Hdq,Eq,Ib #${DQ}`))),
  0x23: lane('vshuff32x4', 'vshuff64x2', 'Vx,Hx,Wx,Ib @bcst', L12, F, F),
  0x25: dq('vpternlogd', 'vpternlogq', 'Vx,Hx,Wx,Ib'),
  0x26: withNP(psd('vgetmant', 'Vx,Wx,Ib', '@bcst @sae'), fp16('vgetmantph Vx,Wx,Ib @bcst2 @sae')),
  0x27: withNP(ssd('vgetmant', '@sae', ',Ib'), fp16('vgetmantsh Vw,Hw,Ww,Ib @sae')),
  0x38: lane('vinserti32x4', 'vinserti64x2', 'Vx,Hx,Wdq,Ib', L12, F, DQ),
  0x39: lane('vextracti32x4', 'vextracti64x2', 'Wdq,Vx,Ib', L12, F, DQ),
  0x3a: lane('vinserti32x8', 'vinserti64x4', 'Vx,Hx,Wqq,Ib', L2, DQ, F),
  0x3b: lane('vextracti32x8', 'vextracti64x4', 'Wqq,Vx,Ib', L2, DQ, F),
  0x3e: p66(W(`vpcmpub KGq,Hx,Wx,Ib #${BW}`, `vpcmpuw KGd,Hx,Wx,Ib #${BW}`)),
  0x3f: p66(W(`vpcmpb KGq,Hx,Wx,Ib #${BW}`, `vpcmpw KGd,Hx,Wx,Ib #${BW}`)),
  0x42: p66(w0(`vdbpsadbw Vx,Hx,Wx,Ib #${BW}`)),
  0x43: lane('vshufi32x4', 'vshufi64x2', 'Vx,Hx,Wx,Ib @bcst', L12, F, F),
  0x44: p66(`vpclmulqdq Vx,Hx,Wx,Ib #vpclmulqdq`),
  0x50: psd('vrange', 'Vx,Hx,Wx,Ib', '@bcst @sae', DQ),
  0x51: ssd('vrange', '@sae', ',Ib', DQ),
  0x54: psd('vfixupimm', 'Vx,Hx,Wx,Ib', '@bcst @sae'),
  0x55: ssd('vfixupimm', '@sae', ',Ib'),
  0x56: withNP(psd('vreduce', 'Vx,Wx,Ib', '@bcst @sae', DQ), fp16('vreduceph Vx,Wx,Ib @bcst2 @sae')),
  0x57: withNP(ssd('vreduce', '@sae', ',Ib', DQ), fp16('vreducesh Vw,Hw,Ww,Ib @sae')),
  0x66: pfx(
    fp16('vfpclassph KGd,Wx,Ib @bcst2'),
    W(`vfpclassps KGw,Wx,Ib @bcst #${DQ}`, `vfpclasspd KGb,Wx,Ib @bcst #${DQ}`),
  ),
  0x67: pfx(fp16('vfpclasssh KGb,Ww,Ib'), W(`vfpclassss KGb,Wss,Ib #${DQ}`, `vfpclasssd KGb,Wsd,Ib #${DQ}`)),
  0xc2: pfx(fp16('vcmpph KGd,Hx,Wx,Ib @bcst2 @sae'), null, fp16('vcmpsh KGb,Hw,Ww,Ib @sae')),
  0x70: p66(w1(`vpshldw Vx,Hx,Wx,Ib #avx512_vbmi2`)),
  0x71: dq('vpshldd', 'vpshldq', 'Vx,Hx,Wx,Ib', '@bcst', 'avx512_vbmi2'),
  0x72: p66(w1(`vpshrdw Vx,Hx,Wx,Ib #avx512_vbmi2`)),
  0x73: dq('vpshrdd', 'vpshrdq', 'Vx,Hx,Wx,Ib', '@bcst', 'avx512_vbmi2'),
  0xce: q1('vgf2p8affineqb', 'Vx,Hx,Wx,Ib', '@bcst', 'gfni'),
  0xcf: q1('vgf2p8affineinvqb', 'Vx,Hx,Wx,Ib', '@bcst', 'gfni'),
};
