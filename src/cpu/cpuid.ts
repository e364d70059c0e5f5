// CPUID: the one CPU model the software CPU presents. An AMD-style x86-64 processor that advertises exactly what kemu
// implements: every feature bit below names instructions that have semantics (test/cpu-sys-cpuid.test.ts checks
// that against the semantics registry), and the control-register and EFER bits the model accepts follow from it.
import { PHYS_BITS } from './mmu.ts';

export const VENDOR = 'AuthenticAMD';
export const BRAND = 'kemu software x86-64 CPU';
/**
 * Family 1Ah (Zen 5) as encoded: base family 0xF + extended family 0xB. Linux applies the Zen 1 errata workarounds
 * and the RETBleed return thunks by family (17h has them); on 1Ah with the speculation bits below it applies none.
 */
export const FAMILY = 0x1a;
export const MODEL = 0x01;
export const STEPPING = 0x2;
export const LINEAR_BITS = 48;
/** The TSC runs at this fixed rate (also CPUID 0x80000007 says it is invariant). */
export const TSC_HZ = 1_000_000_000;

export interface Feature {
  /** Name as Linux's /proc/cpuinfo spells it. */
  name: string;
  leaf: number;
  subleaf?: number;
  reg: 'eax' | 'ebx' | 'ecx' | 'edx';
  bit: number;
  /** Instructions the feature brings (objdump mnemonics); a test checks each has semantics. */
  mnemonics?: string[];
  /** The decoder's feature tag of its instructions (all entries with it must have semantics). */
  decoderFeature?: string;
}

const CMOV = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'].map((c) => 'cmov' + c);

/** The x87 instructions (all of D8-DF and FWAIT; FRSTPM is #UD, as on the hardware). */
const X87 = [
  'f2xm1', 'fabs', 'fadd', 'faddp', 'fbld', 'fbstp', 'fchs', 'fcmovb', 'fcmovbe', 'fcmove', 'fcmovnb', 'fcmovnbe',
  'fcmovne', 'fcmovnu', 'fcmovu', 'fcom', 'fcomi', 'fcomip', 'fcomp', 'fcompp', 'fcos', 'fdecstp', 'fdiv', 'fdivp',
  'fdivr', 'fdivrp', 'ffree', 'ffreep', 'fiadd', 'ficom', 'ficomp', 'fidiv', 'fidivr', 'fild', 'fimul', 'fincstp',
  'fist', 'fistp', 'fisub', 'fisubr', 'fld', 'fld1', 'fldcw', 'fldenv', 'fldenvd', 'fldenvw', 'fldl2e', 'fldl2t',
  'fldlg2', 'fldln2', 'fldpi', 'fldz', 'fmul', 'fmulp', 'fnclex', 'fndisi', 'fneni', 'fninit', 'fnop', 'fnsave',
  'fnsaved', 'fnsavew', 'fnsetpm', 'fnstcw', 'fnstenv', 'fnstenvd', 'fnstenvw', 'fnstsw', 'fpatan', 'fprem', 'fprem1',
  'fptan', 'frndint', 'frstor', 'frstord', 'frstorw', 'fscale', 'fsin', 'fsincos', 'fsqrt', 'fst', 'fstp', 'fsub',
  'fsubp', 'fsubr', 'fsubrp', 'ftst', 'fucom', 'fucomi', 'fucomip', 'fucomp', 'fucompp', 'fwait', 'fxam', 'fxch',
  'fxtract', 'fyl2x', 'fyl2xp1', 'finit', 'fclex', 'fstcw', 'fstsw', 'fstenv', 'fsave',
];

