// The differential fuzzer: generator, comparison, replay, and a short campaign against the hardware (KVM).
import { afterAll, describe, expect, it } from 'vitest';
import { probeKvm } from '../src/accel/kvm/accel.ts';
import { decode } from '../src/decoder/decode.ts';
import { Attr, Invalid } from '../src/decoder/types.ts';
import { minimise } from '../src/fuzz/minimise.ts';
import { baseState, CODE_BASE, Lane, TERMINATOR } from '../src/fuzz/env.ts';
import { ALLOWED_FEATURES, EXCLUDED_MNEMONICS, qualifies, randomCase, randomInstruction, Rng } from '../src/fuzz/generator.ts';
import { caseFromJson, caseToJson, compareResults, Pair, runCampaign, type Divergence } from '../src/fuzz/runner.ts';
import { formatDivergence } from '../src/cli/fuzz.ts';
import { classify } from '../src/fuzz/known.ts';
import { main } from '../src/cli/main.ts';

const kvm = probeKvm();
const why = kvm.ok ? '' : ` [skipped: KVM unusable: ${kvm.reason}]`;

describe('fuzz generator', () => {
  it('draws valid, unprivileged, advertised instructions deterministically from a seed', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const mnemonics = new Set<string>();
    for (let i = 0; i < 10000; i++) {
      const x = randomInstruction(a);
      expect(Buffer.from(randomInstruction(b)).equals(Buffer.from(x))).toBe(true);
      const insn = decode(x, 0, 64);
      expect(insn.invalid).toBe(Invalid.None);
      expect(insn.length).toBe(x.length);
      expect(ALLOWED_FEATURES.has(insn.feature)).toBe(true);
      expect(insn.attrs & (Attr.PRIV | Attr.IO | Attr.JMP | Attr.JCC | Attr.CALL | Attr.RET | Attr.INT)).toBe(0);
      expect(EXCLUDED_MNEMONICS.has(insn.mnemonic)).toBe(false);
      expect(qualifies(insn, undefined)).toBe(true);
      mnemonics.add(insn.mnemonic);
    }
    // a broad mix: ALU, shifts, bit ops, strings, BMI, mul/div...
    expect(mnemonics.size).toBeGreaterThan(100);
    for (const m of ['add', 'adc', 'shl', 'rcr', 'imul', 'div', 'movs', 'cmpxchg', 'bswap', 'andn']) {
      expect(mnemonics, m).toContain(m);
    }
  });

  it('keeps sequences free of reads of undefined flags with --mask-undefined', () => {
    const r = new Rng(7);
    for (let n = 0; n < 300; n++) {
      const c = randomCase(r, { maxLen: 8, maskUndefined: true });
      let undef = 0;
      for (const o of c.offsets) {
        const insn = decode(c.code, o, 64);
        expect(insn.flagsRead & undef).toBe(0);
        undef = (undef & ~insn.flagsWritten) | insn.flagsUndefined;
      }
    }
  });

  it('round-trips a case through the reproducer JSON', () => {
    const c = randomCase(new Rng(3), { maxLen: 6, maskUndefined: false });
    c.patch = [[16, Uint8Array.of(1, 2, 3)]];
    const d = caseFromJson(caseToJson(c));
    expect(caseToJson(d)).toBe(caseToJson(c));
    expect(d.offsets).toEqual(c.offsets);
  });
});

describe('fuzz runner (tcg against itself)', () => {
  const pair = new Pair('tcg');
  afterAll(() => pair.close());

  it('finds no divergence between two software CPUs and sees exceptions with their frames', () => {
    const stats = runCampaign(pair, { seed: 5, count: 3000, maxLen: 8, maskUndefined: false, maxDivergences: 1 }, minimise);
    expect(stats.divergences).toBe(0);
    expect(stats.instructions).toBeGreaterThanOrEqual(3000);
    expect(stats.exceptions).toBeGreaterThan(0);
  });

  it('reports a difference in registers, flags, memory and outcome', () => {
    const c = caseFromJson(JSON.stringify({ code: '4801d8', gpr: Array(16).fill('0x41000'), rflags: '0x202', data: 0 }));
    const r = pair.run(c);
    expect(r.ref.kind).toBe('end');
    expect(compareResults(r.ref, r.dut, { flagMask: 0 }, r.rip)).toEqual([]);
    const other = { ...r.dut, state: { ...r.dut.state, gpr: r.dut.state.gpr.slice(), rflags: r.dut.state.rflags ^ 0x10n }, data: r.dut.data.slice() };
    other.state.gpr[0] = 1n;
    other.data[5] ^= 1;
    const diff = compareResults(r.ref, other, { flagMask: 0 }, r.rip);
    expect(diff).toEqual(['rax: 0x82000 vs 0x1', 'rflags: 0x206 vs 0x216', 'mem[0x40005]: ' + `0x${r.ref.data[5]!.toString(16)} vs 0x${(r.ref.data[5]! ^ 1).toString(16)}`]);
    expect(compareResults(r.ref, other, { flagMask: 0x10 }, r.rip)).toHaveLength(2);
    // #UD from ud2: vector and frame
    const u = pair.run(caseFromJson(JSON.stringify({ code: '0f0b', gpr: Array(16).fill('0x41000'), rflags: '0x202' })));
    expect(u.ref.kind).toBe('exception');
    expect(u.ref.vector).toBe(6);
    expect(Number(u.ref.frame[0])).toBe(u.rip);
  });
});

