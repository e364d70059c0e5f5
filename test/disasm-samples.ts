// Assembly samples (GNU as, Intel syntax) covering the instruction classes, for the objdump comparison tests.
// Each function returns source text for one mode; the lines are generated from operand-form lists so that
// every class is seen with registers, each addressing form, and the prefixes compilers emit.

const ALU = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
const SHIFTS = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sar'];
const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];

const MEM64 = [
  '[rax]', '[rbp]', '[rsp]', '[r12]', '[r13]', '[rax+0x8]', '[rax-0x8]', '[rbp-0x100]', '[rax+0x12345678]',
  '[rax+rbx]', '[rax+rbx*2+0x8]', '[rsp+rax*4-0x10]', '[r15+r14*8-0x80]', '[rbx*8+0x10]', '[rip+0x100]',
  'fs:[rax]', 'gs:[0x28]', 'fs:0x28', '[0x1234]', '[eax]', '[ebx+ecx*4+0x10]', '[r8d+0x4]', 'es:[rax]',
];
const MEM32 = [
  '[eax]', '[ebp]', '[esp]', '[eax+0x8]', '[eax-0x8]', '[ebp-0x100]', '[eax+0x12345678]', '[eax+ebx]',
  '[eax+ebx*2+0x8]', '[esp+eax*4-0x10]', '[ebx*8+0x10]', '[0x1234]', 'fs:[eax]', 'es:[ebx]', 'ss:[eax]',
  'cs:[ebp+0x4]', '[bx+si]', '[bp+0x4]',
];
const MEM16 = [
  '[bx+si]', '[bx+di]', '[bp+si]', '[bp+di]', '[si]', '[di]', '[bx]', '[bp]', '[bx+0x10]', '[bp-0x2]',
  '[si+0x1234]', '[bx+di-0x80]', '[0x1234]', 'es:[bx]', 'ss:[si]', 'cs:[bp+0x2]', '[eax]', '[esp+0x4]',
  '[ebx+ecx*4]',
];

function lines(xs: string[]): string {
  return xs.join('\n') + '\n';
}

