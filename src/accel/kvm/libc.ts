// The few libc calls the KVM backend needs, through koffi. Every pointer argument is a BigInt address into native
// memory the caller owns (see scratch.ts), so no call marshals a JS object.
import koffi from 'koffi';

type Fn<A extends unknown[], R> = (...args: A) => R;

export interface Libc {
  open: Fn<[path: string, flags: number], number>;
  close: Fn<[fd: number], number>;
  /** ioctl with an integer (or no) argument. */
  ioctlInt: Fn<[fd: number, request: number, arg: number | bigint], number>;
  mmap: Fn<[addr: bigint, length: number, prot: number, flags: number, fd: number, offset: number], bigint>;
  munmap: Fn<[addr: bigint, length: number], number>;
  strerror: Fn<[errnum: number], string>;
  gettid: Fn<[], number>;
  timerCreate: Fn<[clock: number, sigevent: bigint, timerIdOut: bigint], number>;
  timerSettime: Fn<[timer: bigint, flags: number, value: bigint, old: bigint], number>;
  timerDelete: Fn<[timer: bigint], number>;
  pthreadSigmask: Fn<[how: number, set: bigint, old: bigint], number>;
  sigtimedwait: Fn<[set: bigint, info: bigint, timeout: bigint], number>;
  errno(): number;
}

export const O_RDWR = 2;
export const O_CLOEXEC = 0o2000000;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_SHARED = 1;
export const MAP_PRIVATE = 2;
export const MAP_ANONYMOUS = 0x20;
export const EINTR = 4;
export const EAGAIN = 11;
export const CLOCK_MONOTONIC = 1;
export const SIGEV_THREAD_ID = 4;
export const SIG_BLOCK = 0;
/** mmap's MAP_FAILED, as koffi returns it. */
export const MAP_FAILED = 0xffff_ffff_ffff_ffffn;

let libc: Libc | undefined;

/** Binds libc on first use (throws if koffi or libc.so.6 cannot be loaded). */
export function getLibc(): Libc {
  if (libc) return libc;
  const lib = koffi.load('libc.so.6');
  // ioctl is variadic in C. The x86-64 SysV ABI passes a variadic integer/pointer exactly like a fixed one (glibc's
  // wrapper only reads it back with va_arg), so a fixed prototype is ABI-compatible and keeps koffi's fast path on
  // KVM_RUN, the hot call; koffi's variadic path re-marshals the argument types on every call.
  const ioctl = lib.func('int ioctl(int fd, unsigned long request, uint64_t arg)');
  const mmap = lib.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)');
  const norm = (p: unknown): bigint => (p === null || p === undefined ? 0n : BigInt.asUintN(64, BigInt(p as bigint)));
  libc = {
    open: lib.func('int open(const char *path, int flags)'),
    close: lib.func('int close(int fd)'),
    ioctlInt: ioctl,
    mmap: (addr, length, prot, flags, fd, offset) => norm(mmap(addr, length, prot, flags, fd, offset)),
    munmap: lib.func('int munmap(void *addr, size_t length)'),
    strerror: lib.func('const char *strerror(int errnum)'),
    gettid: lib.func('int gettid()'),
    timerCreate: lib.func('int timer_create(int clock, void *sevp, void *timerid)'),
    timerSettime: lib.func('int timer_settime(void *timer, int flags, void *value, void *old)'),
    timerDelete: lib.func('int timer_delete(void *timer)'),
    pthreadSigmask: lib.func('int pthread_sigmask(int how, void *set, void *old)'),
    sigtimedwait: lib.func('int sigtimedwait(void *set, void *info, void *timeout)'),
    errno: () => koffi.errno(),
  };
  return libc;
}

/** "what: strerror(errno)" for the last failed call. */
export function sysError(what: string): string {
  const c = getLibc();
  const e = c.errno();
  return `${what}: ${c.strerror(e)} (errno ${e})`;
}
