// The general-purpose instructions of the three-byte map 0F 38 F0-FF (Intel SDM Vol. 2, Table A-4). The rest of
// 0F 38 is in map0f38-sse.ts; VEX encodings (BMI...) are in vex.ts.
//
// pfxOpt() (primary.ts): an undefined case means the prefix is not mandatory (it keeps its ordinary meaning and the
// `none` case applies); null is #UD. F2 takes precedence over 66, so 66 F2 0F 38 F1 is crc32 with a word source.
import type { Node, OpcodeMap } from '../notation.ts';
import { W, asz, mod, pfx } from '../notation.ts';
import { pfxOpt } from './primary.ts';

const m: { [op: number]: Node } = {
  0xf0: pfxOpt('movbe Gv,Mv #movbe', undefined, null, 'crc32 Gy,Eb #sse4_2'),
  0xf1: pfxOpt('movbe Mv,Gv #movbe', undefined, null, 'crc32 Gy,Ev #sse4_2'),
  0xf5: pfx(null, mod(W('wrussd Md,Gd @priv #cet', 'wrussq Mq,Gq @priv #cet'), null), null, null),
  0xf6: pfx(
    mod(W('wrssd Md,Gd #cet', 'wrssq Mq,Gq #cet'), null),
    'adcx Gy,Ey #adx',
    'adox Gy,Ey #adx',
    null,
  ),
  // movdir64b/enqcmd: the destination register holds an address, so it has the address size
  0xf8: pfx(
    null,
    asz('movdir64b Gw,M #movdir64b', 'movdir64b Gd,M #movdir64b', 'movdir64b Gq,M #movdir64b'),
    asz('enqcmds Gw,M @priv #enqcmd', 'enqcmds Gd,M @priv #enqcmd', 'enqcmds Gq,M @priv #enqcmd'),
    asz('enqcmd Gw,M #enqcmd', 'enqcmd Gd,M #enqcmd', 'enqcmd Gq,M #enqcmd'),
  ),
  0xf9: pfx('movdiri My,Gy #movdiri', null, null, null),
  0xfa: pfx(null, null, mod(null, 'encodekey128 Gd,Rd #keylocker'), null),
  0xfb: pfx(null, null, mod(null, 'encodekey256 Gd,Rd #keylocker'), null),
  // RAO-INT atomics
  0xfc: pfx('aadd My,Gy #raoint', 'aand My,Gy #raoint', 'axor My,Gy #raoint', 'aor My,Gy #raoint'),
};

export const map0f38Gp: OpcodeMap = m;