function gp(bits: 16 | 32 | 64): string {
  const mem = bits === 64 ? MEM64 : bits === 32 ? MEM32 : MEM16;
  const a = bits === 64 ? 'rax' : bits === 32 ? 'eax' : 'ax';
  const b = bits === 64 ? 'rbx' : bits === 32 ? 'ebx' : 'bx';
  const out: string[] = [];
  for (const op of ALU) {
    out.push(`${op} al, 0x12`, `${op} ax, 0x1234`, `${op} eax, 0x12345678`, `${op} cl, dl`, `${op} cx, dx`, `${op} ecx, edx`);
    out.push(`${op} byte ptr ${mem[0]}, 1`, `${op} word ptr ${mem[5]}, -2`, `${op} dword ptr ${mem[10]}, 0x1000`);
    out.push(`${op} ecx, -1`, `${op} cx, -0x80`, `${op} ecx, 0x7f`, `${op} dword ptr ${mem[3]}, ecx`, `${op} cl, byte ptr ${mem[9]}`);
    if (op !== 'cmp') out.push(`lock ${op} dword ptr ${mem[0]}, ecx`);
    if (bits === 64) {
      out.push(`${op} rax, 0x12345678`, `${op} rax, -128`, `${op} r8, r9`, `${op} r10b, sil`, `${op} qword ptr ${mem[12]}, -1`);
      out.push(`${op} r11d, dword ptr ${mem[14]}`, `${op} spl, 1`);
    }
  }
  for (const op of SHIFTS) {
    out.push(`${op} al, 1`, `${op} ecx, 1`, `${op} edx, cl`, `${op} ebx, 5`, `${op} byte ptr ${mem[1]}, cl`, `${op} word ptr ${mem[4]}, 3`);
    if (bits === 64) out.push(`${op} r9, 63`, `${op} qword ptr ${mem[11]}, 1`);
  }
  for (const op of ['not', 'neg', 'mul', 'imul', 'div', 'idiv', 'inc', 'dec']) {
    out.push(`${op} cl`, `${op} cx`, `${op} ecx`, `${op} byte ptr ${mem[2]}`, `${op} dword ptr ${mem[6]}`);
    if (bits === 64) out.push(`${op} r12`, `${op} qword ptr ${mem[13]}`);
  }
  for (const m of mem) {
    out.push(`mov eax, dword ptr ${m}`, `mov word ptr ${m}, cx`, `lea ${a}, ${m}`, `mov byte ptr ${m}, 0x7f`);
  }
  out.push(`imul eax, ecx`, `imul eax, ecx, 10`, `imul eax, ecx, 0x12345`, `imul cx, dx, -3`, `imul ecx, dword ptr ${mem[7]}, 100`);
  out.push(`test al, 0x80`, `test eax, 0x10000`, `test ecx, edx`, `test byte ptr ${mem[0]}, 1`, `test dword ptr ${mem[8]}, 0x100`);
  out.push(`xchg eax, ecx`, `xchg ecx, edx`, `xchg byte ptr ${mem[0]}, cl`, `xchg cx, ax`);
  out.push(`mov al, 1`, `mov cx, 0x1234`, `mov edx, 0x12345678`, `mov ecx, edx`, `mov dword ptr ${mem[1]}, -1`, `mov cl, ah`);
  out.push(`movzx eax, byte ptr ${mem[0]}`, `movzx ecx, dx`, `movsx eax, cl`, `movsx ecx, word ptr ${mem[1]}`, `movzx cx, al`);
  out.push(`bswap eax`, `bswap ecx`, `xadd dword ptr ${mem[0]}, ecx`, `lock xadd dword ptr ${mem[0]}, ecx`, `cmpxchg dword ptr ${mem[0]}, ecx`);
  out.push(`lock cmpxchg8b qword ptr ${mem[0]}`, `cmpxchg byte ptr ${mem[1]}, cl`);
  out.push(`bt eax, ecx`, `bts dword ptr ${mem[0]}, ecx`, `btr eax, 5`, `btc word ptr ${mem[1]}, 3`, `lock bts dword ptr ${mem[0]}, 1`);
  out.push(`bsf eax, ecx`, `bsr eax, dword ptr ${mem[0]}`, `shld eax, ecx, 5`, `shrd eax, ecx, cl`, `shld word ptr ${mem[1]}, cx, cl`);
  for (const c of CC) out.push(`set${c} al`, `cmov${c} eax, ecx`, `cmov${c} cx, word ptr ${mem[0]}`, `set${c} byte ptr ${mem[2]}`);
  out.push('cbw', 'cwde', 'cwd', 'cdq', 'clc', 'stc', 'cmc', 'cld', 'std', 'cli', 'sti', 'sahf', 'lahf', 'hlt', 'nop', 'pause', 'int3');
  out.push('int 0x80', 'int1', 'leave', 'ret', 'ret 8', 'lret', 'lret 4', 'iret', 'ud2', 'cpuid', 'rdtsc', 'rdtscp', 'rdmsr', 'wrmsr');
  out.push('rdpmc', 'wbinvd', 'invd', 'clts', 'xgetbv', 'xsetbv', 'lfence', 'mfence', 'sfence', 'monitor', 'mwait');
  out.push(`in al, 0x60`, `in eax, dx`, `out 0x80, al`, `out dx, ax`, 'insb', 'insd', 'outsb', 'outsw');
  out.push('movsb', 'movsw', 'movsd', 'stosb', 'stosd', 'lodsb', 'lodsw', 'scasb', 'scasd', 'cmpsb', 'cmpsw', 'xlatb');
  out.push('rep movsb', 'rep stosd', 'repe cmpsb', 'repne scasb', 'rep lodsb', 'rep insb', 'rep outsw');
  out.push(`movsb es:[${bits === 16 ? 'di' : 'edi'}], fs:[${bits === 16 ? 'si' : 'esi'}]`);
  out.push(`push ${a}`, `pop ${b}`, `push word ptr ${mem[0]}`, `push 0x12`, `push 0x1234`, `push -1`, `push fs`, `pop gs`);
  out.push(`pushf`, `popf`, `enter 0x10, 0`, `enter 8, 1`, `nop dword ptr ${mem[0]}`, `nop word ptr ${mem[10]}`);
  const c = bits === 64 ? 'rax' : 'eax';
  out.push(`mov ${c}, cr0`, `mov cr3, ${c}`, `mov ${c}, dr7`, `mov dr0, ${c}`, `mov ax, ds`, `mov es, ax`, `mov word ptr ${mem[1]}, fs`);
  out.push(`mov ds, word ptr ${mem[0]}`, `lar eax, cx`, `lsl eax, word ptr ${mem[0]}`, `sldt ax`, `str word ptr ${mem[0]}`);
  out.push(`lldt ax`, `ltr word ptr ${mem[0]}`, `verr ax`, `verw word ptr ${mem[0]}`, `sgdt ${mem[0]}`, `lidt ${mem[1]}`, `smsw ax`);
  out.push(`lmsw ax`, `invlpg ${mem[0]}`, `clflush ${mem[0]}`, `prefetcht0 ${mem[1]}`, `prefetchnta ${mem[0]}`, `prefetchw ${mem[0]}`);
  out.push(`popcnt eax, ecx`, `lzcnt eax, dword ptr ${mem[0]}`, `tzcnt cx, dx`, `crc32 eax, cl`, `crc32 eax, dword ptr ${mem[0]}`);
  out.push(`movbe eax, dword ptr ${mem[0]}`, `movbe word ptr ${mem[1]}, cx`, `rdrand eax`, `rdseed cx`, `rdpid ${bits === 64 ? 'rax' : 'eax'}`);
  out.push(`fxsave ${mem[0]}`, `fxrstor ${mem[1]}`, `xsave ${mem[0]}`, `xrstor ${mem[0]}`, `xsaveopt ${mem[0]}`, `ldmxcsr dword ptr ${mem[0]}`);
  out.push(`stmxcsr dword ptr ${mem[1]}`, `clflushopt ${mem[0]}`, `clwb ${mem[0]}`, 'endbr64', 'endbr32', 'xend', 'xtest', 'rdpkru', 'wrpkru');
  out.push('clac', 'stac', 'vmcall', 'vmlaunch', 'vmresume', 'vmxoff', `vmptrld qword ptr ${mem[0]}`, `vmread ${bits === 64 ? 'rax, rbx' : 'eax, ebx'}`);
  out.push(`xchg eax, eax`, `xchg ax, ax`, `bound ${bits === 64 ? 'eax' : 'eax'}, qword ptr ${mem[0]}`.replace(/.*/, bits === 64 ? 'nop' : '$&'));
  if (bits !== 64) {
    out.push('aaa', 'aas', 'daa', 'das', 'aam', 'aad', 'aam 3', 'into', 'pusha', 'popa', 'pushad', 'popad', 'push es', 'push cs', '.byte 0xd6');
    out.push('push ss', 'push ds', 'pop es', 'pop ss', 'pop ds', `les eax, ${mem[0]}`, `lds ecx, ${mem[1]}`);
    out.push(`arpl word ptr ${mem[0]}, ax`, 'jmp 0x10:0x1000', bits === 16 ? 'call 0x20:0x1234' : 'call 0x20:0x12345', `jmp fword ptr ${mem[0]}`, `call dword ptr ${mem[1]}`);
    out.push(`inc eax`, `dec cx`, `inc edi`, `lss eax, ${mem[0]}`, `lfs ecx, ${mem[1]}`, `lgs dx, ${mem[2]}`);
  } else {
    out.push('cdqe', 'cqo', 'syscall', '.byte 0x0f, 0x07', 'sysretq', 'iretq', 'pushfq', 'popfq', 'swapgs', 'movsq', 'stosq', 'lodsq', 'scasq', 'cmpsq');
    out.push('rep stosq', 'rep movsq', `movsxd rax, ecx`, `movsxd rcx, dword ptr [rax]`, `movabs rax, 0x123456789abcdef0`);
    out.push(`movabs eax, [0x123456789]`, `movabs [0x1122334455667788], al`, `mov rax, -1`, `mov r10, 0x7fffffff`, 'push r12', 'pop r15');
    out.push(`push qword ptr [rip+0x10]`, `call qword ptr [rax]`, `jmp qword ptr [rax+rbx*8]`, `call r11`, `jmp rax`);
    out.push(`notrack jmp rax`, `notrack call qword ptr [rax]`, `bnd jmp rax`, `bnd call qword ptr [rax]`, `bnd ret`);
    out.push(`cmpxchg16b oword ptr [rax]`, `lock cmpxchg16b oword ptr [rdi]`, `xchg r8, rax`, `xchg rax, r15`, `bswap r9`, `bswap rax`);
    out.push(`fxsave64 [rax]`, `xsave64 [rax]`, `xrstor64 [rbx]`, `rdfsbase rax`, `wrgsbase r8d`, `rdsspq rax`, `incsspq rcx`);
    out.push(`xacquire lock add dword ptr [rax], 1`, `xrelease lock add dword ptr [rax], 1`, `xrelease mov dword ptr [rax], 0`);
    out.push(`xacquire lock xchg dword ptr [rax], ecx`, `lock inc qword ptr [rax]`, `lock dec dword ptr [rax+0x8]`, `lock not byte ptr [rax]`);
    out.push(`lock neg word ptr [rax]`, `lock btc qword ptr [rax], rcx`, `adcx rax, rbx`, `adox eax, ecx`, `andn rax, rbx, rcx`);
    out.push(`bextr eax, ecx, edx`, `blsi rax, rbx`, `blsmsk eax, dword ptr [rax]`, `blsr rcx, rdx`, `bzhi eax, ebx, ecx`, `mulx rax, rbx, rcx`);
    out.push(`pdep eax, ebx, ecx`, `pext rax, rbx, qword ptr [rax]`, `rorx eax, ebx, 5`, `sarx rax, rbx, rcx`, `shlx eax, ebx, ecx`, `shrx eax, dword ptr [rax], ecx`);
    out.push(`data16 lea rax, [rip+0x100]`, '.byte 0x66, 0x66, 0x66, 0x48, 0xe8, 0, 0, 0, 0', '.byte 0x66, 0x48, 0x8d, 0x3d, 0, 0, 0, 0');
    out.push('.byte 0x2e, 0x66, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0', '.byte 0x66, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0', 'repz ret', 'swapgs');
  }
  return lines(out);
}

