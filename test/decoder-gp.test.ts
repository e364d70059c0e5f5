// The general-purpose, system and x87 tables (primary.ts, x87.ts, map0f-gp.ts, map0f38-gp.ts) and flags.ts,
// checked against GNU objdump: instruction lengths and mnemonics on assembled samples of every form, on exhaustive
// opcode x ModRM sweeps in the three modes, and on real binaries.
import { existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { decode, newInstruction } from '../src/decoder/decode.ts';
import { parseEntry, type Node, type OpcodeMap } from '../src/decoder/notation.ts';
import { FLAG_EFFECTS } from '../src/decoder/flags.ts';
import { Attr, Invalid, RegClass, type Mode } from '../src/decoder/types.ts';
import { regId } from '../src/decoder/regs.ts';
import { primary } from '../src/decoder/tables/primary.ts';
import { x87 } from '../src/decoder/tables/x87.ts';
import { map0fGp } from '../src/decoder/tables/map0f-gp.ts';
import { map0f38Gp } from '../src/decoder/tables/map0f38-gp.ts';
import { assemble, mnemonicOf, objdumpRaw, parseObjdump, type ObjdumpLine } from './util/gnu.ts';

const MAPS: Record<string, OpcodeMap> = { primary, x87, map0fGp, map0f38Gp };
const CCS = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];

/** Calls `visit` on every entry string of a node tree. */
function walk(n: Node, visit: (text: string) => void): void {
  if (n === null || n === undefined) return;
  if (typeof n === 'string') visit(n);
  else if ('sw' in n) n.c.forEach((c) => walk(c, visit));
}

/** Every mnemonic of the four tables. */
const MINE = new Set<string>();
for (const map of Object.values(MAPS)) for (const n of Object.values(map)) walk(n as Node, (t) => MINE.add(parseEntry(t).mnemonic));

// ---------------------------------------------------------------------------------------------------------------
// Comparison with objdump

/** objdump's prefix words: a line made only of these is a prefix objdump printed on its own. */
const PREFIX_WORD = /^(lock|rep|repz|repe|repnz|repne|bnd|notrack|data16|data32|addr16|addr32|cs|ds|es|ss|fs|gs|xacquire|xrelease|rex(\.[WRXB]+)?|rex64|\{vex\}|\{vex3\}|\{evex\})$/i;

interface Result {
  compared: number;
  lengths: string[];
  mnemonics: string[];
}

/**
 * Where objdump's reading is not the machine's, for reasons outside the tables. Each returns a reason or ''.
 * These are objdump quirks on encodings real code does not contain; the engine's behaviour is the intended one.
 */
function objdumpQuirk(text: string, bytes: Uint8Array, invalid: Invalid): string {
  // objdump prints LOCK on anything; the engine raises #UD for LOCK on a non-lockable form.
  if (invalid === Invalid.BadLock && /\block\b/.test(text)) return 'lock';
  // Segment registers 6 and 7 (objdump prints `?`): #UD.
  if (invalid && text.includes('?')) return 'sreg';
  // A REX prefix followed by another prefix is ignored; objdump then also drops 66 from its operand size.
  const words = text.split(' ');
  const rexAt = words.findIndex((w) => /^rex(\.[WRXB]+)?$/i.test(w));
  if (rexAt >= 0 && rexAt + 1 < words.length && PREFIX_WORD.test(words[rexAt + 1]!)) return 'ignored rex';
  // With both 66 and REX.W, objdump lets 66 name the x87 environment forms and 90 (REX.W wins on hardware).
  if (bytes.includes(0x66) && /^(fldenvw|frstorw|fnstenvw|fnsavew|xchg)$/.test(mnemonicOf(text))) {
    if (bytes.some((b, i) => (b & 0xf8) === 0x48 && i < bytes.length - 1)) return '66 rex.w';
  }
  // VEX after 66/F2/F3/LOCK is #UD; objdump decodes it.
  if (invalid && /^(data16|data32|repz|repnz|lock|rex(\.[WRXB]+)?) [vk]/.test(text)) return 'vex after prefix';
  // swapgs is #UD outside 64-bit mode; objdump decodes it.
  if (invalid && mnemonicOf(text) === 'swapgs') return 'swapgs';
  // 386/486 test registers (0F 24/26): #UD on every later CPU; the notation has no test-register operand.
  if (/\btr[0-7]\b/.test(text)) return 'mov tr';
  // Loading CS is #UD; objdump decodes it.
  if (invalid && /^mov cs,/.test(text.replace(/^(\S+ )*?mov /, 'mov '))) return 'mov cs';
  // LOCK mov cr: the AMD encoding of CR8 (see 'engine support'); objdump reads it so in 32-bit code only
  if (/^lock mov .*cr[0-7]\b/.test(text)) return 'lock mov cr';
  // F3 REX.B 90 is xchg r8,rAX on hardware (the fuzzer saw it against the real CPU); objdump says pause.
  if (/^rex\.\w*B\w* pause$/.test(text)) return 'f3 rex.b 90';
  // A prefix on FWAIT folded with the next x87 instruction: objdump lets it rename the x87 instruction (frstorw);
  // on hardware it applies to the FWAIT only, so the engine keeps the x87 instruction's own size.
  const w = bytes.indexOf(0x9b);
  if (w > 0 && bytes.subarray(0, w).every((b) => [0x66, 0x67, 0xf2, 0xf3, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65].includes(b))) return 'prefixed fwait';
  // 66/F2/F3 before the 0F AE save/restore/MXCSR forms and sfence: #UD on this machine's CPU; objdump decodes them.
  if (invalid && /^(data16|data32|repz|repnz) (fxsave|fxrstor|ldmxcsr|stmxcsr|sfence)(64)?\b/.test(text)) return 'prefixed 0F AE';
  // prefetchit0/1 exist only with RIP-relative addressing (mod=0 rm=5), which no table switch can select.
  if (/^prefetchit[01]$/.test(mnemonicOf(text))) return 'prefetchit';
  return '';
}

