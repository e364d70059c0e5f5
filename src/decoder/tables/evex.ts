import type { OpcodeMap } from '../notation.ts';

export const evex0f: OpcodeMap = {};
export const evex0f38: OpcodeMap = {};
export const evex0f3a: OpcodeMap = {};