function branches(bits: 16 | 32 | 64): string {
  const out: string[] = ['1:', 'loop 1b', 'loope 1b', 'loopne 1b', bits === 64 ? 'jrcxz 1b' : bits === 32 ? 'jecxz 1b' : 'jcxz 1b'];
  for (const c of CC) out.push(`j${c} 1b`, `j${c} 2f`);
  out.push('jmp 1b', 'jmp 2f', 'call 1b', 'call 2f');
  out.push(`.fill 200, 1, 0x90`, '2:', 'nop');
  return lines(out);
}

function x87(bits: 16 | 32 | 64): string {
  const m = bits === 64 ? '[rax+0x8]' : bits === 32 ? '[eax+0x8]' : '[bx+0x8]';
  const out: string[] = [];
  for (const op of ['fadd', 'fmul', 'fcom', 'fcomp', 'fsub', 'fsubr', 'fdiv', 'fdivr']) {
    out.push(`${op} dword ptr ${m}`, `${op} qword ptr ${m}`, op.startsWith('fcom') ? `${op} st(3)` : `${op} st, st(3)`);
  }
  for (const op of ['fadd', 'fmul', 'fsub', 'fsubr', 'fdiv', 'fdivr']) out.push(`${op} st(2), st`, `${op}p st(2), st`);
  for (const op of ['fiadd', 'fimul', 'ficom', 'ficomp', 'fisub', 'fisubr', 'fidiv', 'fidivr']) {
    out.push(`${op} dword ptr ${m}`, `${op} word ptr ${m}`);
  }
  out.push(`fld dword ptr ${m}`, `fld qword ptr ${m}`, `fld tbyte ptr ${m}`, 'fld st(1)', `fst dword ptr ${m}`, `fstp qword ptr ${m}`);
  out.push(`fstp tbyte ptr ${m}`, 'fstp st(1)', 'fst st(2)', `fild word ptr ${m}`, `fild dword ptr ${m}`, `fild qword ptr ${m}`);
  out.push(`fist word ptr ${m}`, `fistp dword ptr ${m}`, `fistp qword ptr ${m}`, `fisttp dword ptr ${m}`, `fisttp qword ptr ${m}`);
  out.push(`fisttp word ptr ${m}`, `fbld tbyte ptr ${m}`, `fbstp tbyte ptr ${m}`, `fldcw word ptr ${m}`, `fnstcw word ptr ${m}`);
  out.push(`fldenv ${m}`, `fnstenv ${m}`, `frstor ${m}`, `fnsave ${m}`, `fnstsw word ptr ${m}`, 'fnstsw ax', 'fnclex', 'fninit');
  out.push('fxch st(1)', 'fucom st(1)', 'fucomp st(2)', 'fucompp', 'fcompp', 'fcomi st, st(1)', 'fcomip st, st(2)', 'fucomi st, st(3)');
  out.push('fucomip st, st(1)', 'fcmovb st, st(1)', 'fcmove st, st(2)', 'fcmovbe st, st(3)', 'fcmovu st, st(4)', 'fcmovnb st, st(1)');
  out.push('fcmovne st, st(2)', 'fcmovnbe st, st(3)', 'fcmovnu st, st(4)', 'ffree st(1)', 'ffreep st(2)', 'fnop', 'fchs', 'fabs');
  out.push('ftst', 'fxam', 'fld1', 'fldl2t', 'fldl2e', 'fldpi', 'fldlg2', 'fldln2', 'fldz', 'f2xm1', 'fyl2x', 'fptan', 'fpatan');
  out.push('fxtract', 'fprem1', 'fdecstp', 'fincstp', 'fprem', 'fyl2xp1', 'fsqrt', 'fsincos', 'frndint', 'fscale', 'fsin', 'fcos');
  out.push('fwait', 'fcom st(1)', 'fcomp st(1)', 'fld st(0)', 'fstp st(0)', 'fxch st(0)');
  return lines(out);
}

