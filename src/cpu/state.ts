// The backend-neutral architectural state of one vCPU: what loaders produce, what `--dump-state` writes, and what
// the accelerators (software CPU, KVM) get and set. Shaped like KVM's kvm_regs/kvm_sregs so the KVM backend maps
// it field for field. 64-bit quantities are bigint: this is an interchange format, not the hot path.

export interface SegmentState {
  selector: number;
  base: bigint;
  limit: number; // byte granular (already scaled by G), as KVM holds it
  type: number; // 4-bit descriptor type
  s: boolean; // code/data (true) or system (false)
  dpl: number;
  present: boolean;
  avl: boolean;
  l: boolean; // 64-bit code segment
  db: boolean; // default operation size 32
  g: boolean; // granularity 4K
  unusable: boolean; // a null selector loaded in protected mode
}

export interface TableState {
  base: bigint;
  limit: number;
}

/** x87/SSE registers in the FXSAVE image's terms (KVM's kvm_fpu holds the same fields). */
export interface FpuState {
  fcw: number;
  fsw: number;
  /** Abridged tag word (FXSAVE form: one bit per physical register, 1 = valid). */
  ftwx: number;
  lastOpcode: number;
  lastIp: bigint;
  lastDp: bigint;
  mxcsr: number;
  /** ST0-ST7 in stack order (MMi is the low 8 bytes of ST of the same number when TOP = 0): 10 bytes each. */
  st: Uint8Array[];
  /** XMM0-XMM15. */
  xmm: Uint8Array[];
}

/** The x87/SSE state after FNINIT with SSE defaults (MXCSR = 0x1f80). */
export function initialFpu(): FpuState {
  return {
    fcw: 0x37f, fsw: 0, ftwx: 0, lastOpcode: 0, lastIp: 0n, lastDp: 0n, mxcsr: 0x1f80,
    st: Array.from({ length: 8 }, () => new Uint8Array(10)),
    xmm: Array.from({ length: 16 }, () => new Uint8Array(16)),
  };
}

/** Events in flight between two instructions (KVM's kvm_vcpu_events in part). */
export interface PendingEvents {
  /** STI or MOV/POP SS just ran: no maskable interrupt before the next instruction completes. */
  interruptShadow: boolean;
  nmiPending: boolean;
  /** NMIs are blocked (an NMI handler runs, until its IRET). */
  nmiMasked: boolean;
}

export const GPR_NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'] as const;

export interface CpuState {
  /** RAX..R15 in encoding order. */
  gpr: bigint[];
  rip: bigint;
  rflags: bigint;
  es: SegmentState;
  cs: SegmentState;
  ss: SegmentState;
  ds: SegmentState;
  fs: SegmentState;
  gs: SegmentState;
  ldtr: SegmentState;
  tr: SegmentState;
  gdtr: TableState;
  idtr: TableState;
  cr0: bigint;
  cr2: bigint;
  cr3: bigint;
  cr4: bigint;
  cr8: bigint;
  efer: bigint;
  /** DR0-DR3, DR6, DR7. */
  dr: bigint[];
  /** Model-specific registers other than EFER, by index. */
  msrs: Map<number, bigint>;
  /** The vCPU is halted (HLT) waiting for an interrupt. */
  halted: boolean;
  /** x87/SSE registers; absent: the vCPU keeps what it has (loaders leave it out). */
  fpu?: FpuState;
  /** XCR0 (XSETBV); absent: unchanged. */
  xcr0?: bigint;
  /** Absent: none. */
  events?: PendingEvents;
}

/** A segment as the CPU holds it after reset or a real-mode load: base = selector * 16, 64 KiB limit. */
export function realModeSegment(selector: number, type = 3): SegmentState {
  return {
    selector, base: BigInt(selector) << 4n, limit: 0xffff, type, s: true, dpl: 0, present: true, avl: false, l: false,
    db: false, g: false, unusable: false,
  };
}

/** A flat segment (base 0, 4 GiB limit) — code if `code`, 64-bit if `long`. */
export function flatSegment(selector: number, code: boolean, long = false): SegmentState {
  return {
    selector, base: 0n, limit: 0xffffffff, type: code ? 0xb : 0x3, s: true, dpl: 0, present: true, avl: false,
    l: code && long, db: !(code && long), g: true, unusable: false,
  };
}

/** The state after RESET (SDM Vol. 3 §9.1.1), with CS:IP = F000:FFF0 and CS.base = FFFF0000. */
export function resetState(): CpuState {
  const cs = realModeSegment(0xf000, 0xb);
  cs.base = 0xffff0000n;
  const sys = (type: number): SegmentState => ({ ...realModeSegment(0, type), s: false });
  return {
    gpr: new Array(16).fill(0n),
    rip: 0xfff0n,
    rflags: 0x2n,
    es: realModeSegment(0),
    cs,
    ss: realModeSegment(0),
    ds: realModeSegment(0),
    fs: realModeSegment(0),
    gs: realModeSegment(0),
    ldtr: sys(2),
    tr: sys(0xb),
    gdtr: { base: 0n, limit: 0xffff },
    idtr: { base: 0n, limit: 0xffff },
    cr0: 0x60000010n,
    cr2: 0n,
    cr3: 0n,
    cr4: 0n,
    cr8: 0n,
    efer: 0n,
    dr: [0n, 0n, 0n, 0n, 0xffff0ff0n, 0x400n],
    msrs: new Map(),
    halted: false,
  };
}

const hex = (v: bigint | number) => '0x' + v.toString(16);

/** JSON-friendly form of a state (hex strings for 64-bit values), as `kemu run --dump-state` writes it. */
export function stateToJson(s: CpuState): Record<string, unknown> {
  const seg = (g: SegmentState) => ({ ...g, base: hex(g.base), limit: hex(g.limit) });
  const out: Record<string, unknown> = {};
  GPR_NAMES.forEach((n, i) => (out[n] = hex(s.gpr[i]!)));
  Object.assign(out, {
    rip: hex(s.rip),
    rflags: hex(s.rflags),
    es: seg(s.es), cs: seg(s.cs), ss: seg(s.ss), ds: seg(s.ds), fs: seg(s.fs), gs: seg(s.gs),
    ldtr: seg(s.ldtr), tr: seg(s.tr),
    gdtr: { base: hex(s.gdtr.base), limit: hex(s.gdtr.limit) },
    idtr: { base: hex(s.idtr.base), limit: hex(s.idtr.limit) },
    cr0: hex(s.cr0), cr2: hex(s.cr2), cr3: hex(s.cr3), cr4: hex(s.cr4), cr8: hex(s.cr8), efer: hex(s.efer),
    dr: s.dr.map(hex),
    msrs: Object.fromEntries([...s.msrs].map(([k, v]) => [hex(k), hex(v)])),
    halted: s.halted,
  });
  const bytes = (b: Uint8Array) => Buffer.from(b).toString('hex');
  if (s.fpu) {
    const f = s.fpu;
    out.fpu = {
      fcw: hex(f.fcw), fsw: hex(f.fsw), ftwx: hex(f.ftwx), fop: hex(f.lastOpcode), fip: hex(f.lastIp), fdp: hex(f.lastDp),
      mxcsr: hex(f.mxcsr), st: f.st.map(bytes), xmm: f.xmm.map(bytes),
    };
  }
  if (s.xcr0 !== undefined) out.xcr0 = hex(s.xcr0);
  if (s.events) out.events = { ...s.events };
  return out;
}
