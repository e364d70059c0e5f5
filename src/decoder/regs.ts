// Register ids: `class << 8 | index`, and their names as objdump prints them in Intel syntax.
import { RegClass } from './types.ts';

export const regId = (cls: RegClass, index: number): number => (cls << 8) | index;
export const regClass = (id: number): RegClass => id >> 8;
export const regIndex = (id: number): number => id & 0xff;

export const RIP = regId(RegClass.RIP, 0);

const GPR64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const GPR32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'r8d', 'r9d', 'r10d', 'r11d', 'r12d', 'r13d', 'r14d', 'r15d'];
const GPR16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di', 'r8w', 'r9w', 'r10w', 'r11w', 'r12w', 'r13w', 'r14w', 'r15w'];
const GPR8 = ['al', 'cl', 'dl', 'bl', 'spl', 'bpl', 'sil', 'dil', 'r8b', 'r9b', 'r10b', 'r11b', 'r12b', 'r13b', 'r14b', 'r15b', 'ah', 'ch', 'dh', 'bh'];
export const SEG_NAMES = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'];

/** Name of a register operand of `size` bytes (size matters only for GPRs). */
export function regName(id: number, size: number): string {
  const i = regIndex(id);
  switch (regClass(id)) {
    case RegClass.GPR:
      return (size === 8 ? GPR64 : size === 4 ? GPR32 : size === 2 ? GPR16 : GPR8)[i] ?? `?gpr${i}`;
    case RegClass.SEG:
      return SEG_NAMES[i] ?? `?seg${i}`;
    case RegClass.CR:
      return `cr${i}`;
    case RegClass.DR:
      return `dr${i}`;
    case RegClass.MMX:
      return `mm${i}`;
    case RegClass.XMM:
      return `xmm${i}`;
    case RegClass.YMM:
      return `ymm${i}`;
    case RegClass.ZMM:
      return `zmm${i}`;
    case RegClass.ST:
      return i === 0 ? 'st' : `st(${i})`;
    case RegClass.K:
      return `k${i}`;
    case RegClass.BND:
      return `bnd${i}`;
    case RegClass.RIP:
      return size === 4 ? 'eip' : 'rip';
    case RegClass.TR:
      return `tr${i}`;
  }
}

/** GPR indices, for readable code elsewhere. */
export enum Gpr {
  AX = 0, CX = 1, DX = 2, BX = 3, SP = 4, BP = 5, SI = 6, DI = 7,
  R8 = 8, R9 = 9, R10 = 10, R11 = 11, R12 = 12, R13 = 13, R14 = 14, R15 = 15,
}

/** Segment register indices, in encoding order. */
export enum Seg {
  ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5,
}