function sse(bits: 16 | 32 | 64): string {
  const m = bits === 64 ? '[rax+0x10]' : bits === 32 ? '[eax+0x10]' : '[bx+0x10]';
  const r = bits === 64 ? 'rax' : 'eax';
  const hi = bits === 64 ? 'xmm10' : 'xmm7';
  const out: string[] = [];
  const pkd = ['add', 'sub', 'mul', 'div', 'min', 'max', 'sqrt'];
  for (const op of pkd) {
    for (const s of ['ps', 'pd', 'ss', 'sd']) out.push(`${op}${s} xmm1, xmm2`, `${op}${s} ${hi}, ${s[1] === 's' && s[0] === 's' ? 'dword' : s[0] === 's' ? 'qword' : 'xmmword'} ptr ${m}`);
  }
  for (const op of ['and', 'andn', 'or', 'xor', 'unpckl', 'unpckh']) out.push(`${op}ps xmm0, xmm1`, `${op}pd xmm2, xmmword ptr ${m}`);
  for (const op of ['rcp', 'rsqrt']) out.push(`${op}ps xmm0, xmm1`, `${op}ss xmm0, dword ptr ${m}`);
  for (let i = 0; i < 9; i++) out.push(`cmpps xmm0, xmm1, ${i}`, `cmpsd xmm0, qword ptr ${m}, ${i}`);
  out.push('comiss xmm0, xmm1', 'ucomisd xmm0, qword ptr ' + m, 'shufps xmm0, xmm1, 0x1b', 'shufpd xmm0, xmm1, 1');
  out.push(`movaps xmm0, xmm1`, `movaps xmmword ptr ${m}, xmm2`, `movups xmm0, xmmword ptr ${m}`, `movapd xmm1, xmm2`, `movupd ${m}, xmm3`);
  out.push(`movss xmm0, xmm1`, `movss xmm0, dword ptr ${m}`, `movss dword ptr ${m}, xmm0`, `movsd xmm0, qword ptr ${m}`, `movsd xmm1, xmm2`);
  out.push(`movlps xmm0, qword ptr ${m}`, `movhps qword ptr ${m}, xmm1`, `movhlps xmm0, xmm1`, `movlhps xmm0, xmm1`, `movlpd xmm0, qword ptr ${m}`);
  out.push(`movhpd qword ptr ${m}, xmm0`, `movmskps eax, xmm1`, `movmskpd ecx, xmm2`, `movntps ${m}, xmm0`, `movntpd ${m}, xmm1`);
  out.push(`movnti dword ptr ${m}, ecx`, `movntdq ${m}, xmm0`, `movntdqa xmm0, ${m}`, `movntq qword ptr ${m}, mm0`, `maskmovq mm0, mm1`);
  out.push(`maskmovdqu xmm0, xmm1`, `movdqa xmm0, xmm1`, `movdqu xmmword ptr ${m}, xmm2`, `movdqa xmm3, xmmword ptr ${m}`, 'lddqu xmm0, ' + m);
  out.push(`movd xmm0, eax`, `movd eax, xmm1`, `movd xmm0, dword ptr ${m}`, `movd mm0, ecx`, `movd dword ptr ${m}, mm1`);
  out.push(`movq xmm0, xmm1`, `movq xmm0, qword ptr ${m}`, `movq qword ptr ${m}, xmm2`, `movq mm0, mm1`, `movq mm0, qword ptr ${m}`);
  out.push(`movq2dq xmm0, mm1`, `movdq2q mm0, xmm1`, `movsldup xmm0, xmm1`, `movshdup xmm0, ${m}`, `movddup xmm0, qword ptr ${m}`);
  out.push(`cvtsi2ss xmm0, eax`, `cvtsi2sd xmm0, dword ptr ${m}`, `cvtss2si eax, xmm0`, `cvttsd2si ecx, qword ptr ${m}`, `cvtsd2ss xmm0, xmm1`);
  out.push(`cvtss2sd xmm0, dword ptr ${m}`, `cvtps2pd xmm0, xmm1`, `cvtpd2ps xmm0, xmm1`, `cvtdq2ps xmm0, xmm1`, `cvtps2dq xmm0, ${m}`);
  out.push(`cvttps2dq xmm0, xmm1`, `cvtdq2pd xmm0, xmm1`, `cvtpd2dq xmm0, xmm1`, `cvttpd2dq xmm0, ${m}`, `cvtpi2ps xmm0, mm1`);
  out.push(`cvtps2pi mm0, xmm1`, `cvttps2pi mm0, qword ptr ${m}`, `cvtpi2pd xmm0, mm1`, `cvtpd2pi mm0, xmm1`, `cvttpd2pi mm0, ${m}`);
  if (bits === 64) out.push('cvtsi2sd xmm0, rax', 'cvtsi2ss xmm1, qword ptr [rax]', 'cvttsd2si rax, xmm0', 'movq rax, xmm0', 'movq xmm0, rax', 'movq xmm8, r9');
  const mmx = ['paddb', 'paddw', 'paddd', 'paddq', 'psubb', 'psubw', 'psubd', 'psubq', 'paddsb', 'paddsw', 'paddusb', 'paddusw',
    'psubsb', 'psubsw', 'psubusb', 'psubusw', 'pmullw', 'pmulhw', 'pmulhuw', 'pmuludq', 'pmaddwd', 'pavgb', 'pavgw', 'pminub',
    'pmaxub', 'pminsw', 'pmaxsw', 'psadbw', 'pand', 'pandn', 'por', 'pxor', 'pcmpeqb', 'pcmpeqw', 'pcmpeqd', 'pcmpgtb', 'pcmpgtw',
    'pcmpgtd', 'packsswb', 'packssdw', 'packuswb', 'punpcklbw', 'punpcklwd', 'punpckldq', 'punpckhbw', 'punpckhwd', 'punpckhdq',
    'psllw', 'pslld', 'psllq', 'psrlw', 'psrld', 'psrlq', 'psraw', 'psrad', 'pshufb', 'phaddw', 'phaddd', 'phaddsw', 'pmaddubsw',
    'phsubw', 'phsubd', 'phsubsw', 'psignb', 'psignw', 'psignd', 'pmulhrsw', 'pabsb', 'pabsw', 'pabsd'];
  for (const op of mmx) out.push(`${op} mm0, mm1`, `${op} mm2, ${m}`, `${op} xmm0, xmm1`, `${op} ${hi}, ${m}`);
  out.push('punpcklqdq xmm0, xmm1', 'punpckhqdq xmm0, ' + m, 'psllw mm0, 3', 'psrad xmm1, 5', 'psrlq xmm2, 63', 'pslldq xmm0, 4', 'psrldq xmm1, 8');
  out.push(`pshufw mm0, mm1, 0x1b`, `pshufd xmm0, xmm1, 0xe4`, `pshufhw xmm0, ${m}, 1`, `pshuflw xmm0, xmm1, 2`, `palignr xmm0, xmm1, 3`);
  out.push(`pextrw eax, mm0, 1`, `pextrw eax, xmm1, 2`, `pinsrw mm0, eax, 1`, `pinsrw xmm0, word ptr ${m}, 3`, `pmovmskb eax, xmm0`, 'emms');
  const sse4 = ['pmulld', 'pmuldq', 'pminsb', 'pminsd', 'pminuw', 'pminud', 'pmaxsb', 'pmaxsd', 'pmaxuw', 'pmaxud', 'pcmpeqq',
    'pcmpgtq', 'packusdw', 'ptest', 'phminposuw', 'pmovsxbw', 'pmovsxbd', 'pmovsxbq', 'pmovsxwd', 'pmovsxwq', 'pmovsxdq',
    'pmovzxbw', 'pmovzxbd', 'pmovzxbq', 'pmovzxwd', 'pmovzxwq', 'pmovzxdq', 'aesenc', 'aesenclast', 'aesdec', 'aesdeclast', 'aesimc',
    'sha1nexte', 'sha1msg1', 'sha1msg2', 'sha256msg1', 'sha256msg2'];
  for (const op of sse4) out.push(`${op} xmm0, xmm1`, `${op} xmm2, ${m}`);
  out.push(`blendps xmm0, xmm1, 5`, `blendpd xmm0, ${m}, 1`, `pblendw xmm0, xmm1, 0xf0`, `blendvps xmm0, xmm1, xmm0`, `pblendvb xmm0, xmm1, xmm0`);
  out.push(`roundps xmm0, xmm1, 1`, `roundsd xmm0, qword ptr ${m}, 2`, `dpps xmm0, xmm1, 0xff`, `dppd xmm0, xmm1, 0x31`, `mpsadbw xmm0, xmm1, 5`);
  out.push(`insertps xmm0, xmm1, 0x10`, `extractps eax, xmm0, 1`, `pextrb eax, xmm0, 3`, `pextrd dword ptr ${m}, xmm0, 1`, `pinsrb xmm0, eax, 1`);
  out.push(`pinsrd xmm0, dword ptr ${m}, 2`, `pcmpestri xmm0, xmm1, 0x0c`, `pcmpistrm xmm0, ${m}, 0x40`, `pcmpistri xmm0, xmm1, 0x1a`);
  out.push(`pclmulqdq xmm0, xmm1, 0`, `pclmulqdq xmm0, xmm1, 0x11`, `pclmulqdq xmm0, xmm1, 0x10`, `pclmulqdq xmm0, xmm1, 5`);
  out.push(`aeskeygenassist xmm0, xmm1, 1`, `sha1rnds4 xmm0, xmm1, 2`, `sha256rnds2 xmm0, xmm1, xmm0`, `gf2p8affineqb xmm0, xmm1, 1`);
  out.push(`haddps xmm0, xmm1`, `hsubpd xmm0, ${m}`, `addsubps xmm0, xmm1`, `addsubpd xmm0, xmm1`, `${'pause'}`);
  if (bits === 64) out.push('pextrq rax, xmm0, 1', 'pinsrq xmm0, rax, 1', 'movq xmm15, qword ptr [r8]', 'paddd xmm8, xmm15', `lea ${r}, [${r}]`);
  return lines(out);
}

