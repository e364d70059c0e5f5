// ACPI tables for the PC board, built into one blob placed in guest memory: RSDP (revision 2), XSDT and RSDT,
// FADT (revision 6, full fixed hardware: PM1a event/control blocks and the 32-bit PM timer at ACPI_PM_PORT,
// SCI on IRQ 9, reset through the i8042), FACS, a DSDT holding only \_S5 (so the guest can power off through
// PM1a_CNT), MADT (one local APIC, the I/O APIC, interrupt source overrides IRQ 0 -> GSI 2 and IRQ 9 level/active
// high, LINT1 NMI) and HPET. Every table checksums to zero. Layouts follow the ACPI 6.x specification.

import { ACPI_PM_PORT, ACPI_SCI_IRQ, PM1_CNT_OFFSET, PM1_EVT_OFFSET, PM_TMR_OFFSET, SLP_TYP_S5 } from '../../devices/acpi-pm.js';
import { HPET_BASE, HPET_PERIOD_FS, HPET_TIMERS, HPET_VENDOR } from '../../devices/hpet.js';
import { IOAPIC_BASE } from '../../devices/ioapic.js';
import { LAPIC_BASE } from '../../devices/lapic.js';
import { I8042_COMMAND_PORT } from '../../devices/i8042.js';
import { REG_CENTURY } from '../../devices/rtc-cmos.js';

/** Where the tables go by default: the BIOS read-only area the guest scans for "RSD PTR " (0xe0000-0xfffff). */
export const ACPI_TABLES_BASE = 0xe0000;
export const OEM_ID = 'KEMU  ';
export const OEM_TABLE_ID = 'KEMUPC  ';

export interface AcpiConfig {
  /** Physical address the blob will be loaded at (16-byte aligned; default ACPI_TABLES_BASE). */
  base?: number;
  lapicBase?: number;
  ioapicBase?: number;
  ioapicId?: number;
  hpetBase?: number;
  pmPort?: number;
  sciIrq?: number;
}

export interface AcpiTables {
  /** The whole blob, to be copied to `base`. */
  bytes: Uint8Array;
  base: number;
  /** Physical address of the RSDP (for PVH's rsdp_paddr or the boot_params acpi_rsdp_addr). */
  rsdp: number;
  /** Physical addresses of the tables by signature. */
  tables: Record<string, number>;
}

const ascii = (s: string, len: number): number[] => {
  const out = new Array<number>(len).fill(0x20);
  for (let i = 0; i < Math.min(len, s.length); i++) out[i] = s.charCodeAt(i);
  return out;
};

/** A little-endian byte builder. */
class Buf {
  readonly b: number[] = [];
  u8(v: number): this {
    this.b.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    return this.u8(v).u8(v >>> 8);
  }
  u32(v: number): this {
    return this.u16(v & 0xffff).u16(Math.floor(v / 0x10000) & 0xffff);
  }
  u64(v: number): this {
    return this.u32(v % 0x1_0000_0000).u32(Math.floor(v / 0x1_0000_0000));
  }
  bytes(a: ArrayLike<number>): this {
    for (let i = 0; i < a.length; i++) this.b.push(a[i]! & 0xff);
    return this;
  }
  zeros(n: number): this {
    for (let i = 0; i < n; i++) this.b.push(0);
    return this;
  }
  /** Generic Address Structure: space (0 memory, 1 I/O), bit width, bit offset, access size, address. */
  gas(space: number, bitWidth: number, access: number, addr: number): this {
    return this.u8(space).u8(bitWidth).u8(0).u8(access).u64(addr);
  }
}

export function checksum(bytes: ArrayLike<number>, start = 0, end = bytes.length): number {
  let s = 0;
  for (let i = start; i < end; i++) s += bytes[i]!;
  return (0x100 - (s & 0xff)) & 0xff;
}

/** A system description table: header (36 bytes) + body, length and checksum filled in. */
function sdt(signature: string, revision: number, body: number[]): number[] {
  const h = new Buf()
    .bytes(ascii(signature, 4))
    .u32(36 + body.length)
    .u8(revision)
    .u8(0) // checksum
    .bytes(ascii(OEM_ID, 6))
    .bytes(ascii(OEM_TABLE_ID, 8))
    .u32(1) // OEM revision
    .bytes(ascii('KEMU', 4)) // creator ID
    .u32(1); // creator revision
  const t = h.b.concat(body);
  t[9] = checksum(t);
  return t;
}

