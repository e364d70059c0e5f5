// Three-byte map 0F 38 xx, legacy (non-VEX) encodings of 00-EF (SDM Vol. 2 Table A-4): SSSE3, SSE4.1, SSE4.2,
// AES-NI, SHA, GFNI, Key Locker, and the VMX/INVPCID invalidations. 0F 38 F0-FF (movbe, crc32, adcx ...) are in
// map0f38-gp.ts. Conventions as in map0f-sse.ts (pfx cases left out are #UD, @a16 on 16-byte legacy SSE memory).
import { mod, pfx, reg, type OpcodeMap } from '../notation.ts';

/** An SSSE3 op with an MMX form and an XMM form under 66. */
const ssse3 = (m: string) => pfx(`${m} Pq,Qq #ssse3`, `${m} Vdq,Wdq @a16 #ssse3`);
/** A 66-only 128-bit op: `op Vdq,Wdq`. */
const x66 = (m: string, f: string) => pfx(null, `${m} Vdq,Wdq @a16 #${f}`);
/** pmovsx/pmovzx: the memory source is the part of the vector that is widened (8, 4 or 2 bytes). */
const pmov = (m: string, src: string) => pfx(null, `${m} Vdq,${src} #sse4_1`);

export const map0f38Sse: OpcodeMap = {
  0x00: ssse3('pshufb'),
  0x01: ssse3('phaddw'),
  0x02: ssse3('phaddd'),
  0x03: ssse3('phaddsw'),
  0x04: ssse3('pmaddubsw'),
  0x05: ssse3('phsubw'),
  0x06: ssse3('phsubd'),
  0x07: ssse3('phsubsw'),
  0x08: ssse3('psignb'),
  0x09: ssse3('psignw'),
  0x0a: ssse3('psignd'),
  0x0b: ssse3('pmulhrsw'),

  // The blend mask is the implicit XMM0 (objdump prints it as a third operand).
  0x10: pfx(null, 'pblendvb Vdq,Wdq,XMM0 @a16 #sse4_1'),
  0x14: pfx(null, 'blendvps Vps,Wps,XMM0 @a16 #sse4_1'),
  0x15: pfx(null, 'blendvpd Vpd,Wpd,XMM0 @a16 #sse4_1'),
  0x17: x66('ptest', 'sse4_1'),
  0x1c: ssse3('pabsb'),
  0x1d: ssse3('pabsw'),
  0x1e: ssse3('pabsd'),

  0x20: pmov('pmovsxbw', 'Wq'),
  0x21: pmov('pmovsxbd', 'Wd'),
  0x22: pmov('pmovsxbq', 'Ww'),
  0x23: pmov('pmovsxwd', 'Wq'),
  0x24: pmov('pmovsxwq', 'Wd'),
  0x25: pmov('pmovsxdq', 'Wq'),
  0x28: x66('pmuldq', 'sse4_1'),
  0x29: x66('pcmpeqq', 'sse4_1'),
  0x2a: pfx(null, 'movntdqa Vdq,Mdq @a16 #sse4_1'),
  0x2b: x66('packusdw', 'sse4_1'),

  0x30: pmov('pmovzxbw', 'Wq'),
  0x31: pmov('pmovzxbd', 'Wd'),
  0x32: pmov('pmovzxbq', 'Ww'),
  0x33: pmov('pmovzxwd', 'Wq'),
  0x34: pmov('pmovzxwq', 'Wd'),
  0x35: pmov('pmovzxdq', 'Wq'),
  0x37: x66('pcmpgtq', 'sse4_2'),
  0x38: x66('pminsb', 'sse4_1'),
  0x39: x66('pminsd', 'sse4_1'),
  0x3a: x66('pminuw', 'sse4_1'),
  0x3b: x66('pminud', 'sse4_1'),
  0x3c: x66('pmaxsb', 'sse4_1'),
  0x3d: x66('pmaxsd', 'sse4_1'),
  0x3e: x66('pmaxuw', 'sse4_1'),
  0x3f: x66('pmaxud', 'sse4_1'),
  0x40: x66('pmulld', 'sse4_1'),
  0x41: x66('phminposuw', 'sse4_1'),

  // 128-bit descriptors in memory; the register is 64-bit in long mode, 32-bit otherwise (REX.W ignored).
  0x80: pfx(null, 'invept Gy,Mdq @f64 @priv @fault #vmx'),
  0x81: pfx(null, 'invvpid Gy,Mdq @f64 @priv @fault #vmx'),
  0x82: pfx(null, 'invpcid Gy,Mdq @f64 @priv @fault #invpcid'),

  0xc8: pfx('sha1nexte Vdq,Wdq @a16 #sha'),
  0xc9: pfx('sha1msg1 Vdq,Wdq @a16 #sha'),
  0xca: pfx('sha1msg2 Vdq,Wdq @a16 #sha'),
  0xcb: pfx('sha256rnds2 Vdq,Wdq,XMM0 @a16 #sha'),
  0xcc: pfx('sha256msg1 Vdq,Wdq @a16 #sha'),
  0xcd: pfx('sha256msg2 Vdq,Wdq @a16 #sha'),
  0xcf: x66('gf2p8mulb', 'gfni'),

  // Key Locker (F3): the handles in memory are 384 or 512 bits, printed unsized by objdump.
  0xd8: pfx(
    null,
    null,
    reg(
      'aesencwide128kl M #keylocker',
      'aesdecwide128kl M #keylocker',
      'aesencwide256kl M #keylocker',
      'aesdecwide256kl M #keylocker',
    ),
  ),
  0xdb: x66('aesimc', 'aes'),
  0xdc: pfx(
    null,
    'aesenc Vdq,Wdq @a16 #aes',
    mod('aesenc128kl Vdq,M #keylocker', 'loadiwkey Vdq,Udq @priv #keylocker'),
  ),
  0xdd: pfx(null, 'aesenclast Vdq,Wdq @a16 #aes', 'aesdec128kl Vdq,M #keylocker'),
  0xde: pfx(null, 'aesdec Vdq,Wdq @a16 #aes', 'aesenc256kl Vdq,M #keylocker'),
  0xdf: pfx(null, 'aesdeclast Vdq,Wdq @a16 #aes', 'aesdec256kl Vdq,M #keylocker'),
};