function avx(bits: 32 | 64): string {
  const m = bits === 64 ? '[rax+0x20]' : '[eax+0x20]';
  const hi = bits === 64 ? 'ymm12' : 'ymm7';
  const out: string[] = [];
  for (const op of ['vaddps', 'vsubpd', 'vmulps', 'vdivpd', 'vminps', 'vmaxpd', 'vandps', 'vxorpd', 'vunpcklps', 'vhaddpd']) {
    out.push(`${op} xmm0, xmm1, xmm2`, `${op} ymm0, ymm1, ${hi}`, `${op} ymm3, ymm4, ymmword ptr ${m}`);
  }
  for (const op of ['vaddss', 'vsubsd', 'vsqrtss', 'vmaxsd']) out.push(`${op} xmm0, xmm1, xmm2`);
  for (let i = 0; i < 33; i += 3) out.push(`vcmpps ymm0, ymm1, ymm2, ${i}`, `vcmpsd xmm0, xmm1, qword ptr ${m}, ${i}`);
  out.push(`vmovaps ymm0, ymm1`, `vmovups ymmword ptr ${m}, ymm2`, `vmovdqu ymm0, ${m}`, `vmovdqa xmm1, xmm2`, `vmovd xmm0, eax`);
  out.push(`vmovq xmm0, xmm1`, `vmovss xmm0, xmm1, xmm2`, `vmovsd xmm0, qword ptr ${m}`, `vmovhps xmm0, xmm1, qword ptr ${m}`);
  out.push(`vbroadcastss ymm0, dword ptr ${m}`, `vbroadcastsd ymm0, xmm1`, `vbroadcastf128 ymm0, ${m}`, `vpbroadcastb ymm0, xmm1`);
  out.push(`vpbroadcastd xmm0, dword ptr ${m}`, `vinsertf128 ymm0, ymm1, xmm2, 1`, `vextractf128 xmm0, ymm1, 1`, `vperm2f128 ymm0, ymm1, ymm2, 0x20`);
  out.push(`vpermilps ymm0, ymm1, 0x1b`, `vpermilpd xmm0, xmm1, xmm2`, `vpermd ymm0, ymm1, ymm2`, `vpermq ymm0, ymm1, 0xd8`);
  out.push(`vblendvps ymm0, ymm1, ymm2, ymm3`, `vpblendvb xmm0, xmm1, xmm2, xmm3`, `vblendps ymm0, ymm1, ymm2, 5`, `vpblendd ymm0, ymm1, ymm2, 0xf`);
  out.push(`vptest ymm0, ymm1`, `vtestps xmm0, xmm1`, `vzeroupper`, `vzeroall`, `vmaskmovps ymm0, ymm1, ${m}`, `vpmaskmovd ${m}, xmm1, xmm2`);
  out.push(`vcvtps2pd ymm0, xmm1`, `vcvtpd2ps xmm0, ymm1`, `vcvtpd2ps xmm0, xmmword ptr ${m}`, `vcvtpd2ps xmm0, ymmword ptr ${m}`);
  out.push(`vcvtdq2pd ymm0, xmm1`, `vcvttpd2dq xmm0, ymm1`, `vcvtph2ps ymm0, xmm1`, `vcvtps2ph xmm0, ymm1, 4`, `vcvtsi2sd xmm0, xmm1, eax`);
  out.push(`vcvtss2si eax, xmm1`, `vcvttsd2si eax, qword ptr ${m}`, `vroundps ymm0, ymm1, 1`, `vdpps ymm0, ymm1, ymm2, 0xf1`);
  for (const op of ['vpaddb', 'vpsubw', 'vpmulld', 'vpminub', 'vpmaxsd', 'vpand', 'vpor', 'vpxor', 'vpcmpeqb', 'vpcmpgtq', 'vpshufb', 'vpsadbw', 'vpavgb', 'vpackuswb', 'vpunpcklbw']) {
    out.push(`${op} xmm0, xmm1, xmm2`, `${op} ymm0, ymm1, ymmword ptr ${m}`);
  }
  out.push(`vpsllw ymm0, ymm1, 3`, `vpsrad xmm0, xmm1, xmm2`, `vpsllvd ymm0, ymm1, ymm2`, `vpsrlvq xmm0, xmm1, ${m}`, `vpslldq ymm0, ymm1, 4`);
  out.push(`vpmovmskb eax, ymm0`, `vmovmskps eax, ymm1`, `vpextrb eax, xmm0, 1`, `vpinsrw xmm0, xmm1, eax, 2`, `vpextrd dword ptr ${m}, xmm0, 3`);
  out.push(`vpmovzxbw ymm0, xmm1`, `vpmovsxdq ymm0, xmmword ptr ${m}`, `vpshufd ymm0, ymm1, 0x1b`, `vpalignr ymm0, ymm1, ymm2, 3`);
  out.push(`vgatherdps xmm0, [${bits === 64 ? 'rax' : 'eax'}+xmm1*4], xmm2`, `vpgatherqq ymm0, [${bits === 64 ? 'rax' : 'eax'}+ymm1*8+0x10], ymm2`);
  out.push(`vgatherqps xmm0, [${bits === 64 ? 'rax' : 'eax'}+ymm1*4], xmm2`, `vpgatherdd ymm0, [${bits === 64 ? 'rax' : 'eax'}+ymm1*2], ymm3`);
  for (const op of ['vfmadd132ps', 'vfmadd213pd', 'vfmadd231ss', 'vfmsub132sd', 'vfnmadd213ps', 'vfnmsub231pd', 'vfmaddsub132ps', 'vfmsubadd231pd']) {
    out.push(`${op} ${/s[sd]$/.test(op) ? 'xmm0, xmm1, xmm2' : 'ymm0, ymm1, ymm2'}`);
  }
  out.push(`vpclmulqdq xmm0, xmm1, xmm2, 0x11`, `vpclmulqdq ymm0, ymm1, ymm2, 0x01`, `vaesenc ymm0, ymm1, ymm2`, `vaesdeclast xmm0, xmm1, ${m}`);
  out.push(`vldmxcsr dword ptr ${m}`, `vstmxcsr dword ptr ${m}`, `vlddqu ymm0, ${m}`, `vmovntdq ${m}, ymm0`, `vmovntdqa ymm0, ${m}`);
  out.push(`vpermilps xmm0, xmm1, xmmword ptr ${m}`, `vbroadcasti128 ymm0, ${m}`, `vinserti128 ymm0, ymm1, xmm2, 0`, `vextracti128 xmm0, ymm1, 1`);
  out.push(`vperm2i128 ymm0, ymm1, ymm2, 0x31`, `vmpsadbw ymm0, ymm1, ymm2, 5`, `vpcmpestri xmm0, xmm1, 1`, `vaeskeygenassist xmm0, xmm1, 2`);
  if (bits === 64) {
    out.push('vmovq rax, xmm0', 'vmovq xmm0, rax', 'vcvtsi2ss xmm0, xmm1, rax', 'vcvttss2si rax, xmm0', 'vpextrq rax, xmm0, 1', 'vpinsrq xmm0, xmm1, rax, 1');
    out.push('vaddps ymm8, ymm9, ymm15', 'vmovdqu ymm10, [r8+r9*4]', 'vpxor xmm15, xmm14, xmm13', 'vpbroadcastq ymm8, xmm9', 'vmovaps xmm8, [rip+0x40]');
    out.push('kmovw k1, k2', 'kmovq k1, [rax]', 'kmovd eax, k1', 'kmovb k2, eax', 'kandw k1, k2, k3', 'korq k1, k2, k3', 'kxnorb k1, k2, k3');
    out.push('knotd k1, k2', 'kortestw k1, k2', 'ktestq k1, k2', 'kshiftlw k1, k2, 3', 'kunpckbw k1, k2, k3', 'kaddd k1, k2, k3');
    out.push('andn eax, ebx, ecx', 'bextr rax, rbx, rcx', 'sarx eax, ebx, ecx', 'rorx rax, rbx, 63');
  }
  return lines(out);
}

