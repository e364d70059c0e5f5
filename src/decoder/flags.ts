// Flag effects per mnemonic: 'r:' flags read, 'w:' flags written, 'u:' written with undefined values.
// Letters: O S Z A P C, D (DF), I (IF), T (TF), X (all system flags: popf/iret/sahf-like whole-register writes).
// Sources: Intel SDM Vol. 2 ("Flags Affected" of each instruction) and Vol. 1 Appendix A (EFLAGS cross-reference).
//
// A mnemonic has one entry whatever its form, so count-dependent effects are given for the general case:
// shifts and rotates leave OF undefined (it is defined only for a count of 1) and change no flag at all for a count
// of 0; shld/shrd with a count above the operand size leave every flag undefined.

const ARITH = 'w:OSZAPC';
const LOGIC = 'w:OSZAPC u:A'; // OF and CF cleared, AF undefined
const SHIFT = 'w:OSZAPC u:OA';
const BITTEST = 'w:OSAPC u:OSAP'; // CF is the bit; ZF unaffected
const ALL = 'w:OSZAPCDITX';
const CMP_X87 = 'w:OSZAPC'; // fcomi & co: ZF PF CF set, OF SF AF cleared

/** Flags tested by each condition code suffix (jcc, setcc, cmovcc, in CC order). */
const CC_FLAGS: Record<string, string> = {
  o: 'O', no: 'O', b: 'C', ae: 'C', e: 'Z', ne: 'Z', be: 'CZ', a: 'CZ',
  s: 'S', ns: 'S', p: 'P', np: 'P', l: 'SO', ge: 'SO', le: 'ZSO', g: 'ZSO',
};

