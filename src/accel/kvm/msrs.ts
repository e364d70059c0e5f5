// Which MSRs a KVM vCPU's CpuState carries, and the kvm_msrs buffer format.
import { MSR, MSR_ENTRY_SIZE, MSRS_HEADER } from './abi.ts';

/** The MSRs every getState() reports (those the host's KVM_GET_MSR_INDEX_LIST has). EFER lives in sregs. */
export const STATE_MSRS: readonly number[] = [
  MSR.STAR, MSR.LSTAR, MSR.CSTAR, MSR.SFMASK, MSR.KERNEL_GS_BASE, MSR.TSC_AUX,
  MSR.SYSENTER_CS, MSR.SYSENTER_ESP, MSR.SYSENTER_EIP,
];

/** MSRs kvm_sregs/kvm_segment already hold; CpuState.msrs entries for them are taken from there instead. */
export const SREGS_MSRS: ReadonlySet<number> = new Set([MSR.EFER, MSR.FS_BASE, MSR.GS_BASE, MSR.APIC_BASE]);

export function writeMsrList(dv: DataView, off: number, entries: readonly (readonly [number, bigint])[]): void {
  dv.setUint32(off, entries.length, true);
  dv.setUint32(off + 4, 0, true);
  entries.forEach(([index, value], i) => {
    const o = off + MSRS_HEADER + MSR_ENTRY_SIZE * i;
    dv.setUint32(o, index >>> 0, true);
    dv.setUint32(o + 4, 0, true);
    dv.setBigUint64(o + 8, BigInt.asUintN(64, value), true);
  });
}

/** The first `n` entries of a kvm_msrs buffer. */
export function readMsrList(dv: DataView, off: number, n: number): [number, bigint][] {
  const out: [number, bigint][] = [];
  for (let i = 0; i < n; i++) {
    const o = off + MSRS_HEADER + MSR_ENTRY_SIZE * i;
    out.push([dv.getUint32(o, true), dv.getBigUint64(o + 8, true)]);
  }
  return out;
}

export const msrsSize = (n: number): number => MSRS_HEADER + MSR_ENTRY_SIZE * n;
