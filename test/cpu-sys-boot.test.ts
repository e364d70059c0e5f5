// Boot from real mode to long mode: a flat binary at 0x8000 entered in real mode switches to protected mode, sets up
// 4-level paging, enables long mode, prints over COM1 and exits through isa-debug-exit. Run on the software CPU and,
// where /dev/kvm is usable, on KVM as a reference.
import { describe, expect, it } from 'vitest';
import { LM_PRELUDE, buildFlat, kvmUsable, runFlat } from './cpu-sys-guest.ts';

describe('system: boot', () => {
  const bin = buildFlat(LM_PRELUDE + String.raw`
.text
test_main:
  lea rdi, [rip + msg]
  call puts
  ret
.data
msg: .asciz "hello from long mode\n"
`);

  it('real mode -> protected mode -> long mode on the software CPU', () => {
    const r = runFlat(bin, 'tcg');
    expect(r.out).toBe('RPLhello from long mode\n');
    expect(r.outcome).toEqual({ kind: 'exit', status: 1 });
    expect(r.state.efer & 0x500n).toBe(0x500n);
    expect(r.state.cs.l).toBe(true);
  });

  it.runIf(kvmUsable())('the same guest on KVM', () => {
    const r = runFlat(bin, 'kvm');
    expect(r.out).toBe('RPLhello from long mode\n');
    expect(r.outcome).toEqual({ kind: 'exit', status: 1 });
  });

  const triple = buildFlat(LM_PRELUDE + String.raw`
.text
test_main:
  lidt [rip + no_idt]
  ud2
.data
no_idt: .word 0
  .quad 0
`);

  it('a triple fault in long mode (IDT limit 0) shuts down', () => {
    expect(runFlat(triple, 'tcg').outcome).toEqual({ kind: 'shutdown' });
  });

  it.runIf(kvmUsable())('... as on KVM', () => {
    expect(runFlat(triple, 'kvm').outcome).toEqual({ kind: 'shutdown' });
  });
});
