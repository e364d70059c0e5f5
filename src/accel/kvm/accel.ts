// The KVM accelerator: /dev/kvm, one VM over the board's guest memory, and its vCPU.
import { AccelError, type Accelerator, type IoHandler } from '../accelerator.ts';
import type { GuestMemory } from '../../machine/memory.ts';
import { IOC } from './abi.ts';
import { KVM_DEVICE, KvmDevice } from './device.ts';
import { getLibc } from './libc.ts';
import { NativeBuffer } from './native.ts';
import { KvmVcpu, type KvmVcpuOptions } from './vcpu.ts';
import { KvmVm } from './vm.ts';

export interface KvmOptions extends KvmVcpuOptions {
  /** Default /dev/kvm. */
  devicePath?: string;
}

export class KvmAccelerator implements Accelerator {
  readonly name = 'kvm' as const;
  readonly device: KvmDevice;
  readonly vm: KvmVm;
  private vcpu: KvmVcpu | undefined;

  constructor(memory: GuestMemory, private readonly options: KvmOptions = {}) {
    this.device = new KvmDevice(options.devicePath);
    try {
      this.device.requireExtensions();
      this.vm = new KvmVm(this.device, memory);
    } catch (e) {
      this.device.close();
      throw e;
    }
  }

  createVcpu(io: IoHandler): KvmVcpu {
    if (this.vcpu) throw new AccelError('this KVM accelerator has its vCPU already (one vCPU for now)');
    this.vcpu = new KvmVcpu(this.vm, 0, io, this.options);
    return this.vcpu;
  }

  close(): void {
    this.vcpu?.close();
    this.vcpu = undefined;
    this.vm.close();
    this.device.close();
  }
}

export type KvmProbe = { ok: true; detail: string } | { ok: false; reason: string };

/** Whether KVM really works here: opens the device, checks the API and creates a VM with a vCPU. */
export function probeKvm(path = KVM_DEVICE): KvmProbe {
  let dev: KvmDevice | undefined;
  const fds: number[] = [];
  try {
    dev = new KvmDevice(path);
    dev.requireExtensions();
    const vmFd = dev.createVmFd();
    fds.push(vmFd);
    const vcpuFd = getLibc().ioctlInt(vmFd, IOC.CREATE_VCPU, 0);
    if (vcpuFd < 0) throw new AccelError(`${path}: cannot create a vCPU (errno ${getLibc().errno()})`);
    fds.push(vcpuFd);
    NativeBuffer.mapFd(vcpuFd, dev.vcpuMmapSize, 'kvm_run').free();
    return { ok: true, detail: `${path} (KVM API ${dev.apiVersion})` };
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : String(e) };
  } finally {
    for (const fd of fds.reverse()) getLibc().close(fd);
    dev?.close();
  }
}