/** What the model advertises. */
export const FEATURES: Feature[] = [
  // leaf 1 EDX
  { name: 'fpu', leaf: 1, reg: 'edx', bit: 0, mnemonics: X87 }, // x87 (src/cpu/frontend/x87-*.ts)
  { name: 'de', leaf: 1, reg: 'edx', bit: 2 },
  { name: 'pse', leaf: 1, reg: 'edx', bit: 3 },
  { name: 'tsc', leaf: 1, reg: 'edx', bit: 4, mnemonics: ['rdtsc'] },
  { name: 'msr', leaf: 1, reg: 'edx', bit: 5, mnemonics: ['rdmsr', 'wrmsr'] },
  { name: 'pae', leaf: 1, reg: 'edx', bit: 6 },
  { name: 'cx8', leaf: 1, reg: 'edx', bit: 8, mnemonics: ['cmpxchg8b'] },
  { name: 'apic', leaf: 1, reg: 'edx', bit: 9 }, // the board's local APIC at MSR 0x1b's base
  { name: 'sep', leaf: 1, reg: 'edx', bit: 11, mnemonics: ['sysenter', 'sysexit', 'sysexitd'] },
  { name: 'mtrr', leaf: 1, reg: 'edx', bit: 12, mnemonics: ['rdmsr', 'wrmsr'] },
  { name: 'pge', leaf: 1, reg: 'edx', bit: 13 },
  { name: 'cmov', leaf: 1, reg: 'edx', bit: 15, mnemonics: CMOV },
  { name: 'pat', leaf: 1, reg: 'edx', bit: 16 },
  { name: 'pse36', leaf: 1, reg: 'edx', bit: 17 },
  { name: 'clflush', leaf: 1, reg: 'edx', bit: 19, decoderFeature: 'clflush' },
  { name: 'mmx', leaf: 1, reg: 'edx', bit: 23, decoderFeature: 'mmx' },
  { name: 'fxsr', leaf: 1, reg: 'edx', bit: 24, decoderFeature: 'fxsr' },
  { name: 'sse', leaf: 1, reg: 'edx', bit: 25, decoderFeature: 'sse' },
  { name: 'sse2', leaf: 1, reg: 'edx', bit: 26, decoderFeature: 'sse2' },
  // leaf 1 ECX
  { name: 'pni', leaf: 1, reg: 'ecx', bit: 0, decoderFeature: 'sse3' },
  { name: 'ssse3', leaf: 1, reg: 'ecx', bit: 9, decoderFeature: 'ssse3' },
  { name: 'cx16', leaf: 1, reg: 'ecx', bit: 13, decoderFeature: 'cx16' },
  { name: 'sse4_1', leaf: 1, reg: 'ecx', bit: 19, decoderFeature: 'sse4_1' },
  { name: 'sse4_2', leaf: 1, reg: 'ecx', bit: 20, decoderFeature: 'sse4_2' },
  { name: 'movbe', leaf: 1, reg: 'ecx', bit: 22, decoderFeature: 'movbe' },
  { name: 'popcnt', leaf: 1, reg: 'ecx', bit: 23, decoderFeature: 'popcnt' },
  { name: 'xsave', leaf: 1, reg: 'ecx', bit: 26, decoderFeature: 'xsave' },
  // leaf 0xD.1 EAX
  { name: 'xsaveopt', leaf: 0xd, subleaf: 1, reg: 'eax', bit: 0, decoderFeature: 'xsaveopt' },
  { name: 'xsavec', leaf: 0xd, subleaf: 1, reg: 'eax', bit: 1, decoderFeature: 'xsavec' },
  // leaf 7.0 EBX/ECX
  { name: 'bmi1', leaf: 7, subleaf: 0, reg: 'ebx', bit: 3, decoderFeature: 'bmi1' },
  { name: 'smep', leaf: 7, subleaf: 0, reg: 'ebx', bit: 7 },
  { name: 'bmi2', leaf: 7, subleaf: 0, reg: 'ebx', bit: 8, decoderFeature: 'bmi2' },
  { name: 'adx', leaf: 7, subleaf: 0, reg: 'ebx', bit: 19, decoderFeature: 'adx' },
  { name: 'smap', leaf: 7, subleaf: 0, reg: 'ebx', bit: 20, decoderFeature: 'smap' },
  { name: 'clflushopt', leaf: 7, subleaf: 0, reg: 'ebx', bit: 23, decoderFeature: 'clflushopt' },
  { name: 'clwb', leaf: 7, subleaf: 0, reg: 'ebx', bit: 24, decoderFeature: 'clwb' },
  { name: 'rdpid', leaf: 7, subleaf: 0, reg: 'ecx', bit: 22, decoderFeature: 'rdpid' },
  { name: 'serialize', leaf: 7, subleaf: 0, reg: 'edx', bit: 14, decoderFeature: 'serialize' },
  // leaf 0x80000001 ECX/EDX (the AMD copies of the leaf 1 EDX bits are added below)
  { name: 'lahf_lm', leaf: 0x80000001, reg: 'ecx', bit: 0, mnemonics: ['lahf', 'sahf'] },
  { name: 'abm', leaf: 0x80000001, reg: 'ecx', bit: 5, decoderFeature: 'lzcnt' },
  { name: 'misalignsse', leaf: 0x80000001, reg: 'ecx', bit: 7 }, // MXCSR.MM (src/cpu/frontend/sse-common.ts)
  { name: '3dnowprefetch', leaf: 0x80000001, reg: 'ecx', bit: 8, mnemonics: ['prefetch', 'prefetchw'] },
  { name: 'syscall', leaf: 0x80000001, reg: 'edx', bit: 11, mnemonics: ['syscall', 'sysret', 'sysretd', 'sysretq'] },
  { name: 'nx', leaf: 0x80000001, reg: 'edx', bit: 20 },
  {
    name: 'mmxext', leaf: 0x80000001, reg: 'edx', bit: 22,
    mnemonics: ['pavgb', 'pavgw', 'pextrw', 'pinsrw', 'pmaxsw', 'pmaxub', 'pminsw', 'pminub', 'pmovmskb', 'pmulhuw', 'psadbw',
      'pshufw', 'maskmovq', 'movntq', 'sfence', 'prefetchnta', 'prefetcht0', 'prefetcht1', 'prefetcht2'],
  },
  { name: 'pdpe1gb', leaf: 0x80000001, reg: 'edx', bit: 26 },
  { name: 'rdtscp', leaf: 0x80000001, reg: 'edx', bit: 27, decoderFeature: 'rdtscp' },
  { name: 'lm', leaf: 0x80000001, reg: 'edx', bit: 29, mnemonics: ['swapgs', 'iretq', 'retfq'] },
  // leaf 0x80000007 EDX
  { name: 'constant_tsc', leaf: 0x80000007, reg: 'edx', bit: 8 },
  // Speculation: a CPU that does not speculate is not exposed to the attacks these bits rule out (AutoIBRS: EFER
  // bit 21 protects kernel indirect branches), and Linux then leaves out retpolines and the SRSO return thunk,
  // which cost the guest on every indirect call and every return.
  { name: 'amd_ssb_no', leaf: 0x80000008, reg: 'ebx', bit: 26 },
  { name: 'auto_ibrs', leaf: 0x80000021, reg: 'eax', bit: 8 },
  { name: 'srso_no', leaf: 0x80000021, reg: 'eax', bit: 29 },
];