/** The DSDT's AML: Name (\_S5, Package () { 5, 5, 0, 0 }). */
function dsdtAml(): number[] {
  const pkg = [0x04, 0x0a, SLP_TYP_S5, 0x0a, SLP_TYP_S5, 0x00, 0x00]; // NumElements, ByteConst x2, Zero x2
  return [0x08, ...ascii('_S5_', 4), 0x12, pkg.length + 1, ...pkg]; // NameOp, NameString, PackageOp, PkgLength
}

function madt(c: Required<AcpiConfig>): number[] {
  const b = new Buf().u32(c.lapicBase).u32(1); // PCAT_COMPAT: dual 8259s present
  b.u8(0).u8(8).u8(0).u8(0).u32(1); // Processor Local APIC: UID 0, APIC ID 0, enabled
  b.u8(1).u8(12).u8(c.ioapicId).u8(0).u32(c.ioapicBase).u32(0); // I/O APIC at GSI base 0
  b.u8(2).u8(10).u8(0).u8(0).u32(2).u16(0); // ISA IRQ 0 -> GSI 2, bus-default polarity/trigger
  b.u8(2).u8(10).u8(0).u8(c.sciIrq).u32(c.sciIrq).u16(0x000d); // SCI: active high (01), level (11 << 2)
  b.u8(4).u8(6).u8(0xff).u16(0).u8(1); // Local APIC NMI: all processors, LINT1
  return b.b;
}

function fadt(c: Required<AcpiConfig>, facs: number, dsdt: number): number[] {
  const pm = c.pmPort;
  const b = new Buf()
    .u32(facs) // FIRMWARE_CTRL
    .u32(dsdt)
    .u8(0) // reserved
    .u8(0) // preferred PM profile: unspecified
    .u16(c.sciIrq)
    .u32(0) // SMI_CMD: none, ACPI mode is always on
    .u8(0).u8(0).u8(0).u8(0) // ACPI_ENABLE, ACPI_DISABLE, S4BIOS_REQ, PSTATE_CNT
    .u32(pm + PM1_EVT_OFFSET).u32(0) // PM1a/b_EVT_BLK
    .u32(pm + PM1_CNT_OFFSET).u32(0) // PM1a/b_CNT_BLK
    .u32(0) // PM2_CNT_BLK
    .u32(pm + PM_TMR_OFFSET) // PM_TMR_BLK
    .u32(0).u32(0) // GPE0/1_BLK
    .u8(4).u8(2).u8(0).u8(4).u8(0).u8(0).u8(0).u8(0) // PM1_EVT_LEN, PM1_CNT_LEN, PM2, PM_TMR_LEN, GPE0, GPE1, GPE1_BASE, CST_CNT
    .u16(101).u16(1001) // P_LVL2/3_LAT: > 100 / > 1000: C2 and C3 not supported
    .u16(0).u16(0) // FLUSH_SIZE, FLUSH_STRIDE
    .u8(0).u8(0) // DUTY_OFFSET, DUTY_WIDTH
    .u8(0).u8(0).u8(REG_CENTURY) // DAY_ALRM, MON_ALRM, CENTURY
    .u16(0x0001 | 0x0002 | 0x0004 | 0x0008) // IAPC_BOOT_ARCH: legacy devices, 8042, no VGA, no MSI
    .u8(0)
    // flags: WBINVD, PROC_C1, PWR_BUTTON (control method / none), SLP_BUTTON (none), TMR_VAL_EXT, RESET_REG_SUP
    .u32((1 << 0) | (1 << 2) | (1 << 4) | (1 << 5) | (1 << 8) | (1 << 10))
    .gas(1, 8, 1, I8042_COMMAND_PORT) // RESET_REG: I/O port 0x64
    .u8(0xfe) // RESET_VALUE: pulse the reset line
    .u16(0) // ARM_BOOT_ARCH
    .u8(0) // FADT minor version
    .u64(facs) // X_FIRMWARE_CTRL
    .u64(dsdt) // X_DSDT
    .gas(1, 32, 2, pm + PM1_EVT_OFFSET) // X_PM1a_EVT_BLK
    .gas(0, 0, 0, 0)
    .gas(1, 16, 2, pm + PM1_CNT_OFFSET) // X_PM1a_CNT_BLK
    .gas(0, 0, 0, 0)
    .gas(0, 0, 0, 0) // X_PM2_CNT_BLK
    .gas(1, 32, 3, pm + PM_TMR_OFFSET) // X_PM_TMR_BLK
    .gas(0, 0, 0, 0) // X_GPE0_BLK
    .gas(0, 0, 0, 0) // X_GPE1_BLK
    .gas(0, 0, 0, 0) // SLEEP_CONTROL_REG
    .gas(0, 0, 0, 0) // SLEEP_STATUS_REG
    .bytes(ascii('KEMU', 8)); // hypervisor vendor identity
  return sdt('FACP', 6, b.b);
}

