// One KVM vCPU: the KVM_RUN loop — port I/O and MMIO to the board's buses, interrupt injection, stops and time
// slices — behind the Vcpu interface. Register ioctls are in vcpu-regs.ts.
import { AccelError, type InterruptSource, type IoHandler, type Vcpu, type VcpuExit } from '../accelerator.ts';
import type { CpuState, FpuState } from '../../cpu/state.ts';
import { EXIT, EXIT_IO_OUT, INTERNAL_EMULATION, IOC, RUN } from './abi.ts';
import type { CpuidEntry, CpuidLeaf } from './cpuid.ts';
import { EAGAIN, EINTR, getLibc, type Libc, sysError } from './libc.ts';
import { emulatedCpuModel } from './model.ts';
import { NativeBuffer } from './native.ts';
import { describeExit, describeState } from './report.ts';
import { SLICE_SCRATCH_SIZE, SliceTimer } from './slice.ts';
import { VcpuRegs } from './vcpu-regs.ts';
import type { KvmVm } from './vm.ts';

export interface KvmVcpuOptions {
  /** The CPU model's CPUID leaves (intersected with what KVM supports); default: the software CPU's model. */
  cpuidModel?: readonly CpuidLeaf[];
  /**
   * Longest a run() stays in the guest, in ms (default 20; 0 = unbounded): when it ends, run() returns
   * { kind: 'budget' } whatever budget was left, so the caller's event loop gets a turn (see slice.ts).
   */
  sliceMs?: number;
}

// The native block for KVM_INTERRUPT's argument and the slice timer's structures.
const S_INTERRUPT = 0;
const S_SLICE = 64;
const SCRATCH_SIZE = S_SLICE + SLICE_SCRATCH_SIZE;

const STOPPED: VcpuExit = { kind: 'stopped' };
const BUDGET: VcpuExit = { kind: 'budget' };
const IF_BIT = 0x200n;

export class KvmVcpu implements Vcpu {
  exits = 0;
  readonly fd: number;
  private readonly libc: Libc;
  private readonly kvmRun: NativeBuffer;
  private readonly rv: DataView;
  private readonly scratch: NativeBuffer;
  private readonly regs: VcpuRegs;
  private readonly slice: SliceTimer | undefined;
  private readonly sliceMs: number;
  private readonly irqQueue: number[] = [];
  private source: InterruptSource | undefined;
  private nmiPending = false;
  private stopRequested = false;
  /** The last exit was port I/O or MMIO: the instruction completes on the next KVM_RUN. */
  private ioPending = false;
  private halted = false;
  private haltedIf = false;
  private windowRequested = false;
  private closed = false;

  /** Must be created on the thread that will run it (the slice timer signals that thread). */
  constructor(readonly vm: KvmVm, readonly id: number, private readonly io: IoHandler, options: KvmVcpuOptions = {}) {
    this.libc = getLibc();
    this.fd = vm.createVcpuFd(id);
    const owned: { free(): void }[] = [];
    try {
      this.kvmRun = NativeBuffer.mapFd(this.fd, vm.device.vcpuMmapSize, 'kvm_run');
      owned.push(this.kvmRun);
      this.rv = this.kvmRun.view;
      this.scratch = NativeBuffer.anonymous(SCRATCH_SIZE);
      owned.push(this.scratch);
      this.regs = new VcpuRegs(this.fd, vm.device);
      owned.push({ free: () => this.regs.close() });
      this.regs.setCpuid(options.cpuidModel ?? emulatedCpuModel());
      this.sliceMs = options.sliceMs ?? 20;
      this.slice = this.sliceMs > 0 ? new SliceTimer(this.scratch, S_SLICE, this.fd) : undefined;
    } catch (e) {
      for (const o of owned.reverse()) o.free();
      this.libc.close(this.fd);
      throw e;
    }
  }

