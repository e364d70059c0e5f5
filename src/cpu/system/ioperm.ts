// I/O permission: CPL <= IOPL passes; otherwise (protected mode, and always in virtual-8086 mode) the TSS I/O
// permission bitmap decides: the bits of all the ports accessed must be clear, and the two bitmap bytes read must lie
// within the TSS limit. Faults #GP(0). The bitmap reads are implicit supervisor accesses.
import * as L from '../layout.ts';
import { GuestFault, Vec } from '../fault.ts';
import { sysRead } from './desc.ts';
import type { Cpu } from '../cpu.ts';

export function checkIoPermission(cpu: Cpu, port: number, size: number): void {
  const cr0 = cpu.get32(L.CR0);
  if (!(cr0 & 1)) return; // real mode
  const eflags = cpu.get32(L.EFLAGS);
  const iopl = (eflags >> 12) & 3;
  const vm = (eflags & 0x20000) !== 0;
  const cpl = cpu.get32(L.CPL) & 3;
  if (!vm && cpl <= iopl) return;
  // TSS (must be a 32/64-bit available/busy TSS) holds the bitmap offset at +0x66
  const tr = L.segOff(L.TR_INDEX);
  const type = cpu.get32(tr + L.SEG_ATTR) & 0xf;
  const limit = cpu.get32(tr + L.SEG_LIMIT) >>> 0;
  if ((type !== 9 && type !== 11) || limit < 0x67) throw new GuestFault(Vec.GP, 0);
  const base = cpu.get64(tr + L.SEG_BASE);
  const rd = (off: number, n: 2) => sysRead(cpu, base + BigInt(off), n);
  const mapBase = rd(0x66, 2);
  const byte = mapBase + (port >> 3);
  if (byte + 1 > limit) throw new GuestFault(Vec.GP, 0);
  const bits = rd(byte, 2);
  const mask = ((1 << size) - 1) << (port & 7);
  if (bits & mask) throw new GuestFault(Vec.GP, 0);
}
