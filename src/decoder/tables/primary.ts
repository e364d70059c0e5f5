// The one-byte opcode map (Intel SDM Vol. 2, Table A-2), except the x87 escapes D8-DF (x87.ts).
// Prefix bytes (26 2E 36 3E 64 65 66 67 F0 F2 F3), REX (40-4F in 64-bit mode), VEX/EVEX/XOP (C4 C5 62 8F) and the
// 0F escape are recognised by the engine before it looks here; the slots of the prefixes are left null.
import type { Node, OpcodeMap, Switch } from '../notation.ts';
import { B, asz, mod, mode, osz, pfx, reg, rm, pfxOpt } from '../notation.ts';

/** Re-exported for the other GP tables. */
export { pfxOpt };

/**
 * objdump names some instructions with a size suffix whenever an operand-size prefix (66, or REX.W for `q`)
 * changes their operand size: `pushfw`/`pushfd`, `retw`, `callw`, `iretq`, `retfq`...
 * `tail` is the rest of the entry (operands and tags); `q` is the name with REX.W in 64-bit mode.
 */
export function sfx(name: string, tail = '', q = name): Switch {
  const e = (n: string) => `${n} ${tail}`.trim();
  return mode(osz(e(name + 'w'), e(name)), osz(e(name + 'w'), e(name), e(q)), osz(e(name), e(name + 'd')));
}

const ALU = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
/** The six ALU forms at 00-05, 08-0D ... 38-3D. */
function alu(op: string): Node[] {
  const lk = op === 'cmp' ? '' : ' @lock @hle';
  return [`${op} Eb,Gb${lk}`, `${op} Ev,Gv${lk}`, `${op} Gb,Eb`, `${op} Gv,Ev`, `${op} AL,Ib`, `${op} rAX,Iz`];
}
/** Group 1 (80-83): the ALU operation by ModRM.reg. */
const grp1 = (ops: string, tags = ''): Switch =>
  reg(...ALU.map((op) => `${op} ${ops}${op === 'cmp' ? '' : ' @lock @hle'} ${tags}`.trim()));

/** Group 2 (C0 C1 D0-D3): rotates and shifts by ModRM.reg. /6 is an alias of shl (objdump prints shl). */
const SHIFTS = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'shl', 'sar'];
const grp2 = (ops: string): Switch => reg(...SHIFTS.map((op) => `${op} ${ops}`));

/** Condition codes in encoding order, as objdump spells them (jcc, setcc, cmovcc). */
export const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];

/** Group 3 (F6/F7). */
const grp3 = (x: 'b' | 'v', imm: string): Switch =>
  reg(
    `test E${x},${imm}`,
    `test E${x},${imm}`, // /1 is an undocumented alias of /0
    `not E${x} @lock @hle`,
    `neg E${x} @lock @hle`,
    `mul E${x}`,
    `imul E${x}`,
    `div E${x} @fault`,
    `idiv E${x} @fault`,
  );

const m: Node[] = new Array(256).fill(null);

for (let i = 0; i < 8; i++) m.splice(i * 8, 6, ...alu(ALU[i]!));
// push/pop of segment registers are named with a suffix under 66 (`pushw es`)
for (const [op, name, s] of [[0x06, 'push', 'ES'], [0x07, 'pop', 'ES'], [0x0e, 'push', 'CS'], [0x16, 'push', 'SS'],
  [0x17, 'pop', 'SS'], [0x1e, 'push', 'DS'], [0x1f, 'pop', 'DS']] as const) {
  m[op] = sfx(name, `${s} @i64 @stack${name === 'pop' ? ' @fault' : ''}`); // loading a selector can fault
}
m[0x27] = 'daa @i64';
m[0x2f] = 'das @i64';
m[0x37] = 'aaa @i64';
m[0x3f] = 'aas @i64';

