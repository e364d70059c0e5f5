import type { OpcodeMap } from '../notation.ts';

export const map0f38Sse: OpcodeMap = {};
