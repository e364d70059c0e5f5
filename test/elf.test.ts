// The ELF reader: hand-built ELF32/ELF64 files, real files cross-checked with readelf, and corrupt files
// (every one must give an ElfError, never a TypeError/RangeError).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ElfError, EM_386, EM_X86_64, parseElf, PF_R, PF_X, PT_LOAD, PT_NOTE, SHF_ALLOC, SHF_EXECINSTR, SHT_NOTE,
  SHT_PROGBITS, SHT_STRTAB, SHT_SYMTAB, XEN_ELFNOTE_PHYS32_ENTRY,
} from '../src/machine/elf.ts';
import { scratchDir } from './util/gnu.ts';

// ---------------------------------------------------------------------------------------------------------------
// A small ELF writer for the tests

interface SectionIn {
  name: string;
  type: number;
  flags?: number;
  addr?: bigint;
  data: Uint8Array;
  link?: number;
  entsize?: number;
  align?: number;
}
interface SegmentIn {
  type: number;
  flags: number;
  vaddr: bigint;
  /** Index into `sections` of the section whose bytes the segment maps. */
  section: number;
  memsz?: number;
  align?: number;
}

function note(name: string, type: number, desc: number[]): Uint8Array {
  const n = new TextEncoder().encode(name + '\0');
  const pad = (x: number): number => (x + 3) & ~3;
  const out = new Uint8Array(12 + pad(n.length) + pad(desc.length));
  const v = new DataView(out.buffer);
  v.setUint32(0, n.length, true);
  v.setUint32(4, desc.length, true);
  v.setUint32(8, type, true);
  out.set(n, 12);
  out.set(desc, 12 + pad(n.length));
  return out;
}

function buildElf(bits: 32 | 64, machine: number, entry: bigint, sectionsIn: SectionIn[], segments: SegmentIn[] = []): Uint8Array {
  const w = bits === 64 ? 8 : 4;
  const ehsize = bits === 64 ? 64 : 52;
  const phentsize = bits === 64 ? 56 : 32;
  const shentsize = bits === 64 ? 64 : 40;
  // Section 0 is the null section; the last one is .shstrtab.
  const names = ['', ...sectionsIn.map((s) => s.name), '.shstrtab'];
  const nameOff: number[] = [];
  let strtab = '';
  for (const n of names) {
    nameOff.push(strtab.length);
    strtab += n + '\0';
  }
  const all: SectionIn[] = [
    { name: '', type: 0, data: new Uint8Array(0) },
    ...sectionsIn,
    { name: '.shstrtab', type: SHT_STRTAB, data: new TextEncoder().encode(strtab) },
  ];
  let off = ehsize + segments.length * phentsize;
  const offsets: number[] = [];
  for (const s of all) {
    off = (off + 7) & ~7;
    offsets.push(s.type === 0 ? 0 : off);
    off += s.type === 0 ? 0 : s.data.length;
  }
  const shoff = (off + 7) & ~7;
  const total = shoff + all.length * shentsize;
  const buf = new Uint8Array(total);
  const v = new DataView(buf.buffer);
  const addr = (o: number, x: bigint): void => (bits === 64 ? v.setBigUint64(o, x, true) : v.setUint32(o, Number(x), true));
  buf.set([0x7f, 0x45, 0x4c, 0x46, bits === 64 ? 2 : 1, 1, 1]);
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, machine, true);
  v.setUint32(20, 1, true);
  addr(24, entry);
  addr(24 + w, BigInt(segments.length ? ehsize : 0));
  addr(24 + 2 * w, BigInt(shoff));
  const o = 24 + 3 * w;
  v.setUint16(o + 4, ehsize, true);
  v.setUint16(o + 6, phentsize, true);
  v.setUint16(o + 8, segments.length, true);
  v.setUint16(o + 10, shentsize, true);
  v.setUint16(o + 12, all.length, true);
  v.setUint16(o + 14, all.length - 1, true);
  segments.forEach((p, i) => {
    const q = ehsize + i * phentsize;
    const s = all[p.section + 1]!;
    const fo = offsets[p.section + 1]!;
    if (bits === 64) {
      v.setUint32(q, p.type, true);
      v.setUint32(q + 4, p.flags, true);
      v.setBigUint64(q + 8, BigInt(fo), true);
      v.setBigUint64(q + 16, p.vaddr, true);
      v.setBigUint64(q + 24, p.vaddr, true);
      v.setBigUint64(q + 32, BigInt(s.data.length), true);
      v.setBigUint64(q + 40, BigInt(p.memsz ?? s.data.length), true);
      v.setBigUint64(q + 48, BigInt(p.align ?? 4), true);
    } else {
      v.setUint32(q, p.type, true);
      v.setUint32(q + 4, fo, true);
      v.setUint32(q + 8, Number(p.vaddr), true);
      v.setUint32(q + 12, Number(p.vaddr), true);
      v.setUint32(q + 16, s.data.length, true);
      v.setUint32(q + 20, p.memsz ?? s.data.length, true);
      v.setUint32(q + 24, p.flags, true);
      v.setUint32(q + 28, p.align ?? 4, true);
    }
  });
  all.forEach((s, i) => {
    buf.set(s.data, offsets[i]!);
    const q = shoff + i * shentsize;
    v.setUint32(q, nameOff[i]!, true);
    v.setUint32(q + 4, s.type, true);
    addr(q + 8, BigInt(s.flags ?? 0));
    addr(q + 8 + w, s.addr ?? 0n);
    addr(q + 8 + 2 * w, BigInt(offsets[i]!));
    addr(q + 8 + 3 * w, BigInt(s.data.length));
    v.setUint32(q + 8 + 4 * w, s.link ?? 0, true);
    addr(q + 16 + 4 * w, BigInt(s.align ?? 1));
    addr(q + 16 + 5 * w, BigInt(s.entsize ?? 0));
  });
  return buf;
}

