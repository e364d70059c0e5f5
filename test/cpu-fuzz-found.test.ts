// Divergences the kvm-vs-tcg fuzzer found, fixed, and pinned here against this machine's CPU (native oracle).
import { describe, expect, it } from 'vitest';
import { DATA, NATIVE_ORACLE, Oracle, report } from './util/oracle.ts';

describe.skipIf(!NATIVE_ORACLE.ok)('fuzzer findings (native oracle)', () => {
  it('pop to an RSP-based address leaves RSP alone when the store faults', () => {
    const o = new Oracle();
    const c = o.code('pop qword ptr [rsp+rbx*8]');
    // a store far outside the mapped areas faults (#PF / #GP non-canonical); a store inside works
    for (const rbx of [0x100000n, 0x1000000000000n, 1n, 0n]) o.add(c, { regs: { rbx } });
    expect(report(o.run())).toBe('');
  });

  it('cmps reports the ES:[rDI] fault when both operands fault', () => {
    const o = new Oracle();
    const c = o.code('cmpsb');
    for (const [rsi, rdi] of [[0x8000000000000000n, 0x10n], [0x10n, 0x8000000000000000n], [0x20n, 0x30n]]) o.add(c, { regs: { rsi, rdi } });
    o.add(c, { regs: { rsi: DATA, rdi: BigInt(DATA) + 8n } });
    expect(report(o.run())).toBe('');
  });

  it('with both F3 and F2 the last one decides REPE vs REPNE', () => {
    const o = new Oracle();
    const f3f2 = o.code('.byte 0xf3, 0xf2, 0xae'); // repne scasb after a rep
    const f2f3 = o.code('.byte 0xf2, 0xf3, 0xae');
    const data = new Uint8Array(16).fill(7);
    data[5] = 9;
    for (const c of [f3f2, f2f3]) for (const al of [7n, 9n]) o.add(c, { regs: { rax: al, rcx: 12n, rdi: DATA }, data });
    expect(report(o.run())).toBe('');
  });

  it('ES/CS/SS/DS prefixes do not cancel FS/GS in 64-bit mode', () => {
    const o = new Oracle();
    const c = o.code('.byte 0x65, 0x3e, 0x20, 0x3f'); // and gs:[rdi], bh with a ds prefix after gs
    o.add(c, { regs: { rdi: 0x10n, rbx: 0xf0f0n }, gsBase: DATA, data: new Uint8Array(32).fill(0xff) });
    expect(report(o.run())).toBe('');
  });

  it('F3 REX.B 90 exchanges r8d and eax', () => {
    const o = new Oracle();
    const c = o.code('.byte 0xf3, 0x41, 0x90');
    o.add(c, { regs: { rax: 0x1111n, r8: 0x2222n } });
    expect(report(o.run())).toBe('');
  });

  it('cmpxchg16b checks the alignment of the linear address, GS base included', () => {
    const o = new Oracle();
    const c = o.code('cmpxchg16b xmmword ptr gs:[rdi]');
    o.add(c, { regs: { rdi: 0x1fn }, gsBase: BigInt(DATA) + 1n }); // offset misaligned, linear aligned: no #GP
    o.add(c, { regs: { rdi: 0x20n }, gsBase: BigInt(DATA) + 1n }); // offset aligned, linear misaligned: #GP
    expect(report(o.run())).toBe('');
  });
});
