// Port I/O and HLT. IN/OUT check IOPL and the TSS I/O permission bitmap in the helper (system/ioperm.ts).
import { defineHelper } from '../ir/helpers.ts';
import { OpKind } from '../../decoder/types.ts';
import type { T32 } from '../ir/builder.ts';
import type { Cpu } from '../cpu.ts';
import { checkIoPermission } from '../system/ioperm.ts';
import { sem } from './registry.ts';

const H_IN = defineHelper('io_in', [32, 32], 32, true, (h, port, size) => {
  const cpu = h as Cpu;
  checkIoPermission(cpu, Number(port), Number(size));
  return cpu.bus.ioRead(Number(port) & 0xffff, Number(size));
});
const H_OUT = defineHelper('io_out', [32, 32, 32], 0, true, (h, port, size, value) => {
  const cpu = h as Cpu;
  checkIoPermission(cpu, Number(port), Number(size));
  cpu.bus.ioWrite(Number(port) & 0xffff, Number(size), Number(value) >>> 0);
});
const H_HLT = defineHelper('hlt', [], 0, false, (h) => {
  (h as Cpu).halted = true;
  (h as Cpu).breakChain();
});

sem('in', (t) => {
  const [d, p] = t.i.operands;
  const port = p!.kind === OpKind.Imm ? t.const32(p!.imm & 0xff) : (t.gpr(2, 2) as T32);
  const v = t.call(H_IN, [port, t.const32(d!.size)], 32) as T32;
  t.write(d!, v);
});

sem('out', (t) => {
  const [p, s] = t.i.operands;
  const port = p!.kind === OpKind.Imm ? t.const32(p!.imm & 0xff) : (t.gpr(2, 2) as T32);
  t.call(H_OUT, [port, t.const32(s!.size), t.read(s!) as T32]);
  t.endBlock(); // a device may have stopped the machine or raised an interrupt
});

sem('hlt', (t) => {
  if (t.cpl !== 0) return t.fault(13, 0);
  t.call(H_HLT, []);
  t.endBlock();
});