/** A symbol table with one FUNC symbol `start` at `value`, for ELF64 or ELF32. */
function symtab(bits: 32 | 64, value: bigint): { syms: Uint8Array; strs: Uint8Array } {
  const strs = new TextEncoder().encode('\0start\0');
  const size = bits === 64 ? 24 : 16;
  const syms = new Uint8Array(2 * size);
  const v = new DataView(syms.buffer);
  v.setUint32(size, 1, true);
  if (bits === 64) {
    syms[size + 4] = 0x12; // GLOBAL FUNC
    v.setUint16(size + 6, 1, true);
    v.setBigUint64(size + 8, value, true);
    v.setBigUint64(size + 16, 5n, true);
  } else {
    v.setUint32(size + 4, Number(value), true);
    v.setUint32(size + 8, 5, true);
    syms[size + 12] = 0x12;
    v.setUint16(size + 14, 1, true);
  }
  return { syms, strs };
}

function sample(bits: 32 | 64): Uint8Array {
  const code = new Uint8Array([0x90, 0x90, 0xc3, 0xcc, 0xcc]);
  const { syms, strs } = symtab(bits, 0x100000n);
  const xen = note('Xen', XEN_ELFNOTE_PHYS32_ENTRY, [0x00, 0x00, 0x10, 0x00]);
  return buildElf(
    bits,
    bits === 64 ? EM_X86_64 : EM_386,
    0x100000n,
    [
      { name: '.text', type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_EXECINSTR, addr: 0x100000n, data: code, align: 16 },
      { name: '.note.Xen', type: SHT_NOTE, flags: SHF_ALLOC, addr: 0x100100n, data: xen, align: 4 },
      { name: '.symtab', type: SHT_SYMTAB, data: syms, link: 4, entsize: bits === 64 ? 24 : 16 },
      { name: '.strtab', type: SHT_STRTAB, data: strs },
    ],
    [
      { type: PT_LOAD, flags: PF_R | PF_X, vaddr: 0x100000n, section: 0, memsz: 0x1000 },
      { type: PT_NOTE, flags: PF_R, vaddr: 0x100100n, section: 1 },
    ],
  );
}

// ---------------------------------------------------------------------------------------------------------------

