// A guest exception raised while executing an instruction. Thrown (it is rare) and caught by the run loop,
// which delivers it through the IDT with RIP at the faulting instruction.

export enum Vec {
  DE = 0, DB = 1, NMI = 2, BP = 3, OF = 4, BR = 5, UD = 6, NM = 7, DF = 8, TS = 10, NP = 11, SS = 12, GP = 13, PF = 14,
  MF = 16, AC = 17, MC = 18, XM = 19,
}

export const VECTOR_NAMES = ['#DE', '#DB', 'NMI', '#BP', '#OF', '#BR', '#UD', '#NM', '#DF', '#MF9', '#TS', '#NP', '#SS', '#GP', '#PF', '#15', '#MF', '#AC', '#MC', '#XM'];

/** Exceptions that push an error code (SDM Vol. 3 Table 6-1). */
export const HAS_ERROR_CODE = new Set([8, 10, 11, 12, 13, 14, 17, 21, 29, 30]);

export class GuestFault {
  constructor(
    readonly vector: number,
    /** Error code, or -1 for none. */
    readonly errorCode: number = -1,
  ) {}
  toString(): string {
    return `${VECTOR_NAMES[this.vector] ?? `vector ${this.vector}`}${this.errorCode >= 0 ? `(${this.errorCode.toString(16)})` : ''}`;
  }
}
