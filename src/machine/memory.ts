// Guest RAM lives in one WebAssembly.Memory: guest physical address 0 is offset 0, so the interpreter, the JIT'd
// wasm code and KVM (through the buffer's host address) share it without copies. An optional area after RAM is
// reserved for the CPU's own state (registers, TLB); guest physical accesses never reach it.

export const WASM_PAGE = 0x10000;
/** Largest guest RAM: wasm32 addresses 4 GiB and the 32-bit PCI hole starts at 3.5 GiB. */
export const MAX_RAM_SIZE = 0xe000_0000;
const MAX_TOTAL = 0x1_0000_0000;

export class GuestMemoryError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'GuestMemoryError';
  }
}

export interface GuestMemoryOptions {
  /** Bytes reserved after RAM for the CPU's state (rounded up to 64 KiB). */
  extraBytes?: number;
  /** Allow the memory to grow to this many bytes in all (default: no growth). */
  maximumBytes?: number;
}

const hex = (v: number): string => '0x' + v.toString(16);

export class GuestMemory {
  readonly memory: WebAssembly.Memory;
  readonly ramSize: number;
  /** Offset of the reserved area after RAM (equals ramSize). */
  readonly extraBase: number;
  readonly extraSize: number;
  private buffer: ArrayBuffer | undefined;
  private u8View: Uint8Array | undefined;
  private dv: DataView | undefined;

  constructor(ramSize: number, options: GuestMemoryOptions = {}) {
    if (!Number.isSafeInteger(ramSize) || ramSize <= 0 || ramSize % WASM_PAGE !== 0) {
      throw new GuestMemoryError(`RAM size ${ramSize} is not a positive multiple of 64 KiB`);
    }
    if (ramSize > MAX_RAM_SIZE) throw new GuestMemoryError(`RAM size ${hex(ramSize)} exceeds the maximum ${hex(MAX_RAM_SIZE)}`);
    const extra = options.extraBytes ?? 0;
    if (!Number.isSafeInteger(extra) || extra < 0) throw new GuestMemoryError(`bad extra size ${extra}`);
    const extraSize = Math.ceil(extra / WASM_PAGE) * WASM_PAGE;
    const total = ramSize + extraSize;
    if (total > MAX_TOTAL) throw new GuestMemoryError(`RAM plus reserved area (${hex(total)}) exceeds 4 GiB`);
    const initial = total / WASM_PAGE;
    const maxBytes = options.maximumBytes ?? total;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < total || maxBytes > MAX_TOTAL) {
      throw new GuestMemoryError(`bad maximum size ${maxBytes}`);
    }
    this.memory = new WebAssembly.Memory({ initial, maximum: Math.ceil(maxBytes / WASM_PAGE) });
    this.ramSize = ramSize;
    this.extraBase = ramSize;
    this.extraSize = extraSize;
  }

  /** A byte view of the whole memory; re-taken automatically when memory.grow detached the old buffer. */
  bytes(): Uint8Array {
    this.refresh();
    return this.u8View!;
  }

  /** A DataView of the whole memory (refreshed like bytes()). */
  view(): DataView {
    this.refresh();
    return this.dv!;
  }

  private refresh(): void {
    const buf = this.memory.buffer;
    if (buf !== this.buffer) {
      this.buffer = buf;
      this.u8View = new Uint8Array(buf);
      this.dv = new DataView(buf);
    }
  }

  /** Whether [addr, addr+len) lies inside guest RAM. */
  contains(addr: number, len: number): boolean {
    return Number.isSafeInteger(addr) && Number.isSafeInteger(len) && addr >= 0 && len >= 0 && addr + len <= this.ramSize;
  }

  private check(addr: number, len: number): void {
    if (!this.contains(addr, len)) {
      throw new GuestMemoryError(`guest access ${hex(addr)}+${len} outside RAM (${hex(this.ramSize)} bytes)`);
    }
  }

  readU8(addr: number): number {
    this.check(addr, 1);
    return this.bytes()[addr]!;
  }
  readU16(addr: number): number {
    this.check(addr, 2);
    return this.view().getUint16(addr, true);
  }
  readU32(addr: number): number {
    this.check(addr, 4);
    return this.view().getUint32(addr, true);
  }
  readU64(addr: number): bigint {
    this.check(addr, 8);
    return this.view().getBigUint64(addr, true);
  }

  writeU8(addr: number, v: number): void {
    this.check(addr, 1);
    this.bytes()[addr] = v;
  }
  writeU16(addr: number, v: number): void {
    this.check(addr, 2);
    this.view().setUint16(addr, v, true);
  }
  writeU32(addr: number, v: number): void {
    this.check(addr, 4);
    this.view().setUint32(addr, v >>> 0, true);
  }
  writeU64(addr: number, v: bigint | number): void {
    this.check(addr, 8);
    this.view().setBigUint64(addr, BigInt.asUintN(64, BigInt(v)), true);
  }

  /** A copy of guest bytes. */
  read(addr: number, len: number): Uint8Array {
    this.check(addr, len);
    return this.bytes().slice(addr, addr + len);
  }

  write(addr: number, data: Uint8Array): void {
    this.check(addr, data.length);
    this.bytes().set(data, addr);
  }

  fill(addr: number, len: number, value = 0): void {
    this.check(addr, len);
    this.bytes().fill(value, addr, addr + len);
  }

  /** A NUL-terminated string at addr (UTF-8), at most maxLen bytes before the NUL. */
  readCString(addr: number, maxLen = 4096): string {
    this.check(addr, 1);
    const b = this.bytes();
    let end = addr;
    while (end < this.ramSize && end - addr <= maxLen && b[end] !== 0) end++;
    if (end >= this.ramSize || b[end] !== 0) throw new GuestMemoryError(`no NUL-terminated string at ${hex(addr)}`);
    return new TextDecoder().decode(b.subarray(addr, end));
  }
}
