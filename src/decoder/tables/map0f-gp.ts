// The general-purpose and system instructions of the two-byte map 0F xx (Intel SDM Vol. 2, Table A-3, and the
// group tables A-6). MMX/SSE slots are in map0f-sse.ts; a slot shared by both uses pfx() in both files, each
// filling its own prefix cases.
//
// In pfxOpt() (primary.ts) an undefined case means the prefix is not mandatory there: the `none` case applies and
// the prefix keeps its ordinary meaning (operand size, ignored rep). In pfx() undefined and null cases are #UD.
import type { Node, OpcodeMap, Switch } from '../notation.ts';
import { W, asz, mod, mode, osz, pfx, reg, rm } from '../notation.ts';
import { CC, pfxOpt, sfx } from './primary.ts';

/** An entry valid only without 66/F3/F2 (objdump rejects the prefixed forms). */
const only = (e: Node): Switch => pfx(e, null, null, null);

const m: Node[] = new Array(256).fill(null);

// ---- 0F 00: group 6. sldt/str store the selector into a register of the operand size, or a word in memory.
const storeSel = (name: string): Switch => mod(`${name} Mw`, `${name} Rv`);
m[0x00] = reg(
  storeSel('sldt'),
  storeSel('str'),
  'lldt Ew @priv @serial @fault',
  'ltr Ew @priv @serial @fault',
  'verr Ew',
  'verw Ew',
);

// ---- 0F 01: group 7. Memory forms by reg; register forms by reg and rm, several chosen by a mandatory prefix.
// The descriptor-table instructions are named with the operand size in legacy modes (sgdtw/sgdtd).
const dt = (name: string, tags: string): Switch =>
  mode(osz(`${name}w Ms ${tags}`, `${name}d Ms ${tags}`), `${name} Ms ${tags}`);
const grp7mem = reg(
  dt('sgdt', ''),
  dt('sidt', ''),
  dt('lgdt', '@priv @serial'),
  dt('lidt', '@priv @serial'),
  'smsw Mw',
  pfx(null, null, 'rstorssp Mq #cet', null),
  'lmsw Mw @priv @serial',
  'invlpg Mb @priv @serial',
);
const grp7reg = reg(
  rm(
    'enclv #sgx',
    'vmcall @serial #vmx',
    'vmlaunch @priv @serial #vmx',
    'vmresume @priv @serial #vmx',
    'vmxoff @priv @serial #vmx',
    'pconfig @priv #pconfig',
    pfx('wrmsrns @priv @serial', null, 'wrmsrlist @priv @serial', 'rdmsrlist @priv'),
  ),
  rm(
    'monitor #monitor',
    'mwait #monitor',
    'clac @priv #smap',
    'stac @priv #smap',
    pfx(null, 'tdcall'),
    pfx(null, 'seamret'),
    pfx(null, 'seamops'),
    pfx('encls @priv #sgx', 'seamcall', null, null),
  ),
  rm(
    'xgetbv #xsave',
    'xsetbv @priv @serial @fault #xsave',
    null,
    null,
    'vmfunc #vmx',
    'xend #rtm',
    'xtest #rtm',
    'enclu #sgx',
  ),
  rm(
    'vmrun @priv @serial #svm',
    pfx('vmmcall @serial #svm', null, 'vmgexit #sev', 'vmgexit #sev'),
    'vmload @priv #svm',
    'vmsave @priv #svm',
    'stgi @priv @serial #svm',
    'clgi @priv @serial #svm',
    'skinit @priv @serial #svm',
    'invlpga @priv #svm',
  ),
  'smsw Rv',
  rm(
    pfx('serialize @serial #serialize', null, 'setssbsy @priv #cet', 'xsusldtrk #tsxldtrk'),
    pfx(null, null, null, 'xresldtrk #tsxldtrk'),
    pfx(null, null, 'saveprevssp #cet', null),
    null,
    pfx(null, null, 'uiret @ret #uintr', null),
    pfx(null, null, 'testui #uintr', null),
    pfx('rdpkru #pku', null, 'clui #uintr', null),
    pfx('wrpkru #pku', null, 'stui #uintr', null),
  ),
  'lmsw Rw @priv @serial',
  rm(
    'swapgs @o64 @priv @serial',
    'rdtscp @fault #rdtscp',
    pfx('monitorx #monitorx', null, 'mcommit #mcommit', null),
    only('mwaitx #monitorx'),
    'clzero #clzero',
    pfx('rdpru #rdpru', null, 'rmpquery #snp', null),
    pfx('invlpgb @priv #invlpgb', null, 'rmpadjust #snp', 'rmpupdate @priv #snp'),
    pfx('tlbsync @priv #invlpgb', null, 'psmash @priv #snp', 'pvalidate @priv #snp'),
  ),
);
m[0x01] = mod(grp7mem, grp7reg);