describe('divergences the fuzzer found and kemu fixed (expected values from the hardware)', () => {
  const lane = new Lane('tcg');
  afterAll(() => lane.close());
  const run = (hex: string, regs: Record<number, bigint>) => {
    const st = baseState();
    st.gpr = st.gpr.map((_, i) => regs[i] ?? 0x41000n);
    lane.memory.write(CODE_BASE, Uint8Array.of(...Buffer.from(hex, 'hex'), ...TERMINATOR));
    lane.memory.write(0x41000, Uint8Array.of(0xc5, 0x62, 0xff, 0x93));
    lane.codeChanged();
    const r = lane.run(st);
    expect(r.kind).toBe('end');
    return r.state.gpr;
  };

  const exceptionOf = (hex: string, regs: Record<number, bigint>, rflags: bigint) => {
    const st = baseState();
    st.gpr = st.gpr.map((_, i) => regs[i] ?? 0x41000n);
    st.rflags = rflags;
    lane.memory.write(CODE_BASE, Uint8Array.of(...Buffer.from(hex, 'hex'), ...TERMINATOR));
    lane.codeChanged();
    const r = lane.run(st);
    return r.kind === 'exception' ? { vector: r.vector, rip: Number(r.frame[0]), rcx: r.state.gpr[1] } : { vector: -1, rip: -1, rcx: r.state.gpr[1] };
  };

  it('#AC on misaligned ring-3 accesses with CR0.AM and EFLAGS.AC, also inside REP MOVS and ENTER', () => {
    const AC = 0x40202n;
    expect(exceptionOf('8b4701', { 7: 0x41000n }, AC).vector).toBe(17); // mov eax,[rdi+1]
    expect(exceptionOf('8b4704', { 7: 0x41000n }, AC).vector).toBe(-1); // aligned: fine
    expect(exceptionOf('8b4701', { 7: 0x41000n }, 0x202n).vector).toBe(-1); // AC clear: fine
    const movs = exceptionOf('f3a5', { 1: 8n, 6: 0x41000n, 7: 0x41101n }, AC); // rep movsd to a misaligned rdi
    expect([movs.vector, movs.rcx]).toEqual([17, 8n]); // at the first element, nothing moved
    expect(exceptionOf('c8620b00', { 4: 0x42498n, 5: 0x40020n }, AC).vector).toBe(17); // enter 0xb62,0
  });

  it('TF traps after the instruction (#DB with RIP after it), also after a popf that clears TF', () => {
    const nop = exceptionOf('90', {}, 0x302n);
    expect([nop.vector, nop.rip - CODE_BASE]).toEqual([1, 1]);
    const popf = exceptionOf('9d', { 4: 0x41000n }, 0x302n); // pops 0x...: the data at 0x41000 has TF clear
    expect([popf.vector, popf.rip - CODE_BASE]).toEqual([1, 1]);
    // REP MOVS traps after each iteration, with RIP still on the instruction
    const movs = exceptionOf('f3a4', { 1: 100n, 6: 0x41000n, 7: 0x41800n }, 0x302n);
    expect([movs.vector, movs.rip - CODE_BASE, movs.rcx]).toEqual([1, 0, 99n]);
  });

  it('movsxd r32, r/m32 (63 without REX.W) moves 32 bits, zero-extended', () => {
    expect(run('63d9', { 1: 0xdead8000n, 3: 5n })[3]).toBe(0xdead8000n); // movsxd ebx, ecx
    expect(run('630f', { 1: 0xffffffffffffffffn })[1]).toBe(0x93ff62c5n); // movsxd ecx, DWORD PTR [rdi]
    expect(run('66630f', { 1: 0xffffffffffffffffn })[1]).toBe(0xffffffffffff62c5n); // movsxd cx, DWORD PTR [rdi]
    expect(run('48630f', {})[1]).toBe(0xffffffff93ff62c5n); // movsxd rcx, DWORD PTR [rdi]
  });
});

