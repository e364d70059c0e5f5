// ELF32/ELF64 little-endian reader: header, section headers, program headers, notes and symbols.
// Every offset and count is checked against the file, so a corrupt file gives an ElfError, never a TypeError
// or a silent out-of-range read. Addresses are bigints (64-bit kernels live above 2^53); file offsets and
// sizes are numbers (they must fit in the file anyway).

export class ElfError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ElfError';
  }
}

export const EM_386 = 3;
export const EM_X86_64 = 62;

export const ET_REL = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;
export const ET_CORE = 4;

export const PT_LOAD = 1;
export const PT_DYNAMIC = 2;
export const PT_INTERP = 3;
export const PT_NOTE = 4;

export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHT_DYNSYM = 11;

export const SHF_WRITE = 1;
export const SHF_ALLOC = 2;
export const SHF_EXECINSTR = 4;

export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;

/** Xen's note type for the PVH 32-bit entry point (owner "Xen"). */
export const XEN_ELFNOTE_PHYS32_ENTRY = 18;

export interface ElfHeader {
  bits: 32 | 64;
  /** e_type: ET_EXEC, ET_DYN ... */
  type: number;
  machine: number;
  entry: bigint;
  flags: number;
  phoff: number;
  shoff: number;
  phnum: number;
  shnum: number;
  shstrndx: number;
}

export interface ElfSection {
  index: number;
  name: string;
  type: number;
  flags: number;
  addr: bigint;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
}

export interface ElfSegment {
  type: number;
  /** PF_R | PF_W | PF_X */
  flags: number;
  offset: number;
  vaddr: bigint;
  paddr: bigint;
  filesz: number;
  memsz: number;
  align: number;
}

export interface ElfNote {
  /** Owner name without its NUL ("GNU", "Xen" ...). */
  name: string;
  type: number;
  desc: Uint8Array;
}

export interface ElfSymbol {
  name: string;
  value: bigint;
  size: number;
  /** STT_* (low 4 bits of st_info). */
  type: number;
  /** STB_* (high 4 bits of st_info). */
  bind: number;
  shndx: number;
}

export interface ElfOptions {
  /** Accepted e_machine values; default: EM_386 and EM_X86_64. Pass [] to accept any. */
  machines?: number[];
  /** Required class, if any. */
  bits?: 32 | 64;
}

/** A little-endian reader over the file that throws ElfError instead of reading past the end. */
class Reader {
  private readonly view: DataView;
  constructor(
    readonly data: Uint8Array,
    private readonly bits: 32 | 64,
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }
  check(off: number, len: number, what: string): void {
    if (!Number.isSafeInteger(off) || off < 0 || len < 0 || off + len > this.data.length) {
      throw new ElfError(`${what} out of range (offset ${hex(off)}, ${len} bytes, file is ${this.data.length} bytes)`);
    }
  }
  u8(off: number): number {
    return this.view.getUint8(off);
  }
  u16(off: number): number {
    return this.view.getUint16(off, true);
  }
  u32(off: number): number {
    return this.view.getUint32(off, true);
  }
  u64(off: number): bigint {
    return this.view.getBigUint64(off, true);
  }
  /** An address-sized field (4 or 8 bytes) as a bigint. */
  addr(off: number): bigint {
    return this.bits === 64 ? this.u64(off) : BigInt(this.u32(off));
  }
  /** An address-sized field used as an offset or size: must be a safe integer. */
  num(off: number, what: string): number {
    const v = this.addr(off);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ElfError(`${what} too large (${hex(v)})`);
    return Number(v);
  }
  cstr(off: number, end: number, what: string): string {
    if (off < 0 || off >= end || end > this.data.length) throw new ElfError(`${what} out of range`);
    let i = off;
    while (i < end && this.data[i] !== 0) i++;
    if (i === end) throw new ElfError(`${what} is not NUL-terminated`);
    return new TextDecoder().decode(this.data.subarray(off, i));
  }
}

const hex = (v: number | bigint): string => '0x' + v.toString(16);

export class ElfFile {
  readonly header: ElfHeader;
  readonly sections: ElfSection[];
  readonly segments: ElfSegment[];
  private readonly r: Reader;

