// A KVM virtual machine: guest RAM as memory slot 0 and the x86 setup VMX needs for real mode.
import { AccelError } from '../accelerator.ts';
import type { GuestMemory } from '../../machine/memory.ts';
import { CAP, IOC, MEMREGION } from './abi.ts';
import { ioctlOrThrow, type KvmDevice } from './device.ts';
import { getLibc } from './libc.ts';
import { NativeBuffer } from './native.ts';
import koffi from 'koffi';

/**
 * Three pages below the BIOS area that VMX uses for real-mode emulation (the TSS, then the identity page table),
 * as PCs leave them: above any RAM kemu gives a guest (at most 3.5 GiB) and clear of the 4 GiB reset vector.
 */
export const TSS_ADDR = 0xfffbd000;
export const IDENTITY_MAP_ADDR = 0xfffbc000;

export class KvmVm {
  readonly fd: number;
  private readonly scratch = NativeBuffer.anonymous(4096);
  private mapped: ArrayBuffer | undefined;

  constructor(readonly device: KvmDevice, readonly memory: GuestMemory) {
    this.fd = device.createVmFd();
    try {
      if (device.checkExtension(CAP.SET_IDENTITY_MAP_ADDR)) {
        this.scratch.view.setBigUint64(0, BigInt(IDENTITY_MAP_ADDR), true);
        ioctlOrThrow(this.fd, IOC.SET_IDENTITY_MAP_ADDR, this.scratch.address, 'KVM_SET_IDENTITY_MAP_ADDR');
      }
      if (device.checkExtension(CAP.SET_TSS_ADDR)) ioctlOrThrow(this.fd, IOC.SET_TSS_ADDR, TSS_ADDR, 'KVM_SET_TSS_ADDR');
      this.syncMemory();
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /**
   * Registers guest RAM as slot 0, backed by the very WebAssembly.Memory the board's devices and loaders use, so
   * nothing is copied. The host address is stable because GuestMemory creates the memory at its full size and
   * never grows it (maximum = initial): V8 reserves a wasm memory once and a buffer that is never grown is never
   * detached. If an embedder did grow it, the buffer object changes, and this re-registers the slot at the new
   * address before the next KVM_RUN (cheap identity check, called from run()).
   */
  syncMemory(): void {
    const buf = this.memory.memory.buffer;
    if (buf === this.mapped) return;
    const addr = koffi.address(buf);
    if (addr & 0xfffn) throw new AccelError(`guest RAM at host address 0x${addr.toString(16)} is not page aligned`);
    const dv = this.scratch.view;
    dv.setUint32(MEMREGION.SLOT, 0, true);
    dv.setUint32(MEMREGION.FLAGS, 0, true);
    dv.setBigUint64(MEMREGION.GPA, 0n, true);
    dv.setBigUint64(MEMREGION.SIZE_FIELD, BigInt(this.memory.ramSize), true);
    dv.setBigUint64(MEMREGION.UADDR, addr, true);
    ioctlOrThrow(this.fd, IOC.SET_USER_MEMORY_REGION, this.scratch.address, 'KVM_SET_USER_MEMORY_REGION');
    this.mapped = buf;
  }

  /** KVM_CREATE_VCPU: the vCPU's file descriptor. */
  createVcpuFd(id: number): number {
    return ioctlOrThrow(this.fd, IOC.CREATE_VCPU, id, 'KVM_CREATE_VCPU');
  }

  close(): void {
    getLibc().close(this.fd);
    this.scratch.free();
  }
}
