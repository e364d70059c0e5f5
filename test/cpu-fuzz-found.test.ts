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

  it('SS/CS/DS prefixes do not choose the fault (#GP, or #SS for rBP); xlat keeps GS after a later CS prefix', () => {
    const o = new Oracle();
    o.add(o.code('.byte 0x2e, 0x36, 0x30, 0x59, 0x7d'), { regs: { rcx: 0x8000000000000000n } }); // xor [rcx+0x7d],bl
    o.add(o.code('.byte 0x2e, 0x29, 0x5d, 0x6e'), { regs: { rbp: 0x8000000000000000n } }); // sub [rbp+0x6e],ebx
    o.add(o.code('.byte 0x65, 0x2e, 0xd7'), { regs: { rbx: 0x10n, rax: 0x3n }, gsBase: DATA, data: new Uint8Array(32).fill(0x5a) });
    expect(report(o.run())).toBe('');
  });

  it('read-modify-write destinations fault as writes (#PF with W=1), shifts by 0 too', () => {
    const o = new Oracle();
    const rsi = 0x5000000n; // unmapped on both sides
    for (const src of ['add byte ptr [rsi], 1', 'xchg qword ptr [rsi], rax', 'not dword ptr [rsi]', 'shl byte ptr [rsi], 0', 'sbb word ptr [rsi], cx', 'xadd [rsi], ebx', 'mov eax, [rsi]', 'bts dword ptr [rsi], ecx', 'btc qword ptr [rsi], 3', 'bt dword ptr [rsi], ecx', 'cmpxchg8b qword ptr [rsi]', 'cmpxchg16b xmmword ptr [rsi]']) {
      o.add(o.code(src), { regs: { rsi } });
    }
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