function facs(): number[] {
  const b = new Buf().bytes(ascii('FACS', 4)).u32(64).u32(0) /* hardware signature */
    .u32(0) /* firmware waking vector */ .u32(0) /* global lock */ .u32(0) /* flags */
    .u64(0) /* X firmware waking vector */ .u8(2) /* version */ .zeros(3).u32(0) /* OSPM flags */ .zeros(24);
  return b.b;
}

function hpet(c: Required<AcpiConfig>): number[] {
  const blockId = (HPET_VENDOR << 16) | 0x8000 | 0x2000 | ((HPET_TIMERS - 1) << 8) | 1;
  const minTick = 128; // minimum clock ticks for periodic mode without lost interrupts
  void HPET_PERIOD_FS;
  const b = new Buf().u32(blockId >>> 0).gas(0, 64, 0, c.hpetBase).u8(0).u16(minTick).u8(0);
  return sdt('HPET', 1, b.b);
}

export function buildAcpiTables(config: AcpiConfig = {}): AcpiTables {
  const c: Required<AcpiConfig> = {
    base: config.base ?? ACPI_TABLES_BASE,
    lapicBase: config.lapicBase ?? LAPIC_BASE,
    ioapicBase: config.ioapicBase ?? IOAPIC_BASE,
    ioapicId: config.ioapicId ?? 0,
    hpetBase: config.hpetBase ?? HPET_BASE,
    pmPort: config.pmPort ?? ACPI_PM_PORT,
    sciIrq: config.sciIrq ?? ACPI_SCI_IRQ,
  };
  if (c.base % 64) throw new RangeError('ACPI table base must be 64-byte aligned');
  const out: number[] = [];
  const tables: Record<string, number> = {};
  const place = (name: string, t: number[], align = 16): number => {
    while (out.length % align) out.push(0);
    const at = c.base + out.length;
    out.push(...t);
    tables[name] = at;
    return at;
  };
  // RSDP first (16-byte aligned as the scan requires); its pointers are patched in at the end
  place('RSDP', new Array<number>(36).fill(0));
  const facsAt = place('FACS', facs(), 64);
  const dsdtAt = place('DSDT', sdt('DSDT', 2, dsdtAml()));
  const fadtAt = place('FACP', fadt(c, facsAt, dsdtAt));
  const madtAt = place('APIC', sdt('APIC', 5, madt(c)));
  const hpetAt = place('HPET', hpet(c));
  const entries = [fadtAt, madtAt, hpetAt];
  const xsdtAt = place('XSDT', sdt('XSDT', 1, entries.flatMap((a) => new Buf().u64(a).b)));
  const rsdtAt = place('RSDT', sdt('RSDT', 1, entries.flatMap((a) => new Buf().u32(a).b)));
  const rsdp = new Buf().bytes(ascii('RSD PTR ', 8)).u8(0).bytes(ascii(OEM_ID, 6)).u8(2).u32(rsdtAt).u32(36).u64(xsdtAt).u8(0).zeros(3).b;
  rsdp[8] = checksum(rsdp, 0, 20);
  rsdp[32] = checksum(rsdp);
  out.splice(0, 36, ...rsdp);
  return { bytes: Uint8Array.from(out), base: c.base, rsdp: c.base, tables };
}

/** A parsed table header (for tests and diagnostics). */
export interface SdtHeader {
  signature: string;
  length: number;
  revision: number;
  checksumOk: boolean;
}

export function parseSdtHeader(mem: Uint8Array, addr: number): SdtHeader {
  const dv = new DataView(mem.buffer, mem.byteOffset);
  const length = dv.getUint32(addr + 4, true);
  let sum = 0;
  for (let i = 0; i < length; i++) sum += mem[addr + i]!;
  return {
    signature: String.fromCharCode(...mem.subarray(addr, addr + 4)),
    length,
    revision: mem[addr + 8]!,
    checksumOk: (sum & 0xff) === 0,
  };
}