m[0x02] = mod('lar Gv,Mw', 'lar Gv,Rv');
m[0x03] = mod('lsl Gv,Mw', 'lsl Gv,Rv');
m[0x05] = 'syscall @int @serial';
m[0x06] = 'clts @priv @serial';
m[0x07] = mode('sysret @ret @priv @serial', W('sysretd @ret @priv @serial', 'sysretq @ret @priv @serial'));
m[0x08] = 'invd @priv @serial';
m[0x09] = pfx('wbinvd @priv @serial', null, 'wbnoinvd @priv @serial #wbnoinvd', null);
m[0x0b] = 'ud2 @fault';
// 0F 0D: AMD prefetch group; /3-/7 are aliases of /0 (reserved hints)
m[0x0d] = mod(
  reg('prefetch Mb #3dnow', 'prefetchw Mb #prfchw', 'prefetchwt1 Mb #prefetchwt1', 'prefetch Mb', 'prefetch Mb',
    'prefetch Mb', 'prefetch Mb', 'prefetch Mb'),
  null,
);
m[0x0e] = 'femms #3dnow';

// ---- 0F 18-1F: hint space. Everything not assigned is a multi-byte nop Ev.
const NOP = 'nop Ev';
m[0x18] = mod(reg('prefetchnta Mb #sse', 'prefetcht0 Mb #sse', 'prefetcht1 Mb #sse', 'prefetcht2 Mb #sse', NOP, NOP,
  NOP, NOP), NOP);
m[0x19] = NOP;
// MPX: register forms without a prefix are nops; F3 0F 1B with a register is a nop too (bndmk needs memory).
m[0x1a] = pfx(
  mod('bndldx BNDGdq,M #mpx', NOP),
  mode('bndmov BNDGdq,BNDEq #mpx', 'bndmov BNDGdq,BNDEdq #mpx'),
  mod('bndcl BNDGdq,M #mpx', 'bndcl BNDGdq,Ry @f64 #mpx'),
  mod('bndcu BNDGdq,M #mpx', 'bndcu BNDGdq,Ry @f64 #mpx'),
);
m[0x1b] = pfx(
  mod('bndstx M,BNDGdq #mpx', NOP),
  mode('bndmov BNDEq,BNDGdq #mpx', 'bndmov BNDEdq,BNDGdq #mpx'),
  mod('bndmk BNDGdq,M #mpx', NOP),
  mod('bndcn BNDGdq,M #mpx', 'bndcn BNDGdq,Ry @f64 #mpx'),
);
// cldemote takes no prefix; with one the encoding is a nop (66 then is consumed: the nop is written with a word)
m[0x1c] = pfx(mod(reg('cldemote Mb #cldemote', NOP, NOP, NOP, NOP, NOP, NOP, NOP), NOP), 'nop Ew', NOP, NOP);
m[0x1d] = NOP;
m[0x1e] = pfxOpt(
  NOP,
  undefined,
  mod(NOP, reg(NOP, W('rdsspd Rd #cet', 'rdsspq Rq #cet'), NOP, NOP, NOP, NOP, NOP,
    rm(NOP, NOP, 'endbr64 #cet', 'endbr32 #cet', NOP, NOP, NOP, NOP))),
  undefined,
);
m[0x1f] = NOP;

// ---- 0F 20-23: control and debug registers. The ModRM.mod field is ignored (always a register operand);
// REX.R selects cr8-cr15 (LOCK mov cr0 is cr8 on AMD: the engine handles it).
m[0x20] = 'mov Ry,Cy @f64 @priv';
m[0x21] = 'mov Ry,Dy @f64 @priv';
m[0x22] = 'mov Cy,Ry @f64 @priv @serial @fault';
m[0x23] = 'mov Dy,Ry @f64 @priv @serial';

m[0x30] = 'wrmsr @priv @serial @fault';
m[0x31] = 'rdtsc @fault';
m[0x32] = 'rdmsr @priv @fault';
m[0x33] = 'rdpmc @fault';
m[0x34] = 'sysenter @int @serial';
m[0x35] = mode('sysexit @ret @priv @serial', W('sysexitd @ret @priv @serial', 'sysexitq @ret @priv @serial'));
m[0x37] = 'getsec @serial #smx';

for (let c = 0; c < 16; c++) {
  m[0x40 + c] = `cmov${CC[c]} Gv,Ev`;
  m[0x80 + c] = `j${CC[c]} Jz @jcc @d64 @bnd`;
  m[0x90 + c] = `set${CC[c]} Eb`;
}

m[0xa0] = sfx('push', 'FS @d64 @stack');
m[0xa1] = sfx('pop', 'FS @d64 @stack @fault');
m[0xa2] = 'cpuid @serial';
m[0xa3] = 'bt Ev,Gv';
m[0xa4] = 'shld Ev,Gv,Ib';
m[0xa5] = 'shld Ev,Gv,CL';
// VIA PadLock (mod=3, rm=0 only); used with a REP prefix
m[0xa6] = mod(null, reg(rm('montmul #padlock'), rm('xsha1 #padlock'), rm('xsha256 #padlock')));
m[0xa7] = mod(null, reg(rm('xstore-rng #padlock'), rm('xcrypt-ecb #padlock'), rm('xcrypt-cbc #padlock'),
  rm('xcrypt-ctr #padlock'), rm('xcrypt-cfb #padlock'), rm('xcrypt-ofb #padlock')));
