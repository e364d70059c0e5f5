// One-line descriptions of KVM exits that end a run with an error, with the guest state that explains them.
import type { CpuState, SegmentState } from '../../cpu/state.ts';
import { EXIT, EXIT_NAMES, INTERNAL_ERROR_NAMES, RUN } from './abi.ts';

const hex = (v: bigint | number): string => '0x' + v.toString(16);

function seg(name: string, g: SegmentState): string {
  const bits = [g.l ? 'L' : '', g.db ? 'D' : '', `dpl${g.dpl}`, g.present ? '' : 'NP', g.unusable ? 'unusable' : '']
    .filter(Boolean).join(',');
  return `${name}=${hex(g.selector)}(${bits})`;
}

export function describeState(s: CpuState): string {
  return [
    `rip=${hex(s.rip)}`, `rsp=${hex(s.gpr[4]!)}`, `rflags=${hex(s.rflags)}`, seg('cs', s.cs), seg('ss', s.ss),
    `cr0=${hex(s.cr0)}`, `cr3=${hex(s.cr3)}`, `cr4=${hex(s.cr4)}`, `efer=${hex(s.efer)}`,
  ].join(' ');
}

/** What kvm_run says about an exit kemu cannot continue from. */
export function describeExit(run: DataView, reason: number): string {
  const name = `KVM_EXIT_${EXIT_NAMES[reason] ?? reason}`;
  switch (reason) {
    case EXIT.INTERNAL_ERROR: {
      const sub = run.getUint32(RUN.INTERNAL_SUBERROR, true);
      const n = Math.min(run.getUint32(RUN.INTERNAL_NDATA, true), 16);
      const data = Array.from({ length: n }, (_, i) => hex(run.getBigUint64(RUN.INTERNAL_DATA + 8 * i, true)));
      return `${name} (${INTERNAL_ERROR_NAMES[sub] ?? `suberror ${sub}`})${n ? ` data=[${data.join(' ')}]` : ''}`;
    }
    case EXIT.FAIL_ENTRY:
      return `${name} (hardware entry failure reason ${hex(run.getBigUint64(RUN.FAIL_ENTRY_REASON, true))})`;
    case EXIT.EXCEPTION:
      return `${name} (vector ${run.getUint32(RUN.EX_EXCEPTION, true)}, error code ${hex(run.getUint32(RUN.EX_ERROR_CODE, true))})`;
    default:
      return `unhandled ${name}`;
  }
}
