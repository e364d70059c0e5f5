// Native memory the KVM backend hands to ioctls: anonymous or device mmaps with a stable address, seen from JS
// through a zero-copy koffi view. JS ArrayBuffers cannot be used for this: V8 may move them and they are not
// page aligned.
import koffi from 'koffi';
import { AccelError } from '../accelerator.ts';
import { getLibc, MAP_ANONYMOUS, MAP_FAILED, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE, sysError } from './libc.ts';

export class NativeBuffer {
  readonly view: DataView;
  readonly bytes: Uint8Array;
  private closed = false;

  private constructor(readonly address: bigint, readonly size: number) {
    const ab = koffi.view(address, size);
    this.view = new DataView(ab);
    this.bytes = new Uint8Array(ab);
  }

  /** Zeroed private anonymous memory. */
  static anonymous(size: number): NativeBuffer {
    const p = getLibc().mmap(0n, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p === MAP_FAILED) throw new AccelError(sysError(`mmap of ${size} bytes`));
    return new NativeBuffer(p, size);
  }

  /** A shared mapping of a file descriptor (the vCPU's kvm_run). */
  static mapFd(fd: number, size: number, what: string): NativeBuffer {
    const p = getLibc().mmap(0n, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p === MAP_FAILED) throw new AccelError(sysError(`mmap of ${what}`));
    return new NativeBuffer(p, size);
  }

  /** Address of byte `offset`. */
  at(offset: number): bigint {
    return this.address + BigInt(offset);
  }

  /** Unmaps; the views must not be used afterwards. */
  free(): void {
    if (this.closed) return;
    this.closed = true;
    getLibc().munmap(this.address, this.size);
  }
}
