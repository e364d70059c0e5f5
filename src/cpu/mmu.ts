// Segmentation, paging and the software TLB.
//
// The TLB lives in the WebAssembly.Memory right after the CPU state block, so JIT'd code can check it inline:
// two direct-mapped tables (supervisor, user accesses) of TLB_ENTRIES entries of 32 bytes:
//   +0  read tag  (i64: linear >> 12, or -1)      +16 exec tag (i64)
//   +8  write tag (i64)                            +24 addend (u32): physical page - (linear & ~0xfff), mod 2^32,
//                                                      so physical = (linear + addend) mod 2^32 (no masking)
//                                                  +28 flags (u32: TLB_GLOBAL, TLB_WCODE, and the page size's
//                                                      shift in bits 8-15 for pages above 4 KiB)
// A tag is set only when that access is allowed at that privilege with no side effect left to do: the write tag
// needs the dirty bit already set, RAM (not MMIO), and a page that holds no translated code. Everything else takes
// the slow path here: page walk, accessed/dirty updates, #PF, MMIO, self-modifying-code detection. A write that is
// allowed but untagged only because the page holds code is marked TLB_WCODE, so the slow path needs no page walk.
import * as L from './layout.ts';
import { GuestFault, Vec } from './fault.ts';
import { carryHi } from './words.ts';

// Direct-mapped, so two pages TLB_ENTRIES pages apart evict each other. With 1024 entries (4 MiB apart) a Linux
// boot walked the page tables ~1 M times (bzImage): the decompressor's output sweeps 16,000 pages while its
// state sits in a few, and each time the sweep crossed a hot page's slot the two alternated for a whole page; the
// kernel's text and the boot data at 0x1000 shared slots. 8192 entries: 280 k walks (4096: 324 k); the sweep
// still crossed the slots of its input and state pages, 129 k walks and 70 k slow reads of compiled code before
// the kernel's first line. 32768 entries (128 MiB apart: the whole decompression fits) take 2 MiB after the state
// block: 28 k walks and 3 k slow reads there, 98 k walks to /init (212 k with 8192).
export const TLB_ENTRIES = 32768;
export const TLB_ENTRY = 32;
export const TLB_OFFSET = L.STATE_SIZE; // from the state block base
export const TLB_SIZE = 2 * TLB_ENTRIES * TLB_ENTRY;
/** A TLB entry's addend (+24) for linear page number `vpnLo` (its low 32 bits) mapped to physical address `page`. */
export const tlbAddend = (page: number, vpnLo: number): number => (page - (vpnLo << 12)) | 0;
const TLB_GLOBAL = 1;
/** Flags bit: writes are allowed but the page holds translated code, so the write tag is left unset. */
const TLB_WCODE = 2;

export const enum Access {
  Read = 0,
  Write = 1,
  Exec = 2,
}

/** What the MMU needs from its CPU: memory views, the state block, the physical bus. */
export interface MmuHost {
  u8: Uint8Array;
  i32: Int32Array;
  dv: DataView;
  stateBase: number;
  ramSize: number;
  mmioRead(addr: number, size: number): number;
  mmioWrite(addr: number, size: number, value: number): void;
  /** A write of `size` bytes at physical `addr` (within one page) hits a page that holds translated code. */
  codeWritten(addr: number, size: number): void;
  /**
   * Compiled code must not chain on (see L.CHAIN_BREAK): here, a chain may have entered the running code's page
   * without re-checking its mapping.
   */
  breakChain(): void;
}

/** Sizes of large pages (log2): 2 MiB, 4 MiB (32-bit paging), 1 GiB. */
const LARGE_SHIFTS = [21, 22, 30];

/** A large page of 2^shift bytes, named by a 4 KiB page number (vhi:vlo) in it. */
function largeKey(vlo: number, vhi: number, shift: number): number {
  // vpn >> (shift - 12) without `**` (a call to pow in optimized code: this runs on every large-page TLB fill)
  const k = shift - 12;
  return (vhi * (0x100000000 / (1 << k)) + (vlo >>> k)) * 64 + shift;
}

const CR0_WP = 1 << 16;
const CR0_PG = 1 << 31;
const CR4_PSE = 1 << 4;
const CR4_PAE = 1 << 5;
const CR4_PGE = 1 << 7;
const CR4_SMEP = 1 << 20;
const CR4_SMAP = 1 << 21;
const EFER_NXE = 1 << 11;
const EFER_LMA = 1 << 10;
const EFLAGS_AC = 1 << 18;