describe('ELF reader: hand-built files', () => {
  for (const bits of [64, 32] as const) {
    it(`reads an ELF${bits} header, sections, segments, notes and symbols`, () => {
      const elf = parseElf(sample(bits));
      expect(elf.bits).toBe(bits);
      expect(elf.header.machine).toBe(bits === 64 ? EM_X86_64 : EM_386);
      expect(elf.header.entry).toBe(0x100000n);
      expect(elf.sections.map((s) => s.name)).toEqual(['', '.text', '.note.Xen', '.symtab', '.strtab', '.shstrtab']);
      const text = elf.section('.text')!;
      expect(text.addr).toBe(0x100000n);
      expect(text.flags & SHF_EXECINSTR).toBeTruthy();
      expect(Array.from(elf.sectionData(text))).toEqual([0x90, 0x90, 0xc3, 0xcc, 0xcc]);
      expect(elf.segments).toHaveLength(2);
      const load = elf.segments[0]!;
      expect(load).toMatchObject({ type: PT_LOAD, flags: PF_R | PF_X, vaddr: 0x100000n, filesz: 5, memsz: 0x1000 });
      expect(Array.from(elf.segmentData(load))).toEqual([0x90, 0x90, 0xc3, 0xcc, 0xcc]);
      const notes = elf.notes();
      expect(notes).toHaveLength(1);
      expect(notes[0]!.name).toBe('Xen');
      expect(notes[0]!.type).toBe(XEN_ELFNOTE_PHYS32_ENTRY);
      expect(new DataView(notes[0]!.desc.buffer, notes[0]!.desc.byteOffset).getUint32(0, true)).toBe(0x100000);
      const syms = elf.symbols();
      expect(syms.map((s) => [s.name, s.value, s.size, s.type, s.bind])).toEqual([
        ['', 0n, 0, 0, 0],
        ['start', 0x100000n, 5, 2, 1],
      ]);
    });
  }

  it('reads 64-bit addresses above 2^53 exactly', () => {
    const text = { name: '.text', type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_EXECINSTR, addr: 0xffffffff81000000n, data: new Uint8Array([0xc3]) };
    const elf = parseElf(buildElf(64, EM_X86_64, 0xffffffff81000000n, [text], [{ type: PT_LOAD, flags: PF_R | PF_X, vaddr: 0xffffffff81000000n, section: 0 }]));
    expect(elf.header.entry).toBe(0xffffffff81000000n);
    expect(elf.section('.text')!.addr).toBe(0xffffffff81000000n);
    expect(elf.segments[0]!.vaddr).toBe(0xffffffff81000000n);
  });

  it('takes notes from SHT_NOTE sections when there are no program headers', () => {
    const n = note('GNU', 3, [1, 2, 3, 4, 5, 6, 7, 8]);
    const elf = parseElf(buildElf(64, EM_X86_64, 0n, [{ name: '.note.gnu.build-id', type: SHT_NOTE, data: n, align: 4 }]));
    expect(elf.notes().map((x) => [x.name, x.type, Array.from(x.desc)])).toEqual([['GNU', 3, [1, 2, 3, 4, 5, 6, 7, 8]]]);
  });

  it('restricts machine and class on request', () => {
    expect(() => parseElf(sample(64), { bits: 32 })).toThrow(/expected an ELF32 file/);
    expect(() => parseElf(sample(32), { machines: [EM_X86_64] })).toThrow(/machine 3/);
    const arm = buildElf(32, 40, 0n, []);
    expect(() => parseElf(arm)).toThrow(/not an x86 ELF file \(machine 40\)/);
    expect(parseElf(arm, { machines: [] }).header.machine).toBe(40);
  });
});

// ---------------------------------------------------------------------------------------------------------------

function corrupt(bits: 32 | 64, edit: (b: Uint8Array, v: DataView) => void): Uint8Array {
  const b = sample(bits).slice();
  edit(b, new DataView(b.buffer));
  return b;
}

/** Parses and touches everything a loader would; returns the ElfError message (fails on other errors). */
function load(b: Uint8Array): string {
  try {
    const elf = parseElf(b);
    for (const s of elf.sections) elf.sectionData(s);
    for (const p of elf.segments) elf.segmentData(p);
    elf.notes();
    elf.symbols();
    return '';
  } catch (e) {
    if (e instanceof ElfError) return e.message;
    throw e;
  }
}

