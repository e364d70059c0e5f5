// String I/O: INS and OUTS, with REP. One helper call runs up to a chunk of iterations (checking the I/O
// permission first, the memory operand before each port access) and reports whether the instruction must run
// again; rDI/rSI/rCX are updated per completed iteration, so a fault leaves a resumable state.
import { Pfx } from '../../decoder/types.ts';
import type { T32 } from '../ir/builder.ts';
import { defineHelper } from '../ir/helpers.ts';
import * as L from '../layout.ts';
import { Access } from '../mmu.ts';
import type { Cpu } from '../cpu.ts';
import { checkIoPermission } from '../system/ioperm.ts';
import { EFLAGS_DF, ES } from '../system/desc.ts';
import { sem } from './registry.ts';
import type { Translator } from './translator.ts';

/** Iterations per helper call before the run loop gets a chance to take interrupts. */
const CHUNK = 1024;

const addrMask = (asz: number): bigint => (asz === 2 ? 0xffffn : asz === 4 ? 0xffffffffn : 0xffffffffffffffffn);

/** Writes a count/pointer register at the address size (16-bit: low word only; 32-bit: zero-extends). */
function setAddrReg(cpu: Cpu, reg: number, v: bigint, asz: number): void {
  const o = L.gprOff(reg);
  cpu.set64(o, asz === 2 ? (cpu.get64(o) & ~0xffffn) | (v & 0xffffn) : v & addrMask(asz));
}

function stringIo(cpu: Cpu, arg: number, isIn: boolean): number {
  const size = arg & 7;
  const asz = (arg >> 4) & 0xf;
  const rep = (arg & 0x100) !== 0;
  const seg = (arg >> 12) & 7;
  const mask = addrMask(asz);
  const port = cpu.get32(L.gprOff(2)) & 0xffff;
  let count = rep ? cpu.get64(L.gprOff(1)) & mask : 1n;
  if (count === 0n) return 0;
  checkIoPermission(cpu, port, size);
  const step = BigInt(cpu.get32(L.EFLAGS) & EFLAGS_DF ? -size : size);
  const ptrReg = isIn ? 7 : 6;
  const user = ((cpu.mode >> 4) & 3) === 3;
  const mmu = cpu.mmu;
  for (let i = 0; i < CHUNK; i++) {
    const ptr = cpu.get64(L.gprOff(ptrReg)) & mask;
    const lo = Number(ptr & 0xffffffffn) | 0, hi = Number(ptr >> 32n) | 0;
    if (isIn) {
      // the destination must be writable before the port is read
      mmu.segment(ES, lo, hi, size, Access.Write);
      const llo = mmu.linLo, lhi = mmu.linHi;
      mmu.translate(llo, lhi, Access.Write, user);
      const end = (llo >>> 0) + size - 1;
      mmu.translate(end | 0, end > 0xffffffff ? lhi + 1 : lhi, Access.Write, user);
      cpu.write(size, ES, lo, hi, cpu.bus.ioRead(port, size));
    } else cpu.bus.ioWrite(port, size, cpu.read(size, seg, lo, hi) >>> 0);
    setAddrReg(cpu, ptrReg, ptr + step, asz);
    if (!rep) return 0;
    count -= 1n;
    setAddrReg(cpu, 1, count, asz);
    if (count === 0n) return 0;
  }
  return 1;
}

const H_INS = defineHelper('ins', [32], 32, true, (h, arg) => stringIo(h as Cpu, Number(arg), true));
const H_OUTS = defineHelper('outs', [32], 32, true, (h, arg) => stringIo(h as Cpu, Number(arg), false));

function stringIoSem(isIn: boolean) {
  return (t: Translator) => {
    const i = t.i;
    const mem = i.operands[isIn ? 0 : 1]!;
    const rep = (i.prefixes & (Pfx.REP | Pfx.REPNE)) !== 0;
    const arg = mem.size | (i.addrSize << 4) | (rep ? 0x100 : 0) | (mem.seg << 12);
    const again = t.call(isIn ? H_INS : H_OUTS, [t.const32(arg)], 32) as T32;
    // a device may have stopped the machine or raised an interrupt: end the block either way
    if (rep) t.branch(again, t.off, t.nextOff);
    else t.endBlock();
  };
}

sem('ins', stringIoSem(true));
sem('outs', stringIoSem(false));
