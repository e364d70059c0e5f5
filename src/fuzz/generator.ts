// Random test cases for the differential fuzzer: straight-line sequences of valid, unprivileged 64-bit instructions
// drawn from the decoder's opcode maps (candidate encodings are built from random prefixes, a random opcode of the
// map and random ModRM/SIB/displacement/immediate bytes, then decode() decides what they are and whether the
// instruction qualifies), and a random initial state whose "pointer" registers point into the data area.
import { decode, newInstruction } from '../decoder/decode.ts';
import { regClass, regIndex } from '../decoder/regs.ts';
import { Attr, Invalid, OpKind, OpMap, RegClass, type Instruction } from '../decoder/types.ts';
import { FEATURES } from '../cpu/cpuid.ts';
import { DATA_BASE, DATA_SIZE } from './env.ts';

/** A small, fast, seedable PRNG (xorshift128+ on 32-bit halves is overkill; mulberry32 is enough here). */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** 0 <= n < max */
  int(max: number): number {
    return Math.floor((this.u32() / 0x1_0000_0000) * max);
  }
  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }
  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }
}

/** The registers that hold data-area addresses at the start of a case: RBX RSP RBP RSI RDI. */
export const POINTER_REGS = [3, 4, 5, 6, 7];
const POINTER_SET = new Set(POINTER_REGS);

/** Decoder feature tags of the instructions the CPU model advertises ('' = base ISA). */
export const ALLOWED_FEATURES = new Set<string>(['', ...FEATURES.flatMap((f) => (f.decoderFeature ? [f.decoderFeature] : []))]);

/** Unprivileged instructions left out: their results depend on the host (time, randomness, the hypervisor's
 * descriptor tables under kvm_pvm, which ring-3 code sees natively) or they leave the ring-3 sandbox. */
export const EXCLUDED_MNEMONICS = new Set([
  'rdtsc', 'rdtscp', 'rdpid', 'rdrand', 'rdseed', 'cpuid', 'rdpmc', 'xgetbv', 'sgdt', 'sidt', 'sldt', 'str', 'smsw',
  'lsl', 'lar', 'verr', 'verw', 'lss', 'lfs', 'lgs', 'monitor', 'mwait', 'syscall', 'sysenter', 'int', 'int3', 'into',
  'int1', 'umonitor', 'umwait', 'tpause', 'rdpkru', 'wrpkru', 'rdfsbase', 'rdgsbase', 'wrfsbase', 'wrgsbase', 'enqcmd',
  'serialize', 'hreset', 'xlatb',
]);
const EXCLUDED_ATTRS = Attr.PRIV | Attr.IO | Attr.JMP | Attr.JCC | Attr.CALL | Attr.RET | Attr.INT;

export interface FuzzCase {
  /** The instructions, back to back (the terminator is added by the runner). */
  code: Uint8Array;
  /** Start offset of each instruction in `code`. */
  offsets: number[];
  gpr: bigint[];
  rflags: bigint;
  fsBase: bigint;
  gsBase: bigint;
  /** Offset into the data pool the data area is filled from. */
  dataSeed: number;
  /** Bytes of the data area that differ from the pool (offset, bytes): set by the minimiser. */
  patch?: [number, Uint8Array][];
}

export interface GenOptions {
  /** Instructions per case: 1..maxLen. */
  maxLen: number;
  /** Keep sequences free of reads of flags an earlier instruction left undefined (--mask-undefined). */
  maskUndefined: boolean;
}

const M64 = (1n << 64n) - 1n;
const SPECIAL = [0n, 1n, 2n, M64, 0x7fn, 0x80n, 0xffn, 0x7fffn, 0x8000n, 0xffffn, 0x7fffffffn, 0x80000000n, 0xffffffffn,
  0x100000000n, 0x7fffffffffffffffn, 0x8000000000000000n, 0xffffffff80000000n, 63n, 64n, 31n, 32n];

function randomValue(r: Rng): bigint {
  switch (r.int(6)) {
    case 0: return BigInt(r.int(256));
    case 1: return BigInt(r.u32());
    case 2: return r.pick(SPECIAL);
    case 3: return BigInt(DATA_BASE + 0x1000 + r.int(0x2000));
    case 4: return r.pick(SPECIAL) ^ BigInt(1 << r.int(31));
    default: return r.u64();
  }
}

/** The initial registers of a case. */
export function randomState(r: Rng): Pick<FuzzCase, 'gpr' | 'rflags' | 'fsBase' | 'gsBase' | 'dataSeed'> {
  const gpr: bigint[] = [];
  for (let i = 0; i < 16; i++) {
    if (i === 4) gpr.push(BigInt(DATA_BASE + 0x2000 + (r.int(0x400) << 3) + (r.chance(0.1) ? r.int(8) : 0)));
    else if (POINTER_SET.has(i)) gpr.push(BigInt(DATA_BASE + 0x1000 + r.int(0x2000)));
    else gpr.push(randomValue(r));
  }
  let rflags = 0x202n | BigInt(r.u32() & 0x8d5);
  if (r.chance(0.15)) rflags |= 0x400n;
  const base = () => (r.chance(0.5) ? BigInt(DATA_BASE + r.int(DATA_SIZE)) : r.chance(0.5) ? 0n : r.u64() & 0x7fffffffffffn);
  return { gpr, rflags, fsBase: base(), gsBase: base(), dataSeed: r.int(0x10000) };
}

const LEGACY_PREFIXES = [0x66, 0x66, 0x66, 0xf3, 0xf2, 0x67, 0x64, 0x65, 0x2e, 0x3e, 0x26, 0x36, 0xf0];

