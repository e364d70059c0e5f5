// The MMU's page walk, driven directly: physical addresses above 4 GiB (PSE-36, PAE/4-level entries up to
// PHYS_BITS), reserved bits, #PF error codes and CR2, accessed/dirty updates, and the TLB's flush rules (global
// entries, INVLPG of large pages, access rights cached per privilege).
import { describe, expect, it } from 'vitest';
import { CPU_EXTRA_BYTES, Cpu } from '../src/cpu/cpu.ts';
import { GuestMemory } from '../src/machine/memory.ts';
import { Access, PHYS_BITS } from '../src/cpu/mmu.ts';
import { GuestFault } from '../src/cpu/fault.ts';
import * as L from '../src/cpu/layout.ts';

function makeCpu() {
  const mem = new GuestMemory(16 << 20, { extraBytes: CPU_EXTRA_BYTES });
  const cpu = new Cpu(mem, { ioRead: () => 0xff, ioWrite: () => {}, mmioRead: () => 0xffffffff, mmioWrite: () => {} });
  return { cpu, mem };
}

function tr(cpu: Cpu, lin: bigint, access = Access.Read, user = false): number | string {
  try {
    return cpu.mmu.translate(Number(lin & 0xffffffffn) | 0, Number(lin >> 32n) | 0, access, user);
  } catch (e) {
    if (!(e instanceof GuestFault)) throw e;
    return `#PF(${e.errorCode.toString(16)}) cr2=${cpu.get64(L.CR2).toString(16)}`;
  }
}

const PG_PE = 0x80000001;

