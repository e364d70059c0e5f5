import type { OpcodeMap } from '../notation.ts';

export const map0fSse: OpcodeMap = {};