  constructor(
    readonly data: Uint8Array,
    options: ElfOptions = {},
  ) {
    if (data.length < 16 || data[0] !== 0x7f || data[1] !== 0x45 || data[2] !== 0x4c || data[3] !== 0x46) {
      throw new ElfError('not an ELF file (bad magic)');
    }
    const cls = data[4];
    if (cls !== 1 && cls !== 2) throw new ElfError(`bad ELF class ${cls}`);
    const bits = cls === 1 ? 32 : 64;
    if (data[5] !== 1) throw new ElfError(data[5] === 2 ? 'big-endian ELF files are not supported' : `bad ELF data encoding ${data[5]}`);
    if (data[6] !== 1) throw new ElfError(`bad ELF version ${data[6]}`);
    if (options.bits && options.bits !== bits) throw new ElfError(`expected an ELF${options.bits} file, got ELF${bits}`);
    const r = (this.r = new Reader(data, bits));
    const ehsize = bits === 64 ? 64 : 52;
    r.check(0, ehsize, 'ELF header');
    const w = bits === 64 ? 8 : 4; // address-sized field width
    const machine = r.u16(18);
    const machines = options.machines ?? [EM_386, EM_X86_64];
    if (machines.length && !machines.includes(machine)) throw new ElfError(`not an x86 ELF file (machine ${machine})`);
    const o = 24 + 3 * w; // e_flags
    this.header = {
      bits,
      type: r.u16(16),
      machine,
      entry: r.addr(24),
      phoff: r.num(24 + w, 'e_phoff'),
      shoff: r.num(24 + 2 * w, 'e_shoff'),
      flags: r.u32(o),
      phnum: r.u16(o + 8),
      shnum: r.u16(o + 12),
      shstrndx: r.u16(o + 14),
    };
    const phentsize = r.u16(o + 6);
    const shentsize = r.u16(o + 10);
    this.segments = this.readSegments(phentsize);
    this.sections = this.readSections(shentsize);
  }

  get bits(): 32 | 64 {
    return this.header.bits;
  }

  private readSegments(entsize: number): ElfSegment[] {
    const { bits, phoff, phnum } = this.header;
    const r = this.r;
    if (phnum === 0) return [];
    const need = bits === 64 ? 56 : 32;
    if (entsize < need) throw new ElfError(`bad program header entry size ${entsize}`);
    r.check(phoff, phnum * entsize, 'program header table');
    const out: ElfSegment[] = [];
    for (let i = 0; i < phnum; i++) {
      const p = phoff + i * entsize;
      const s: ElfSegment =
        bits === 64
          ? {
              type: r.u32(p),
              flags: r.u32(p + 4),
              offset: r.num(p + 8, 'p_offset'),
              vaddr: r.u64(p + 16),
              paddr: r.u64(p + 24),
              filesz: r.num(p + 32, 'p_filesz'),
              memsz: r.num(p + 40, 'p_memsz'),
              align: r.num(p + 48, 'p_align'),
            }
          : {
              type: r.u32(p),
              offset: r.u32(p + 4),
              vaddr: BigInt(r.u32(p + 8)),
              paddr: BigInt(r.u32(p + 12)),
              filesz: r.u32(p + 16),
              memsz: r.u32(p + 20),
              flags: r.u32(p + 24),
              align: r.u32(p + 28),
            };
      r.check(s.offset, s.filesz, `program header ${i} contents`);
      if (s.type === PT_LOAD && s.filesz > s.memsz) throw new ElfError(`program header ${i}: p_filesz > p_memsz`);
      out.push(s);
    }
    return out;
  }

  private readSections(entsize: number): ElfSection[] {
    const { bits, shoff } = this.header;
    const r = this.r;
    if (shoff === 0) return [];
    const need = bits === 64 ? 64 : 40;
    if (entsize < need) throw new ElfError(`bad section header entry size ${entsize}`);
    r.check(shoff, entsize, 'section header table');
    const raw = (i: number): ElfSection => {
      const p = shoff + i * entsize;
      const w = bits === 64 ? 8 : 4;
      return {
        index: i,
        name: '',
        type: r.u32(p + 4),
        flags: Number(r.addr(p + 8) & 0xffffffffn),
        addr: r.addr(p + 8 + w),
        offset: r.num(p + 8 + 2 * w, 'sh_offset'),
        size: r.num(p + 8 + 3 * w, 'sh_size'),
        link: r.u32(p + 8 + 4 * w),
        info: r.u32(p + 12 + 4 * w),
        addralign: r.num(p + 16 + 4 * w, 'sh_addralign'),
        entsize: r.num(p + 16 + 5 * w, 'sh_entsize'),
      };
    };
    // Extended numbering: with more than 0xff00 sections the real counts live in section 0.
    const first = raw(0);
    let shnum = this.header.shnum;
    let shstrndx = this.header.shstrndx;
    if (shnum === 0) shnum = first.size;
    if (shstrndx === 0xffff) shstrndx = first.link;
    this.header.shnum = shnum;
    this.header.shstrndx = shstrndx;
    r.check(shoff, shnum * entsize, 'section header table');
    const out: ElfSection[] = [];
    for (let i = 0; i < shnum; i++) {
      const s = i === 0 ? first : raw(i);
      if (s.type !== SHT_NOBITS && s.type !== 0) r.check(s.offset, s.size, `section ${i} contents`);
      out.push(s);
    }
    if (shstrndx !== 0) {
      const strtab = out[shstrndx];
      if (!strtab) throw new ElfError(`section name table index ${shstrndx} out of range`);
      if (strtab.type !== SHT_STRTAB) throw new ElfError(`section name table (section ${shstrndx}) is not a string table`);
      const end = strtab.offset + strtab.size;
      for (const s of out) {
        const nameOff = r.u32(shoff + s.index * entsize);
        if (s.index === 0 && nameOff === 0) continue;
        s.name = r.cstr(strtab.offset + nameOff, end, `name of section ${s.index}`);
      }
    }
    return out;
  }

