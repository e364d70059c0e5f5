// The register ioctls of one vCPU: CpuState through KVM_GET/SET_REGS, SREGS, MSRS and DEBUGREGS, plus the state
// CpuState has no slot for (FPU, XCR0, guest debugging) and KVM_SET_CPUID2. Every argument lives in one native
// scratch block (see native.ts).
import { AccelError } from '../accelerator.ts';
import type { CpuState, FpuState, PendingEvents } from '../../cpu/state.ts';
import { CAP, EVENTS, GUEST_DEBUG, GUESTDBG_ENABLE, GUESTDBG_SINGLESTEP, IOC, MSR, XCR_ENTRY_SIZE, XCRS_ENTRIES, XCRS_SIZE } from './abi.ts';
import { readDebugRegs, readRegs, readSregs, writeDebugRegs, writeRegs, writeSregs } from './convert.ts';
import { type CpuidEntry, type CpuidLeaf, cpuid2Size, intersectCpuid, writeCpuid2 } from './cpuid.ts';
import { ioctlOrThrow, type KvmDevice } from './device.ts';
import { readFpu, readXsaveLegacy, writeFpu, writeXsaveLegacy, XSAVE_SIZE } from './fpu.ts';
import { msrsSize, readMsrList, SREGS_MSRS, STATE_MSRS, writeMsrList } from './msrs.ts';
import { NativeBuffer } from './native.ts';

const S_REGS = 0;
const S_SREGS = 256;
const S_FPU = 1024;
const S_XCRS = 1536;
const S_DEBUGREGS = 2048;
const S_GUEST_DEBUG = 2304;
const S_EVENTS = 2560;
const S_XSAVE = 4096;
const S_MSRS = S_XSAVE + XSAVE_SIZE;
const MAX_MSRS = 200;
const S_CPUID = S_MSRS + msrsSize(MAX_MSRS);
const MAX_CPUID = 256;
const SCRATCH_SIZE = S_CPUID + cpuid2Size(MAX_CPUID);

/** DR0-DR3, DR6, DR7 of a host without KVM_CAP_DEBUGREGS (their architectural reset values). */
const RESET_DR = [0n, 0n, 0n, 0n, 0xffff0ff0n, 0x400n];

export class VcpuRegs {
  private readonly scratch = NativeBuffer.anonymous(SCRATCH_SIZE);
  private readonly sv = this.scratch.view;
  private readonly hasDebugRegs: boolean;
  private readonly hasXcrs: boolean;
  private readonly hasEvents: boolean;
  private readonly hasXsave: boolean;
  private readonly knownMsrs: Set<number>;
  /** STATE_MSRS that this host's KVM knows. */
  private readonly stateMsrs: number[];
  /** Further MSRs a setState() wrote, reported back by getState(). */
  private readonly extraMsrs = new Set<number>();
  /** What KVM_SET_CPUID2 was given last. */
  cpuid: CpuidEntry[] = [];

  constructor(private readonly fd: number, private readonly device: KvmDevice) {
    this.hasDebugRegs = device.checkExtension(CAP.DEBUGREGS) > 0;
    this.hasXcrs = device.checkExtension(CAP.XCRS) > 0;
    this.hasEvents = device.checkExtension(CAP.VCPU_EVENTS) > 0;
    this.hasXsave = device.checkExtension(CAP.XSAVE) > 0;
    this.knownMsrs = new Set(device.msrIndexList());
    this.stateMsrs = STATE_MSRS.filter((m) => this.knownMsrs.has(m));
  }

  private ioctl(request: number, offset: number, what: string): number {
    return ioctlOrThrow(this.fd, request, this.scratch.at(offset), what);
  }

  /** KVM_SET_CPUID2 from a CPU model, intersected with KVM_GET_SUPPORTED_CPUID (before the first KVM_RUN). */
  setCpuid(model: readonly CpuidLeaf[]): void {
    const entries = intersectCpuid(model, this.device.supportedCpuid());
    if (entries.length > MAX_CPUID) throw new AccelError(`too many CPUID entries (${entries.length})`);
    writeCpuid2(this.sv, S_CPUID, entries);
    this.ioctl(IOC.SET_CPUID2, S_CPUID, 'KVM_SET_CPUID2');
    this.cpuid = entries;
  }

