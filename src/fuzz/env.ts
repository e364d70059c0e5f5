// The fuzzing machine: a tiny long-mode world built directly in guest memory (no boot code), in which random
// ring-3 code runs on a backend (tcg = kemu's CPU, kvm = the hardware under kvm_pvm). One "lane" per backend; each
// test case sets the registers and the data area, runs the case's code until it reaches the terminator (an `out` to
// END_PORT, allowed by the TSS I/O bitmap) or an exception (the IDT handler of vector v is `out %al, $v` in ring 0),
// and returns what the case did: the final state, the exception frame, and the data area.
//
// Layout (identity-mapped through 4 KiB pages; everything else is not present, so stray accesses #PF):
//   0x1000 PML4, 0x2000 PDPT, 0x3000 PD, 0x4000 PT     supervisor
//   0x5000 GDT, 0x6000 IDT, 0x7000 TSS + I/O bitmap     supervisor
//   0xa000 exception handlers, 0xb000-0xbfff kernel stack   supervisor
//   CODE_BASE .. +CODE_SIZE  user code (read-only, executable)
//   DATA_BASE .. +DATA_SIZE  user data (read/write, not executable); the user stack lives in it too
import type { Accelerator, AccelName, IoHandler, Vcpu } from '../accel/accelerator.ts';
import { accelReserveBytes, createAccelerator } from '../accel/select.ts';
import type { TcgVcpu } from '../accel/tcg.ts';
import type { CpuState, SegmentState } from '../cpu/state.ts';
import { GuestMemory } from '../machine/memory.ts';

export const RAM_SIZE = 4 << 20;
const PML4 = 0x1000;
const PDPT = 0x2000;
const PD = 0x3000;
const PT = 0x4000;
export const GDT = 0x5000;
export const IDT = 0x6000;
export const TSS = 0x7000;
export const HANDLERS = 0xa000;
export const KSTACK_TOP = 0xc000;
export const CODE_BASE = 0x10000;
export const CODE_SIZE = 0x10000;
export const DATA_BASE = 0x40000;
export const DATA_SIZE = 0x4000;
/** Port the terminator writes (ring 3, allowed by the I/O bitmap). */
export const END_PORT = 0xf0;
/** The terminator: `out %al, $END_PORT`. */
export const TERMINATOR = Uint8Array.of(0xe6, END_PORT);
/** Instructions tcg may run for one case before it counts as a hang. */
const TCG_BUDGET = 200_000;

const USER_CS = 0x23;
const USER_SS = 0x1b;
const KERNEL_CS = 0x08;

/** What one case did on one backend. */
export interface CaseResult {
  /** 'end': reached the terminator; 'exception': vector/error code; 'other': the backend stopped otherwise. */
  kind: 'end' | 'exception' | 'other';
  vector: number;
  /** The exception frame on the kernel stack: [error code if pushed,] RIP, CS, RFLAGS, RSP, SS (as read). */
  frame: bigint[];
  state: CpuState;
  data: Uint8Array;
  /** For 'other': what happened. */
  message: string;
}

/** Vectors that push an error code. */
export const ERROR_CODE_VECTORS = new Set([8, 10, 11, 12, 13, 14, 17, 21, 29, 30]);

function seg(selector: number, code: boolean, dpl: number): SegmentState {
  return {
    selector, base: 0n, limit: 0xffffffff, type: code ? 0xb : 0x3, s: true, dpl, present: true, avl: false,
    l: code, db: !code, g: true, unusable: false,
  };
}

/** The initial state of every case (registers, flags, FS/GS bases are then set per case). */
export function baseState(): CpuState {
  const nul: SegmentState = { ...seg(0, false, 0), selector: 0, unusable: true, present: false, type: 0, g: false, limit: 0, db: false };
  return {
    gpr: new Array(16).fill(0n),
    rip: BigInt(CODE_BASE),
    rflags: 0x202n,
    es: { ...nul },
    cs: seg(USER_CS, true, 3),
    ss: seg(USER_SS, false, 3),
    ds: { ...nul },
    fs: { ...nul },
    gs: { ...nul },
    ldtr: { selector: 0, base: 0n, limit: 0, type: 2, s: false, dpl: 0, present: false, avl: false, l: false, db: false, g: false, unusable: true },
    tr: { selector: 0x28, base: BigInt(TSS), limit: 0x2068, type: 0xb, s: false, dpl: 0, present: true, avl: false, l: false, db: false, g: false, unusable: false },
    gdtr: { base: BigInt(GDT), limit: 0x37 },
    idtr: { base: BigInt(IDT), limit: 0xfff },
    cr0: 0x80050033n, // PG AM WP NE ET MP PE
    cr2: 0n,
    cr3: BigInt(PML4),
    cr4: 0x40620n, // PAE OSFXSR OSXMMEXCPT OSXSAVE
    cr8: 0n,
    efer: 0xd01n, // NXE LMA LME SCE
    xcr0: 3n, // x87 SSE
    dr: [0n, 0n, 0n, 0n, 0xffff0ff0n, 0x400n],
    msrs: new Map(),
    halted: false,
  };
}