for (let r = 0; r < 8; r++) {
  m[0x40 + r] = 'inc Zv @i64'; // REX prefixes in 64-bit mode
  m[0x48 + r] = 'dec Zv @i64';
  m[0x50 + r] = 'push Zv @d64 @stack';
  m[0x58 + r] = 'pop Zv @d64 @stack';
}
m[0x60] = sfx('pusha', '@i64 @stack');
m[0x61] = sfx('popa', '@i64 @stack');
m[0x62] = 'bound Gv,Ma @i64 @fault'; // EVEX in 64-bit mode, and with mod=3 in legacy modes (the engine checks)
m[0x63] = mode('arpl Ew,Gw', 'movsxd Gv,Ed');
m[0x68] = sfx('push', 'Iz @d64 @stack');
m[0x69] = 'imul Gv,Ev,Iz';
m[0x6a] = sfx('push', 'Ibs @d64 @stack');
m[0x6b] = 'imul Gv,Ev,Ibs';
m[0x6c] = 'ins Yb,DX @rep @str @io';
m[0x6d] = 'ins Yz,DX @rep @str @io';
m[0x6e] = 'outs DX,Xb @rep @str @io';
m[0x6f] = 'outs DX,Xz @rep @str @io';
for (let c = 0; c < 16; c++) m[0x70 + c] = `j${CC[c]} Jb @jcc @d64 @bnd`;

m[0x80] = grp1('Eb,Ib');
m[0x81] = grp1('Ev,Iz');
m[0x82] = grp1('Eb,Ib', '@i64');
m[0x83] = grp1('Ev,Ibs');
m[0x84] = 'test Eb,Gb';
m[0x85] = 'test Ev,Gv';
m[0x86] = 'xchg Eb,Gb @lock @hle';
m[0x87] = 'xchg Ev,Gv @lock @hle';
m[0x88] = 'mov Eb,Gb @hle';
m[0x89] = 'mov Ev,Gv @hle';
m[0x8a] = 'mov Gb,Eb';
m[0x8b] = 'mov Gv,Ev';
// mov Ev,Sw: a register destination takes the operand size (objdump: `mov eax,ds`), memory is always a word.
const movFromSeg = mod('mov Mw,Sw', 'mov Rv,Sw');
const movToSeg = mod('mov Sw,Mw @fault', 'mov Sw,Rv @fault');
m[0x8c] = movFromSeg; // the engine rejects segment registers 6 and 7 after reading the operand
m[0x8d] = 'lea Gv,M';
m[0x8e] = movToSeg; // the engine rejects CS and segment registers 6 and 7 after reading the operand
m[0x8f] = reg('pop Ev @d64 @stack'); // 8F /1-7: XOP (the engine checks)

// 90: nop, or xchg r8,rAX with REX.B; F3 90 is pause. objdump names 66 90 `xchg ax,ax` (in 16-bit code, 66 90 is
// `xchg eax,eax`): an operand-size prefix that changes the size makes it an xchg.
const xchg90 = 'xchg Zv,rAX';
const nop90 = mode(osz(xchg90, 'nop'), osz(xchg90, 'nop', 'nop'), osz('nop', xchg90));
// With REX.B, 90 is xchg r8,rAX even after F3 (the hardware; objdump says pause).
m[0x90] = B(pfxOpt(nop90, undefined, 'pause'), xchg90);
for (let r = 1; r < 8; r++) m[0x90 + r] = xchg90;
m[0x98] = osz('cbw', 'cwde', 'cdqe');
m[0x99] = osz('cwd', 'cdq', 'cqo');
m[0x9a] = 'call Ap @i64 @call @stack @fault';
m[0x9b] = 'fwait';
m[0x9c] = sfx('pushf', '@d64 @stack');
m[0x9d] = sfx('popf', '@d64 @stack @serial');
m[0x9e] = 'sahf';
m[0x9f] = 'lahf';
// moffs: objdump names the 64-bit-address forms movabs
const moffs = (ops: string): Switch => asz(`mov ${ops}`, `mov ${ops}`, `movabs ${ops}`);
m[0xa0] = moffs('AL,Ob');
m[0xa1] = moffs('rAX,Ov');
m[0xa2] = moffs('Ob,AL');
m[0xa3] = moffs('Ov,rAX');
m[0xa4] = 'movs Yb,Xb @rep @str';
m[0xa5] = 'movs Yv,Xv @rep @str';
m[0xa6] = 'cmps Xb,Yb @repcc @str';
m[0xa7] = 'cmps Xv,Yv @repcc @str';
m[0xa8] = 'test AL,Ib';
m[0xa9] = 'test rAX,Iz';
m[0xaa] = 'stos Yb,AL @rep @str';
m[0xab] = 'stos Yv,rAX @rep @str';
m[0xac] = 'lods AL,Xb @rep @str';
m[0xad] = 'lods rAX,Xv @rep @str';
m[0xae] = 'scas AL,Yb @repcc @str';
m[0xaf] = 'scas rAX,Yv @repcc @str';
for (let r = 0; r < 8; r++) {
  m[0xb0 + r] = 'mov Zb,Ib';
  m[0xb8 + r] = osz('mov Zv,Iv', 'mov Zv,Iv', 'movabs Zv,Iv');
}

