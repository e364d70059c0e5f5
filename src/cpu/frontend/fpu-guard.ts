// The checks every x87, MMX and SSE instruction makes before it runs (SDM Vol. 3 §2.5 and the tables of
// CR0.EM/MP/TS and CR4.OSFXSR effects): CR0.EM makes SSE/MMX #UD and x87 #NM, CR4.OSFXSR=0 makes SSE #UD,
// CR0.TS makes them all #NM (WAIT only with CR0.MP). #UD is checked before #NM.
//
// A block checks each kind once: every instruction that writes CR0 or CR4 ends its block, so a check that passed
// stays true for the rest of the block.
import { Op } from '../ir/ops.ts';
import type { T32 } from '../ir/builder.ts';
import * as L from '../layout.ts';
import { Vec } from '../fault.ts';
import { CR0_EM, CR0_MP, CR0_TS } from '../system/desc.ts';
import type { Translator } from './translator.ts';
import { faultIf, faultUnless } from './sys-util.ts';

export type FpuKind = 'x87' | 'wait' | 'mmx' | 'sse';

const CR4_OSFXSR = 1 << 9;
const KIND_BIT: Record<FpuKind, number> = { x87: 1, wait: 2, mmx: 4, sse: 8 };
const checked = new WeakMap<Translator, number>();

/** Emits the CR0/CR4 checks for an instruction of `kind` (once per block and kind). */
export function fpuGuard(t: Translator, kind: FpuKind): void {
  const done = checked.get(t) ?? 0;
  if (done & KIND_BIT[kind]) return;
  checked.set(t, done | KIND_BIT[kind]);
  const cr0 = t.ld32(L.CR0);
  const bits = (v: T32, m: number) => t.bin32(Op.AND32, v, t.const32(m));
  if (kind === 'mmx' || kind === 'sse') faultIf(t, bits(cr0, CR0_EM), Vec.UD);
  if (kind === 'sse') faultUnless(t, bits(t.ld32(L.CR4), CR4_OSFXSR), Vec.UD);
  if (kind === 'x87') faultIf(t, bits(cr0, CR0_EM | CR0_TS), Vec.NM);
  else if (kind === 'wait') faultUnless(t, t.bin32(Op.XOR32, bits(cr0, CR0_MP | CR0_TS), t.const32(CR0_MP | CR0_TS)), Vec.NM);
  else faultIf(t, bits(cr0, CR0_TS), Vec.NM);
}