/** Writes the page tables, descriptor tables, TSS and handlers into `mem`. */
export function buildWorld(mem: GuestMemory): void {
  const dv = mem.view();
  mem.fill(0, 0x20000);
  const q = (a: number, v: bigint) => dv.setBigUint64(a, v, true);
  q(PML4, BigInt(PDPT) | 7n);
  q(PDPT, BigInt(PD) | 7n);
  q(PD, BigInt(PT) | 7n);
  const NX = 1n << 63n;
  const page = (addr: number, flags: bigint) => q(PT + (addr >> 12) * 8, BigInt(addr) | flags);
  for (let a = 0x1000; a < 0xc000; a += 0x1000) page(a, 3n); // supervisor RW
  for (let a = CODE_BASE; a < CODE_BASE + CODE_SIZE; a += 0x1000) page(a, 5n); // user RO, executable
  for (let a = DATA_BASE; a < DATA_BASE + DATA_SIZE; a += 0x1000) page(a, 7n | NX); // user RW, NX
  // GDT: null, kernel code64, kernel data, user data, user code64, TSS (16 bytes)
  q(GDT + 0x08, 0x00af9b000000ffffn);
  q(GDT + 0x10, 0x00cf93000000ffffn);
  q(GDT + 0x18, 0x00cff3000000ffffn);
  q(GDT + 0x20, 0x00affb000000ffffn);
  const tssLimit = 0x2068n;
  q(GDT + 0x28, tssLimit | (BigInt(TSS & 0xffffff) << 16n) | (0x8bn << 40n) | (BigInt(TSS >>> 24) << 56n));
  q(GDT + 0x30, 0n);
  // TSS: RSP0, I/O bitmap at offset 104 with every port allowed, then the 0xff terminator byte
  q(TSS + 4, BigInt(KSTACK_TOP));
  dv.setUint16(TSS + 102, 104, true);
  dv.setUint8(TSS + 104 + 8192, 0xff);
  // IDT: vectors 0-31 to handlers `out %al, $v; jmp .` (interrupt gates, DPL 0)
  for (let v = 0; v < 32; v++) {
    const h = HANDLERS + v * 4;
    dv.setUint8(h, 0xe6);
    dv.setUint8(h + 1, v);
    dv.setUint8(h + 2, 0xeb);
    dv.setUint8(h + 3, 0xfe);
    const g = IDT + v * 16;
    dv.setUint16(g, h & 0xffff, true);
    dv.setUint16(g + 2, KERNEL_CS, true);
    dv.setUint16(g + 4, 0x8e00, true);
    dv.setUint16(g + 6, h >>> 16, true);
    dv.setUint32(g + 8, 0, true);
  }
}

/** One backend running cases. */
export class Lane {
  readonly memory: GuestMemory;
  readonly accel: Accelerator;
  readonly vcpu: Vcpu;
  private lastPort = -1;

  constructor(readonly name: AccelName) {
    this.memory = new GuestMemory(RAM_SIZE, { extraBytes: accelReserveBytes(name) });
    buildWorld(this.memory);
    this.accel = createAccelerator(name, this.memory, name === 'kvm' ? { sliceMs: 1000 } : {});
    const io: IoHandler = {
      ioRead: () => 0,
      ioWrite: (port) => {
        this.lastPort = port;
        this.vcpu.requestStop();
      },
      mmioRead: () => 0xffffffff,
      mmioWrite: () => {},
    };
    this.vcpu = this.accel.createVcpu(io);
  }

  /** The code area was rewritten: forget translations of it (tcg). */
  codeChanged(): void {
    if (this.name === 'tcg') (this.vcpu as TcgVcpu).cpu.flushTranslations();
  }

  /** Runs from `state` (memory already set) until the terminator, an exception, or something else. */
  run(state: CpuState): CaseResult {
    this.lastPort = -1;
    this.vcpu.setState(state);
    let message = '';
    for (let i = 0; ; i++) {
      const e = this.vcpu.run(this.name === 'tcg' ? TCG_BUDGET : undefined);
      if (this.lastPort >= 0) break;
      if (e.kind === 'budget' && this.name === 'kvm' && i < 3) continue;
      message = e.kind === 'error' ? e.message : e.kind === 'budget' ? 'no end after the budget (hang?)' : `exit: ${e.kind}`;
      break;
    }
    const st = this.vcpu.getState();
    const data = this.memory.read(DATA_BASE, DATA_SIZE).slice();
    const port = this.lastPort;
    if (port === END_PORT) return { kind: 'end', vector: -1, frame: [], state: st, data, message };
    if (port >= 0 && port < 32) {
      const n = ERROR_CODE_VECTORS.has(port) ? 6 : 5;
      const dv = this.memory.view();
      const frame: bigint[] = [];
      const rsp = Number(st.gpr[4]! & 0xffffffffn);
      for (let i = 0; i < n; i++) {
        const a = rsp + 8 * i;
        frame.push(a >= 0 && a + 8 <= KSTACK_TOP ? dv.getBigUint64(a, true) : -1n);
      }
      return { kind: 'exception', vector: port, frame, state: st, data, message };
    }
    return { kind: 'other', vector: -1, frame: [], state: st, data, message: message || `port 0x${port.toString(16)}` };
  }

  close(): void {
    if (this.name === 'kvm') (this.vcpu as { close?: () => void }).close?.();
    this.accel.close();
  }
}
