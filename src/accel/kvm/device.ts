// /dev/kvm itself: the API version, capabilities, the host's supported CPUID and MSR list, and VM creation.
import { AccelError } from '../accelerator.ts';
import { CAP, CPUID2_HEADER, CPUID_ENTRY_SIZE, IOC, KVM_API_VERSION } from './abi.ts';
import { type CpuidEntry, readCpuid2 } from './cpuid.ts';
import { EINTR, getLibc, O_CLOEXEC, O_RDWR, sysError } from './libc.ts';
import { NativeBuffer } from './native.ts';

export const KVM_DEVICE = '/dev/kvm';
const MAX_CPUID_ENTRIES = 1024;
const MAX_MSR_INDICES = 1024;

/** ioctl that retries EINTR (every ioctl but KVM_RUN) and throws AccelError on failure. */
export function ioctlOrThrow(fd: number, request: number, arg: number | bigint, what: string): number {
  const c = getLibc();
  for (;;) {
    const r = c.ioctlInt(fd, request, arg);
    if (r >= 0) return r;
    if (c.errno() !== EINTR) throw new AccelError(sysError(what));
  }
}

export class KvmDevice {
  readonly fd: number;
  readonly apiVersion: number;
  private cpuidCache: CpuidEntry[] | undefined;
  private msrCache: number[] | undefined;

  constructor(path = KVM_DEVICE) {
    const c = getLibc();
    const fd = c.open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) throw new AccelError(sysError(`cannot open ${path}`));
    this.fd = fd;
    const v = c.ioctlInt(fd, IOC.GET_API_VERSION, 0);
    if (v !== KVM_API_VERSION) {
      const msg = v < 0 ? `${path} is not a KVM device (${sysError('KVM_GET_API_VERSION')})` : `${path}: KVM API version ${v}, expected ${KVM_API_VERSION}`;
      c.close(fd);
      throw new AccelError(msg);
    }
    this.apiVersion = v;
  }

  /** KVM_CHECK_EXTENSION: 0 when absent, else a capability-specific positive value. */
  checkExtension(cap: number): number {
    return Math.max(0, getLibc().ioctlInt(this.fd, IOC.CHECK_EXTENSION, cap));
  }

  requireExtensions(): void {
    const missing = Object.entries({ USER_MEMORY: CAP.USER_MEMORY, IMMEDIATE_EXIT: CAP.IMMEDIATE_EXIT, EXT_CPUID: CAP.EXT_CPUID })
      .filter(([, cap]) => this.checkExtension(cap) === 0)
      .map(([name]) => `KVM_CAP_${name}`);
    if (missing.length) throw new AccelError(`${KVM_DEVICE} lacks ${missing.join(', ')}`);
  }

  get vcpuMmapSize(): number {
    return ioctlOrThrow(this.fd, IOC.GET_VCPU_MMAP_SIZE, 0, 'KVM_GET_VCPU_MMAP_SIZE');
  }

  /** KVM_GET_SUPPORTED_CPUID: every leaf/subleaf the host can give a guest. */
  supportedCpuid(): CpuidEntry[] {
    if (this.cpuidCache) return this.cpuidCache;
    const buf = NativeBuffer.anonymous(CPUID2_HEADER + CPUID_ENTRY_SIZE * MAX_CPUID_ENTRIES);
    try {
      buf.view.setUint32(0, MAX_CPUID_ENTRIES, true);
      ioctlOrThrow(this.fd, IOC.GET_SUPPORTED_CPUID, buf.address, 'KVM_GET_SUPPORTED_CPUID');
      this.cpuidCache = readCpuid2(buf.view, 0);
    } finally {
      buf.free();
    }
    return this.cpuidCache;
  }

  /** KVM_GET_MSR_INDEX_LIST: the MSRs KVM_GET/SET_MSRS accept. */
  msrIndexList(): number[] {
    if (this.msrCache) return this.msrCache;
    const buf = NativeBuffer.anonymous(4 + 4 * MAX_MSR_INDICES);
    try {
      buf.view.setUint32(0, MAX_MSR_INDICES, true);
      ioctlOrThrow(this.fd, IOC.GET_MSR_INDEX_LIST, buf.address, 'KVM_GET_MSR_INDEX_LIST');
      const n = buf.view.getUint32(0, true);
      this.msrCache = Array.from({ length: n }, (_, i) => buf.view.getUint32(4 + 4 * i, true));
    } finally {
      buf.free();
    }
    return this.msrCache;
  }

  /** KVM_CREATE_VM: the new VM's file descriptor. */
  createVmFd(): number {
    return ioctlOrThrow(this.fd, IOC.CREATE_VM, 0, 'KVM_CREATE_VM');
  }

  close(): void {
    getLibc().close(this.fd);
  }
}