const PTE_P = 1;
const PTE_W = 2;
const PTE_U = 4;
const PTE_A = 0x20;
const PTE_D = 0x40;
const PTE_PS = 0x80;
const PTE_G = 0x100;

/** Physical address bits this CPU model implements (CPUID 0x80000008 says the same). */
export const PHYS_BITS = 40;
/** The bits of an entry's high word that hold physical address bits 32..PHYS_BITS-1. */
const PHYS_HI_MASK = (1 << (PHYS_BITS - 32)) - 1;

/** #PF error code bits. */
const PF_P = 1, PF_W = 2, PF_U = 4, PF_RSVD = 8, PF_I = 16;

export class Mmu {
  /** Physical pages (4 KiB) that hold translated code: writes to them go through codeWritten(). */
  readonly codePages: Uint8Array;
  private readonly s32: number; // state block base in i32 units
  private readonly tlb32: number; // TLB base in i32 units

  /**
   * Reverse map from a RAM page to the TLB entries filled for it (so markCode finds the entries with a write tag
   * without scanning the TLB): per page the first entry of a doubly linked list through `wNext`/`wPrev`, indexed
   * by entry number. An entry is on the list of the page it was last filled for; flushes leave it there (stale
   * links are harmless: markCode checks the entry's page before clearing its write tag).
   */
  private readonly wHead: Int32Array;
  private readonly wNext = new Int32Array(2 * TLB_ENTRIES).fill(-1);
  private readonly wPrev = new Int32Array(2 * TLB_ENTRIES).fill(-1);
  private readonly wPage = new Int32Array(2 * TLB_ENTRIES).fill(-1);

  constructor(private readonly h: MmuHost) {
    this.codePages = new Uint8Array(Math.ceil(h.ramSize / 4096));
    this.wHead = new Int32Array(this.codePages.length).fill(-1);
    this.s32 = h.stateBase >> 2;
    this.tlb32 = (h.stateBase + TLB_OFFSET) >> 2;
    this.flushAll();
  }

  private st32(off: number): number {
    return this.h.i32[this.s32 + (off >> 2)]!;
  }

  // ---------------------------------------------------------------------------------------------------------
  // TLB maintenance

  flushAll(): void {
    this.h.i32.fill(-1, this.tlb32, this.tlb32 + (TLB_SIZE >> 2));
    this.localCount = 0;
    this.listedLocal.fill(0);
    this.largePages.clear();
    this.entryLarge.fill(-1);
    this.largeListed = 0;
    this.h.breakChain();
  }

  /**
   * The entries filled from pages larger than 4 KiB, by large page (largeKey), since INVLPG must drop all pieces
   * of such a page; and per entry the large page it was last filled from (-1: none). An entry refilled since
   * stays on its old list until a flush or relistLarge looks at it.
   */
  private readonly largePages = new Map<number, number[]>();
  private readonly entryLarge = new Float64Array(2 * TLB_ENTRIES).fill(-1);
  private largeListed = 0;

  /** Lists the entries again from entryLarge (the lists keep entries refilled since: this bounds them). */
  private relistLarge(): void {
    this.largePages.clear();
    this.largeListed = 0;
    this.entryLarge.forEach((key, n) => {
      if (key < 0) return;
      let list = this.largePages.get(key);
      if (!list) this.largePages.set(key, (list = []));
      list.push(n);
      this.largeListed++;
    });
  }

  /**
   * The entries filled as non-global since the last flush (each once): a CR3 write clears just these. Linux
   * switches CR3 twice for every kernel text patch (text_poke's temporary mm), ~10k times a boot, and a scan of
   * the whole TLB cost ~4.5 us each.
   */
  private readonly local = new Int32Array(2 * TLB_ENTRIES);
  private readonly listedLocal = new Uint8Array(2 * TLB_ENTRIES);
  private localCount = 0;

