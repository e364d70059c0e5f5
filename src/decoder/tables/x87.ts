import type { OpcodeMap } from '../notation.ts';

export const x87: OpcodeMap = {};
