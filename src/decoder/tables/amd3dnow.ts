// AMD 3DNow! (0F 0F /r ib): the trailing byte selects the operation (AMD APM Vol. 5, "3DNow! Instruction
// Reference"; names as objdump prints them). AMD dropped 3DNow! from Zen, so kemu's CPU model does not advertise
// it and executes these as #UD; the decoder still knows them, for disassembly.
import { suffix, type OpcodeMap } from '../notation.ts';

const OPS: [number, string][] = [
  [0x0c, 'pi2fw'], [0x0d, 'pi2fd'], [0x1c, 'pf2iw'], [0x1d, 'pf2id'], [0x8a, 'pfnacc'], [0x8e, 'pfpnacc'],
  [0x90, 'pfcmpge'], [0x94, 'pfmin'], [0x96, 'pfrcp'], [0x97, 'pfrsqrt'], [0x9a, 'pfsub'], [0x9e, 'pfadd'],
  [0xa0, 'pfcmpgt'], [0xa4, 'pfmax'], [0xa6, 'pfrcpit1'], [0xa7, 'pfrsqit1'], [0xaa, 'pfsubr'], [0xae, 'pfacc'],
  [0xb0, 'pfcmpeq'], [0xb4, 'pfmul'], [0xb6, 'pfrcpit2'], [0xb7, 'pmulhrw'], [0xbb, 'pswapd'], [0xbf, 'pavgusb'],
];

export const amd3dnow: OpcodeMap = {
  0x0f: suffix(Object.fromEntries(OPS.map(([s, m]) => [s, `${m} Pq,Qq #3dnow`]))),
};