/** Why a decoded candidate does not qualify, or '' if it does. */
export function qualifies(insn: Instruction, r: Rng | undefined): boolean {
  if (insn.invalid !== Invalid.None) return false;
  if (!ALLOWED_FEATURES.has(insn.feature)) return false;
  if (insn.attrs & EXCLUDED_ATTRS) return false;
  if (insn.map === OpMap.X87 || insn.map === OpMap.AMD3DNOW || insn.map >= OpMap.XOP8) return false;
  if (EXCLUDED_MNEMONICS.has(insn.mnemonic)) return false;
  // x87 (the escapes D8-DF and fwait): CpuState has no FPU part to compare, and the model has no FPU yet
  if (insn.map === OpMap.Primary && ((insn.opcode >= 0xd8 && insn.opcode <= 0xdf) || insn.opcode === 0x9b)) return false;
  let writesPointer = false;
  for (let i = 0; i < insn.operands.length; i++) {
    const op = insn.operands[i]!;
    if (op.kind === OpKind.Reg) {
      const cls = regClass(op.reg);
      // Segment registers: under kvm_pvm ring-3 code runs with the host's selectors and GDT, so neither loads nor
      // reads of them (mov r/m,Sreg; push Sreg) can be compared.
      if (cls === RegClass.SEG) return false;
      if (cls !== RegClass.GPR) return false;
      const idx = regIndex(op.reg);
      if (i === 0 && op.size >= 4 && POINTER_SET.has(idx)) writesPointer = true;
    } else if (op.kind === OpKind.Mem) {
      if (op.base === -1) return false; // absolute addresses: nothing is mapped there
      const bcls = regClass(op.base);
      if (bcls === RegClass.RIP) {
        if (r && !r.chance(0.2)) return false;
      } else if (!POINTER_SET.has(regIndex(op.base))) {
        if (r && !r.chance(0.05)) return false;
      }
      if (op.index !== -1 && regClass(op.index) !== RegClass.GPR) return false;
      // Mostly displacements that stay inside the data area (large ones just #PF)
      if ((op.disp > 0x1000 || op.disp < -0x1000) && r && !r.chance(0.1)) return false;
      if (op.index !== -1 && r && !r.chance(0.3)) return false;
    } else if (op.kind === OpKind.Rel || op.kind === OpKind.Far) {
      return false;
    }
  }
  if (writesPointer && r && !r.chance(0.25)) return false;
  return true;
}

const scratch = new Uint8Array(32);
const insnBuf = newInstruction();

/** One random qualifying instruction (its bytes and decoded form). */
export function randomInstruction(r: Rng): Uint8Array {
  for (;;) {
    let n = 0;
    const np = r.chance(0.3) ? 1 + r.int(3) : 0;
    for (let i = 0; i < np; i++) scratch[n++] = r.pick(LEGACY_PREFIXES);
    const vex = r.chance(0.04);
    if (vex) {
      // VEX (BMI1/BMI2 live in maps 0F38/0F3A): C4 RXBmmmmm WvvvvLpp
      // The general-purpose VEX instructions are BMI1/BMI2 at 0F38 F2-F7 and 0F3A F0 (the rest is AVX: no
      // vector state in CpuState, and the model has no AVX).
      const m3 = r.chance(0.15);
      scratch[n++] = 0xc4;
      scratch[n++] = (r.u32() & 0xe0) | (m3 ? 3 : 2);
      scratch[n++] = r.u32() & 0xff & ~4;
      scratch[n++] = m3 ? 0xf0 : 0xf2 + r.int(6);
    } else {
      const map = r.int(20);
      // a mandatory prefix right before the escape (popcnt, lzcnt, tzcnt, adcx, adox...)
      if (map >= 13 && r.chance(0.25)) scratch[n++] = r.pick([0x66, 0xf3, 0xf2]);
      if (r.chance(0.5)) scratch[n++] = 0x40 | r.int(16);
      if (map < 13) {
        // primary
      } else if (map < 18) scratch[n++] = 0x0f;
      else if (map < 19) {
        scratch[n++] = 0x0f;
        scratch[n++] = 0x38;
      } else {
        scratch[n++] = 0x0f;
        scratch[n++] = 0x3a;
      }
    }
    const start = n;
    while (n < scratch.length) scratch[n++] = r.u32() & 0xff;
    // Mostly small immediates/displacements: random bytes after the ModRM are often zeroed or small.
    if (r.chance(0.5)) for (let i = start + 3; i < scratch.length; i++) if (r.chance(0.6)) scratch[i] = 0;
    const insn = decode(scratch, 0, 64, insnBuf);
    if (insn.invalid !== Invalid.None || insn.length > 15) continue;
    if (!qualifies(insn, r)) continue;
    return scratch.slice(0, insn.length);
  }
}

/** A random test case of 1..maxLen instructions. */
export function randomCase(r: Rng, opts: GenOptions): FuzzCase {
  const len = 1 + r.int(opts.maxLen);
  const parts: Uint8Array[] = [];
  const offsets: number[] = [];
  let total = 0;
  let undefinedFlags = 0;
  while (parts.length < len) {
    const b = randomInstruction(r);
    if (opts.maskUndefined) {
      const insn = decode(b, 0, 64);
      if (insn.flagsRead & undefinedFlags) continue;
      undefinedFlags = (undefinedFlags & ~insn.flagsWritten) | insn.flagsUndefined;
    }
    offsets.push(total);
    parts.push(b);
    total += b.length;
  }
  const code = new Uint8Array(total);
  parts.forEach((p, i) => code.set(p, offsets[i]!));
  return { code, offsets, ...randomState(r) };
}