/** Leaf 1 EDX bits AMD repeats in leaf 0x80000001 EDX. */
const AMD_MIRRORED = 0x0183f3ff;

const has = (name: string): boolean => FEATURES.some((f) => f.name === name);

/** CR4 bits the model accepts (a write with any other bit set raises #GP). */
export const CR4_SUPPORTED =
  (1 << 2) /* TSD */ | (has('de') ? 1 << 3 : 0) | (1 << 4) /* PSE */ | (1 << 5) /* PAE */ | (1 << 7) /* PGE */ |
  (has('smep') ? 1 << 20 : 0) | (has('smap') ? 1 << 21 : 0) |
  (has('fxsr') ? (1 << 9) /* OSFXSR */ | (1 << 10) /* OSXMMEXCPT */ : 0) | (has('xsave') ? 1 << 18 /* OSXSAVE */ : 0);

/** EFER bits the model accepts: SCE, LME, LMA (read-only), NXE, AIBRSE (no effect: nothing speculates). */
export const EFER_SUPPORTED = 0x1 | 0x100 | 0x400 | 0x800 | (has('auto_ibrs') ? 1 << 21 : 0);

function regs(leaf: number, subleaf: number): [number, number, number, number] {
  let a = 0, b = 0, c = 0, d = 0;
  for (const f of FEATURES) {
    if (f.leaf !== leaf || (f.subleaf !== undefined && f.subleaf !== subleaf)) continue;
    const m = 1 << f.bit;
    if (f.reg === 'eax') a |= m;
    else if (f.reg === 'ebx') b |= m;
    else if (f.reg === 'ecx') c |= m;
    else d |= m;
  }
  return [a, b, c, d];
}