m[0xa8] = sfx('push', 'GS @d64 @stack');
m[0xa9] = sfx('pop', 'GS @d64 @stack @fault');
m[0xaa] = 'rsm @ret @serial';
m[0xab] = 'bts Ev,Gv @lock @hle';
m[0xac] = 'shrd Ev,Gv,Ib';
m[0xad] = 'shrd Ev,Gv,CL';

// ---- 0F AE: group 15. REX.W selects the 64-bit forms of the save/restore instructions.
const w64 = (name: string, tail: string): Switch => W(`${name} ${tail}`, `${name}64 ${tail}`);
m[0xae] = mod(
  reg(
    // a 66/F2/F3 prefix makes the memory forms #UD (checked on this machine's CPU)
    only(w64('fxsave', 'Mst #fxsr')),
    only(w64('fxrstor', 'Mst @fault #fxsr')),
    only('ldmxcsr Md @fault #sse'),
    only('stmxcsr Md #sse'),
    pfx(w64('xsave', 'M #xsave'), null, 'ptwrite Ey #ptwrite', null),
    only(w64('xrstor', 'M @fault #xsave')),
    pfx(w64('xsaveopt', 'M #xsaveopt'), 'clwb Mb #clwb', 'clrssbsy Mq @priv #cet', null),
    pfx('clflush Mb #clflush', 'clflushopt Mb #clflushopt', null, null),
  ),
  reg(
    pfx(null, null, 'rdfsbase Ry #fsgsbase', null),
    pfx(null, null, 'rdgsbase Ry #fsgsbase', null),
    pfx(null, null, 'wrfsbase Ry #fsgsbase', null),
    pfx(null, null, 'wrgsbase Ry #fsgsbase', null),
    pfx(null, null, 'ptwrite Ey #ptwrite', null),
    pfx('lfence #sse2', null, W('incsspd Rd #cet', 'incsspq Rq #cet'), null),
    // umonitor's register holds an address: it has the address size
    pfx('mfence #sse2', 'tpause Rd #waitpkg', asz('umonitor Rw #waitpkg', 'umonitor Rd #waitpkg', 'umonitor Rq #waitpkg'),
      'umwait Rd #waitpkg'),
    only('sfence #sse'),
  ),
);

m[0xaf] = 'imul Gv,Ev';
m[0xb0] = 'cmpxchg Eb,Gb @lock @hle';
m[0xb1] = 'cmpxchg Ev,Gv @lock @hle';
m[0xb2] = 'lss Gv,Mp @fault';
m[0xb3] = 'btr Ev,Gv @lock @hle';
m[0xb4] = 'lfs Gv,Mp @fault';
m[0xb5] = 'lgs Gv,Mp @fault';
m[0xb6] = 'movzx Gv,Eb';
m[0xb7] = 'movzx Gv,Ew';
m[0xb8] = pfx(null, null, 'popcnt Gv,Ev #popcnt', null); // 0F B8 alone is jmpe (IA-64 only): #UD
m[0xb9] = 'ud1 Gv,Ev @fault';
m[0xba] = reg(null, null, null, null, 'bt Ev,Ib', 'bts Ev,Ib @lock @hle', 'btr Ev,Ib @lock @hle', 'btc Ev,Ib @lock @hle');
m[0xbb] = 'btc Ev,Gv @lock @hle';
m[0xbc] = pfxOpt('bsf Gv,Ev', undefined, 'tzcnt Gv,Ev #bmi1', null);
m[0xbd] = pfxOpt('bsr Gv,Ev', undefined, 'lzcnt Gv,Ev #lzcnt', null);
m[0xbe] = 'movsx Gv,Eb';
m[0xbf] = 'movsx Gv,Ew';
m[0xc0] = 'xadd Eb,Gb @lock @hle';
m[0xc1] = 'xadd Ev,Gv @lock @hle';
m[0xc3] = only('movnti My,Gy #sse2');

// ---- 0F C7: group 9
m[0xc7] = mod(
  reg(
    null,
    W('cmpxchg8b Mq @lock @hle', 'cmpxchg16b Mdq @lock @hle #cx16'),
    null,
    w64('xrstors', 'M @priv #xsaves'),
    w64('xsavec', 'M #xsavec'),
    w64('xsaves', 'M @priv #xsaves'),
    pfx('vmptrld Mq @priv #vmx', 'vmclear Mq @priv #vmx', 'vmxon Mq @priv #vmx', null),
    'vmptrst Mq @priv #vmx',
  ),
  reg(
    null,
    null,
    null,
    null,
    null,
    null,
    pfxOpt('rdrand Rv #rdrand', undefined, 'senduipi Rq @o64 #uintr', null),
    pfxOpt('rdseed Rv #rdseed', undefined, 'rdpid Ry @f64 #rdpid', null),
  ),
);
for (let r = 0; r < 8; r++) m[0xc8 + r] = 'bswap Zv';
m[0xff] = 'ud0 Gv,Ev @fault';

export const map0fGp: OpcodeMap = m;