  /** Everything but `halted`, which the run loop tracks. MSR 0x1b (APIC base) comes from kvm_sregs. */
  getState(halted: boolean): CpuState {
    const sv = this.sv;
    this.ioctl(IOC.GET_REGS, S_REGS, 'KVM_GET_REGS');
    this.ioctl(IOC.GET_SREGS, S_SREGS, 'KVM_GET_SREGS');
    const s = { msrs: new Map<number, bigint>(), halted } as CpuState;
    readRegs(sv, S_REGS, s);
    const extra = readSregs(sv, S_SREGS, s);
    if (this.hasDebugRegs) {
      this.ioctl(IOC.GET_DEBUGREGS, S_DEBUGREGS, 'KVM_GET_DEBUGREGS');
      s.dr = readDebugRegs(sv, S_DEBUGREGS);
    } else {
      s.dr = [...RESET_DR];
    }
    writeMsrList(sv, S_MSRS, [...this.stateMsrs, ...this.extraMsrs].map((m) => [m, 0n] as const));
    const got = this.ioctl(IOC.GET_MSRS, S_MSRS, 'KVM_GET_MSRS');
    for (const [index, value] of readMsrList(sv, S_MSRS, got)) s.msrs.set(index, value);
    s.msrs.set(MSR.APIC_BASE, extra.apicBase);
    s.fpu = this.getFpu();
    const xcr0 = this.getXcr0();
    if (xcr0 !== undefined) s.xcr0 = xcr0;
    if (this.hasEvents) s.events = this.getEvents();
    return s;
  }

  private getEvents(): PendingEvents {
    this.ioctl(IOC.GET_VCPU_EVENTS, S_EVENTS, 'KVM_GET_VCPU_EVENTS');
    const sv = this.sv;
    return {
      interruptShadow: sv.getUint8(S_EVENTS + EVENTS.INTERRUPT_SHADOW) !== 0,
      nmiPending: sv.getUint8(S_EVENTS + EVENTS.NMI_PENDING) !== 0,
      nmiMasked: sv.getUint8(S_EVENTS + EVENTS.NMI_MASKED) !== 0,
    };
  }

  /** Sets the shadow and NMI state, keeping the exception/interrupt KVM may hold for injection. */
  private setEvents(e: PendingEvents): void {
    this.ioctl(IOC.GET_VCPU_EVENTS, S_EVENTS, 'KVM_GET_VCPU_EVENTS');
    const sv = this.sv;
    // STI and MOV SS shadows are one for the state's purpose: the next instruction runs before an interrupt
    sv.setUint8(S_EVENTS + EVENTS.INTERRUPT_SHADOW, e.interruptShadow ? EVENTS.SHADOW_STI : 0);
    sv.setUint8(S_EVENTS + EVENTS.NMI_PENDING, +e.nmiPending);
    sv.setUint8(S_EVENTS + EVENTS.NMI_MASKED, +e.nmiMasked);
    sv.setUint32(S_EVENTS + EVENTS.FLAGS, EVENTS.VALID_NMI_PENDING | EVENTS.VALID_SHADOW, true);
    this.ioctl(IOC.SET_VCPU_EVENTS, S_EVENTS, 'KVM_SET_VCPU_EVENTS');
  }

  setState(state: CpuState): void {
    const sv = this.sv;
    // An interrupt KVM accepted but has not delivered belongs to the vCPU, not to the state: keep it.
    this.ioctl(IOC.GET_SREGS, S_SREGS, 'KVM_GET_SREGS');
    const cur = readSregs(sv, S_SREGS, { ...state });
    writeSregs(sv, S_SREGS, state, {
      apicBase: state.msrs.get(MSR.APIC_BASE) ?? cur.apicBase,
      pendingInterrupt: cur.pendingInterrupt,
    });
    this.ioctl(IOC.SET_SREGS, S_SREGS, 'KVM_SET_SREGS');
    writeRegs(sv, S_REGS, state);
    this.ioctl(IOC.SET_REGS, S_REGS, 'KVM_SET_REGS');
    this.setMsrs(state.msrs);
    if (this.hasDebugRegs) {
      writeDebugRegs(sv, S_DEBUGREGS, state.dr);
      this.ioctl(IOC.SET_DEBUGREGS, S_DEBUGREGS, 'KVM_SET_DEBUGREGS');
    }
    if (state.xcr0 !== undefined && this.hasXcrs) this.setXcr0(state.xcr0);
    if (state.fpu) this.setFpu(state.fpu);
    if (this.hasEvents) this.setEvents(state.events ?? { interruptShadow: false, nmiPending: false, nmiMasked: false });
  }

