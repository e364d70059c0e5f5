// Three-byte map 0F 3A xx, legacy (non-VEX) encodings (SDM Vol. 2 Table A-5): SSSE3 palignr, SSE4.1, SSE4.2
// string compares, PCLMULQDQ, AES, SHA, GFNI. Every entry takes an imm8. Conventions as in map0f-sse.ts
// (pfx cases left out are #UD, @a16 on 16-byte legacy SSE memory operands).
import { mod, pfx, reg, rm, W, type OpcodeMap } from '../notation.ts';

/** A 66-only op `op Vdq,Wdq,Ib`. */
const x66 = (m: string, f: string, a16 = '@a16 ') => pfx(null, `${m} Vdq,Wdq,Ib ${a16}#${f}`);

export const map0f3a: OpcodeMap = {
  0x08: pfx(null, 'roundps Vps,Wps,Ib @a16 #sse4_1'),
  0x09: pfx(null, 'roundpd Vpd,Wpd,Ib @a16 #sse4_1'),
  0x0a: pfx(null, 'roundss Vss,Wss,Ib #sse4_1'),
  0x0b: pfx(null, 'roundsd Vsd,Wsd,Ib #sse4_1'),
  0x0c: pfx(null, 'blendps Vps,Wps,Ib @a16 #sse4_1'),
  0x0d: pfx(null, 'blendpd Vpd,Wpd,Ib @a16 #sse4_1'),
  0x0e: x66('pblendw', 'sse4_1'),
  0x0f: pfx('palignr Pq,Qq,Ib #ssse3', 'palignr Vdq,Wdq,Ib @a16 #ssse3'),

  // Extracts to a byte/word in memory, or zero-extended into a 32-bit register (REX.W does not change it).
  0x14: pfx(null, mod('pextrb Mb,Vdq,Ib #sse4_1', 'pextrb Rd,Vdq,Ib #sse4_1')),
  0x15: pfx(null, mod('pextrw Mw,Vdq,Ib #sse4_1', 'pextrw Rd,Vdq,Ib #sse4_1')),
  0x16: pfx(null, W('pextrd Ed,Vdq,Ib #sse4_1', 'pextrq Eq,Vdq,Ib #sse4_1')),
  0x17: pfx(null, 'extractps Ed,Vdq,Ib #sse4_1'),
  0x20: pfx(null, mod('pinsrb Vdq,Mb,Ib #sse4_1', 'pinsrb Vdq,Rd,Ib #sse4_1')),
  0x21: pfx(null, 'insertps Vdq,Wd,Ib #sse4_1'),
  0x22: pfx(null, W('pinsrd Vdq,Ed,Ib #sse4_1', 'pinsrq Vdq,Eq,Ib #sse4_1')),

  0x40: pfx(null, 'dpps Vps,Wps,Ib @a16 #sse4_1'),
  0x41: pfx(null, 'dppd Vpd,Wpd,Ib @a16 #sse4_1'),
  0x42: x66('mpsadbw', 'sse4_1'),
  // objdump prints some imm8 values as the pclmul{l,h}q{l,h}qdq pseudo-ops; the disassembler does that renaming.
  0x44: x66('pclmulqdq', 'pclmulqdq'),

  // SSE4.2 string compares take unaligned memory. The explicit-length forms read rAX/rDX; with REX.W they read
  // the full 64-bit registers and objdump adds a q suffix.
  0x60: pfx(null, W('pcmpestrm Vdq,Wdq,Ib #sse4_2', 'pcmpestrmq Vdq,Wdq,Ib #sse4_2')),
  0x61: pfx(null, W('pcmpestri Vdq,Wdq,Ib #sse4_2', 'pcmpestriq Vdq,Wdq,Ib #sse4_2')),
  0x62: x66('pcmpistrm', 'sse4_2', ''),
  0x63: x66('pcmpistri', 'sse4_2', ''),

  0xcc: pfx('sha1rnds4 Vdq,Wdq,Ib @a16 #sha'),
  0xce: x66('gf2p8affineqb', 'gfni'),
  0xcf: x66('gf2p8affineinvqb', 'gfni'),
  0xdf: x66('aeskeygenassist', 'aes'),
  // HRESET imm8 (implicit EAX) is F3 0F 3A F0 C0 ib: the ModRM byte must be exactly C0.
  0xf0: pfx(null, null, mod(null, reg(rm('hreset Ib @priv #hreset')))),
};
