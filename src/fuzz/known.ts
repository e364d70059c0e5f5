// Divergences between kemu and the hardware that the fuzzer has found and that are reported but not fixed yet, by
// class. The `npm test` campaign fails only on divergences outside these classes; when a class is fixed, delete it
// here so that a regression shows. Each predicate looks at a minimised case and both outcomes.
import { decode } from '../decoder/decode.ts';
import type { CaseResult } from './env.ts';
import type { FuzzCase } from './generator.ts';

export interface KnownClass {
  name: string;
  what: string;
  match(c: FuzzCase, ref: CaseResult, dut: CaseResult, diff: string[]): boolean;
}

const SEG_NULL = new Set([0x26, 0x2e, 0x36, 0x3e]);
const LEGACY = new Set([0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3]);

/** The legacy prefix bytes of each instruction of the case. */
function prefixesOf(c: FuzzCase): number[][] {
  return c.offsets.map((o) => {
    const p: number[] = [];
    // (a REX byte followed by a legacy prefix is ignored: scan through it)
    for (let i = o; i < c.code.length && (LEGACY.has(c.code[i]!) || (c.code[i]! & 0xf0) === 0x40); i++) p.push(c.code[i]!);
    return p;
  });
}

const pfVector = (r: CaseResult) => (r.kind === 'exception' && r.vector === 14 ? Number(r.frame[0]!) : -1);
const lastInsn = (c: FuzzCase) => decode(c.code, c.offsets[c.offsets.length - 1] ?? 0, 64);

export const KNOWN: KnownClass[] = [
  {
    name: 'pvm-emulation-ud',
    what: 'suspected kvm_pvm artifact: where kemu raises #GP/#PF/#SS (non-canonical or unmapped operand), kvm reports #UD ' +
      '(the host emulates the faulting instruction and its emulator does not know popcnt, movbe, enter...)',
    match: (_c, ref, dut) => ref.kind === 'exception' && ref.vector === 6 && dut.kind === 'exception' && [12, 13, 14].includes(dut.vector),
  },
  {
    name: 'pvm-ss-prefix',
    what: 'kvm_pvm artifact: a non-canonical access with an SS prefix in 64-bit mode faults #SS under kvm; this CPU ' +
      'run natively raises #GP (the prefix is ignored), as kemu does (test/cpu-fuzz-found.test.ts)',
    match: (c, ref, dut) =>
      ref.kind === 'exception' && ref.vector === 12 && dut.kind === 'exception' && dut.vector === 13 &&
      prefixesOf(c).some((p) => p.includes(0x36)),
  },
  {
    name: 'pvm-cmps-order',
    what: 'kvm_pvm artifact: cmps with both operands faulting reports the DS:[rSI] #PF under kvm; this CPU run natively ' +
      'reports the ES:[rDI] fault, as kemu does (test/cpu-fuzz-found.test.ts)',
    match: (c, ref, dut, diff) =>
      lastInsn(c).mnemonic === 'cmps' && ref.kind === 'exception' && dut.kind === 'exception' &&
      (ref.vector !== dut.vector || diff.every((l) => l.startsWith('cr2'))),
  },
  {
    name: 'pvm-xsave-align',
    what: 'kvm_pvm artifact: fxsave/fxrstor/xsave* at a misaligned address completes (or faults on the page) under kvm; this CPU run natively ' +
      'raises #GP, as kemu does (the oracle cases in test/cpu-x87-control.test.ts and test/cpu-xsave-sys.test.ts)',
    match: (c, ref, dut) =>
      /^(fxsave|fxrstor|xsave|xsaveopt|xsavec|xrstor)(64)?$/.test(lastInsn(c).mnemonic) &&
      !(ref.kind === 'exception' && ref.vector === 13) && dut.kind === 'exception' && dut.vector === 13,
  },
  {
    name: 'split-access',
    what: 'an access crossing into a faulting page: kemu writes the first part before faulting / reports a different CR2',
    match: (_c, ref, dut, diff) => pfVector(ref) >= 0 && pfVector(dut) >= 0 && diff.every((l) => l.startsWith('cr2') || l.startsWith('mem') || l.startsWith('...')),
  },
  {
    name: 'delivery-ac',
    what: 'suspected kvm_pvm artifact: exception delivery to ring 0 (emulated by the host) clears RFLAGS.AC; kemu keeps it',
    match: (_c, ref, dut, diff) => ref.kind === 'exception' && dut.kind === 'exception' && diff.every((l) => l.startsWith('rflags')),
  },
];

/** The known class a divergence belongs to, or undefined if it is new. */
export function classify(c: FuzzCase, ref: CaseResult, dut: CaseResult, diff: string[]): KnownClass | undefined {
  return KNOWN.find((k) => k.match(c, ref, dut, diff));
}