  /** CR3 write: everything but global entries (only filled as global while CR4.PGE is set; a CR4 change flushes all). */
  flushNonGlobal(): void {
    const i32 = this.h.i32;
    this.h.breakChain();
    for (let i = 0; i < this.localCount; i++) {
      const n = this.local[i]!;
      this.listedLocal[n] = 0;
      const e = this.tlb32 + n * (TLB_ENTRY >> 2);
      if (i32[e + 7]! & TLB_GLOBAL) continue; // refilled as global since
      i32[e] = -1;
      i32[e + 1] = -1;
      i32[e + 2] = -1;
      i32[e + 3] = -1;
      i32[e + 4] = -1;
      i32[e + 5] = -1;
    }
    this.localCount = 0;
  }

  /** INVLPG: the entries for the page holding this linear address (all 4 KiB pieces of a large page). */
  flushPage(lo: number, hi: number): void {
    const i32 = this.h.i32;
    const vlo = ((hi << 20) | (lo >>> 12)) | 0;
    const vhi = hi >>> 12;
    // the page of the running code (RIP is in memory at helper calls)
    const rlo = this.st32(L.RIP), rhi = this.st32(L.RIP + 4);
    const rvlo = ((rhi << 20) | (rlo >>> 12)) | 0;
    const rvhi = rhi >>> 12;
    if (rvlo === vlo && rvhi === vhi) this.h.breakChain();
    for (let t = 0; t < 2; t++) {
      const e = this.tlb32 + ((t * TLB_ENTRIES + (vlo & (TLB_ENTRIES - 1))) * TLB_ENTRY >> 2);
      i32.fill(-1, e, e + 6);
    }
    if (!this.largePages.size) return;
    for (const shift of LARGE_SHIFTS) {
      const key = largeKey(vlo, vhi, shift);
      const list = this.largePages.get(key);
      if (!list) continue;
      this.largePages.delete(key);
      this.largeListed -= list.length;
      for (const n of list) {
        if (this.entryLarge[n] !== key) continue; // refilled since
        this.entryLarge[n] = -1;
        const e = this.tlb32 + n * (TLB_ENTRY >> 2);
        i32.fill(-1, e, e + 6);
      }
      if (largeKey(rvlo, rvhi, shift) === key) this.h.breakChain();
    }
  }

  /** Marks a physical page as holding translated code: no fast-path writes to it from now on. */
  markCode(page: number): void {
    if (page >= this.codePages.length || this.codePages[page]) return;
    this.codePages[page] = 1;
    const i32 = this.h.i32;
    const addr = page * 4096;
    for (let n = this.wHead[page]!; n >= 0; n = this.wNext[n]!) {
      const e = this.tlb32 + n * (TLB_ENTRY >> 2);
      // (a write tag that is set is the linear page, vlo: the entry maps it to addr)
      if ((i32[e + 2] !== -1 || i32[e + 3] !== -1) && ((i32[e + 6]! + (i32[e + 2]! << 12)) >>> 0) === addr) {
        i32[e + 2] = -1;
        i32[e + 3] = -1;
        i32[e + 7]! |= TLB_WCODE;
      }
    }
  }

  /** Moves TLB entry number `n` to the reverse-map list of RAM page `page` (-1: none). */
  private track(n: number, page: number): void {
    const old = this.wPage[n]!;
    if (old === page) return;
    const next = this.wNext[n]!, prev = this.wPrev[n]!;
    if (old >= 0) {
      if (prev >= 0) this.wNext[prev] = next;
      else this.wHead[old] = next;
      if (next >= 0) this.wPrev[next] = prev;
    }
    this.wPage[n] = page;
    this.wPrev[n] = -1;
    if (page >= 0) {
      const h = this.wHead[page]!;
      this.wNext[n] = h;
      if (h >= 0) this.wPrev[h] = n;
      this.wHead[page] = n;
    } else this.wNext[n] = -1;
  }

