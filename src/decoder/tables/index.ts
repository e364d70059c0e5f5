// The complete opcode maps, assembled from the per-area tables.
import { mergeMaps, type Node } from '../notation.ts';
import { primary } from './primary.ts';
import { x87 } from './x87.ts';
import { map0fGp } from './map0f-gp.ts';
import { map0fSse } from './map0f-sse.ts';
import { map0f38Gp } from './map0f38-gp.ts';
import { map0f38Sse } from './map0f38-sse.ts';
import { map0f3a } from './map0f3a.ts';
import { amd3dnow } from './amd3dnow.ts';
import { vex0f, vex0f38, vex0f3a } from './vex.ts';
import { evex0f, evex0f38, evex0f3a } from './evex.ts';

/** Legacy (non-VEX) maps, indexed by OpMap: primary, 0F, 0F38, 0F3A. */
export const LEGACY: Node[][] = [
  mergeMaps(primary, x87),
  mergeMaps(map0fGp, map0fSse, amd3dnow),
  mergeMaps(map0f38Gp, map0f38Sse),
  mergeMaps(map0f3a),
];
/** VEX maps indexed by VEX.mmmmm (1 = 0F, 2 = 0F38, 3 = 0F3A); index 0 unused. */
export const VEX: Node[][] = [[], mergeMaps(vex0f), mergeMaps(vex0f38), mergeMaps(vex0f3a)];
/** EVEX maps indexed by EVEX.mmm. */
export const EVEX: Node[][] = [[], mergeMaps(evex0f), mergeMaps(evex0f38), mergeMaps(evex0f3a)];