  private setMsrs(msrs: ReadonlyMap<number, bigint>): void {
    const list: [number, bigint][] = [];
    for (const [index, value] of msrs) {
      if (SREGS_MSRS.has(index)) continue;
      if (!this.knownMsrs.has(index)) {
        if (value === 0n) continue;
        throw new AccelError(`MSR 0x${index.toString(16)} (= 0x${value.toString(16)}) is not supported by this host's KVM`);
      }
      list.push([index, value]);
    }
    if (list.length > MAX_MSRS) throw new AccelError(`too many MSRs (${list.length})`);
    writeMsrList(this.sv, S_MSRS, list);
    const n = this.ioctl(IOC.SET_MSRS, S_MSRS, 'KVM_SET_MSRS');
    if (n < list.length) {
      const [index, value] = list[n]!;
      throw new AccelError(`KVM refused MSR 0x${index.toString(16)} = 0x${value.toString(16)}`);
    }
    for (const [index] of list) if (!this.stateMsrs.includes(index)) this.extraMsrs.add(index);
  }

  getFpu(): FpuState {
    if (this.hasXsave) {
      this.ioctl(IOC.GET_XSAVE, S_XSAVE, 'KVM_GET_XSAVE');
      return readXsaveLegacy(this.sv, S_XSAVE);
    }
    this.ioctl(IOC.GET_FPU, S_FPU, 'KVM_GET_FPU');
    return readFpu(this.sv, S_FPU);
  }

  setFpu(f: FpuState): void {
    if (this.hasXsave) {
      this.ioctl(IOC.GET_XSAVE, S_XSAVE, 'KVM_GET_XSAVE');
      writeXsaveLegacy(this.sv, S_XSAVE, f);
      this.ioctl(IOC.SET_XSAVE, S_XSAVE, 'KVM_SET_XSAVE');
      return;
    }
    writeFpu(this.sv, S_FPU, f);
    this.ioctl(IOC.SET_FPU, S_FPU, 'KVM_SET_FPU');
  }

  /** XCR0, or undefined when the host has no KVM_CAP_XCRS. */
  getXcr0(): bigint | undefined {
    if (!this.hasXcrs) return undefined;
    this.ioctl(IOC.GET_XCRS, S_XCRS, 'KVM_GET_XCRS');
    const n = this.sv.getUint32(S_XCRS, true);
    for (let i = 0; i < n; i++) {
      const o = S_XCRS + XCRS_ENTRIES + XCR_ENTRY_SIZE * i;
      if (this.sv.getUint32(o, true) === 0) return this.sv.getBigUint64(o + 8, true);
    }
    return undefined;
  }

  setXcr0(value: bigint): void {
    if (!this.hasXcrs) throw new AccelError('this host has no KVM_CAP_XCRS');
    for (let i = 0; i < XCRS_SIZE; i++) this.sv.setUint8(S_XCRS + i, 0);
    this.sv.setUint32(S_XCRS, 1, true);
    this.sv.setBigUint64(S_XCRS + XCRS_ENTRIES + 8, value, true);
    this.ioctl(IOC.SET_XCRS, S_XCRS, 'KVM_SET_XCRS');
  }

  setSingleStep(on: boolean): void {
    for (let i = 0; i < GUEST_DEBUG.SIZE; i++) this.sv.setUint8(S_GUEST_DEBUG + i, 0);
    this.sv.setUint32(S_GUEST_DEBUG + GUEST_DEBUG.CONTROL, on ? GUESTDBG_ENABLE | GUESTDBG_SINGLESTEP : 0, true);
    this.ioctl(IOC.SET_GUEST_DEBUG, S_GUEST_DEBUG, 'KVM_SET_GUEST_DEBUG');
  }

  close(): void {
    this.scratch.free();
  }
}
