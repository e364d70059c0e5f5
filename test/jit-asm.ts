// Random x86-64 instruction sequences (Intel syntax) for the JIT's real-code differential test: the instructions
// the front end implements, in all operand sizes and forms, with memory operands through random registers.
import type { Rng } from './jit-rig.ts';

const R: Record<number, string[]> = {
  1: ['al', 'cl', 'dl', 'bl', 'sil', 'dil', 'r8b', 'r9b', 'r10b', 'r11b', 'r12b', 'r13b', 'r14b', 'r15b'],
  2: ['ax', 'cx', 'dx', 'bx', 'si', 'di', 'bp', 'r8w', 'r9w', 'r10w', 'r11w', 'r12w', 'r13w', 'r14w', 'r15w'],
  4: ['eax', 'ecx', 'edx', 'ebx', 'esi', 'edi', 'ebp', 'r8d', 'r9d', 'r10d', 'r11d', 'r12d', 'r13d', 'r14d', 'r15d'],
  8: ['rax', 'rcx', 'rdx', 'rbx', 'rsi', 'rdi', 'rbp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'],
};
const PTR: Record<number, string> = { 1: 'byte ptr', 2: 'word ptr', 4: 'dword ptr', 8: 'qword ptr' };
const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];

/** `nested`: inside a forward branch's skipped lines (no forward branches of that kind again: labels would clash). */
export function asmLines(rng: Rng, n: number, nested = false): string[] {
  const size = () => rng.pick([1, 2, 4, 8, 4, 8]);
  const reg = (s: number, noHigh = false) => {
    void noHigh;
    return rng.pick(R[s]!);
  };
  const mem = (s: number) => {
    const b = rng.pick(R[8]!);
    const i = rng.pick(R[8]!);
    const disp = rng.pick([0, 8, -8, 0x7f, 0x1000, -0x80]);
    const form = rng.int(8);
    const e = form < 3 ? `[${b}${disp ? (disp > 0 ? '+' : '') + disp : ''}]`
      : form < 6 ? `[${b}+${i}*${rng.pick([1, 2, 4, 8])}${disp ? (disp > 0 ? '+' : '') + disp : ''}]`
      : form < 7 ? `fs:[${rng.int(0x2000)}]`
      : `[rip+${rng.int(0x100)}]`;
    return `${PTR[s]} ${e}`;
  };
  const imm = (s: number) => (s === 1 ? rng.int(256) - 128 : rng.pick([0, 1, -1, 0x7f, -0x80, 0x1234, -0x12345678, 0x7fffffff]));
  const rm = (s: number) => (rng.chance(0.6) ? reg(s) : mem(s));
  const lines: string[] = [];
  for (let k = 0; k < n; k++) {
    const s = size();
    const noHigh = s === 1; // ah..bh cannot be used with REX registers: pick plain ones when mixing
    switch (rng.int(nested ? 23 : 25)) {
      case 0: case 1: case 2: {
        const op = rng.pick(['add', 'sub', 'adc', 'sbb', 'and', 'or', 'xor', 'cmp', 'test', 'mov']);
        const f = rng.int(4);
        if (f === 0) lines.push(`${op} ${reg(s, noHigh)}, ${reg(s, noHigh)}`);
        else if (f === 1) lines.push(`${op} ${reg(s)}, ${op === 'test' ? reg(s) : mem(s)}`);
        else if (f === 2) lines.push(`${op} ${mem(s)}, ${reg(s)}`);
        else lines.push(`${op} ${rm(s)}, ${imm(s)}`);
        break;
      }
      case 3: lines.push(`${rng.pick(['inc', 'dec', 'neg', 'not'])} ${rm(s)}`); break;
      case 4: lines.push(`${rng.pick(['mul', 'imul', 'div', 'idiv'])} ${rm(s)}`); break;
      case 5: {
        const t = s === 1 ? 4 : s;
        if (rng.chance(0.5)) lines.push(`imul ${reg(t)}, ${rm(t)}`);
        else lines.push(`imul ${reg(t)}, ${rm(t)}, ${imm(t === 2 ? 1 : t)}`);
        break;
      }
      case 6: case 7: {
        const op = rng.pick(['shl', 'shr', 'sar', 'rol', 'ror', 'rcl', 'rcr']);
        lines.push(`${op} ${rm(s)}, ${rng.pick(['1', 'cl', String(rng.int(70))])}`);
        break;
      }
      case 8: {
        const t = s === 1 ? 4 : s;
        lines.push(`${rng.pick(['shld', 'shrd'])} ${rm(t)}, ${reg(t)}, ${rng.pick(['cl', String(rng.int(70))])}`);
        break;
      }
      case 9: {
        const t = s === 1 ? 8 : s;
        lines.push(`${rng.pick(['bsf', 'bsr', 'popcnt', 'lzcnt', 'tzcnt'])} ${reg(t)}, ${rm(t)}`);
        break;
      }
      case 10: lines.push(`bswap ${reg(rng.pick([4, 8]))}`); break;
      case 11: {
        const to = rng.pick([2, 4, 8]);
        const from = rng.pick(to === 2 ? [1] : [1, 2]);
        lines.push(`${rng.pick(['movzx', 'movsx'])} ${reg(to)}, ${from === 1 ? (rng.chance(0.5) ? reg(1, true) : mem(1)) : rm(2)}`);
        break;
      }
      case 12: lines.push(`movsxd ${reg(8)}, ${rm(4)}`); break;
      case 13: lines.push(`lea ${reg(rng.pick([2, 4, 8]))}, ${mem(8).replace(/^\w+ ptr /, '').replace('fs:', '')}`); break;
      case 14: lines.push(`xchg ${reg(s, noHigh)}, ${rng.chance(0.5) ? reg(s, noHigh) : mem(s)}`); break;
      case 15: lines.push(rng.pick([`push ${reg(8)}`, `push ${mem(8)}`, `push ${imm(4)}`, `pop ${reg(8)}`, `pop ${mem(8)}`, `push ${reg(2)}`, `pop ${reg(2)}`])); break;
      case 16: lines.push(`movabs ${reg(8)}, ${rng.pick(['0x123456789abcdef0', '0xffffffff00000000', '-2'])}`); break;
      case 17: lines.push(`j${rng.pick(CC)} 1f\n1:`); break;
      case 18: lines.push(rng.pick([`jmp 1f\n1:`, `call 1f\n1:`, 'ret', `loop 1f\n1:`, `jrcxz 1f\n1:`, `jmp ${reg(8)}`, `call ${mem(8)}`])); break;
      case 19: lines.push(`${rng.pick(['cmp', 'test', 'add', 'sub', 'xor'])} ${reg(s)}, ${reg(s)}\nj${rng.pick(CC)} 1f\n1:`); break;
      case 20: lines.push(`mov ${reg(s)}, ${rm(s)}`); break;
      case 21: {
        // the legacy high-byte registers (no REX prefix allowed)
        const hi = () => rng.pick(['ah', 'ch', 'dh', 'bh', 'al', 'bl']);
        lines.push(rng.pick([`${rng.pick(['add', 'sub', 'xor', 'mov', 'cmp', 'adc'])} ${hi()}, ${hi()}`, `movzx eax, ${hi()}`, `inc ${hi()}`,
          `shl ${hi()}, cl`, `mov ${hi()}, byte ptr [rbx+1]`, `xchg ${hi()}, ${hi()}`, `mov byte ptr [rsi], ${hi()}`]));
        break;
      }
      case 22: {
        // more of the integer set: conditional moves/sets, atomics, string ops, flag and stack instructions, BMI
        const t = s === 1 ? 4 : s;
        lines.push(rng.pick([
          `cmov${rng.pick(CC)} ${reg(t)}, ${rm(t)}`, `set${rng.pick(CC)} ${rng.chance(0.5) ? reg(1) : mem(1)}`,
          `cmpxchg ${rm(s)}, ${reg(s)}`, `xadd ${rm(s)}, ${reg(s)}`,
          `${rng.pick(['', 'rep ', 'repne '])}${rng.pick(['movsb', 'stosq', 'lodsw', 'scasb', 'cmpsd', 'stosb', 'movsq'])}`,
          rng.pick(['cbw', 'cwde', 'cdqe', 'cwd', 'cdq', 'cqo', 'lahf', 'sahf', 'clc', 'stc', 'cmc', 'cld', 'std', 'pushfq', 'popfq', 'leave', 'xlatb']),
          `movbe ${reg(t === 2 ? 4 : t)}, ${mem(t === 2 ? 4 : t)}`, `crc32 ${reg(4)}, ${rm(rng.pick([1, 2, 4]))}`,
          ((w: number) => `${rng.pick(['andn', 'bextr'])} ${reg(w)}, ${reg(w)}, ${reg(w)}`)(rng.pick([4, 8])),
          `${rng.pick(['blsr', 'blsi', 'blsmsk'])} ${reg(8)}, ${rm(8)}`, `adcx ${reg(8)}, ${rm(8)}`,
          `enter ${rng.int(64)}, 0`,
        ]));
        break;
      }
      case 23: {
        // a forward branch over a few instructions (a superblock joins the paths after them)
        const skipped = asmLines(rng, 1 + rng.int(3), true).join('\n');
        lines.push(`${rng.chance(0.7) ? `j${rng.pick(CC)}` : rng.pick(['jrcxz', 'loop'])} 2f\n${skipped}\n2:`);
        break;
      }
      default: lines.push(`nop`);
    }
  }
  return lines;
}