describe('system: MMU page walks', () => {
  it('32-bit paging: 4 MiB pages with PSE-36 address bits, reserved bit 21', () => {
    const { cpu, mem } = makeCpu();
    cpu.set32(L.CR4, 0x10); // PSE
    cpu.set32(L.CR3, 0x10000);
    cpu.set32(L.CR0, PG_PE);
    mem.writeU32(0x10000 + 1 * 4, 0x00400083 | (0x12 << 13)); // 0x400000 -> 0x12_0040_0000
    expect(tr(cpu, 0x412345n)).toBe(0x12_0041_2345);
    mem.writeU32(0x10000 + 2 * 4, 0x00800083 | (1 << 21));
    expect(tr(cpu, 0x800000n)).toBe('#PF(9) cr2=800000');
    // without CR4.PSE the PS bit is ignored: the entry points to a page table
    mem.writeU32(0x10000 + 3 * 4, 0x00020003);
    mem.writeU32(0x20000 + 5 * 4, 0x00333003);
    cpu.set32(L.CR4, 0);
    cpu.mmu.flushAll();
    expect(tr(cpu, 0xc05678n)).toBe(0x333678);
  });

  it('4-level paging: addresses up to PHYS_BITS, reserved bits above, NX without EFER.NXE', () => {
    const { cpu, mem } = makeCpu();
    cpu.set32(L.CR4, 0x20);
    cpu.set32(L.EFER, 0x500); // LME LMA
    cpu.set32(L.CR3, 0x10000);
    cpu.set32(L.CR0, PG_PE);
    mem.writeU64(0x10000, 0x11003n); // PML4[0]
    mem.writeU64(0x11000, 0x12003n); // PDPT[0]
    mem.writeU64(0x12000, 0x13003n); // PD[0]
    const top = 1n << BigInt(PHYS_BITS - 1);
    mem.writeU64(0x13000 + 8, top | 0x5000n | 3n); // 0x1000 -> highest physical bit set
    expect(tr(cpu, 0x1abcn)).toBe(Number(top) + 0x5abc);
    mem.writeU64(0x13000 + 16, (1n << BigInt(PHYS_BITS)) | 0x5000n | 3n);
    expect(tr(cpu, 0x2000n)).toBe('#PF(9) cr2=2000');
    mem.writeU64(0x13000 + 24, (1n << 63n) | 0x5000n | 3n);
    expect(tr(cpu, 0x3000n)).toBe('#PF(9) cr2=3000'); // XD is reserved while EFER.NXE = 0
    cpu.set32(L.EFER, 0xd00);
    cpu.mmu.flushAll();
    expect(tr(cpu, 0x3000n)).toBe(0x5000);
    expect(tr(cpu, 0x3000n, Access.Exec)).toBe('#PF(11) cr2=3000');
    // 1 GiB pages: bits 13-29 of the entry are reserved
    mem.writeU64(0x11000 + 8, 0x40000000n | 0x83n);
    expect(tr(cpu, 0x40001234n)).toBe(0x40001234);
    mem.writeU64(0x11000 + 16, 0x40000000n | 0x83n | (1n << 20n));
    expect(tr(cpu, 0x80000000n)).toBe('#PF(9) cr2=80000000');
    // PS in a PML4 entry is reserved
    mem.writeU64(0x10000 + 8, 0x11083n);
    expect(tr(cpu, 0x8000000000n)).toBe('#PF(9) cr2=8000000000');
  });

  it('error codes: present, write, user, instruction fetch; accessed and dirty bits', () => {
    const { cpu, mem } = makeCpu();
    cpu.set32(L.CR4, 0x20 | 0x100000); // PAE, SMEP
    cpu.set32(L.EFER, 0xd00);
    cpu.set32(L.CR3, 0x10000);
    cpu.set32(L.CR0, PG_PE | 0x10000); // WP
    mem.writeU64(0x10000, 0x11007n);
    mem.writeU64(0x11000, 0x12007n);
    mem.writeU64(0x12000, 0x13007n);
    mem.writeU64(0x13000 + 8 * 1, 0x21005n); // user, read-only
    mem.writeU64(0x13000 + 8 * 2, 0x22003n); // supervisor, writable
    mem.writeU64(0x13000 + 8 * 3, 0x23007n); // user, writable
    expect(tr(cpu, 0x1000n, Access.Write, true)).toBe('#PF(7) cr2=1000');
    expect(tr(cpu, 0x1000n, Access.Write, false)).toBe('#PF(3) cr2=1000'); // CR0.WP
    expect(tr(cpu, 0x2000n, Access.Read, true)).toBe('#PF(5) cr2=2000');
    expect(tr(cpu, 0x3000n, Access.Exec, false)).toBe('#PF(11) cr2=3000'); // SMEP
    expect(tr(cpu, 0x4000n, Access.Read, true)).toBe('#PF(4) cr2=4000'); // not present
    expect(tr(cpu, 0x4000n, Access.Exec, true)).toBe('#PF(14) cr2=4000');
    expect(mem.readU64(0x13000 + 8 * 3) & 0x60n).toBe(0n);
    expect(tr(cpu, 0x3010n, Access.Read, true)).toBe(0x23010);
    expect(mem.readU64(0x13000 + 8 * 3) & 0x60n).toBe(0x20n);
    expect(mem.readU64(0x10000) & 0x20n).toBe(0x20n);
    expect(tr(cpu, 0x3010n, Access.Write, true)).toBe(0x23010);
    expect(mem.readU64(0x13000 + 8 * 3) & 0x60n).toBe(0x60n);
    expect(mem.readU64(0x12000) & 0x40n).toBe(0n); // no dirty bit above the leaf
  });

  it('TLB: global entries survive CR3-style flushes, INVLPG drops a large page', () => {
    const { cpu, mem } = makeCpu();
    cpu.set32(L.CR4, 0x20 | 0x80); // PAE, PGE
    cpu.set32(L.EFER, 0x500);
    cpu.set32(L.CR3, 0x10000);
    cpu.set32(L.CR0, PG_PE);
    mem.writeU64(0x10000, 0x11003n);
    mem.writeU64(0x11000, 0x12003n);
    mem.writeU64(0x12000, 0x13003n);
    mem.writeU64(0x13000 + 8 * 1, 0x21103n); // global
    mem.writeU64(0x13000 + 8 * 2, 0x22003n);
    mem.writeU64(0x12000 + 8 * 1, 0x200083n); // 2 MiB page at 0x200000
    expect([tr(cpu, 0x1000n), tr(cpu, 0x2000n), tr(cpu, 0x201000n), tr(cpu, 0x3ff000n)]).toEqual([0x21000, 0x22000, 0x201000, 0x3ff000]);
    mem.writeU64(0x13000 + 8 * 1, 0x31103n);
    mem.writeU64(0x13000 + 8 * 2, 0x32003n);
    mem.writeU64(0x12000 + 8 * 1, 0x400083n);
    cpu.mmu.flushNonGlobal();
    expect([tr(cpu, 0x1000n), tr(cpu, 0x2000n)]).toEqual([0x21000, 0x32000]);
    expect([tr(cpu, 0x201000n), tr(cpu, 0x3ff000n)]).toEqual([0x401000, 0x5ff000]);
    mem.writeU64(0x12000 + 8 * 1, 0x600083n);
    expect(tr(cpu, 0x201000n)).toBe(0x401000); // cached
    cpu.mmu.flushPage(0x3ff123, 0); // any address in the large page
    expect([tr(cpu, 0x201000n), tr(cpu, 0x3ff000n)]).toEqual([0x601000, 0x7ff000]);
    cpu.mmu.flushPage(0x1000, 0);
    expect(tr(cpu, 0x1000n)).toBe(0x31000);
  });

  it('TLB: a sweep over 16 MiB does not evict a page outside it', () => {
    // (the Linux decompressor's pattern: its output sweeps tens of MiB while its state stays in a few pages)
    const { cpu, mem } = makeCpu();
    cpu.set32(L.CR4, 0x20);
    cpu.set32(L.EFER, 0x500);
    cpu.set32(L.CR3, 0x10000);
    cpu.set32(L.CR0, PG_PE);
    mem.writeU64(0x10000, 0x11003n);
    mem.writeU64(0x11000, 0x12003n);
    for (let i = 0; i < 32; i++) mem.writeU64(0x12000 + 8 * i, BigInt(i * 0x200000) | 0x83n); // 64 MiB, 2 MiB pages
    expect(tr(cpu, 0x1000n)).toBe(0x1000);
    mem.writeU64(0x12000, 0x800083n); // remapped, not flushed: a TLB that still holds the page says 0x1000
    for (let a = 0x400000; a < 0x1400000; a += 0x1000) expect(tr(cpu, BigInt(a), Access.Write)).toBe(a);
    expect(tr(cpu, 0x1000n)).toBe(0x1000);
    cpu.mmu.flushAll();
    expect(tr(cpu, 0x1000n)).toBe(0x801000);
  });
});