const str4 = (s: string, i: number): number =>
  (s.charCodeAt(i) | 0) | ((s.charCodeAt(i + 1) | 0) << 8) | ((s.charCodeAt(i + 2) | 0) << 16) | ((s.charCodeAt(i + 3) | 0) << 24);

const SIGNATURE = STEPPING | ((MODEL & 0xf) << 4) | (0xf << 8) | ((MODEL >> 4) << 16) | ((FAMILY - 0xf) << 20);
const MAX_BASIC = 0xd;
const MAX_EXT = 0x80000021;
const brand = BRAND.padEnd(48, '\0');

/** XSAVE area size for the XCR0 bits the model supports (x87 and SSE: the legacy region and the header). */
const XSAVE_AREA = 576;

/**
 * CPUID with EAX = leaf, ECX = subleaf: [eax, ebx, ecx, edx] as unsigned 32-bit numbers. `cr4`: the CPU's CR4, for
 * the bits that reflect it (leaf 1 ECX.OSXSAVE).
 */
export function cpuid(leaf: number, subleaf: number, cr4 = 0): [number, number, number, number] {
  leaf >>>= 0;
  let r: [number, number, number, number];
  switch (leaf) {
    case 0:
      r = [MAX_BASIC, str4(VENDOR, 0), str4(VENDOR, 8), str4(VENDOR, 4)];
      break;
    case 1: {
      const [, , c, d] = regs(1, 0);
      // EBX: CLFLUSH line size 8 (x 8 bytes), one logical processor, initial APIC ID 0
      r = [SIGNATURE, (8 << 8) | (1 << 16), c | (has('xsave') && cr4 & (1 << 18) ? 1 << 27 : 0), d];
      break;
    }
    case 7:
      r = subleaf === 0 ? regs(7, 0) : [0, 0, 0, 0];
      r[0] = 0; // highest subleaf
      break;
    case 0xd:
      // XSAVE: subleaf 0 the XCR0 bits (x87, SSE) and area sizes, subleaf 1 the XSAVEOPT/XSAVEC bits
      if (!has('xsave') || subleaf > 1) r = [0, 0, 0, 0];
      else if (subleaf === 0) r = [3, XSAVE_AREA, XSAVE_AREA, 0];
      else {
        // EBX: the XSAVEC/XSAVES area for XCR0 | IA32_XSS, 576 bytes for x87 and SSE whatever XCR0 holds
        r = regs(0xd, 1);
        r[1] = XSAVE_AREA;
      }
      break;
    case 0x80000000:
      r = [MAX_EXT, str4(VENDOR, 0), str4(VENDOR, 8), str4(VENDOR, 4)];
      break;
    case 0x80000001: {
      const [, , c, d] = regs(0x80000001, 0);
      r = [SIGNATURE, 0, c, d | (regs(1, 0)[3] & AMD_MIRRORED)];
      break;
    }
    case 0x80000002: case 0x80000003: case 0x80000004: {
      const o = (leaf - 0x80000002) * 16;
      r = [str4(brand, o), str4(brand, o + 4), str4(brand, o + 8), str4(brand, o + 12)];
      break;
    }
    case 0x80000007:
      r = regs(0x80000007, 0);
      break;
    case 0x80000008:
      // physical and linear address sizes; one core
      r = [PHYS_BITS | (LINEAR_BITS << 8), regs(0x80000008, 0)[1], 0, 0];
      break;
    case 0x80000021:
      r = regs(0x80000021, 0);
      break;
    default:
      r = [0, 0, 0, 0]; // AMD: reserved and out-of-range leaves read as zero
  }
  return [r[0] >>> 0, r[1] >>> 0, r[2] >>> 0, r[3] >>> 0];
}