  unmarkCode(page: number): void {
    if (page < this.codePages.length) this.codePages[page] = 0;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Segmentation: segment:offset -> linear (lo, hi in this.linLo/linHi)

  linLo = 0;
  linHi = 0;

  /**
   * Applies segment `seg` (0-5, or -1 for a linear address) to offset (lo, hi) for an access of `size` bytes.
   * Faults: #GP(0), or #SS(0) for the stack segment, on limit or rights violations and non-canonical addresses.
   */
  segment(seg: number, lo: number, hi: number, size: number, access: Access): void {
    const i32 = this.h.i32;
    const s32 = this.s32;
    if (this.long64()) {
      // 64-bit mode: addresses must be canonical
      this.withBase(seg, lo, hi, true);
      const h = this.linHi;
      if ((h >> 15) !== 0 && (h >> 15) !== -1) throw new GuestFault(seg === 2 ? Vec.SS : Vec.GP, 0);
      return;
    }
    if (seg < 0) {
      this.withBase(seg, lo, hi, false);
      return;
    }
    const b = s32 + (L.segOff(seg) >> 2);
    const attr = i32[b + (L.SEG_ATTR >> 2)]!;
    const limit = i32[b + (L.SEG_LIMIT >> 2)]! >>> 0;
    const off = lo >>> 0;
    const vec = seg === 2 ? Vec.SS : Vec.GP;
    if (attr & 0x10000) throw new GuestFault(vec, 0); // unusable (null selector)
    const type = attr & 0xf;
    if (i32[s32 + (L.CR0 >> 2)]! & 1 && !(i32[s32 + (L.EFLAGS >> 2)]! & 0x20000)) {
      // protected mode rights: code segments are never writable and readable only with R; data writable with W
      if (type & 8 ? access === Access.Write || (access === Access.Read && !(type & 2)) : access === Access.Write && !(type & 2)) {
        throw new GuestFault(vec, 0);
      }
    }
    const last = off + size - 1;
    if (!(type & 8) && type & 4) {
      // expand-down data segment: valid offsets are limit+1 .. 0xffff or 0xffffffff (by B)
      const upper = attr & 0x4000 ? 0xffffffff : 0xffff;
      if (off <= limit || last > upper) throw new GuestFault(vec, 0);
    } else if (last > limit) throw new GuestFault(vec, 0);
    this.withBase(seg, lo, hi, false);
  }

  /**
   * Segment `seg` (0-5, or -1 for a linear address) applied to offset (lo, hi) without any check (INVLPG takes
   * none): into linLo/linHi. The base counts outside 64-bit mode (wrapping at 4 GiB) and for FS and GS in it.
   */
  linear(seg: number, lo: number, hi: number): void {
    this.withBase(seg, lo, hi, this.long64());
  }

  /** linear() for a mode the caller has already found (`long`: 64-bit mode). */
  private withBase(seg: number, lo: number, hi: number, long: boolean): void {
    const i32 = this.h.i32;
    if (long ? seg >= 4 : seg >= 0) {
      const b = this.s32 + ((L.segOff(seg) + L.SEG_BASE) >> 2);
      const l = (lo >>> 0) + (i32[b]! >>> 0);
      hi = long ? (hi + i32[b + 1]! + (l > 0xffffffff ? 1 : 0)) | 0 : 0;
      lo = l | 0;
    } else if (!long) hi = 0;
    this.linLo = lo;
    this.linHi = hi;
  }

  /** 64-bit mode (long mode active, 64-bit code). */
  private long64(): boolean {
    const i32 = this.h.i32;
    return (i32[this.s32 + (L.EFER >> 2)]! & EFER_LMA) !== 0 && (i32[this.s32 + (L.MODE >> 2)]! & 3) === 2;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Paging: linear -> physical

  /**
   * Translates a linear address for an access; fills the TLB. `user` is true for CPL 3 accesses that are not
   * implicit supervisor accesses (descriptor tables, TSS). Returns the physical address (< 2^PHYS_BITS).
   */
  translate(lo: number, hi: number, access: Access, user: boolean): number {
    const i32 = this.h.i32;
    const vlo = ((hi << 20) | (lo >>> 12)) | 0;
    const vhi = hi >>> 12;
    const e = this.tlb32 + (((user ? TLB_ENTRIES : 0) + (vlo & (TLB_ENTRIES - 1))) * TLB_ENTRY >> 2);
    const t = e + access * 2;
    if (i32[t] === vlo && i32[t + 1] === vhi) return (i32[e + 6]! + lo) >>> 0;
    // a write to a page holding code: allowed (the entry says so) but not tagged, so that it comes here
    if (access === Access.Write && i32[e] === vlo && i32[e + 1] === vhi && i32[e + 7]! & TLB_WCODE) {
      return (i32[e + 6]! + lo) >>> 0;
    }
    return this.walk(lo, hi, access, user, e, vlo, vhi);
  }

  private walk(lo: number, hi: number, access: Access, user: boolean, e: number, vlo: number, vhi: number): number {
    const cr0 = this.st32(L.CR0);
    let page: number;
    let perms = PTE_W | PTE_U; // accumulated: writable and user only if every level says so
    let nx = false;
    let global = false;
    let dirty = true;
    let pageShift = 12;
    if (!(cr0 & CR0_PG)) {
      page = (lo & ~0xfff) >>> 0;
      void perms;
    } else {
      const cr4 = this.st32(L.CR4);
      const efer = this.st32(L.EFER);
      const nxe = (efer & EFER_NXE) !== 0;
      const cr3lo = this.st32(L.CR3);
      const cr3hi = this.st32(L.CR3 + 4);
      const entries: number[] = []; // physical addresses of the entries used, to set A/D after the checks
      let rsvd = false;
      if (cr4 & CR4_PAE) {
        // 64-bit entries; 4 levels in long mode, else the 4-entry PDPT
        const longMode = (efer & EFER_LMA) !== 0;
        const maxLevel = longMode ? 4 : 3;
        let tableLo = longMode ? cr3lo & ~0xfff : cr3lo & ~0x1f;
        let tableHi = longMode ? cr3hi : 0;
        let level = maxLevel;
        for (;;) {
          const shift = 12 + 9 * (level - 1);
          const idx = level === 3 && !longMode ? (lo >>> 30) & 3 : indexBits(lo, hi, shift);
          const addr = physAddr(tableLo, tableHi) + idx * 8;
          const elo = this.physRead32(addr);
          const ehi = this.physRead32(addr + 4);
          if (!(elo & PTE_P)) return this.pageFault(lo, hi, access, user, false, rsvd);
          // reserved: address bits above PHYS_BITS, XD without NXE, PS at the top levels
          if (ehi & 0x000fffff & ~PHYS_HI_MASK) rsvd = true;
          if (ehi < 0 && (!nxe || (!longMode && level === 3))) rsvd = true;
          if (!longMode && level === 3 && (elo & 0x1e6)) rsvd = true;
          if (level === 4 && elo & PTE_PS) rsvd = true;
          if (rsvd) return this.pageFault(lo, hi, access, user, true, rsvd);
          if (longMode || level !== 3) entries.push(addr); // legacy PAE PDPTEs have no accessed bit
          if (ehi < 0) nx = true;
          if (!(longMode === false && level === 3)) perms &= elo;
          const leaf = level === 1 || (level <= 3 && elo & PTE_PS && (level !== 3 || longMode));
          if (leaf) {
            const big = level > 1;
            if (big && (elo & (((1 << (shift - 13)) - 1) << 13))) {
              rsvd = true;
              return this.pageFault(lo, hi, access, user, true, rsvd);
            }
            const frameLo = (elo & ~0xfff & ~(big ? (1 << shift) - 1 : 0)) >>> 0;
            const inPage = big ? (lo & ((1 << shift) - 1) & ~0xfff) >>> 0 : 0;
            page = physAddr(frameLo, ehi & PHYS_HI_MASK) + inPage;
            pageShift = shift;
            global = (elo & PTE_G) !== 0 && (cr4 & CR4_PGE) !== 0;
            dirty = (elo & PTE_D) !== 0;
            break;
          }
          tableLo = elo & ~0xfff;
          tableHi = ehi & PHYS_HI_MASK;
          level--;
        }
      } else {
        // 32-bit paging: 2 levels of 32-bit entries, 4 MiB pages with CR4.PSE
        const pdeA = ((cr3lo & ~0xfff) >>> 0) + ((lo >>> 22) << 2);
        const pde = this.physRead32(pdeA);
        if (!(pde & PTE_P)) return this.pageFault(lo, hi, access, user, false, rsvd);
        entries.push(pdeA);
        perms &= pde;
        if (pde & PTE_PS && cr4 & CR4_PSE) {
          // PSE-36 high bits (pde bits 13-20 -> address bits 32-39)
          if (pde & (1 << 21)) {
            rsvd = true;
            return this.pageFault(lo, hi, access, user, true, rsvd);
          }
          page = ((pde & 0xffc00000) >>> 0) + ((pde >>> 13) & 0xff) * 0x100000000 + ((lo & 0x3ff000) >>> 0);
          pageShift = 22;
          global = (pde & PTE_G) !== 0 && (cr4 & CR4_PGE) !== 0;
          dirty = (pde & PTE_D) !== 0;
        } else {
          const pteA = ((pde & ~0xfff) >>> 0) + (((lo >>> 12) & 0x3ff) << 2);
          const pte = this.physRead32(pteA);
          if (!(pte & PTE_P)) return this.pageFault(lo, hi, access, user, false, rsvd);
          entries.push(pteA);
          perms &= pte;
          page = (pte & ~0xfff) >>> 0;
          global = (pte & PTE_G) !== 0 && (cr4 & CR4_PGE) !== 0;
          dirty = (pte & PTE_D) !== 0;
        }
      }
      // permission checks
      const wp = (cr0 & CR0_WP) !== 0;
      const userPage = (perms & PTE_U) !== 0;
      const writable = (perms & PTE_W) !== 0;
      const smap = (cr4 & CR4_SMAP) !== 0 && userPage && !user;
      const ac = (this.st32(L.EFLAGS) & EFLAGS_AC) !== 0;
      if (user && !userPage) return this.pageFault(lo, hi, access, user, true, rsvd);
      if (access === Access.Write && !writable && (user || wp)) return this.pageFault(lo, hi, access, user, true, rsvd);
      if (access === Access.Exec && nx) return this.pageFault(lo, hi, access, user, true, rsvd);
      if (access === Access.Exec && !user && userPage && cr4 & CR4_SMEP) return this.pageFault(lo, hi, access, user, true, rsvd);
      if (access !== Access.Exec && smap && !(ac && this.explicitAccess)) return this.pageFault(lo, hi, access, user, true, rsvd);
      // accessed (every level), dirty (the leaf, on writes)
      for (let i = 0; i < entries.length; i++) this.physOr8(entries[i]!, PTE_A);
      if (access === Access.Write && !dirty) {
        this.physOr8(entries[entries.length - 1]!, PTE_D);
        dirty = true;
      }
      // fill the TLB: each access kind only if it is allowed at this privilege right now
      const canRead = (!user || userPage) && !smap;
      const canWrite = canRead && (writable || (!user && !wp)) && dirty;
      const canExec = (!user || userPage) && !nx && !(!user && userPage && cr4 & CR4_SMEP);
      this.fillTlb(e, vlo, vhi, page, canRead, canWrite, canExec, global, pageShift);
      return page + (lo & 0xfff);
    }
    this.fillTlb(e, vlo, vhi, page, true, true, true, false, 12);
    return page + (lo & 0xfff);
  }

  /** True while an instruction makes an explicit data access (SMAP honours EFLAGS.AC only for those). */
  explicitAccess = true;

  private fillTlb(e: number, vlo: number, vhi: number, page: number, r: boolean, w: boolean, x: boolean, g: boolean, shift: number): void {
    const n = (e - this.tlb32) / (TLB_ENTRY >> 2);
    if (shift > 12) {
      const key = largeKey(vlo, vhi, shift);
      if (this.entryLarge[n] !== key) {
        this.entryLarge[n] = key;
        let list = this.largePages.get(key);
        if (!list) this.largePages.set(key, (list = []));
        list.push(n);
        if (++this.largeListed > 8 * TLB_ENTRIES) this.relistLarge();
      }
    } else this.entryLarge[n] = -1;
    if (!g && !this.listedLocal[n]) {
      this.listedLocal[n] = 1;
      this.local[this.localCount++] = n;
    }
    const i32 = this.h.i32;
    // Tags only for canonical addresses (bits 63-47 of the linear address equal): compiled code relies on it,
    // its fast path checks the tag and not canonicality. (Callers translate canonical addresses only anyway.)
    const top = vhi >>> 3;
    const ram = page + 4096 <= this.h.ramSize && (top === 0 || top === 0x1ffff);
    const code = ram && this.codePages[page / 4096] === 1;
    this.track((e - this.tlb32) / (TLB_ENTRY >> 2), ram ? page / 4096 : -1);
    i32[e] = r && ram ? vlo : -1;
    i32[e + 1] = r && ram ? vhi : -1;
    i32[e + 2] = w && ram && !code ? vlo : -1;
    i32[e + 3] = w && ram && !code ? vhi : -1;
    i32[e + 4] = x && ram ? vlo : -1;
    i32[e + 5] = x && ram ? vhi : -1;
    i32[e + 6] = tlbAddend(page, vlo);
    i32[e + 7] = (g ? TLB_GLOBAL : 0) | (w && code ? TLB_WCODE : 0) | (shift << 8);
  }

  private pageFault(lo: number, hi: number, access: Access, user: boolean, present: boolean, rsvd: boolean): never {
    const i32 = this.h.i32;
    i32[this.s32 + (L.CR2 >> 2)] = lo;
    i32[this.s32 + (L.CR2 >> 2) + 1] = hi;
    const nxOrSmep = (this.st32(L.EFER) & EFER_NXE) !== 0 || (this.st32(L.CR4) & CR4_SMEP) !== 0;
    const code =
      (present ? PF_P : 0) | (access === Access.Write ? PF_W : 0) | (user ? PF_U : 0) | (rsvd ? PF_RSVD : 0) |
      (access === Access.Exec && nxOrSmep ? PF_I : 0);
    throw new GuestFault(Vec.PF, code);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Physical memory

  physRead32(addr: number): number {
    if (addr + 4 <= this.h.ramSize) return this.h.dv.getInt32(addr, true);
    return this.h.mmioRead(addr, 4) | 0;
  }

  private physOr8(addr: number, bits: number): void {
    if (addr < this.h.ramSize) this.h.u8[addr]! |= bits;
  }

  /** Reads `size` (1, 2, 4) bytes at a physical address that does not cross a page. */
  physRead(addr: number, size: number): number {
    if (addr + size <= this.h.ramSize) {
      const dv = this.h.dv;
      return size === 1 ? this.h.u8[addr]! : size === 2 ? dv.getUint16(addr, true) : dv.getUint32(addr, true);
    }
    return this.h.mmioRead(addr, size);
  }

  physWrite(addr: number, size: number, v: number): void {
    if (addr + size <= this.h.ramSize) {
      const page = addr >>> 12;
      if (this.codePages[page]) this.h.codeWritten(addr, size);
      const dv = this.h.dv;
      if (size === 1) this.h.u8[addr] = v;
      else if (size === 2) dv.setUint16(addr, v, true);
      else dv.setUint32(addr, v, true);
      return;
    }
    this.h.mmioWrite(addr, size, v);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Linear accesses used by the interpreter and helpers

  /** Reads `size` (1, 2, 4) bytes at a linear address, crossing pages byte by byte (both pages checked first). */
  readLinear(lo: number, hi: number, size: number, user: boolean, access: Access = Access.Read): number {
    if ((lo & 0xfff) + size <= 4096) return this.physRead(this.translate(lo, hi, access, user), size);
    let v = 0;
    const [p0, p1, split] = this.pair(lo, hi, size, access, user);
    for (let i = 0; i < size; i++) v |= this.physRead(i < split ? p0 + i : p1 + (i - split), 1) << (8 * i);
    return v >>> 0;
  }

  writeLinear(lo: number, hi: number, size: number, v: number, user: boolean): void {
    if ((lo & 0xfff) + size <= 4096) {
      this.physWrite(this.translate(lo, hi, Access.Write, user), size, v);
      return;
    }
    const [p0, p1, split] = this.pair(lo, hi, size, Access.Write, user);
    for (let i = 0; i < size; i++) this.physWrite(i < split ? p0 + i : p1 + (i - split), 1, (v >>> (8 * i)) & 0xff);
  }

  /** Translates both pages of a page-crossing access before any byte moves (so a fault leaves memory alone). */
  private pair(lo: number, hi: number, size: number, access: Access, user: boolean): [number, number, number] {
    const split = 4096 - (lo & 0xfff);
    const p0 = this.translate(lo, hi, access, user);
    const nlo = ((lo >>> 0) + split) | 0;
    const nhi = carryHi(lo, hi, split);
    const p1 = this.translate(nlo, nhi, access, user);
    void size;
    return [p0, p1, split];
  }
}

function physAddr(lo: number, hi: number): number {
  return (hi >>> 0) * 0x100000000 + (lo >>> 0);
}

/** The 9-bit table index at `shift` of the linear address (lo, hi). */
function indexBits(lo: number, hi: number, shift: number): number {
  if (shift >= 32) return (hi >>> (shift - 32)) & 0x1ff;
  if (shift + 9 <= 32) return (lo >>> shift) & 0x1ff;
  return ((lo >>> shift) | (hi << (32 - shift))) & 0x1ff;
}
