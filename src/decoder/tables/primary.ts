import type { OpcodeMap } from '../notation.ts';

export const primary: OpcodeMap = {};