function avx512(): string {
  const out: string[] = [];
  for (const op of ['vaddps', 'vsubpd', 'vmulps', 'vdivpd', 'vminps', 'vmaxpd', 'vpaddd', 'vpsubq', 'vpandd', 'vporq', 'vpxord', 'vpandnq']) {
    const w = op.endsWith('d') && op !== 'vsubpd' && op !== 'vdivpd' && op !== 'vmaxpd' && op !== 'vpaddd' ? 'q' : op.endsWith('s') || op.endsWith('d') ? 'x' : 'x';
    void w;
    out.push(`${op} zmm0, zmm1, zmm2`, `${op} zmm0{k1}, zmm1, zmmword ptr [rax+0x40]`, `${op} ymm16{k2}{z}, ymm17, ymm18`);
    out.push(`${op} xmm0, xmm1, xmmword ptr [rax-0x10]`, `${op} zmm30, zmm29, zmmword ptr [rax+0x1000]`);
  }
  out.push('vaddps zmm0, zmm1, [rax]{1to16}', 'vaddpd ymm0, ymm1, [rax]{1to4}', 'vpaddd xmm0, xmm1, [rax+0x8]{1to4}', 'vpaddq zmm0, zmm1, [rbx+0x400]{1to8}');
  out.push('vaddps zmm0, zmm1, zmm2, {rn-sae}', 'vaddpd zmm0, zmm1, zmm2, {rd-sae}', 'vmulss xmm0, xmm1, xmm2, {ru-sae}', 'vsqrtpd zmm0, zmm1, {rz-sae}');
  out.push('vmaxps zmm0, zmm1, zmm2, {sae}', 'vcmpps k1, zmm1, zmm2, {sae}, 3', 'vcvttps2dq zmm0, zmm1, {sae}', 'vgetexpps zmm0, zmm1, {sae}');
  out.push('vcvtsi2ss xmm0, xmm1, rax, {rn-sae}', 'vcvtss2si eax, xmm0, {rz-sae}', 'vcvttsd2si rax, xmm0, {sae}', 'vcvtusi2sd xmm0, xmm1, rax');
  for (let i = 0; i < 32; i += 5) out.push(`vcmpps k1, zmm1, zmm2, ${i}`, `vcmppd k2{k3}, ymm1, [rax]{1to4}, ${i}`);
  for (let i = 0; i < 8; i++) out.push(`vpcmpd k1, zmm1, zmm2, ${i}`, `vpcmpub k1{k2}, ymm1, ymm2, ${i}`, `vpcmpuq k1, zmm1, [rax]{1to8}, ${i}`);
  out.push('vpcmpeqd k1, zmm0, zmm1', 'vpcmpgtb k1{k2}, zmm0, [rax]', 'vptestmd k1, zmm0, zmm1', 'vptestnmq k1, zmm0, [rax]{1to8}');
  out.push('vmovdqu8 zmm0{k1}{z}, [rax]', 'vmovdqu16 [rax]{k1}, zmm0', 'vmovdqu32 zmm0, zmm1', 'vmovdqu64 ymm0{k1}, [rax+0x20]');
  out.push('vmovdqa32 zmm0, [rip+0x100]', 'vmovdqa64 [rax], zmm31', 'vmovaps zmm0{k1}{z}, zmm1', 'vmovups [rax]{k7}, zmm0');
  out.push('vpbroadcastd zmm0, eax', 'vpbroadcastq zmm0{k1}, rax', 'vpbroadcastb zmm0, xmm1', 'vbroadcastss zmm0, [rax]', 'vbroadcastf32x4 zmm0, [rax]');
  out.push('vpgatherdd zmm0{k1}, [rax+zmm1*4]', 'vpgatherqq zmm0{k1}, [rax+zmm1*8+0x40]', 'vgatherdpd zmm0{k1}, [rax+ymm1*8]', 'vpscatterdd [rax+zmm1*4]{k1}, zmm0');
  out.push('vscatterqps [rax+zmm1*4]{k1}, ymm0', 'vcompressps [rax]{k1}, zmm0', 'vexpandpd zmm0{k1}{z}, [rax]', 'vpcompressd zmm0{k1}, zmm1');
  out.push('vextracti32x4 [rax]{k1}, zmm0, 1', 'vextractf64x4 ymm0, zmm1, 1', 'vinserti64x2 zmm0, zmm1, xmm2, 3', 'vshufi32x4 zmm0, zmm1, zmm2, 0x44');
  out.push('vpmovdb [rax]{k1}, zmm0', 'vpmovqw xmm0{k1}{z}, zmm1', 'vpmovsdw ymm0, zmm1', 'vpmovusqb xmm0, zmm1', 'vpmovzxbd zmm0, xmm1');
  out.push('vpternlogd zmm0, zmm1, zmm2, 0xff', 'vpternlogq zmm0{k1}, zmm1, [rax]{1to8}, 0x96', 'vpermt2d zmm0, zmm1, zmm2', 'vpermi2q zmm0, zmm1, [rax]');
  out.push('vpermb zmm0, zmm1, zmm2', 'vpermw zmm0, zmm1, zmm2', 'vpermps zmm0, zmm1, [rax]{1to16}', 'vpshufd zmm0, [rax]{1to16}, 1');
  out.push('vprold zmm0, zmm1, 5', 'vprorvq zmm0, zmm1, zmm2', 'vpsravw zmm0, zmm1, zmm2', 'vpsllvw zmm0, zmm1, zmm2', 'vpsrlq zmm0{k1}, [rax]{1to8}, 3');
  out.push('vpsllw zmm0, zmm1, xmm2', 'vpsraq zmm0, zmm1, 5', 'vpabsq zmm0, zmm1', 'vpmaxsq zmm0, zmm1, zmm2', 'vpminuq zmm0, zmm1, [rax]{1to8}');
  out.push('vpmullq zmm0, zmm1, zmm2', 'vpmadd52luq zmm0, zmm1, zmm2', 'vpconflictd zmm0, zmm1', 'vplzcntq zmm0, zmm1', 'vpopcntd zmm0, zmm1');
  out.push('vpopcntb zmm0, zmm1', 'vpshldvd zmm0, zmm1, zmm2', 'vpshrdq zmm0, zmm1, zmm2, 3', 'vpdpbusd zmm0, zmm1, zmm2', 'vpdpwssds zmm0, zmm1, [rax]');
  out.push('vgetmantps zmm0, zmm1, 3', 'vrndscalepd zmm0, zmm1, {sae}, 4', 'vreduceps zmm0, zmm1, 1', 'vrangepd zmm0, zmm1, zmm2, 2', 'vfixupimmps zmm0, zmm1, zmm2, 5');
  out.push('vscalefps zmm0, zmm1, zmm2', 'vrcp14ps zmm0, zmm1', 'vrsqrt14pd zmm0, [rax]{1to8}', 'vgetexpsd xmm0, xmm1, xmm2', 'vfpclassps k1, zmm0, 3');
  out.push('vfpclasspd k1, [rax]{1to8}, 1', 'vfpclassps k1{k2}, [rax]{1to4}, 2', 'vfpclasssd k1, xmm0, 4', 'vfpclassps k1, xmmword ptr [rax], 1');
  out.push('vcvtqq2pd zmm0, zmm1', 'vcvtuqq2ps ymm0, zmm1', 'vcvtqq2ps xmm0, [rax]{1to2}', 'vcvtqq2ps xmm0, [rax]{1to4}', 'vcvtpd2udq xmm0, [rax]{1to4}');
  out.push('vcvtpd2dq ymm0, [rax]{1to8}', 'vcvtpd2ps xmm0, [rax]{1to2}', 'vcvttpd2qq zmm0, zmm1', 'vcvtps2udq zmm0, zmm1', 'vcvtudq2ps zmm0, zmm1, {rn-sae}');
  out.push('vcvtneps2bf16 ymm0, zmm1', 'vcvtne2ps2bf16 zmm0, zmm1, zmm2', 'vdpbf16ps zmm0, zmm1, zmm2', 'vcvtps2ph ymm0, zmm1, 4', 'vcvtph2ps zmm0, ymm1');
  out.push('vfmadd132ps zmm0, zmm1, [rax]{1to16}', 'vfmadd231pd zmm0{k1}{z}, zmm1, zmm2, {rn-sae}', 'vfnmsub213ss xmm0, xmm1, xmm2', 'vfmaddsub231ps zmm0, zmm1, zmm2');
  out.push('vpbroadcastmb2q zmm0, k1', 'vpmovm2d zmm0, k1', 'vpmovd2m k1, zmm0', 'vpmovb2m k1, ymm0', 'vpmovm2w xmm0, k2');
  out.push('valignd zmm0, zmm1, zmm2, 3', 'valignq zmm0, zmm1, [rax]{1to8}, 1', 'vpshufbitqmb k1, zmm0, zmm1', 'vpermt2b zmm0, zmm1, zmm2');
  out.push('vpexpandb zmm0{k1}, zmm1', 'vpcompressw [rax]{k1}, zmm0', 'vgf2p8affineqb zmm0, zmm1, zmm2, 1', 'vgf2p8mulb zmm0, zmm1, zmm2');
  out.push('vaesenc zmm0, zmm1, zmm2', 'vpclmulqdq zmm0, zmm1, zmm2, 0x10', 'vmovss xmm0{k1}, [rax]', 'vmovsd [rax]{k1}, xmm0', 'vmovq xmm16, rax');
  out.push('vmovd xmm17, eax', 'vpextrd eax, xmm16, 1', 'vpinsrq xmm16, xmm17, rax, 1', 'vextractps eax, xmm16, 2', 'vpbroadcastw zmm0, word ptr [rax+0x2]');
  out.push('vpunpckhqdq zmm0, zmm1, [rax]{1to8}', 'vshufps zmm0, zmm1, zmm2, 0x1b', 'vunpcklpd zmm0, zmm1, zmm2', 'vpsadbw zmm0, zmm1, zmm2');
  out.push('vpmovzxwq zmm0, [rax]', 'vpmovsxbd zmm0, xmmword ptr [rax]', 'vpacksswb zmm0, zmm1, zmm2', 'vpmaddwd zmm0, zmm1, zmm2');
  out.push('vdbpsadbw zmm0, zmm1, zmm2, 1', 'vpmultishiftqb zmm0, zmm1, zmm2', 'vpblendmd zmm0{k1}, zmm1, zmm2', 'vblendmps zmm0{k1}, zmm1, [rax]{1to16}');
  out.push('vpsrldq zmm0, zmm1, 4', 'vpslldq zmm0, [rax], 8', 'vpabsb zmm0, zmm1', 'vpavgw zmm0, zmm1, zmm2', 'vpshufhw zmm0, zmm1, 1');
  out.push('vsqrtsd xmm0{k1}{z}, xmm1, xmm2, {rn-sae}', 'vcomisd xmm0, xmm1, {sae}', 'vucomiss xmm16, xmm17', 'vcvtsd2ss xmm0, xmm1, xmm2, {rz-sae}');
  out.push('vcvtss2sd xmm0, xmm1, xmm2, {sae}', 'vcvtps2pd zmm0, ymm1, {sae}', 'vcvtpd2ps ymm0, zmm1, {ru-sae}', 'vcvtdq2ps zmm0, zmm1, {rd-sae}');
  return lines(out);
}


