import type { OpcodeMap } from '../notation.ts';

export const vex0f: OpcodeMap = {};
export const vex0f38: OpcodeMap = {};
export const vex0f3a: OpcodeMap = {};