describe('ELF reader: corrupt files', () => {
  const shoff64 = (b: Uint8Array): number => Number(new DataView(b.buffer).getBigUint64(40, true));
  const cases: [string, Uint8Array, RegExp][] = [
    ['empty file', new Uint8Array(0), /bad magic/],
    ['bad magic', corrupt(64, (b) => (b[1] = 0x46)), /bad magic/],
    ['truncated header', sample(64).slice(0, 40), /ELF header out of range/],
    ['bad class', corrupt(64, (b) => (b[4] = 3)), /bad ELF class 3/],
    ['big-endian', corrupt(64, (b) => (b[5] = 2)), /big-endian/],
    ['bad version', corrupt(64, (b) => (b[6] = 0)), /bad ELF version/],
    ['program headers past the end', corrupt(64, (_, v) => v.setBigUint64(32, 1n << 20n, true)), /program header table out of range/],
    ['huge program header offset', corrupt(64, (_, v) => v.setBigUint64(32, 1n << 62n, true)), /e_phoff too large/],
    ['small phentsize', corrupt(64, (_, v) => v.setUint16(54, 20, true)), /program header entry size/],
    ['segment contents past the end', corrupt(64, (_, v) => v.setBigUint64(64 + 32, 1n << 30n, true)), /program header 0 contents out of range/],
    ['filesz > memsz', corrupt(64, (_, v) => v.setBigUint64(64 + 40, 1n, true)), /p_filesz > p_memsz/],
    ['section headers past the end', corrupt(64, (_, v) => v.setBigUint64(40, 1n << 24n, true)), /section header table out of range/],
    ['too many sections', corrupt(64, (_, v) => v.setUint16(60, 200, true)), /section header table out of range/],
    ['section contents past the end', corrupt(64, (b, v) => v.setBigUint64(shoff64(b) + 64 + 24, 1n << 40n, true)), /section 1 contents out of range/],
    ['name table index out of range', corrupt(64, (_, v) => v.setUint16(62, 99, true)), /section name table index 99/],
    ['name table not a string table', corrupt(64, (_, v) => v.setUint16(62, 1, true)), /not a string table/],
    ['section name past the table', corrupt(64, (b, v) => v.setUint32(shoff64(b) + 64, 0xffff, true)), /name of section 1 out of range/],
    ['truncated note', corrupt(64, (b) => b.set([0xff, 0, 0, 0], sample(64).indexOf(0x58, 64) - 12 + 4)), /truncated note/],
    ['symbol string table link', corrupt(64, (b, v) => v.setUint32(shoff64(b) + 3 * 64 + 40, 9, true)), /bad string table link/],
    ['32-bit: truncated header', sample(32).slice(0, 50), /ELF header out of range/],
    ['32-bit: program headers past the end', corrupt(32, (_, v) => v.setUint32(28, 1 << 20, true)), /program header table out of range/],
  ];
  for (const [what, bytes, message] of cases) {
    it(what, () => {
      expect(load(bytes)).toMatch(message);
    });
  }

  it('random corruption gives ElfError or a usable file, never another exception', () => {
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    let errors = 0;
    for (const bits of [32, 64] as const) {
      const good = sample(bits);
      for (let i = 0; i < 3000; i++) {
        const b = good.slice();
        const edits = 1 + rnd(4);
        for (let k = 0; k < edits; k++) b[rnd(b.length)] = rnd(4) === 0 ? 0xff : rnd(256);
        const cut = rnd(8) === 0 ? rnd(b.length) : b.length;
        if (load(b.subarray(0, cut))) errors++;
      }
    }
    expect(errors).toBeGreaterThan(100);
  });
});

// ---------------------------------------------------------------------------------------------------------------

/** Section table from `readelf -SW`: name, address, offset, size. */
function readelfSections(file: string): [string, bigint, number, number][] {
  const out = execFileSync('readelf', ['-SW', file], { encoding: 'utf8' });
  const rows: [string, bigint, number, number][] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*\[\s*(\d+)\]\s+(\S*)\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)/.exec(line);
    if (m && m[1] !== '0') rows.push([m[2]!, BigInt('0x' + m[3]), parseInt(m[4]!, 16), parseInt(m[5]!, 16)]);
  }
  return rows;
}

describe('ELF reader: real files', () => {
  for (const file of ['/usr/bin/ls', '/usr/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2']) {
    it(`${file} matches readelf`, () => {
      const elf = parseElf(new Uint8Array(readFileSync(file)));
      expect(elf.bits).toBe(64);
      const ours = elf.sections.filter((s) => s.index > 0).map((s) => [s.name, s.addr, s.offset, s.size]);
      expect(ours).toEqual(readelfSections(file));
      expect(elf.notes().some((n) => n.name === 'GNU')).toBe(true);
      expect(elf.symbols().length).toBeGreaterThan(10);
    });
  }

  it('a 32-bit executable with a Xen PVH note, linked by ld', () => {
    const dir = scratchDir();
    const src = join(dir, 'pvh32.s');
    writeFileSync(
      src,
      [
        '.section .note.Xen, "a", @note',
        '.align 4',
        '.long 4, 4, 18',
        '.asciz "Xen"',
        '.long _start',
        '.text',
        '.globl _start',
        '_start: cli',
        'hlt',
      ].join('\n') + '\n',
    );
    execFileSync('as', ['--32', '-o', join(dir, 'pvh32.o'), src]);
    execFileSync('ld', ['-m', 'elf_i386', '-Ttext=0x100000', '-o', join(dir, 'pvh32'), join(dir, 'pvh32.o')]);
    const elf = parseElf(new Uint8Array(readFileSync(join(dir, 'pvh32'))));
    expect(elf.bits).toBe(32);
    expect(elf.header.machine).toBe(EM_386);
    expect(elf.header.entry).toBe(0x100000n);
    const pvh = elf.notes().find((n) => n.name === 'Xen' && n.type === XEN_ELFNOTE_PHYS32_ENTRY)!;
    expect(new DataView(pvh.desc.buffer, pvh.desc.byteOffset).getUint32(0, true)).toBe(0x100000);
    expect(elf.symbols().find((s) => s.name === '_start')!.value).toBe(0x100000n);
    expect(elf.sections.map((s) => s.name)).toEqual(['', ...readelfSections(join(dir, 'pvh32')).map((r) => r[0])]);
  });
});