m[0xc0] = grp2('Eb,Ib');
m[0xc1] = grp2('Ev,Ib');
m[0xc2] = sfx('ret', 'Iw @ret @stack @d64 @bnd');
m[0xc3] = sfx('ret', '@ret @stack @d64 @bnd');
// In 64-bit mode (and with mod=3 in legacy modes) C4/C5 are VEX prefixes: the engine checks before the lookup.
m[0xc4] = mode('les Gv,Mp @fault', null);
m[0xc5] = mode('lds Gv,Mp @fault', null);
m[0xc6] = reg('mov Eb,Ib @hle', null, null, null, null, null, null, mod(null, rm('xabort Ib #rtm')));
m[0xc7] = reg('mov Ev,Iz @hle', null, null, null, null, null, null, mod(null, rm(sfx('xbegin', 'Jz @jcc #rtm'))));
m[0xc8] = sfx('enter', 'Iw,Ib @d64 @stack');
m[0xc9] = sfx('leave', '@d64 @stack');
m[0xca] = sfx('retf', 'Iw @ret @stack @fault', 'retfq');
m[0xcb] = sfx('retf', '@ret @stack @fault', 'retfq');
m[0xcc] = 'int3 @int @stack';
m[0xcd] = 'int Ib @int @stack';
m[0xce] = 'into @i64 @int @stack';
m[0xcf] = sfx('iret', '@ret @stack @serial @fault', 'iretq');
m[0xd0] = grp2('Eb,1');
m[0xd1] = grp2('Ev,1');
m[0xd2] = grp2('Eb,CL');
m[0xd3] = grp2('Ev,CL');
m[0xd4] = 'aam Ib @i64 @fault';
m[0xd5] = 'aad Ib @i64';
// D6 (salc, AL = CF ? 0xff : 0) is undocumented and objdump calls it (bad), but this CPU executes it outside
// 64-bit mode (checked natively), so the machine decodes it.
m[0xd6] = 'salc @i64';
m[0xd7] = 'xlat'; // implicit operand: BYTE PTR ds:[rBX+AL] (segment overridable)

m[0xe0] = 'loopne Jb @jcc @d64';
m[0xe1] = 'loope Jb @jcc @d64';
m[0xe2] = 'loop Jb @jcc @d64';
m[0xe3] = asz('jcxz Jb @jcc @d64', 'jecxz Jb @jcc @d64', 'jrcxz Jb @jcc @d64');
m[0xe4] = 'in AL,Ib @io';
m[0xe5] = 'in eAX,Ib @io';
m[0xe6] = 'out Ib,AL @io';
m[0xe7] = 'out Ib,eAX @io';
// Near branches take 66 in 64-bit mode (rel16, 16-bit target) as AMD and objdump have it; Intel ignores it.
m[0xe8] = sfx('call', 'Jz @call @stack @d64 @bnd');
m[0xe9] = sfx('jmp', 'Jz @jmp @d64 @bnd');
m[0xea] = 'jmp Ap @i64 @jmp @fault';
m[0xeb] = 'jmp Jb @jmp @d64 @bnd';
m[0xec] = 'in AL,DX @io';
m[0xed] = 'in eAX,DX @io';
m[0xee] = 'out DX,AL @io';
m[0xef] = 'out DX,eAX @io';
m[0xf1] = 'int1 @int @stack';
m[0xf4] = 'hlt @priv @serial';
m[0xf5] = 'cmc';
m[0xf6] = grp3('b', 'Ib');
m[0xf7] = grp3('v', 'Iz');
m[0xf8] = 'clc';
m[0xf9] = 'stc';
m[0xfa] = 'cli @io';
m[0xfb] = 'sti @io @serial';
m[0xfc] = 'cld';
m[0xfd] = 'std';
m[0xfe] = reg('inc Eb @lock @hle', 'dec Eb @lock @hle');
m[0xff] = reg(
  'inc Ev @lock @hle',
  'dec Ev @lock @hle',
  'call Ev @call @stack @d64 @bnd @notrack',
  'call Mp @call @stack @fault',
  'jmp Ev @jmp @d64 @bnd @notrack',
  'jmp Mp @jmp @fault',
  'push Ev @d64 @stack',
);

export const primary: OpcodeMap = m;
