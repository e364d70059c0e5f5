// Bounding a blocking KVM_RUN in time.
//
// Node runs JS and KVM_RUN on one thread, so while a guest computes without exits nothing in JS can run: no timer,
// no stdin, no Ctrl-C listener, hence nobody to call requestStop(). The vCPU therefore runs in time slices: a POSIX
// timer aimed at this thread (SIGEV_THREAD_ID) raises a real-time signal when the slice ends and KVM_RUN returns
// EINTR; run() then returns to the board, whose event loop gets its turn (and may call requestStop()).
//
// The signal is blocked in the thread at all times and unblocked only inside KVM_RUN (KVM_SET_SIGNAL_MASK), so it
// can interrupt nothing but KVM_RUN: no handler ever runs, no other syscall of Node's sees EINTR, and the pending
// instance is consumed with sigtimedwait. Stops requested while no KVM_RUN is in progress use kvm_run's
// immediate_exit instead (see vcpu.ts), which has no race.
import { AccelError } from '../accelerator.ts';
import { IOC, KERNEL_SIGSET_SIZE } from './abi.ts';
import { CLOCK_MONOTONIC, getLibc, SIG_BLOCK, SIGEV_THREAD_ID, sysError } from './libc.ts';
import type { NativeBuffer } from './native.ts';

/** A real-time signal nothing else in Node uses (glibc reserves SIGRTMIN 32..34). */
export const SLICE_SIGNAL = 57;

const SIGSET_SIZE = 128; // glibc sigset_t
const SIGEVENT_SIZE = 64;
const ITIMERSPEC_SIZE = 32;

// Offsets in the native scratch area this class is given.
const O_SET = 0; // sigset_t holding SLICE_SIGNAL
const O_OLD = O_SET + SIGSET_SIZE; // the thread's previous mask
const O_SIGEVENT = O_OLD + SIGSET_SIZE;
const O_TIMER = O_SIGEVENT + SIGEVENT_SIZE; // timer_t
const O_SPEC = O_TIMER + 8; // itimerspec to arm
const O_OLDSPEC = O_SPEC + ITIMERSPEC_SIZE;
const O_ZERO = O_OLDSPEC + ITIMERSPEC_SIZE; // timespec {0, 0}
const O_KVMMASK = O_ZERO + 16; // kvm_signal_mask
export const SLICE_SCRATCH_SIZE = O_KVMMASK + 4 + KERNEL_SIGSET_SIZE;

export class SliceTimer {
  private readonly timer: bigint;
  private armed = false;

  /**
   * `scratch` must stay mapped for the timer's life; `vcpuFd` receives the in-run signal mask. Must be created on
   * the thread that will call KVM_RUN.
   */
  constructor(private readonly scratch: NativeBuffer, private readonly base: number, vcpuFd: number) {
    const c = getLibc();
    const dv = scratch.view;
    for (let i = 0; i < SLICE_SCRATCH_SIZE; i++) dv.setUint8(base + i, 0);
    const bit = SLICE_SIGNAL - 1;
    dv.setUint8(base + O_SET + (bit >> 3), 1 << (bit & 7));
    if (c.pthreadSigmask(SIG_BLOCK, scratch.at(base + O_SET), scratch.at(base + O_OLD)) !== 0) {
      throw new AccelError('pthread_sigmask failed');
    }
    // Inside KVM_RUN: the thread's own mask, minus the slice signal.
    dv.setUint32(base + O_KVMMASK, KERNEL_SIGSET_SIZE, true);
    for (let i = 0; i < KERNEL_SIGSET_SIZE; i++) dv.setUint8(base + O_KVMMASK + 4 + i, dv.getUint8(base + O_OLD + i));
    const k = base + O_KVMMASK + 4 + (bit >> 3);
    dv.setUint8(k, dv.getUint8(k) & ~(1 << (bit & 7)));
    if (c.ioctlInt(vcpuFd, IOC.SET_SIGNAL_MASK, scratch.at(base + O_KVMMASK)) < 0) {
      throw new AccelError(sysError('KVM_SET_SIGNAL_MASK'));
    }
    dv.setInt32(base + O_SIGEVENT + 8, SLICE_SIGNAL, true); // sigev_signo
    dv.setInt32(base + O_SIGEVENT + 12, SIGEV_THREAD_ID, true); // sigev_notify
    dv.setInt32(base + O_SIGEVENT + 16, c.gettid(), true); // sigev_notify_thread_id
    if (c.timerCreate(CLOCK_MONOTONIC, scratch.at(base + O_SIGEVENT), scratch.at(base + O_TIMER)) !== 0) {
      throw new AccelError(sysError('timer_create'));
    }
    this.timer = dv.getBigUint64(base + O_TIMER, true);
  }

  /** Starts a one-shot slice of `ms` milliseconds. */
  arm(ms: number): void {
    const dv = this.scratch.view;
    const o = this.base + O_SPEC;
    const ns = Math.max(1, Math.round(ms * 1e6));
    dv.setBigInt64(o, 0n, true);
    dv.setBigInt64(o + 8, 0n, true);
    dv.setBigInt64(o + 16, BigInt(Math.floor(ns / 1e9)), true);
    dv.setBigInt64(o + 24, BigInt(ns % 1e9), true);
    getLibc().timerSettime(this.timer, 0, this.scratch.at(o), 0n);
    this.armed = true;
  }

  /** Stops the slice; consumes its signal if it fired after the last drain. */
  disarm(): void {
    if (!this.armed) return;
    this.armed = false;
    const dv = this.scratch.view;
    const o = this.base + O_SPEC;
    for (let i = 0; i < 32; i += 8) dv.setBigInt64(o + i, 0n, true);
    const old = this.base + O_OLDSPEC;
    getLibc().timerSettime(this.timer, 0, this.scratch.at(o), this.scratch.at(old));
    const left = dv.getBigInt64(old + 16, true) | dv.getBigInt64(old + 24, true);
    if (left === 0n) this.drain();
  }

  /** Consumes a pending slice signal (if any); true if there was one. */
  drain(): boolean {
    const s = this.scratch;
    return getLibc().sigtimedwait(s.at(this.base + O_SET), 0n, s.at(this.base + O_ZERO)) === SLICE_SIGNAL;
  }

  close(): void {
    this.disarm();
    getLibc().timerDelete(this.timer);
  }
}
