// The port I/O bus and the MMIO bus. Devices see offsets from the base they were registered at; the bus answers
// unassigned reads with all ones and drops unassigned writes, as an ISA/PCI bus with nothing decoding does.

export type IoSize = 1 | 2 | 4;
export type MmioSize = 1 | 2 | 4 | 8;

export interface PortDevice {
  /** Widest access the device takes whole (default 1): wider or straddling accesses are split into bytes. */
  readonly ioMaxSize?: IoSize;
  ioRead(offset: number, size: IoSize): number;
  ioWrite(offset: number, size: IoSize, value: number): void;
}

export interface MmioDevice {
  /** Widest access the device takes whole (default 4): wider or straddling accesses are split. */
  readonly mmioMaxSize?: MmioSize;
  mmioRead(offset: number, size: 1 | 2 | 4): number;
  mmioWrite(offset: number, size: 1 | 2 | 4, value: number): void;
  /** 8-byte accesses, required when mmioMaxSize is 8. */
  mmioRead64?(offset: number): bigint;
  mmioWrite64?(offset: number, value: bigint): void;
}

export class BusError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BusError';
  }
}

const hex = (v: number): string => '0x' + v.toString(16);
const ONES = [0, 0xff, 0xffff, 0, 0xffffffff] as const;

interface PortRange {
  base: number;
  count: number;
  device: PortDevice;
  maxSize: IoSize;
  name: string;
}

export class PortBus {
  /** Port -> index+1 into ranges (0 = unassigned). */
  private readonly map = new Uint16Array(0x10000);
  private readonly ranges: PortRange[] = [];

  register(base: number, count: number, device: PortDevice, name = 'device'): void {
    if (!Number.isInteger(base) || !Number.isInteger(count) || base < 0 || count < 1 || base + count > 0x10000) {
      throw new BusError(`bad port range ${hex(base)}+${count} for ${name}`);
    }
    for (let p = base; p < base + count; p++) {
      const other = this.map[p]!;
      if (other) throw new BusError(`port ${hex(p)} of ${name} is already taken by ${this.ranges[other - 1]!.name}`);
    }
    this.ranges.push({ base, count, device, maxSize: device.ioMaxSize ?? 1, name });
    this.map.fill(this.ranges.length, base, base + count);
  }

  /** The name a port is registered under, if any. */
  owner(port: number): string | undefined {
    const i = this.map[port & 0xffff]!;
    return i ? this.ranges[i - 1]!.name : undefined;
  }

  read(port: number, size: IoSize): number {
    port &= 0xffff;
    const i = this.map[port]!;
    if (i) {
      const r = this.ranges[i - 1]!;
      if (size <= r.maxSize && port + size <= r.base + r.count) {
        return (r.device.ioRead(port - r.base, size) & ONES[size]) >>> 0;
      }
    } else if (size === 1) {
      return 0xff;
    }
    let v = 0;
    for (let k = 0; k < size; k++) v += this.read(port + k, 1) * 2 ** (8 * k);
    return v;
  }

  write(port: number, size: IoSize, value: number): void {
    port &= 0xffff;
    value = (value & ONES[size]) >>> 0;
    const i = this.map[port]!;
    if (i) {
      const r = this.ranges[i - 1]!;
      if (size <= r.maxSize && port + size <= r.base + r.count) {
        r.device.ioWrite(port - r.base, size, value);
        return;
      }
    } else if (size === 1) {
      return;
    }
    for (let k = 0; k < size; k++) this.write(port + k, 1, Math.floor(value / 2 ** (8 * k)) & 0xff);
  }
}

interface MmioRange {
  base: number;
  end: number; // exclusive
  device: MmioDevice;
  maxSize: MmioSize;
  name: string;
}

/** Physical addresses are numbers: they fit in 52 bits, well inside the safe-integer range. */
export class MmioBus {
  private ranges: MmioRange[] = []; // sorted by base, disjoint
  private last: MmioRange | undefined;

  register(base: number, size: number, device: MmioDevice, name = 'device'): void {
    const end = base + size;
    if (!Number.isSafeInteger(base) || !Number.isSafeInteger(size) || base < 0 || size < 1 || end > 2 ** 52) {
      throw new BusError(`bad MMIO range ${hex(base)}+${hex(size)} for ${name}`);
    }
    const maxSize = device.mmioMaxSize ?? 4;
    if (maxSize === 8 && (!device.mmioRead64 || !device.mmioWrite64)) {
      throw new BusError(`${name} claims 8-byte MMIO accesses but lacks mmioRead64/mmioWrite64`);
    }
    for (const r of this.ranges) {
      if (base < r.end && r.base < end) {
        throw new BusError(`MMIO range ${hex(base)}-${hex(end - 1)} of ${name} overlaps ${r.name} at ${hex(r.base)}-${hex(r.end - 1)}`);
      }
    }
    this.ranges.push({ base, end, device, maxSize, name });
    this.ranges.sort((a, b) => a.base - b.base);
  }

  /** The range holding addr, if any. */
  private find(addr: number): MmioRange | undefined {
    const l = this.last;
    if (l && addr >= l.base && addr < l.end) return l;
    let lo = 0;
    let hi = this.ranges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = this.ranges[mid]!;
      if (addr < r.base) hi = mid - 1;
      else if (addr >= r.end) lo = mid + 1;
      else return (this.last = r);
    }
    return undefined;
  }

  /** Whether some device decodes addr. */
  claims(addr: number): boolean {
    return this.find(addr) !== undefined;
  }

  owner(addr: number): string | undefined {
    return this.find(addr)?.name;
  }

  read(addr: number, size: 1 | 2 | 4): number {
    const r = this.find(addr);
    if (r && size <= r.maxSize && addr + size <= r.end) {
      return (r.device.mmioRead(addr - r.base, size) & ONES[size]) >>> 0;
    }
    if (!r && size === 1) return 0xff;
    let v = 0;
    for (let k = 0; k < size; k++) v += this.read(addr + k, 1) * 2 ** (8 * k);
    return v;
  }

  write(addr: number, size: 1 | 2 | 4, value: number): void {
    value = (value & ONES[size]) >>> 0;
    const r = this.find(addr);
    if (r && size <= r.maxSize && addr + size <= r.end) {
      r.device.mmioWrite(addr - r.base, size, value);
      return;
    }
    if (!r && size === 1) return;
    for (let k = 0; k < size; k++) this.write(addr + k, 1, Math.floor(value / 2 ** (8 * k)) & 0xff);
  }

  /** An 8-byte read: whole if the device takes it, else two 4-byte reads (low dword first). */
  read64(addr: number): bigint {
    const r = this.find(addr);
    if (r && r.maxSize === 8 && addr + 8 <= r.end) return BigInt.asUintN(64, r.device.mmioRead64!(addr - r.base));
    return BigInt(this.read(addr, 4)) | (BigInt(this.read(addr + 4, 4)) << 32n);
  }

  write64(addr: number, value: bigint): void {
    value = BigInt.asUintN(64, value);
    const r = this.find(addr);
    if (r && r.maxSize === 8 && addr + 8 <= r.end) {
      r.device.mmioWrite64!(addr - r.base, value);
      return;
    }
    this.write(addr, 4, Number(value & 0xffffffffn));
    this.write(addr + 4, 4, Number(value >> 32n));
  }
}