/** System, security and newer extensions, plus prefix patterns compilers and kernels emit. */
function extras(bits: 16 | 32 | 64): string {
  const r = bits === 64 ? 'rax' : 'eax';
  const m = bits === 64 ? '[rax+0x10]' : bits === 32 ? '[eax+0x10]' : '[bx+0x10]';
  const out: string[] = [];
  out.push('1:', 'xbegin 1b', 'xabort 1', 'xend', 'xtest', 'wbnoinvd', 'serialize', 'clzero', 'monitorx', 'mwaitx', 'rdpkru');
  out.push(`vmxon qword ptr ${m}`, `vmclear qword ptr ${m}`, `vmptrst qword ptr ${m}`, 'vmrun', 'vmload', 'vmsave', 'stgi', 'clgi');
  out.push('skinit', 'invlpga', 'vmmcall', 'encls', 'enclu', 'pconfig', `ud1 eax, dword ptr ${m}`, `ud0 eax, ecx`);
  out.push(`movdiri dword ptr ${m}, ecx`, `cldemote ${m}`, `umonitor ${bits === 16 ? 'ax' : r}`, 'umwait ecx', 'tpause edx');
  out.push(`rstorssp qword ptr ${m}`, 'setssbsy', `clrssbsy qword ptr ${m}`, 'incsspd eax', 'rdsspd ecx', `wrssd ${m}, ecx`, `wrussd ${m}, edx`);
  out.push('saveprevssp', `ptwrite dword ptr ${m}`, 'femms', `prefetch byte ptr ${m}`, `prefetchw byte ptr ${m}`, `prefetcht2 ${m}`);
  out.push(`lgdt ${m}`, `sidt ${m}`, `lldt word ptr ${m}`, `invlpg ${m}`, `xsaves ${m}`, `xrstors ${m}`, `xsavec ${m}`);
  out.push(`mov al, byte ptr ds:${bits === 16 ? '0x1234' : '0x12345678'}`, `mov eax, es:[${bits === 16 ? '0x10' : '0x100'}]`);
  out.push(`fs movsb`, `rep stosw`, `repne cmpsd`, `lock xchg byte ptr ${m}, al`, `lock cmpxchg dword ptr ${m}, ecx`);
  out.push(`xacquire lock cmpxchg dword ptr ${m}, ecx`, `xrelease lock xadd dword ptr ${m}, eax`, `xrelease mov byte ptr ${m}, 0`);
  out.push(`bnd call 1b`, `bnd jmp 1b`, `bnd ret`, `notrack call ${bits === 16 ? 'ax' : r}`, `repz ret`, 'cs nop', 'ds nop');
  out.push(`pfadd mm0, mm1`, `pfmul mm2, qword ptr ${m}`, 'pi2fd mm0, mm1', 'pf2id mm3, mm4', 'pavgusb mm0, mm1', 'pfrcp mm0, mm1');
  out.push('pswapd mm0, mm1', 'pfcmpge mm0, mm1', 'pmulhrw mm0, mm1', 'pfnacc mm0, mm1');
  if (bits === 64) {
    out.push('.byte 0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0', '.byte 0x65, 0x48, 0x8b, 0x04, 0x25, 0x10, 0, 0, 0');
    out.push('.byte 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0', '.byte 0x66, 0x66, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0');
    out.push('.byte 0x3e, 0xff, 0xe0', '.byte 0xf2, 0xff, 0x25, 0, 0, 0, 0', '.byte 0x48, 0x90', '.byte 0x40, 0x88, 0xf0');
    out.push('.byte 0x67, 0x48, 0x8d, 0x04, 0x25, 0xf0, 0xff, 0xff, 0xff', '.byte 0x8d, 0x04, 0x64', '.byte 0x42, 0x8b, 0x04, 0x24');
    out.push('.byte 0x67, 0xe3, 0x00', '.byte 0x67, 0xac', '.byte 0x26, 0xa4', '.byte 0x64, 0xa4', '.byte 0x66, 0xeb, 0x00');
    out.push('movdir64b rax, [rdx]', 'enqcmd rax, [rdx]', 'rdpid rax', 'wrfsbase rax', 'rdgsbase r9', 'incsspq rax', 'wrssq [rax], rbx');
    out.push('invept rax, [rbx]', 'invvpid rax, [rbx]', 'invpcid rax, [rbx]', 'vmread [rax], rbx', 'vmwrite rbx, [rax]', 'sysexitq', 'sysenter');
    out.push('vpdpbusd ymm0, ymm1, ymm2', '{vex} vpdpbusd xmm0, xmm1, xmm2', 'vpmadd52luq ymm0, ymm1, ymm2', '{vex} vpmadd52huq ymm0, ymm1, ymm2');
    out.push('movaps xmm0, [rip+0x1000]', 'movdqu xmm8, [r8+r9*8-0x10]', 'vmovdqu64 zmm0, [rax+0x1000]', 'vpaddd zmm0, zmm1, [rax+0x40]');
    out.push('vpgatherdd zmm0{k1}, [r8+zmm31*4+0x100]', 'vpscatterqq [rax+zmm1*8-0x200]{k2}, zmm3', 'vmovups zmm0, [rsp+0x40]');
    out.push('vbroadcastsd zmm0, [rax+0x8]', 'vpbroadcastb zmm0, [rax+0x1]', 'vmovsh xmm0, [rax]'.replace(/.*/, 'nop'));
    out.push('lea rax, [rip+0x0]', 'lea r12, [r13+0x0]', 'mov rax, qword ptr [rsp+rax*1+0x0]', 'jmp qword ptr [rip+0x100]');
  } else {
    out.push('.byte 0x3e, 0xff, 0xd0', '.byte 0x66, 0x90', '.byte 0x67, 0xe3, 0x00', '.byte 0x67, 0xac', '.byte 0x26, 0xa4');
    out.push('.byte 0x2e, 0x74, 0x00', '.byte 0x3e, 0x75, 0x00', '.byte 0x66, 0xeb, 0x00', '.byte 0x67, 0x8b, 0x00');
    if (bits === 32) out.push('.byte 0x8d, 0x04, 0x20', '.byte 0x8d, 0x04, 0x25, 0, 0, 0, 0', '.byte 0x8d, 0x44, 0x20, 0x00');
    else out.push('.byte 0x67, 0x8d, 0x04, 0x20', '.byte 0x67, 0x8b, 0x04, 0x65, 0xf0, 0xff, 0xff, 0xff', '.byte 0x8b, 0x46, 0x00');
    out.push('sysenter', 'sysexit');
    out.push(bits === 16 ? 'jmp 0xf000:0xfff0' : 'jmp 0x8:0x100000', bits === 16 ? 'lgdtd [bx]' : 'lgdtw [eax]', 'iretd', 'retf 2');
    out.push(`mov eax, dword ptr ${m}`, `lea ${bits === 16 ? 'ax' : 'eax'}, [${bits === 16 ? 'bx+si+0x10' : 'eax+ebx*8-0x80'}]`);
  }
  return lines(out);
}

export function samples64(): string {
  return gp(64) + branches(64) + x87(64) + sse(64) + avx(64) + avx512() + extras(64);
}

export function samples32(): string {
  return gp(32) + branches(32) + x87(32) + sse(32) + avx(32) + extras(32);
}

export function samples16(): string {
  return gp(16) + branches(16) + x87(16) + sse(16) + extras(16);
}