const table: Record<string, string> = {
  add: ARITH, sub: ARITH, cmp: ARITH, neg: ARITH, xadd: ARITH, cmpxchg: ARITH,
  adc: 'r:C w:OSZAPC', sbb: 'r:C w:OSZAPC',
  inc: 'w:OSZAP', dec: 'w:OSZAP',
  and: LOGIC, or: LOGIC, xor: LOGIC, test: LOGIC,
  mul: 'w:OSZAPC u:SZAP', imul: 'w:OSZAPC u:SZAP',
  div: 'w:OSZAPC u:OSZAPC', idiv: 'w:OSZAPC u:OSZAPC',
  daa: 'r:AC w:OSZAPC u:O', das: 'r:AC w:OSZAPC u:O',
  aaa: 'r:A w:OSZAPC u:OSZP', aas: 'r:A w:OSZAPC u:OSZP',
  aam: 'w:OSZAPC u:OAC', aad: 'w:OSZAPC u:OAC',
  rol: 'w:OC u:O', ror: 'w:OC u:O',
  rcl: 'r:C w:OC u:O', rcr: 'r:C w:OC u:O',
  shl: SHIFT, sal: SHIFT, shr: SHIFT, sar: SHIFT, shld: SHIFT, shrd: SHIFT,
  bt: BITTEST, bts: BITTEST, btr: BITTEST, btc: BITTEST,
  bsf: 'w:OSZAPC u:OSAPC', bsr: 'w:OSZAPC u:OSAPC',
  tzcnt: 'w:OSZAPC u:OSAP', lzcnt: 'w:OSZAPC u:OSAP',
  popcnt: ARITH, // all cleared but ZF
  cmpxchg8b: 'w:Z', cmpxchg16b: 'w:Z',
  lar: 'w:Z', lsl: 'w:Z', verr: 'w:Z', verw: 'w:Z', arpl: 'w:Z',
  // string instructions: DF gives the direction
  movs: 'r:D', stos: 'r:D', lods: 'r:D', ins: 'r:D', outs: 'r:D',
  cmps: 'r:D w:OSZAPC', scas: 'r:D w:OSZAPC',
  loope: 'r:Z', loopne: 'r:Z',
  clc: 'w:C', stc: 'w:C', cmc: 'r:C w:C',
  cld: 'w:D', std: 'w:D', cli: 'w:I', sti: 'w:I',
  clac: 'w:X', stac: 'w:X',
  sahf: 'w:SZAPC', lahf: 'r:SZAPC', salc: 'r:C',
  // whole-register reads and writes
  pushf: 'r:OSZAPCDITX', pushfw: 'r:OSZAPCDITX', pushfd: 'r:OSZAPCDITX',
  popf: ALL, popfw: ALL, popfd: ALL,
  iret: ALL, iretw: ALL, iretd: ALL, iretq: ALL,
  syscall: ALL, sysret: ALL, sysretd: ALL, sysretq: ALL, rsm: ALL, uiret: ALL,
  // interrupt and trap gates clear TF, IF (interrupt gates), NT, RF, VM, AC
  int: 'w:TIX', int3: 'w:TIX', int1: 'w:TIX', into: 'r:O w:TIX', sysenter: 'w:IX',
  // x87 compares into EFLAGS, and the conditional moves
  fcomi: CMP_X87, fcomip: CMP_X87, fucomi: CMP_X87, fucomip: CMP_X87,
  fcmovb: 'r:C', fcmovnb: 'r:C', fcmove: 'r:Z', fcmovne: 'r:Z', fcmovbe: 'r:CZ', fcmovnbe: 'r:CZ',
  fcmovu: 'r:P', fcmovnu: 'r:P',
  // instructions reporting success in CF (and clearing the other status flags) or ZF
  rdrand: ARITH, rdseed: ARITH, xtest: ARITH, testui: ARITH, umwait: ARITH, tpause: ARITH, rdpru: ARITH,
  mcommit: ARITH, pvalidate: ARITH, rmpadjust: ARITH, rmpupdate: ARITH, psmash: ARITH, rmpquery: ARITH,
  enqcmd: ARITH, enqcmds: ARITH, encodekey128: ARITH, encodekey256: ARITH,
  encls: ARITH, enclu: ARITH, enclv: ARITH, seamcall: ARITH, seamret: ARITH, seamops: ARITH, tdcall: ARITH,
  // VMX instructions report VMfailInvalid/VMfailValid in CF/ZF and clear the others
  vmcall: ARITH, vmlaunch: ARITH, vmresume: ARITH, vmxoff: ARITH, vmxon: ARITH, vmclear: ARITH, vmptrld: ARITH,
  vmptrst: ARITH, vmread: ARITH, vmwrite: ARITH, invept: ARITH, invvpid: ARITH,
  // instructions of other tables that set EFLAGS (SSE/AVX compares, BMI, ADX, opmask tests)
  adcx: 'r:C w:C', adox: 'r:O w:O',
  comiss: CMP_X87, comisd: CMP_X87, ucomiss: CMP_X87, ucomisd: CMP_X87,
  vcomiss: CMP_X87, vcomisd: CMP_X87, vucomiss: CMP_X87, vucomisd: CMP_X87, vcomish: CMP_X87, vucomish: CMP_X87,
  ptest: ARITH, vptest: ARITH, vtestps: ARITH, vtestpd: ARITH, // ZF and CF set, others cleared
  pcmpestri: ARITH, pcmpestrm: ARITH, pcmpistri: ARITH, pcmpistrm: ARITH,
  vpcmpestri: ARITH, vpcmpestrm: ARITH, vpcmpistri: ARITH, vpcmpistrm: ARITH,
  pcmpestriq: ARITH, pcmpestrmq: ARITH, vpcmpestriq: ARITH, vpcmpestrmq: ARITH, loadiwkey: ARITH,
  andn: 'w:OSZAPC u:AP', bextr: 'w:OSZAPC u:ASP', bzhi: 'w:OSZAPC u:AP',
  blsi: 'w:OSZAPC u:AP', blsmsk: 'w:OSZAPC u:AP', blsr: 'w:OSZAPC u:AP',
  blcfill: 'w:OSZAPC u:AP', blci: 'w:OSZAPC u:AP', blcic: 'w:OSZAPC u:AP', blcmsk: 'w:OSZAPC u:AP',
  blcs: 'w:OSZAPC u:AP', blsfill: 'w:OSZAPC u:AP', blsic: 'w:OSZAPC u:AP', t1mskc: 'w:OSZAPC u:AP',
  tzmsk: 'w:OSZAPC u:AP',
  kortestb: ARITH, kortestw: ARITH, kortestd: ARITH, kortestq: ARITH,
  ktestb: ARITH, ktestw: ARITH, ktestd: ARITH, ktestq: ARITH,
  aesenc128kl: ARITH, aesenc256kl: ARITH, aesdec128kl: ARITH, aesdec256kl: ARITH,
  aesencwide128kl: ARITH, aesencwide256kl: ARITH, aesdecwide128kl: ARITH, aesdecwide256kl: ARITH,
};

for (const [cc, f] of Object.entries(CC_FLAGS)) {
  table[`cmp${cc}xadd`] = ARITH;
  table[`j${cc}`] = `r:${f}`;
  table[`set${cc}`] = `r:${f}`;
  table[`cmov${cc}`] = `r:${f}`;
}

export const FLAG_EFFECTS: Record<string, string> = table;
