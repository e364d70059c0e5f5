// translation throughput over the kernel's functions (kallsyms text symbols)
import fs from 'node:fs';

import { translateBlock } from '/work/main/src/cpu/frontend/block.ts';
import { makeMode } from '/work/main/src/cpu/mode.ts';
const elf = fs.readFileSync('/tmp/kemu-guest-debian/vmlinux');
const dv = new DataView(elf.buffer, elf.byteOffset);
const phoff = Number(dv.getBigUint64(32, true)), phnum = dv.getUint16(56, true);
let text: { vaddr: bigint; off: number; size: number } | undefined;
for (let i = 0; i < phnum; i++) {
  const p = phoff + i * 56;
  if (dv.getUint32(p, true) !== 1) continue;
  const vaddr = dv.getBigUint64(p + 16, true);
  if (vaddr === 0xffffffff81000000n) text = { vaddr, off: Number(dv.getBigUint64(p + 8, true)), size: Number(dv.getBigUint64(p + 32, true)) };
}
const u8 = new Uint8Array(64 << 20);
u8.set(elf.subarray(text!.off, text!.off + text!.size));
const host = { u8, ramSize: u8.length, fetchPhys: (lo: number, hi: number) => { if (hi !== -1) throw new Error('hi'); const a = (lo >>> 0) - 0x81000000; if (a < 0 || a >= text!.size) throw new Error('out'); return a; }, mmioRead: () => 0 };
const syms: bigint[] = [];
for (const l of fs.readFileSync('/tmp/kallsyms.txt', 'latin1').split('\n')) {
  const p = l.split(' ');
  if (p.length >= 3 && p[0]!.length === 16 && (p[1] === 't' || p[1] === 'T')) {
    const a = BigInt('0x' + p[0]);
    if (a >= 0xffffffff81000000n && a < 0xffffffff81000000n + BigInt(text!.size) - 4096n) syms.push(a);
  }
}
const mode = makeMode(64, 8, 0, 0);
const N = Math.min(syms.length, Number(process.env.N ?? 20000));
for (let r = 0; r < Number(process.env.R ?? 5); r++) {
  const t0 = performance.now();
  let insns = 0, blocks = 0, fails = 0;
  for (let i = 0; i < N; i++) {
    try { const t = translateBlock(host as any, syms[i]!, syms[i]!, mode); insns += t.insns; blocks++; } catch { fails++; }
  }
  const ms = performance.now() - t0;
  console.log(`${blocks} blocks ${insns} insns ${fails} fails: ${ms.toFixed(0)} ms, ${(ms * 1000 / blocks).toFixed(1)} us/block, ${(ms * 1e6 / insns).toFixed(0)} ns/insn`);
}
