// Exception and interrupt delivery through the IVT/IDT (placeholder until the system milestone work lands).
import type { Cpu } from '../cpu.ts';
import { VECTOR_NAMES } from '../fault.ts';

export function deliverException(cpu: Cpu, vector: number, errorCode: number): void {
  throw new Error(`exception ${VECTOR_NAMES[vector] ?? vector} (error ${errorCode}) at rip ${cpu.rip.toString(16)}: delivery not implemented yet`);
}