/**
 * Decodes at every address objdump shows and compares length and mnemonic. A prefix objdump printed alone is
 * joined to the next line; lines objdump cannot decode are skipped. `filter` selects the lines compared.
 */
function compare(
  code: Uint8Array,
  bits: Mode,
  lines: ObjdumpLine[],
  base = 0,
  filter: (objMnemonic: string, ours: string) => boolean = () => true,
): Result {
  const res: Result = { compared: 0, lengths: [], mnemonics: [] };
  const insn = newInstruction();
  for (let i = 0; i < lines.length; i++) {
    const first = lines[i]!;
    let len = first.bytes.length;
    let text = first.text;
    while (text.split(' ').every((w) => PREFIX_WORD.test(w)) && i + 1 < lines.length) {
      i++;
      len += lines[i]!.bytes.length;
      text += ' ' + lines[i]!.text;
    }
    const off = first.addr - base;
    if (text.includes('(bad)') || text.startsWith('.byte') || off < 0 || off + len > code.length) continue;
    if (len === 1 && code[off] === 0x90 && text === 'nop') continue; // the sweeps' filler (90 is in the samples)
    decode(code, off, bits, insn);
    const theirs = mnemonicOf(text).replace(/\(.*$/, ''); // `fneni(8087 only)`
    if (!filter(theirs, insn.mnemonic)) continue;
    const bytes = code.subarray(off, off + Math.max(len, insn.length));
    if (objdumpQuirk(text, bytes, insn.invalid)) continue;
    // objdump folds fwait into the x87 instruction after it: checked in 'engine support' below
    if (insn.mnemonic === 'fwait' && len > 1 && theirs.startsWith('f')) continue;
    res.compared++;
    const where = () => `${Buffer.from(bytes).toString('hex')}: objdump ${len} '${text}', kemu ${insn.length} '${insn.mnemonic}'`;
    if (insn.length !== len) res.lengths.push(where());
    else if (insn.mnemonic !== theirs) res.mnemonics.push(where());
  }
  return res;
}

/** Assembles `src`, disassembles it with objdump and compares every instruction. */
function checkSource(src: string, bits: Mode): Result {
  const code = assemble(src, bits);
  return compare(code, bits, objdumpRaw(code, bits), 0);
}

const expectClean = (r: Result, atLeast: number) => {
  expect(r.lengths.slice(0, 20)).toEqual([]);
  expect(r.mnemonics.slice(0, 20)).toEqual([]);
  expect(r.compared).toBeGreaterThan(atLeast);
};

// ---------------------------------------------------------------------------------------------------------------

describe('GP tables: structure', () => {
  it('every entry parses', () => {
    let n = 0;
    for (const [name, map] of Object.entries(MAPS)) {
      for (const [op, node] of Object.entries(map)) {
        walk(node as Node, (t) => {
          try {
            parseEntry(t);
          } catch (e) {
            throw new Error(`${name}[${Number(op).toString(16)}]: ${(e as Error).message}`);
          }
          n++;
        });
      }
    }
    expect(n).toBeGreaterThan(800);
  });

  it('x87 fills exactly D8-DF', () => {
    expect(Object.keys(x87).map(Number).sort((a, b) => a - b)).toEqual([0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf]);
    for (let op = 0xd8; op <= 0xdf; op++) expect((primary as Node[])[op]).toBeNull();
  });

  it('flag effects are well-formed and cover the flag-using mnemonics', () => {
    for (const [m, text] of Object.entries(FLAG_EFFECTS)) {
      expect(text, m).toMatch(/^(r:[OSZAPCDITX]+)?( ?w:[OSZAPCDITX]+)?( ?u:[OSZAPC]+)?$/);
      const w = /w:(\S+)/.exec(text)?.[1] ?? '';
      const u = /u:(\S+)/.exec(text)?.[1] ?? '';
      for (const f of u) expect(w, `${m}: undefined flag ${f} must be written`).toContain(f);
    }
    const need = [
      'add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp', 'inc', 'dec', 'neg', 'test', 'mul', 'imul', 'div', 'idiv',
      'rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sar', 'shld', 'shrd', 'bt', 'bts', 'btr', 'btc', 'bsf', 'bsr',
      'popcnt', 'tzcnt', 'lzcnt', 'cmpxchg', 'cmpxchg8b', 'cmpxchg16b', 'xadd', 'daa', 'das', 'aaa', 'aas', 'aam',
      'aad', 'cmps', 'scas', 'movs', 'stos', 'lods', 'sahf', 'lahf', 'pushf', 'popf', 'iret', 'iretq', 'clc', 'stc',
      'cmc', 'cld', 'std', 'cli', 'sti', 'fcomi', 'fcomip', 'fucomi', 'fucomip', 'fcmovb', 'fcmovnu', 'lar', 'lsl',
      'verr', 'verw', 'rdrand', 'rdseed', 'adcx', 'adox', 'loope', 'loopne', 'into', 'syscall', 'sysret', 'arpl',
    ];
    for (const m of need) expect(FLAG_EFFECTS[m], m).toBeTruthy();
    for (const cc of CCS) for (const m of [`j${cc}`, `set${cc}`, `cmov${cc}`]) expect(FLAG_EFFECTS[m], m).toBeTruthy();
    for (const m of MINE) if (m.startsWith('fcmov')) expect(FLAG_EFFECTS[m], m).toBeTruthy();
  });

  it('decoded flags follow the table', () => {
    const d = (bits: Mode, ...b: number[]) => decode(new Uint8Array(b), 0, bits);
    const add = d(64, 0x01, 0xc0);
    expect([add.flagsRead, add.flagsWritten, add.flagsUndefined]).toEqual([0, 0x8d5, 0]);
    const adc = d(64, 0x11, 0xc0);
    expect(adc.flagsRead).toBe(0x1);
    const imul = d(64, 0x0f, 0xaf, 0xc0);
    expect(imul.flagsUndefined).toBe(0x80 | 0x40 | 0x10 | 0x4); // SF ZF AF PF
    const jbe = d(64, 0x76, 0x00);
    expect(jbe.flagsRead).toBe(0x41); // CF ZF
  });
});

describe('GP tables: attributes of representative encodings', () => {
  const d = (bits: Mode, hex: string) => decode(new Uint8Array(Buffer.from(hex.replace(/ /g, ''), 'hex')), 0, bits);
  it('branches, stack, privileges, string and lock tags', () => {
    expect(d(64, 'e8 00 00 00 00').attrs & (Attr.CALL | Attr.STACK)).toBe(Attr.CALL | Attr.STACK);
    expect(d(64, 'ff d0').attrs & Attr.NOTRACK).toBeTruthy();
    expect(d(64, 'c3').attrs & Attr.RET).toBeTruthy();
    expect(d(64, '74 00').attrs & Attr.JCC).toBeTruthy();
    expect(d(64, 'cd 80').attrs & Attr.INT).toBeTruthy();
    expect(d(64, 'f4').attrs & Attr.PRIV).toBeTruthy();
    expect(d(64, '0f 22 d8').attrs & (Attr.PRIV | Attr.SERIAL)).toBe(Attr.PRIV | Attr.SERIAL);
    expect(d(64, 'f3 a4').attrs & (Attr.REP | Attr.STR)).toBe(Attr.REP | Attr.STR);
    expect(d(64, 'f3 a6').attrs & Attr.REPCC).toBeTruthy();
    expect(d(64, 'f0 01 00').mnemonic).toBe('add');
    expect(d(64, 'f0 0f c7 08').mnemonic).toBe('cmpxchg8b');
    expect(d(64, 'f0 01 c0').invalid).toBe(Invalid.BadLock); // register destination
    expect(d(64, 'f0 39 00').invalid).toBe(Invalid.BadLock); // cmp is not lockable
    expect(d(64, 'f7 30').attrs & Attr.FAULT).toBeTruthy();
    expect(d(64, 'e4 60').attrs & Attr.IO).toBeTruthy();
  });

  it('operand sizes of the 64-bit defaults', () => {
    expect(d(64, '50').opSize).toBe(8);
    expect(d(64, '66 50').opSize).toBe(2);
    expect(d(64, '0f 20 c0').opSize).toBe(8);
    expect(d(64, '66 0f 20 c0').opSize).toBe(8);
    expect(d(64, 'ff 10').opSize).toBe(8);
    expect(d(64, '48 b8 01 02 03 04 05 06 07 08').length).toBe(10);
    expect(d(64, 'a1 01 02 03 04 05 06 07 08').length).toBe(9);
    expect(d(64, '67 a1 01 02 03 04').length).toBe(6);
    expect(d(32, 'a1 01 02 03 04').length).toBe(5);
    expect(d(16, 'a1 01 02').length).toBe(3);
    expect(d(32, '9a 01 02 03 04 05 06').length).toBe(7);
    expect(d(16, '66 ea 01 02 03 04 05 06').length).toBe(8);
    expect(d(64, '9a 01 02 03 04 05 06').invalid).toBe(Invalid.Undefined);
    expect(d(64, 'c8 10 00 01').length).toBe(4);
  });

  it('mode-dependent names', () => {
    expect(d(16, '9c').mnemonic).toBe('pushf');
    expect(d(16, '66 9c').mnemonic).toBe('pushfd');
    expect(d(32, '66 9c').mnemonic).toBe('pushfw');
    expect(d(64, '9c').mnemonic).toBe('pushf');
    expect(d(64, '48 cf').mnemonic).toBe('iretq');
    expect(d(32, '63 c0').mnemonic).toBe('arpl');
    expect(d(64, '63 c0').mnemonic).toBe('movsxd');
    expect(d(64, '0f 07').mnemonic).toBe('sysretd');
    expect(d(64, '48 0f 07').mnemonic).toBe('sysretq');
    expect(d(16, '0f 01 00').mnemonic).toBe('sgdtw');
    expect(d(32, '0f 01 00').mnemonic).toBe('sgdtd');
    expect(d(64, '0f 01 00').mnemonic).toBe('sgdt');
    expect(d(32, 'e3 00').mnemonic).toBe('jecxz');
    expect(d(32, '67 e3 00').mnemonic).toBe('jcxz');
    expect(d(64, 'e3 00').mnemonic).toBe('jrcxz');
    expect(d(64, '41 90').mnemonic).toBe('xchg');
    expect(d(64, 'f3 90').mnemonic).toBe('pause');
    expect(d(32, 'c4 00').mnemonic).toBe('les');
  });
});

// Encodings that rely on engine behaviour beyond the table walk (see the report to the lead).
describe('GP tables: engine support', () => {
  const d = (bits: Mode, hex: string) => decode(new Uint8Array(Buffer.from(hex.replace(/ /g, ''), 'hex')), 0, bits);
  it('a pfx() case left undefined falls back to the no-prefix case, the prefix keeping its meaning', () => {
    const bsf = d(64, '66 0f bc c0');
    expect([bsf.mnemonic, bsf.opSize]).toEqual(['bsf', 2]);
    expect(d(64, '66 90').mnemonic).toBe('xchg');
    expect(d(64, 'f2 90').mnemonic).toBe('nop');
    expect([d(64, '66 0f c7 f0').mnemonic, d(64, '66 0f c7 f0').opSize]).toEqual(['rdrand', 2]);
    expect(d(64, '66 0f 38 f0 00').mnemonic).toBe('movbe');
    expect(d(64, 'f2 0f 1e c0').mnemonic).toBe('nop');
    expect(d(64, '66 0f b8 c0').invalid).toBe(Invalid.Undefined); // the none case is null
  });

  it('LOCK mov to/from CR0 is the AMD encoding of CR8 in legacy modes', () => {
    const i = d(32, 'f0 0f 20 c0');
    expect(i.mnemonic).toBe('mov');
    expect(i.operands[1]!.reg).toBe(regId(RegClass.CR, 8));
    expect(d(32, 'f0 0f 22 c0').operands[0]!.reg).toBe(regId(RegClass.CR, 8));
  });

  it('loading CS is undefined', () => {
    const i = d(32, '8e c8');
    expect(i.invalid).toBe(Invalid.Undefined);
    expect(i.length).toBe(2);
  });

  it('fwait before an x87 instruction is part of it, as objdump decodes it', () => {
    const fstsw = d(64, '9b df e0');
    expect([fstsw.length, fstsw.mnemonic]).toEqual([3, 'fstsw']);
    const fstcw = d(32, '9b d9 3c 24');
    expect([fstcw.length, fstcw.mnemonic]).toEqual([4, 'fstcw']);
    expect([d(64, '9b d8 c1').length, d(64, '9b d8 c1').mnemonic]).toEqual([3, 'fadd']);
    expect(d(64, '9b 9b df e0').length).toBe(4);
    expect(d(64, '9b 90').length).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Assembled samples

const ALU = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
const SHIFTS = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sal', 'sar'];

/** Samples common to all modes, with memory operands written for the mode's address size. */
function common(m: (x: string) => string, bits: Mode): string[] {
  const s: string[] = [];
  const wide = bits === 64;
  for (const op of ALU) {
    s.push(`${op} al, 1`, `${op} ax, 0x1234`, `${op} eax, 0x12345678`, `${op} ecx, 5`, `${op} cl, dl`, `${op} cx, dx`);
    s.push(`${op} byte ptr ${m('1')}, 2`, `${op} word ptr ${m('')}, 0x1234`, `${op} dword ptr ${m('4')}, -3`);
    s.push(`${op} ${m('')}, ecx`, `${op} ebx, ${m('8')}`, `${op} ${m('')}, cl`, `${op} dl, ${m('')}`);
    if (op !== 'cmp') s.push(`lock ${op} ${m('')}, eax`, `lock ${op} word ptr ${m('')}, 7`);
    if (wide) s.push(`${op} rax, -1`, `${op} qword ptr ${m('')}, 0x100`, `${op} r8, r9`, `${op} r10b, sil`);
  }
  for (const op of SHIFTS) {
    s.push(`${op} al, 1`, `${op} ecx, cl`, `${op} dword ptr ${m('')}, 5`, `${op} word ptr ${m('2')}, 1`);
    s.push(`${op} byte ptr ${m('')}, cl`, `${op} ax, 3`);
  }
  for (const op of ['test', 'not', 'neg', 'mul', 'imul', 'div', 'idiv']) {
    const tail = op === 'test' ? ', 1' : '';
    s.push(`${op} byte ptr ${m('')}${tail}`, `${op} word ptr ${m('')}${tail}`, `${op} dword ptr ${m('')}${tail}`);
    s.push(`${op} ecx${tail}`, `${op} dl${tail}`);
  }
  s.push('test al, 1', 'test eax, 1', 'test ax, 1', `test ${m('')}, ecx`, `test ${m('')}, al`);
  s.push('imul eax, ecx, 5', 'imul eax, ecx, 500', `imul ax, ${m('')}, -3`, 'imul ecx, edx', `imul ebx, ${m('')}`);
  s.push(`inc byte ptr ${m('')}`, `dec word ptr ${m('')}`, `inc dword ptr ${m('')}`, 'lock inc dword ptr ' + m(''));
  s.push(`xchg ${m('')}, bl`, `xchg ${m('')}, ecx`, 'xchg ecx, eax', 'xchg ax, dx', 'xchg cl, dl');
  s.push(`mov ${m('')}, al`, `mov ${m('')}, eax`, `mov cl, ${m('')}`, `mov ecx, ${m('')}`, 'mov al, 5', 'mov ah, 5');
  s.push('mov ecx, 0x12345678', 'mov cx, 0x1234', `mov byte ptr ${m('')}, 1`, `mov dword ptr ${m('')}, 1`);
  s.push(`mov word ptr ${m('')}, 1`, 'mov ds, ax', `mov es, word ptr ${m('')}`, 'mov ax, ds', 'mov eax, fs');
  s.push(`mov word ptr ${m('')}, cs`, `mov ss, word ptr ${m('')}`, 'mov gs, eax', `lea ecx, ${m('16')}`);
  s.push('cbw', 'cwde', 'cwd', 'cdq', 'sahf', 'lahf', 'nop', 'pause', 'fwait', 'xlat', 'int3', 'int 0x80', 'int1');
  s.push('hlt', 'cmc', 'clc', 'stc', 'cli', 'sti', 'cld', 'std');
  s.push('movsb', 'movsw', 'movsd', 'rep movsb', 'rep stosd', 'repne scasb', 'repe cmpsw', 'lodsb', 'lodsd');
  s.push('stosb', 'stosw', 'scasd', 'cmpsb', 'insb', 'insw', 'insd', 'outsb', 'outsw', 'rep outsd', 'rep insb');
  s.push('in al, 0x60', 'in ax, 0x60', 'in eax, dx', 'in al, dx', 'out 0x80, al', 'out 0x80, eax', 'out dx, ax');
  s.push('push 1', 'push 0x1234', 'push fs', 'push gs', 'pop fs', 'pop gs', `push word ptr ${m('')}`);
  s.push('pushf', 'popf', 'leave', 'enter 16, 0', 'enter 8, 1', 'ret', 'ret 8', 'retf', 'retf 4', 'iret');
  s.push('call 1f', '1:', 'jmp 1f', '1:', 'jmp 1f', 'nop', '1:', `call ${m('')}`, `jmp ${m('')}`);
  for (const cc of CCS) {
    s.push(`j${cc} 1f`, `set${cc} al`, `set${cc} byte ptr ${m('')}`, `cmov${cc} eax, ecx`, `cmov${cc} ax, ${m('')}`, '1:');
    s.push(`j${cc} 2f`, '.skip 200', '2:');
  }
  s.push('1:', 'loop 1b', 'loope 1b', 'loopne 1b', 'xbegin 1b', 'xabort 5', 'xend', 'xtest');
  // 0F map
  s.push('sldt ax', `sldt word ptr ${m('')}`, 'str eax', `lldt word ptr ${m('')}`, 'ltr ax', 'verr ax', 'verw cx');
  s.push(`sgdt ${m('')}`, `sidt ${m('')}`, `lgdt ${m('')}`, `lidt ${m('')}`, 'smsw eax', `smsw word ptr ${m('')}`);
  s.push('lmsw ax', `invlpg byte ptr ${m('')}`, 'vmcall', 'vmlaunch', 'vmresume', 'vmxoff', 'monitor', 'mwait');
  s.push('clac', 'stac', 'xgetbv', 'xsetbv', 'vmfunc', 'vmrun', 'vmmcall', 'vmload', 'vmsave', 'stgi', 'clgi');
  s.push('skinit', 'invlpga', 'rdtscp', 'monitorx', 'mwaitx', 'clzero', 'rdpkru', 'wrpkru', 'serialize', 'encls');
  s.push('enclu', 'enclv', 'pconfig', 'rdpru', 'mcommit', 'tlbsync', 'invlpgb', 'wbnoinvd', 'setssbsy', 'saveprevssp');
  s.push(`lar eax, word ptr ${m('')}`, 'lar eax, ecx', `lsl ax, word ptr ${m('')}`, 'lsl ecx, edx', 'clts', 'invd');
  s.push('wbinvd', 'ud2', `ud1 eax, ${m('')}`, `ud0 eax, ecx`, `prefetch byte ptr ${m('')}`, `prefetchw ${m('')}`);
  s.push(`prefetchnta ${m('')}`, `prefetcht0 ${m('')}`, `prefetcht1 ${m('')}`, `prefetcht2 ${m('')}`, 'femms');
  s.push(`nop dword ptr ${m('')}`, 'nop eax', `nop word ptr ${m('8')}`, 'endbr64', 'endbr32', `cldemote ${m('')}`);
  s.push('wrmsr', 'rdtsc', 'rdmsr', 'rdpmc', 'sysenter', 'getsec', 'cpuid', 'rsm', 'syscall');
  if (!wide) s.push('mov eax, cr0', 'mov cr3, eax', 'mov eax, dr7', 'mov dr0, eax', 'sysexit', 'sysret', 'rdpid eax');
  s.push(`bt ${m('')}, eax`, 'bt eax, 5', `bts word ptr ${m('')}, 3`, `lock btr ${m('')}, ecx`, 'btc ecx, edx');
  s.push(`shld ${m('')}, eax, 5`, 'shld ecx, edx, cl', `shrd ax, bx, 3`, `shrd ${m('')}, ecx, cl`);
  s.push(`cmpxchg ${m('')}, cl`, `lock cmpxchg ${m('')}, ecx`, `xadd ${m('')}, al`, `lock xadd ${m('')}, eax`);
  s.push(`lss eax, ${m('')}`, `lfs ax, ${m('')}`, `lgs ecx, ${m('')}`, `movzx eax, byte ptr ${m('')}`, 'movzx ecx, dx');
  s.push(`movsx eax, word ptr ${m('')}`, 'movsx cx, dl', `popcnt eax, ${m('')}`, 'popcnt cx, dx', 'tzcnt eax, ecx');
  s.push(`lzcnt eax, ${m('')}`, `bsf eax, ecx`, `bsr ax, ${m('')}`, 'bswap eax', 'bswap edi', `movnti ${m('')}, eax`);
  s.push(`cmpxchg8b ${m('')}`, `lock cmpxchg8b ${m('')}`, 'rdrand eax', 'rdrand ax', 'rdseed ecx');
  s.push(`vmptrld ${m('')}`, `vmptrst ${m('')}`, `vmclear ${m('')}`, `vmxon ${m('')}`, `xrstors ${m('')}`);
  s.push(`xsavec ${m('')}`, `xsaves ${m('')}`, `fxsave ${m('')}`, `fxrstor ${m('')}`, `ldmxcsr ${m('')}`);
  s.push(`stmxcsr ${m('')}`, `xsave ${m('')}`, `xrstor ${m('')}`, `xsaveopt ${m('')}`, `clflush ${m('')}`);
  s.push(`clflushopt ${m('')}`, `clwb ${m('')}`, 'lfence', 'mfence', 'sfence', `ptwrite dword ptr ${m('')}`);
  s.push('tpause eax', 'umwait ecx', 'incsspd eax', 'rdsspd ecx', `clrssbsy ${m('')}`, `rstorssp ${m('')}`);
  s.push(`movbe eax, ${m('')}`, `movbe ${m('')}, cx`, 'crc32 eax, cl', 'crc32 eax, cx', `crc32 eax, dword ptr ${m('')}`);
  s.push('adcx eax, ecx', `adox eax, ${m('')}`, `wrssd ${m('')}, eax`, `wrussd ${m('')}, eax`, `movdiri ${m('')}, eax`);
  s.push(`aadd ${m('')}, eax`, `aand ${m('')}, eax`, `aor ${m('')}, eax`, `axor ${m('')}, eax`);
  s.push('encodekey128 eax, ecx', 'encodekey256 eax, ecx', 'xsusldtrk', 'xresldtrk');
  // x87
  for (const op of ['fadd', 'fmul', 'fcom', 'fcomp', 'fsub', 'fsubr', 'fdiv', 'fdivr']) {
    s.push(`${op} dword ptr ${m('')}`, `${op} qword ptr ${m('8')}`, `${op} st(3)`);
    s.push(`fi${op.slice(1)} dword ptr ${m('')}`, `fi${op.slice(1)} word ptr ${m('')}`);
  }
  s.push('fadd st, st(2)', 'fadd st(2), st', 'fsub st(3), st', 'fsubr st(3), st', 'fdiv st(1), st', 'fdivr st(1), st');
  s.push('faddp', 'faddp st(2), st', 'fmulp st(3), st', 'fsubp st(1), st', 'fsubrp st(1), st', 'fdivp', 'fdivrp');
  s.push(`fld dword ptr ${m('')}`, `fld qword ptr ${m('')}`, `fld tbyte ptr ${m('')}`, 'fld st(1)', 'fxch st(2)');
  s.push(`fst dword ptr ${m('')}`, `fstp qword ptr ${m('')}`, `fstp tbyte ptr ${m('')}`, 'fst st(4)', 'fstp st(1)');
  s.push(`fild word ptr ${m('')}`, `fild dword ptr ${m('')}`, `fild qword ptr ${m('')}`, `fist word ptr ${m('')}`);
  s.push(`fistp dword ptr ${m('')}`, `fistp qword ptr ${m('')}`, `fisttp word ptr ${m('')}`, `fisttp qword ptr ${m('')}`);
  s.push(`fbld tbyte ptr ${m('')}`, `fbstp tbyte ptr ${m('')}`, `fldenv ${m('')}`, `fnstenv ${m('')}`, `frstor ${m('')}`);
  s.push(`fnsave ${m('')}`, `fldcw word ptr ${m('')}`, `fnstcw word ptr ${m('')}`, `fnstsw word ptr ${m('')}`);
  s.push('fnstsw ax', 'fninit', 'fnclex', 'fnop', 'fchs', 'fabs', 'ftst', 'fxam', 'fld1', 'fldl2t', 'fldl2e', 'fldpi');
  s.push('fldlg2', 'fldln2', 'fldz', 'f2xm1', 'fyl2x', 'fptan', 'fpatan', 'fxtract', 'fprem1', 'fdecstp', 'fincstp');
  s.push('fprem', 'fyl2xp1', 'fsqrt', 'fsincos', 'frndint', 'fscale', 'fsin', 'fcos', 'fucompp', 'fcompp');
  s.push('fcmovb st, st(1)', 'fcmove st, st(2)', 'fcmovbe st, st(3)', 'fcmovu st, st(4)', 'fcmovnb st, st(5)');
  s.push('fcmovne st, st(6)', 'fcmovnbe st, st(7)', 'fcmovnu st, st(1)', 'fucomi st, st(1)', 'fcomi st, st(2)');
  s.push('fucomip st, st(1)', 'fcomip st, st(3)', 'ffree st(1)', 'ffreep st(2)', 'fucom st(1)', 'fucomp st(2)');
  return s;
}

const SAMPLES: Record<Mode, string[]> = {
  64: [
    ...common((d) => (d ? `[rax+rcx*4+${d}]` : '[rbx]'), 64),
    'push rax', 'push r12', 'pop r15', 'push qword ptr [rax]', 'pop qword ptr [rsp+8]', 'pushw 0x1234', 'pushfq', 'pushfw',
    'popfq', 'iretq', 'iretw', 'retw', 'retfq', 'leavew', 'enterw 8, 0', 'call rax', 'call qword ptr [rip+0x10]',
    'call fword ptr [rax]', 'jmp fword ptr [rbx]', 'jmp r11', 'notrack jmp rax', 'bnd jmp 1f', '1:', 'bnd ret',
    'movabs al, [0x1122334455667788]', 'movabs eax, [0x1122334455667788]', 'movabs [0x1122334455667788], rax',
    'movabs rax, 0x1122334455667788', 'mov r8, 0x12345678', 'mov r8b, 5', 'mov spl, 5', 'mov rax, gs', 'movsxd rax, ecx',
    'movsxd rax, dword ptr [rbx]', 'lea eax, [rip+0x100]', 'xchg r8, rax', 'xchg eax, r8d', 'xchg ax, r9w', 'cdqe', 'cqo',
    'movsq', 'rep stosq', 'lodsq', 'jrcxz 1f', 'jecxz 1f', '1:', 'swapgs', 'sysretd', 'sysretq', 'sysexitq', 'rdpid rax',
    'rdfsbase rax', 'rdgsbase eax', 'wrfsbase rcx', 'wrgsbase r8', 'incsspq rax', 'rdsspq rcx', 'umonitor rax',
    'cmpxchg16b [rax]', 'lock cmpxchg16b [rbx]', 'fxsave64 [rax]', 'fxrstor64 [rax]', 'xsave64 [rax]', 'xrstor64 [rax]',
    'xsaveopt64 [rax]', 'xsavec64 [rax]', 'xsaves64 [rax]', 'xrstors64 [rax]', 'movnti [rax], r8', 'bswap r9',
    'bswap rax', 'popcnt rax, rbx', 'crc32 rax, byte ptr [rax]', 'crc32 rax, rcx', 'adcx rax, r8', 'mov rax, cr8',
    'mov cr8, rax', 'mov r9, cr3', 'mov dr7, rax', 'lar rax, rcx', 'senduipi rax', 'uiret', 'testui', 'clui', 'stui',
    'movdir64b rax, [rcx]', 'movdir64b eax, [ecx]', 'enqcmd rax, [rcx]', 'enqcmds rax, [rcx]', 'wrssq [rax], rax',
    'wrussq [rax], rax', 'ptwrite rax', 'seamcall', 'seamret', 'seamops', 'tdcall', 'psmash', 'pvalidate', 'rmpadjust',
    'rmpupdate', 'rmpquery', 'vmgexit', 'wrmsrns', 'rdmsrlist', 'wrmsrlist', 'xchg [rax], r8', 'imul r8, r9, 5',
    'shl r8, 3', 'div r10', 'neg qword ptr [rax]', 'inc r9', 'dec byte ptr [r8]', 'setb r8b', 'cmovz r8, [rax]',
    'lock xadd [rax], r8', 'xacquire lock add [rax], ebx', 'xrelease mov [rax], ebx', 'bndmk bnd0, [rax]',
    'bndcl bnd1, rax', 'bndcu bnd2, [rax]', 'bndcn bnd3, rcx', 'bndmov bnd0, bnd1', 'bndmov [rax], bnd1',
    'bndldx bnd0, [rax]', 'bndstx [rax], bnd1',
  ],
  32: [
    ...common((d) => (d ? `[eax+ecx*4+${d}]` : '[ebx]'), 32),
    'push eax', 'pop edi', 'pusha', 'popa', 'pushad', 'popad', 'pushaw', 'popaw', 'pushfd', 'pushfw', 'popfw', 'push es',
    'pop ds', 'push cs', 'push ss', 'pop ss', 'push ds', 'pop es', 'pushw es', 'daa', 'das', 'aaa', 'aas', 'aam',
    'aad', 'aam 16', 'aad 16', 'into', 'bound eax, [ebx]', 'bound ax, [ecx]', 'arpl [eax], cx', 'arpl dx, ax',
    'les eax, [ebx]', 'lds ax, [ecx]', 'inc eax', 'dec cx', 'call 0x10:0x12345678', 'jmp 0x10:0x1234',
    'call fword ptr [eax]', 'jmp fword ptr [eax]', 'iretw', 'retw', 'retfw', 'mov al, [0x1234]',
    'mov [0x12345678], eax', 'mov ax, [0x10]', 'addr16 mov eax, [0x10]', 'jcxz 1f', 'jecxz 1f', '1:',
    'lea ax, [bx+si]', 'mov eax, [bx+si+4]', 'mov eax, [bp+di]', 'mov eax, [bp]',
    'mov eax, ds:[0x1234]', 'mov es:[eax], ecx', 'movsb es:[edi], fs:[esi]', 'bndmov bnd0, [eax]', 'bndmov [eax], bnd1',
    'crc32 eax, byte ptr [eax]', 'enqcmd eax, [ecx]', 'movdir64b eax, [ecx]', 'movdir64b ax, [bx]',
  ],
  16: [
    ...common((d) => (d ? `[bp+si+${d}]` : '[bx+di]'), 16),
    'push ax', 'push eax', 'pop di', 'pusha', 'popa', 'pushad', 'popad', 'pushfd', 'popfd', 'push es', 'pop ds',
    'pushd es', 'daa', 'das', 'aaa', 'aas', 'aam', 'aad', 'into', 'bound ax, [bx]', 'bound eax, [si]', 'les ax, [bx]',
    'lds eax, [si]', 'inc ax', 'dec ecx', 'call 0x10:0x1234', 'jmp 0x10:0x1234', 'call dword ptr [bx]',
    'jmp dword ptr [si]', 'iretd', 'retd', 'retfd', 'mov al, [0x1234]', 'mov [0x1234], ax', 'mov eax, [0x10]',
    'addr32 mov eax, [0x10]', 'jcxz 1f', 'jecxz 1f', '1:', 'mov eax, [eax+ecx*2]', 'mov ax, [bp]', 'mov ax, [bp+di+1000]',
    'lea eax, [ebx+ecx*8+0x1000]', 'pushw 5', 'pushd 5', 'pushd 0x12345678', 'enterd 8, 0', 'leaved', 'calld 1f',
    'jmpd 1f', '1:', 'sgdtd [bx]', 'lidtd [si]', 'fldenvd [bx]', 'fnsaved [bx]', 'fnstenvw [bx]',
  ],
};

describe('GP tables: assembled samples', () => {
  for (const bits of [64, 32, 16] as Mode[]) {
    it(`agree with objdump in ${bits}-bit mode`, () => {
      const src = SAMPLES[bits].filter((l) => l).join('\n');
      expectClean(checkSource(src, bits), 700);
    });
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Sweeps: every opcode of a map, followed by every ModRM byte and a fixed tail, decoded linearly by objdump.

/** Opcodes of the 0F map in these tables (the rest is the SSE tables'). */
const MY_0F = [
  ...Array.from({ length: 0x0f }, (_, i) => i), ...Array.from({ length: 0x0f }, (_, i) => 0x18 + i).filter((o) => o < 0x27),
  ...Array.from({ length: 8 }, (_, i) => 0x30 + i), ...Array.from({ length: 16 }, (_, i) => 0x40 + i),
  ...Array.from({ length: 0x42 }, (_, i) => 0x80 + i), 0xc3, 0xc7, ...Array.from({ length: 8 }, (_, i) => 0xc8 + i), 0xff,
];

/** Every ModRM byte, or a sample: each mod and reg with rm 0, 4 (SIB) and 5, and every register form of reg 0/7. */
const ALL_MODRM = Array.from({ length: 256 }, (_, i) => i);
const SOME_MODRM = ALL_MODRM.filter((m) => [0, 4, 5].includes(m & 7) || (m >= 0xc0 && [0, 7].includes((m >> 3) & 7)));

function sweepBytes(prefix: number[], escape: number[], opcodes: number[], modrms: number[]): Uint8Array {
  const out: number[] = [];
  for (const op of opcodes) {
    for (const m of modrms) {
      // odd ModRM bytes get a SIB with base 5 (disp32 with mod 0); the 90 tail resynchronises the linear decode
      out.push(...prefix, ...escape, op, m, m & 1 ? 0x25 : 0x90, 0x90, 0x90, 0x90, 0x90);
    }
  }
  return new Uint8Array(out);
}

/** Sweeps the opcodes with every ModRM byte without prefix, and with a ModRM sample under each prefix. */
function sweep(bits: Mode, prefixes: number[][], escape: number[], opcodes: number[], atLeast: number): void {
  for (const p of [[], ...prefixes]) {
    const code = sweepBytes(p, escape, opcodes, p.length ? SOME_MODRM : ALL_MODRM);
    const r = compare(code, bits, objdumpRaw(code, bits), 0);
    expectClean(r, p.length ? atLeast / 3 : atLeast);
  }
}

const PRIMARY_OPS = Array.from({ length: 256 }, (_, i) => i).filter((o) => o !== 0x0f);
const X87_OPS = Array.from({ length: 8 }, (_, i) => 0xd8 + i);
const OPS_0F38 = Array.from({ length: 16 }, (_, i) => 0xf0 + i);
const PREFIXES: Record<Mode, number[][]> = {
  64: [[0x66], [0xf3], [0x48], [0x67]],
  32: [[0x66], [0x67]],
  16: [[0x66], [0x67]],
};

describe('GP tables: opcode x ModRM sweeps', () => {
  for (const bits of [64, 32, 16] as Mode[]) {
    it(`one-byte map in ${bits}-bit mode`, () => sweep(bits, PREFIXES[bits], [], PRIMARY_OPS, 60_000));
    it(`0F map (general-purpose part) in ${bits}-bit mode`, () => {
      const p = bits === 64 ? [[0x66], [0xf3], [0xf2], [0x48]] : bits === 32 ? [[0x66], [0xf3], [0xf2]] : [[0x66]];
      sweep(bits, p, [0x0f], MY_0F, 20_000);
    });
    it(`0F 38 F0-FF and x87 in ${bits}-bit mode`, () => {
      sweep(bits, [[0x66], [0xf3], [0xf2], [0x66, 0xf2]], [0x0f, 0x38], OPS_0F38, 3_000);
      sweep(bits, [[0x66]], [], X87_OPS, 1_500);
    });
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Real binaries: every instruction objdump names with one of these tables' mnemonics (or that we decode to one).

function textSection(file: string): { code: Uint8Array; vaddr: number; bits: Mode } {
  const hdr = execFileSync('readelf', ['-hSW', file], { encoding: 'utf8' });
  const m = / \.text\s+PROGBITS\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)/.exec(hdr)!;
  const off = parseInt(m[2]!, 16);
  const code = new Uint8Array(readFileSync(file)).subarray(off, off + parseInt(m[3]!, 16));
  return { code, vaddr: parseInt(m[1]!, 16), bits: /Class:\s+ELF32/.test(hdr) ? 32 : 64 };
}

function objdumpText(file: string): ObjdumpLine[] {
  const out = execFileSync('objdump', ['-d', '-M', 'intel', '-w', '-j', '.text', file], {
    maxBuffer: 2 ** 31 - 1,
    encoding: 'utf8',
  });
  return parseObjdump(out);
}

const BINARIES = [
  '/lib/x86_64-linux-gnu/libc.so.6',
  '/lib64/ld-linux-x86-64.so.2',
  '/lib/x86_64-linux-gnu/libm.so.6',
  // 32-bit code: valgrind's x86 preload libraries (memcheck-x86-linux itself is larger and slower to check)
  '/usr/libexec/valgrind/vgpreload_memcheck-x86-linux.so',
  '/usr/libexec/valgrind/vgpreload_helgrind-x86-linux.so',
].filter((f) => existsSync(f));

describe('GP tables: real binaries', () => {
  for (const file of BINARIES) {
    it(`agree with objdump on ${file}`, () => {
      const { code, vaddr, bits } = textSection(file);
      const r = compare(code, bits, objdumpText(file), vaddr, (theirs, ours) => MINE.has(theirs) || MINE.has(ours));
      expect(r.lengths.slice(0, 20)).toEqual([]);
      expect(r.mnemonics.length).toBeLessThanOrEqual(r.compared * 0.005);
      expect(r.compared).toBeGreaterThan(1000);
    });
  }
});