describe.skipIf(!kvm.ok)('fuzz campaign against the hardware' + why, () => {
  it('runs a few thousand instructions on kvm and tcg; every divergence is a known, reported class', () => {
    const pair = new Pair('kvm');
    const found: Divergence[] = [];
    try {
      const stats = runCampaign(pair, { seed: 1, count: 5000, maxLen: 12, maskUndefined: false, maxDivergences: 50, onDivergence: (d) => found.push(d) }, minimise);
      expect(stats.instructions).toBeGreaterThanOrEqual(5000);
      const unknown = found.filter((d) => !d.known);
      if (unknown.length) console.log(unknown.map((d) => formatDivergence(d, false)).join('\n\n'));
      expect(unknown.map((d) => d.diff[0])).toEqual([]);
    } finally {
      pair.close();
    }
  }, 60_000);

  it('kvm_pvm classes match the divergences they were proven on, and not their neighbours', () => {
    const pair = new Pair('kvm');
    const regs = (r: Record<number, string>) => Array.from({ length: 16 }, (_, i) => r[i] ?? (i === 4 ? '0x40800' : '0x0'));
    const classOf = (code: string, r: Record<number, string>, patch?: [number, string][]) => {
      const c = caseFromJson(JSON.stringify({ code, gpr: regs(r), rflags: '0x202', data: 0, ...(patch ? { patch } : {}) }));
      const x = pair.run(c);
      const diff = compareResults(x.ref, x.dut, { flagMask: 0 }, x.rip);
      return diff.length ? (classify(c, x.ref, x.dut, diff)?.name ?? 'new') : 'same';
    };
    const all = { 0: '0xffffffff', 2: '0xffffffff' };
    const header = (bv: string): [number, string][] => [[24, '801f0000ffff0000'], [512, bv + '0'.repeat(112)]];
    try {
      // the host's XCR0 under kvm: XSAVE/XSAVEC asked for more than x87|SSE, XRSTOR of an AVX header, a #PF past 576 bytes
      expect(classOf('0fae27', { ...all, 7: '0x40000' })).toBe('pvm-host-xcr0'); // xsave [rdi]
      expect(classOf('0fc727', { ...all, 7: '0x40000' })).toBe('pvm-host-xcr0'); // xsavec [rdi]
      expect(classOf('0fae27', { 0: '0x5', 7: '0x40000' })).toBe('pvm-host-xcr0'); // x87+AVX: kvm saves MXCSR too
      expect(classOf('0fae27', { ...all, 7: '0x43b00' })).toBe('pvm-host-xcr0'); // xsave [rdi], area to 0x4447f
      expect(classOf('0fae2f', { 0: '0x3', 7: '0x40000' }, header('0400000000000000'))).toBe('pvm-host-xcr0'); // xrstor
      // asked for x87|SSE only: no difference
      expect(classOf('0fae27', { 0: '0x3', 7: '0x40000' })).toBe('same');
      expect(classOf('0fae2f', { 0: '0x3', 7: '0x40000' }, header('0200000000000000'))).toBe('same');
      // misaligned: kvm completes, kemu (as the CPU natively) #GP; aligned FXSAVE agrees
      expect(classOf('0fae07', { 7: '0x40008' })).toBe('pvm-xsave-align'); // fxsave [rdi]
      expect(classOf('0fae07', { 7: '0x40010' })).toBe('same');
    } finally {
      pair.close();
    }
  });

  it('kemu fuzz --replay shows a case on both backends', async () => {
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write;
    let status: number;
    try {
      status = await main(['fuzz', '--replay', JSON.stringify({ code: '4801d80f0b', gpr: Array(16).fill('0x41000'), rflags: '0x202' })]);
    } finally {
      process.stdout.write = write;
    }
    expect(status).toBe(0);
    expect(out.join('')).toContain('hardware (kvm): #UD at +0x3');
    expect(out.join('')).toContain('no difference');
  });
});