  /** The bytes of a section (empty for SHT_NOBITS). */
  sectionData(s: ElfSection): Uint8Array {
    if (s.type === SHT_NOBITS || s.type === 0) return new Uint8Array(0);
    return this.data.subarray(s.offset, s.offset + s.size);
  }

  /** The file bytes of a segment (p_filesz of them). */
  segmentData(p: ElfSegment): Uint8Array {
    return this.data.subarray(p.offset, p.offset + p.filesz);
  }

  section(name: string): ElfSection | undefined {
    return this.sections.find((s) => s.name === name);
  }

  /** Notes from PT_NOTE segments, or from SHT_NOTE sections when the file has no program headers. */
  notes(): ElfNote[] {
    const out: ElfNote[] = [];
    const notePhdrs = this.segments.filter((p) => p.type === PT_NOTE);
    if (notePhdrs.length) {
      for (const p of notePhdrs) out.push(...this.parseNotes(this.segmentData(p), p.align, `note segment at ${hex(p.offset)}`));
    } else {
      for (const s of this.sections) {
        if (s.type === SHT_NOTE) out.push(...this.parseNotes(this.sectionData(s), s.addralign, `note section ${s.name}`));
      }
    }
    return out;
  }

  private parseNotes(buf: Uint8Array, align: number, what: string): ElfNote[] {
    // Notes are 4-byte aligned, except GNU property notes in ELF64 segments with p_align 8.
    const a = align === 8 ? 8 : 4;
    const up = (n: number): number => Math.ceil(n / a) * a;
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const out: ElfNote[] = [];
    let p = 0;
    while (p + 12 <= buf.length) {
      const namesz = view.getUint32(p, true);
      const descsz = view.getUint32(p + 4, true);
      const type = view.getUint32(p + 8, true);
      const nameOff = p + 12;
      const descOff = up(nameOff + namesz); // padding is relative to the start of the note data
      if (descOff > buf.length || descOff + descsz > buf.length) throw new ElfError(`${what}: truncated note`);
      let nameEnd = nameOff + namesz;
      while (nameEnd > nameOff && buf[nameEnd - 1] === 0) nameEnd--;
      out.push({
        name: new TextDecoder().decode(buf.subarray(nameOff, nameEnd)),
        type,
        desc: buf.subarray(descOff, descOff + descsz),
      });
      p = up(descOff + descsz);
    }
    if (p < buf.length && buf.length - p >= 4) throw new ElfError(`${what}: truncated note header`);
    return out;
  }

  /** Symbols of .symtab (or .dynsym when there is no .symtab). */
  symbols(): ElfSymbol[] {
    const tab = this.sections.find((s) => s.type === SHT_SYMTAB) ?? this.sections.find((s) => s.type === SHT_DYNSYM);
    if (!tab) return [];
    const strtab = this.sections[tab.link];
    if (!strtab || strtab.type !== SHT_STRTAB) throw new ElfError(`symbol table ${tab.name}: bad string table link ${tab.link}`);
    const r = this.r;
    const size = this.bits === 64 ? 24 : 16;
    if (tab.entsize !== 0 && tab.entsize < size) throw new ElfError(`symbol table ${tab.name}: bad entry size ${tab.entsize}`);
    const ent = tab.entsize || size;
    const strEnd = strtab.offset + strtab.size;
    const out: ElfSymbol[] = [];
    for (let i = 0; i + ent <= tab.size; i += ent) {
      const p = tab.offset + i;
      const nameOff = r.u32(p);
      const name = nameOff === 0 ? '' : r.cstr(strtab.offset + nameOff, strEnd, `name of symbol ${i / ent}`);
      if (this.bits === 64) {
        const info = r.u8(p + 4);
        out.push({ name, type: info & 15, bind: info >> 4, shndx: r.u16(p + 6), value: r.u64(p + 8), size: r.num(p + 16, 'st_size') });
      } else {
        const info = r.u8(p + 12);
        out.push({ name, value: BigInt(r.u32(p + 4)), size: r.u32(p + 8), type: info & 15, bind: info >> 4, shndx: r.u16(p + 14) });
      }
    }
    return out;
  }
}

/** Parses an ELF file; throws ElfError with a one-line message if it is malformed. */
export function parseElf(data: Uint8Array, options?: ElfOptions): ElfFile {
  return new ElfFile(data, options);
}