  /** What KVM_SET_CPUID2 was given. */
  get cpuidEntries(): CpuidEntry[] {
    return this.regs.cpuid;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Running

  run(budget = Number.POSITIVE_INFINITY, maxMs = Number.POSITIVE_INFINITY): VcpuExit {
    if (this.closed) throw new AccelError('vCPU used after close()');
    this.vm.syncMemory();
    if (this.stopRequested) {
      this.stopRequested = false;
      return STOPPED;
    }
    if (this.halted) {
      if (!this.haltedIf) return { kind: 'halt' };
      if (!this.interruptWaiting()) return { kind: 'idle' };
      this.halted = false;
    }
    const rv = this.rv;
    const ioctl = this.libc.ioctlInt;
    const fd = this.fd;
    this.slice?.arm(Math.min(this.sliceMs, Math.max(maxMs, 0.01)));
    try {
      for (let n = 0; ; ) {
        if (this.nmiPending) this.deliverNmi();
        if (this.irqQueue.length !== 0 || this.windowRequested || (this.source && this.source.pending() >= 0)) this.prepareInterrupt();
        const r = ioctl(fd, IOC.RUN, 0);
        this.exits++;
        n++;
        this.ioPending = false;
        if (r < 0) {
          const e = this.libc.errno();
          if (e !== EINTR && e !== EAGAIN) return this.fail(sysError('KVM_RUN'));
          // The slice ended, or a signal for Node (SIGINT, ...) arrived: let the event loop run.
          this.slice?.drain();
          if (this.stopRequested) {
            this.stopRequested = false;
            return STOPPED;
          }
          return BUDGET;
        }
        const reason = rv.getUint32(RUN.EXIT_REASON, true);
        if (reason === EXIT.IO) {
          this.ioPending = true;
          this.portIo(rv);
        } else if (reason === EXIT.MMIO) {
          this.ioPending = true;
          this.mmio(rv);
        } else if (reason === EXIT.HLT && this.interruptWaiting() && rv.getUint8(RUN.IF_FLAG)) {
          // HLT, but an interrupt queued during this run wakes the guest at once.
        } else if (reason !== EXIT.IRQ_WINDOW_OPEN) {
          return this.finish(reason);
        }
        if (this.stopRequested) {
          this.stopRequested = false;
          return STOPPED;
        }
        if (n >= budget) return BUDGET;
      }
    } finally {
      this.slice?.disarm();
    }
  }

  private portIo(rv: DataView): void {
    const size = rv.getUint8(RUN.IO_SIZE);
    const port = rv.getUint16(RUN.IO_PORT, true);
    const count = rv.getUint32(RUN.IO_COUNT, true);
    let off = rv.getUint32(RUN.IO_DATA_OFFSET, true);
    const io = this.io;
    if (rv.getUint8(RUN.IO_DIRECTION) === EXIT_IO_OUT) {
      for (let i = 0; i < count; i++, off += size) {
        io.ioWrite(port, size, size === 1 ? rv.getUint8(off) : size === 2 ? rv.getUint16(off, true) : rv.getUint32(off, true));
      }
    } else {
      for (let i = 0; i < count; i++, off += size) {
        const v = io.ioRead(port, size);
        if (size === 1) rv.setUint8(off, v);
        else if (size === 2) rv.setUint16(off, v, true);
        else rv.setUint32(off, v >>> 0, true);
      }
    }
  }

  private mmio(rv: DataView): void {
    const addr = rv.getUint32(RUN.MMIO_PHYS_ADDR, true) + rv.getUint32(RUN.MMIO_PHYS_ADDR + 4, true) * 0x1_0000_0000;
    const len = rv.getUint32(RUN.MMIO_LEN, true);
    const io = this.io;
    const d = RUN.MMIO_DATA;
    // 8-byte accesses go to the bus as two 4-byte ones, low half first.
    if (rv.getUint8(RUN.MMIO_IS_WRITE)) {
      if (len === 1) io.mmioWrite(addr, 1, rv.getUint8(d));
      else if (len === 2) io.mmioWrite(addr, 2, rv.getUint16(d, true));
      else if (len === 4) io.mmioWrite(addr, 4, rv.getUint32(d, true));
      else for (let i = 0; i < len; i += 4) io.mmioWrite(addr + i, 4, rv.getUint32(d + i, true));
    } else {
      if (len === 1) rv.setUint8(d, io.mmioRead(addr, 1));
      else if (len === 2) rv.setUint16(d, io.mmioRead(addr, 2), true);
      else if (len === 4) rv.setUint32(d, io.mmioRead(addr, 4) >>> 0, true);
      else for (let i = 0; i < len; i += 4) rv.setUint32(d + i, io.mmioRead(addr + i, 4) >>> 0, true);
    }
  }

  /** A queued or controller interrupt is waiting for the guest. */
  private interruptWaiting(): boolean {
    return this.irqQueue.length !== 0 || this.nmiPending || (this.source !== undefined && this.source.pending() >= 0);
  }

  /**
   * Injects the next queued vector (or the controllers' pending one, acknowledged only now) when the guest can take
   * it, else asks KVM to exit when it can.
   */
  private prepareInterrupt(): void {
    const rv = this.rv;
    const q = this.irqQueue;
    const src = this.source;
    if (rv.getUint8(RUN.READY_FOR_INTERRUPT_INJECTION) && rv.getUint8(RUN.IF_FLAG)) {
      let v = q.length ? q[0]! : -1;
      if (v < 0 && src && src.pending() >= 0) v = src.ack();
      else if (v >= 0) q.shift();
      if (v >= 0) {
        this.scratch.view.setUint32(S_INTERRUPT, v, true);
        if (this.libc.ioctlInt(this.fd, IOC.INTERRUPT, this.scratch.at(S_INTERRUPT)) !== 0) {
          throw new AccelError(sysError('KVM_INTERRUPT'));
        }
      }
    }
    this.windowRequested = q.length !== 0 || (src !== undefined && src.pending() >= 0);
    rv.setUint8(RUN.REQUEST_INTERRUPT_WINDOW, +this.windowRequested);
  }

  private deliverNmi(): void {
    this.nmiPending = false;
    if (this.libc.ioctlInt(this.fd, IOC.NMI, 0) !== 0) throw new AccelError(sysError('KVM_NMI'));
  }

  private finish(reason: number): VcpuExit {
    switch (reason) {
      case EXIT.HLT:
        this.halted = true;
        this.haltedIf = this.rv.getUint8(RUN.IF_FLAG) !== 0;
        return { kind: this.haltedIf ? 'idle' : 'halt' };
      case EXIT.SHUTDOWN:
        return { kind: 'shutdown' };
      case EXIT.DEBUG:
        return { kind: 'debug' };
      default: {
        const e = this.fail(describeExit(this.rv, reason));
        if (reason === EXIT.INTERNAL_ERROR && this.rv.getUint32(RUN.INTERNAL_SUBERROR, true) === INTERNAL_EMULATION) {
          return { ...e, emulation: true };
        }
        return e;
      }
    }
  }

  private fail(what: string): VcpuExit & { kind: 'error' } {
    let state = '';
    try {
      state = ' at ' + describeState(this.getState());
    } catch (e) {
      state = ` (guest state unavailable: ${(e as Error).message})`;
    }
    return { kind: 'error', message: what + state };
  }

  injectInterrupt(vector: number): void {
    if (!Number.isInteger(vector) || vector < 0 || vector > 255) throw new AccelError(`bad interrupt vector ${vector}`);
    this.irqQueue.push(vector);
  }

  connectInterrupts(source: InterruptSource): void {
    this.source = source;
  }

  interruptsChanged(): void {
    // checked before every KVM_RUN; a run in progress sees it at its next exit (or the end of its time slice)
  }

  injectNmi(): void {
    this.nmiPending = true;
  }

  requestStop(): void {
    this.stopRequested = true;
  }

  /** Lets the last port I/O or MMIO instruction complete (KVM finishes it on entry; immediate_exit returns at once). */
  private completeIo(): void {
    if (!this.ioPending) return;
    this.ioPending = false;
    this.rv.setUint8(RUN.IMMEDIATE_EXIT, 1);
    const r = this.libc.ioctlInt(this.fd, IOC.RUN, 0);
    const e = this.libc.errno();
    this.rv.setUint8(RUN.IMMEDIATE_EXIT, 0);
    if (r < 0 && e !== EINTR) throw new AccelError(sysError('KVM_RUN (completing I/O)'));
  }

  // -------------------------------------------------------------------------------------------------------------
  // State

  getState(): CpuState {
    this.completeIo();
    return this.regs.getState(this.halted);
  }

  setState(state: CpuState): void {
    this.completeIo();
    this.regs.setState(state);
    this.halted = state.halted;
    this.haltedIf = (state.rflags & IF_BIT) !== 0n;
  }

  /** x87/SSE registers alone (KVM_GET_FPU; getState() has them as `fpu`). */
  getFpu(): FpuState {
    this.completeIo();
    return this.regs.getFpu();
  }

  setFpu(f: FpuState): void {
    this.completeIo();
    this.regs.setFpu(f);
  }

  /** XCR0, or undefined when the host has no KVM_CAP_XCRS. */
  getXcr0(): bigint | undefined {
    return this.regs.getXcr0();
  }

  setXcr0(value: bigint): void {
    this.regs.setXcr0(value);
  }

  /** Single-stepping: each run() ends after one guest instruction with { kind: 'debug' }. */
  setSingleStep(on: boolean): void {
    this.regs.setSingleStep(on);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.slice?.close();
    this.regs.close();
    this.kvmRun.free();
    this.scratch.free();
    this.libc.close(this.fd);
  }
}
