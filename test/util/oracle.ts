// The native oracle: runs x86-64 snippets on this machine's own CPU (test/native/runner.c, compiled with gcc at
// test time) and on kemu's software CPU, from the same registers, flags and memory at the same addresses, and
// compares every GPR, the status flags and DF, the data area and any exception (vector and faulting RIP).
//
// Usage:
//   const o = new Oracle();
//   const c = o.code('shl eax, cl');                  // GNU as source, Intel syntax (or { att: true })
//   o.add(c, { regs: { rax: 5n, rcx: 3n }, flags: CF });
//   const r = o.run();                                // one native process and one kemu machine for the batch
//   expect(report(r)).toBe('');
//
// Memory layout (both sides): the code at CODE (followed natively by a jump to the runner's epilogue, in kemu by
// HLT), a zeroed DATA_SIZE area at DATA with the case's bytes at its start; RSP defaults to DATA + 0x8000. kemu
// maps nothing else (its own 4 KiB page tables), so accesses outside both areas fault on both sides.
// `{ bits: 32 }` snippets run in compatibility mode (natively through far jumps to Linux's 32-bit code segment).
// FS/GS bases can be set per case. Exceptions are caught through Cpu.onException, before delivery.
// The x87/SSE state: each case starts from FNINIT's x87 state (FCW, FSW and the MMX registers may be given), MXCSR
// (default 0x1f80) and XMM0-15 (default: fixed distinct patterns); afterwards XMM0-15, MXCSR, FCW, FSW, the abridged
// tag byte and the eight x87/MMX registers are compared too (natively through FXRSTOR/FXSAVE; kemu is set up with
// CR4.OSFXSR|OSXMMEXCPT, CR0.MP|NE).
//
// Environment: KEMU_ORACLE_JIT=1 runs kemu with the WebAssembly JIT compiling every block (threshold 0);
// KEMU_ORACLE_STATS=1 logs the number of cases each run compared.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Machine } from '../../src/machine/machine.ts';
import { GPR_NAMES, type CpuState } from '../../src/cpu/state.ts';
import * as L from '../../src/cpu/layout.ts';
import { VECTOR_NAMES } from '../../src/cpu/fault.ts';
import { enableJit, type Jit } from '../../src/jit/compiler.ts';
import { buildKernel } from '../loader-build.ts';
import { scratchDir } from './gnu.ts';

/**
 * Whether this host can serve as the oracle: x86-64 Linux on an AMD CPU (kemu models AMD Zen, whose results for
 * what the manuals leave undefined differ from Intel's). Tests skip themselves elsewhere, saying why.
 */
export const NATIVE_ORACLE: { ok: boolean; why: string } = (() => {
  if (process.platform !== 'linux' || process.arch !== 'x64') return { ok: false, why: 'not x86-64 Linux' };
  let info = '';
  try {
    info = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return { ok: false, why: 'no /proc/cpuinfo' };
  }
  if (!/^vendor_id\s*:\s*AuthenticAMD$/m.test(info)) return { ok: false, why: 'the host CPU is not an AMD one' };
  const flags = /^flags\s*:(.*)$/m.exec(info)?.[1]?.split(/\s+/) ?? [];
  const missing = ['bmi1', 'bmi2', 'adx', 'movbe', 'popcnt', 'abm', 'sse4_2', 'cx16', 'lahf_lm'].filter((f) => !flags.includes(f));
  if (missing.length) return { ok: false, why: `the host CPU lacks ${missing.join(' ')}` };
  return { ok: true, why: '' };
})();
if (!NATIVE_ORACLE.ok) console.warn(`native oracle tests skipped: ${NATIVE_ORACLE.why}`);

export const CODE = 0x600000;
export const DATA = 0x700000;
export const DATA_SIZE = 0x10000;
const CODE_SIZE = 0x10000;
/** kemu: physical address of the oracle's own page tables. */
const PT_BASE = 0x900000;
/**
 * #PF error code bits compared: W/R, RSVD, I/D. Not U/S (kemu runs the snippets at CPL 0) and not P (outside the
 * code and data areas natively the host kernel's own mappings decide whether a page is present).
 */
const PF_BITS = 0x1a;

export const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, DF = 0x400, OF = 0x800;
export const STATUS = CF | PF | AF | ZF | SF | OF;
/** Flags compared by default: the six status flags and DF. */
export const ALL_FLAGS = STATUS | DF;

export type GprName = (typeof GPR_NAMES)[number];

export interface Init {
  /** Register values (unlisted ones get fixed distinct patterns; RSP defaults to DATA + 0x8000). */
  regs?: Partial<Record<GprName, bigint | number>>;
  /** Status flags and DF (other bits are ignored). */
  flags?: number;
  /** Bytes at DATA. */
  data?: Uint8Array;
  /** Bytes of the data area to compare (default max(256, data length)). */
  outLen?: number;
  /** FS/GS segment bases (default: FS is the native thread pointer / 0 in kemu; snippets then must not use it). */
  fsBase?: bigint | number;
  gsBase?: bigint | number;
  /** XMM register values (128-bit; unlisted ones get fixed distinct patterns). */
  xmm?: Partial<Record<number, bigint>>;
  /** MXCSR (default 0x1f80). */
  mxcsr?: number;
  /** MMX registers (the x87 registers' mantissas; their exponents and tags start as FNINIT leaves them). */
  mm?: Partial<Record<number, bigint>>;
  /** x87 control and status words (default FNINIT's 0x37f and 0). */
  fcw?: number;
  fsw?: number;
}

export interface Outcome {
  /** Exception vector, or -1 when the snippet ran to its end. */
  vector: number;
  /** GPRs in encoding order (at the faulting instruction when vector >= 0). */
  regs: bigint[];
  rflags: number;
  /** RIP of the faulting instruction (vector >= 0). */
  rip: bigint;
  /** Error code bits of a #PF that can be compared (PF_BITS); the other vectors' codes are not compared. */
  pfError?: number;
  data: Uint8Array;
  /** The x87/SSE state as an FXSAVE image (x87 registers in stack order). */
  fx: Uint8Array;
}

interface Snippet {
  src: string;
  att: boolean;
  bits: 32 | 64;
  /** Flags compared for this code (default ALL_FLAGS). */
  flagMask: number;
  label: string;
  /** What runs natively (for 32-bit code: with the mode switches around it). */
  bytes?: Uint8Array;
  /** What runs in kemu (the same bytes at the same addresses, ending in HLT) and where it starts. */
  kemuBytes?: Uint8Array;
  kemuStart?: number;
}

interface Case {
  code: number;
  regs: bigint[];
  flags: number;
  data: Uint8Array;
  outLen: number;
  fs?: bigint;
  gs?: bigint;
  note?: string;
  /** Initial x87/SSE state (FXSAVE image). */
  fx: Uint8Array;
}

export interface CodeOptions {
  att?: boolean;
  /**
   * 32: the snippet is 32-bit code, run in compatibility mode (natively through far jumps to Linux's 32-bit code
   * segment, with DS and ES loaded with its flat data selector; in kemu from a 32-bit CS). Register upper halves
   * are compared too.
   */
  bits?: 32 | 64;
  /** Flags to compare (default: status flags and DF); for results AMD leaves truly non-deterministic. */
  flagMask?: number;
  /** Name shown in mismatch reports (default: the source). */
  label?: string;
}

export interface RunResult {
  native: Outcome[];
  kemu: Outcome[];
  /** Human-readable differences, one string per mismatching case (empty when all agree). */
  mismatches: string[];
  /** Number of cases compared. */
  count: number;
}

const here = fileURLToPath(new URL('.', import.meta.url));
const RUNNER_SRC = join(here, '..', 'native', 'runner.c');

let runnerPath: string | undefined;
function runner(): string {
  if (!runnerPath) {
    const out = join(scratchDir(), `oracle-runner-${process.pid}`);
    execFileSync('gcc', ['-O1', '-std=gnu11', '-Wall', '-fno-stack-protector', '-o', out, RUNNER_SRC]);
    process.on('exit', () => rmSync(out, { force: true }));
    runnerPath = out;
  }
  return runnerPath;
}

let batchNo = 0;


/** Assembles the snippets in one `as` run; each is cut out of .text by its start/end symbols. */
function assembleAll(snips: Snippet[]): void {
  const todo = snips.filter((s) => !s.bytes);
  if (!todo.length) return;
  const base = join(scratchDir(), `oracle-${process.pid}-${batchNo++}`);
  const parts = ['.text'];
  todo.forEach((s, i) => {
    const syntax = s.att ? '.att_syntax prefix' : '.intel_syntax noprefix';
    if (s.bits === 64) {
      parts.push('.code64', syntax, `k_s${i}:`, `k_c${i}:`, s.src, `k_d${i}:`, `k_e${i}:`);
      return;
    }
    // 64-bit stub: flat DS/ES (null in 64-bit Linux processes), far jump to 0x23:k_c; back through 0x33:k_b
    parts.push(
      '.code64', '.att_syntax prefix', `k_s${i}:`,
      `mov k_sel${i}(%rip), %ds`, `mov k_sel${i}(%rip), %es`, `ljmpl *k_far${i}(%rip)`,
      `k_sel${i}: .word 0x2b`, `k_far${i}: .long ${CODE} + (k_c${i} - k_s${i}); .word 0x23`,
      '.code32', syntax, `k_c${i}:`, s.src, `k_d${i}:`,
      '.att_syntax prefix', `ljmp $0x33, $(${CODE} + k_b${i} - k_s${i})`,
      '.code64', `k_b${i}:`, `k_e${i}:`,
    );
  });
  writeFileSync(`${base}.s`, parts.join('\n') + '\n');
  execFileSync('as', ['--64', '-o', `${base}.o`, `${base}.s`]);
  execFileSync('objcopy', ['-O', 'binary', '-j', '.text', `${base}.o`, `${base}.bin`]);
  const text = new Uint8Array(readFileSync(`${base}.bin`));
  for (const ext of ['s', 'bin']) rmSync(`${base}.${ext}`, { force: true });
  const syms = new Map<string, number>();
  for (const line of execFileSync('nm', [`${base}.o`], { encoding: 'utf8', maxBuffer: 1 << 28 }).split('\n')) {
    const m = /^([0-9a-f]+) \w (k_[secd]\d+)$/.exec(line.trim());
    if (m) syms.set(m[2]!, parseInt(m[1]!, 16));
  }
  rmSync(`${base}.o`, { force: true });
  todo.forEach((s, i) => {
    const [a, b, c, d] = ['s', 'e', 'c', 'd'].map((k) => syms.get(`k_${k}${i}`));
    if (a === undefined || b === undefined || c === undefined || d === undefined) throw new Error(`snippet ${i} symbols missing`);
    s.bytes = text.slice(a, b);
    s.kemuBytes = text.slice(a, d);
    s.kemuStart = c - a;
  });
}

const DEFAULT_REGS: bigint[] = GPR_NAMES.map((_, i) =>
  i === 4 ? BigInt(DATA + 0x8000) : BigInt.asUintN(64, 0x0123456789abcdefn * BigInt(i + 1) + BigInt(i)),
);
export const DEFAULT_XMM: bigint[] = Array.from({ length: 16 }, (_, i) =>
  BigInt.asUintN(128, 0x0f1e2d3c4b5a69788796a5b4c3d2e1f0n * BigInt(2 * i + 1) + BigInt(i)),
);
export const DEFAULT_MXCSR = 0x1f80;
/** FXSAVE image offsets compared: FCW FSW, abridged FTW, MXCSR, then ST0-7 (10 bytes each) and XMM0-15. */
const FX_MXCSR = 24, FX_ST = 32, FX_XMM = 160;

/** The initial FXSAVE image of a case: FNINIT's x87 state, MXCSR and the XMM registers. */
function fxImage(init: Init): Uint8Array {
  const fx = new Uint8Array(512);
  const dv = new DataView(fx.buffer);
  dv.setUint16(0, init.fcw ?? 0x37f, true);
  dv.setUint16(2, init.fsw ?? 0, true);
  dv.setUint32(FX_MXCSR, init.mxcsr ?? DEFAULT_MXCSR, true);
  dv.setUint32(FX_MXCSR + 4, 0xffff, true);
  for (const [i, v] of Object.entries(init.mm ?? {})) dv.setBigUint64(FX_ST + 16 * Number(i), BigInt.asUintN(64, v!), true);
  for (let i = 0; i < 16; i++) {
    const v = BigInt.asUintN(128, init.xmm?.[i] ?? DEFAULT_XMM[i]!);
    dv.setBigUint64(FX_XMM + 16 * i, v & 0xffffffffffffffffn, true);
    dv.setBigUint64(FX_XMM + 16 * i + 8, v >> 64n, true);
  }
  return fx;
}

/** The 128-bit value of XMMi in an FXSAVE image. */
export function fxXmm(fx: Uint8Array, i: number): bigint {
  const dv = new DataView(fx.buffer, fx.byteOffset);
  return (dv.getBigUint64(FX_XMM + 16 * i + 8, true) << 64n) | dv.getBigUint64(FX_XMM + 16 * i, true);
}
export function fxMxcsr(fx: Uint8Array): number {
  return new DataView(fx.buffer, fx.byteOffset).getUint32(FX_MXCSR, true);
}

export class Oracle {
  private snips: Snippet[] = [];
  private cases: Case[] = [];

  /** Adds a code snippet; returns its id for add(). */
  code(src: string, opts: CodeOptions = {}): number {
    this.snips.push({
      src, att: opts.att ?? false, bits: opts.bits ?? 64, flagMask: opts.flagMask ?? ALL_FLAGS,
      label: opts.label ?? src.trim().split('\n').map((l) => l.trim()).join('; '),
    });
    return this.snips.length - 1;
  }

  /** Adds a case: code `code` from the initial state `init`. */
  add(code: number, init: Init = {}, note?: string): void {
    const regs = DEFAULT_REGS.slice();
    for (const [k, v] of Object.entries(init.regs ?? {})) {
      const i = GPR_NAMES.indexOf(k as GprName);
      if (i < 0) throw new Error(`unknown register ${k}`);
      regs[i] = BigInt.asUintN(64, BigInt(v));
    }
    const data = init.data ?? new Uint8Array(0);
    this.cases.push({
      code, regs, flags: (init.flags ?? 0) & ALL_FLAGS, data, outLen: init.outLen ?? Math.max(256, data.length), note,
      fs: init.fsBase === undefined ? undefined : BigInt(init.fsBase), gs: init.gsBase === undefined ? undefined : BigInt(init.gsBase),
      fx: fxImage(init),
    });
  }

  get size(): number {
    return this.cases.length;
  }

  /** Runs every case natively only (for exploring what the hardware does). */
  runNative(): Outcome[] {
    assembleAll(this.snips);
    return runNative(this.snips, this.cases);
  }

  /**
   * Runs every case natively and in kemu and compares. `jit` chooses kemu's WebAssembly JIT (every block compiled)
   * or its IR interpreter, or 'both' (one native run compared with each); the default is KEMU_ORACLE_JIT.
   */
  run(opts: { jit?: boolean | 'both' } = {}): RunResult {
    assembleAll(this.snips);
    const native = runNative(this.snips, this.cases);
    const jit = opts.jit ?? !!process.env.KEMU_ORACLE_JIT;
    const modes = jit === 'both' ? [false, true] : [jit];
    const mismatches: string[] = [];
    let kemu: Outcome[] = [];
    for (const useJit of modes) {
      kemu = runKemu(this.snips, this.cases, useJit);
      const tag = jit === 'both' ? (useJit ? ' (JIT)' : ' (interpreter)') : '';
      this.cases.forEach((c, i) => {
        const d = compare(native[i]!, kemu[i]!, this.snips[c.code]!.flagMask);
        if (d) mismatches.push(`${this.snips[c.code]!.label}${c.note ? ` [${c.note}]` : ''}${tag}\n  init ${fmtInit(c)}\n  ${d}`);
      });
    }
    // KEMU_ORACLE_STATS=1 reports how many cases each run compared
    if (process.env.KEMU_ORACLE_STATS) console.log(`oracle: ${this.cases.length} cases compared`);
    return { native, kemu, mismatches, count: this.cases.length * modes.length };
  }
}

function fmtInit(c: Case): string {
  const regs = GPR_NAMES.map((n, i) => (c.regs[i] !== DEFAULT_REGS[i] ? `${n}=${c.regs[i]!.toString(16)}` : '')).filter(Boolean);
  const data = c.data.length ? ` data=${Buffer.from(c.data.subarray(0, 32)).toString('hex')}${c.data.length > 32 ? '…' : ''}` : '';
  const xmm = DEFAULT_XMM.map((d, i) => (fxXmm(c.fx, i) !== d ? ` xmm${i}=${fxXmm(c.fx, i).toString(16)}` : '')).join('');
  const mx = fxMxcsr(c.fx) !== DEFAULT_MXCSR ? ` mxcsr=${fxMxcsr(c.fx).toString(16)}` : '';
  const dv = new DataView(c.fx.buffer);
  const x87 = dv.getUint16(0, true) !== 0x37f || dv.getUint16(2, true) ? ` fcw=${dv.getUint16(0, true).toString(16)} fsw=${dv.getUint16(2, true).toString(16)}` : '';
  const mm = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => dv.getBigUint64(FX_ST + 16 * i, true)).map((v, i) => (v ? ` mm${i}=${v.toString(16)}` : '')).join('');
  return `${regs.join(' ')} flags=${c.flags.toString(16)}${data}${xmm}${mx}${x87}${mm}`;
}

function flagNames(f: number): string {
  const n: string[] = [];
  for (const [b, s] of [[CF, 'CF'], [PF, 'PF'], [AF, 'AF'], [ZF, 'ZF'], [SF, 'SF'], [DF, 'DF'], [OF, 'OF']] as const) if (f & b) n.push(s);
  return n.join(' ') || '-';
}

function compare(n: Outcome, k: Outcome, flagMask: number): string | null {
  const out: string[] = [];
  const vname = (v: number) => (v < 0 ? 'none' : (VECTOR_NAMES[v] ?? `vector ${v}`));
  if (n.vector !== k.vector) out.push(`exception: native ${vname(n.vector)}, kemu ${vname(k.vector)}`);
  else if (n.vector >= 0 && n.rip !== k.rip) out.push(`fault rip: native ${n.rip.toString(16)}, kemu ${k.rip.toString(16)}`);
  else if (n.pfError !== k.pfError) out.push(`#PF error code: native ${n.pfError?.toString(16)}, kemu ${k.pfError?.toString(16)}`);
  for (let i = 0; i < 16; i++) {
    if (n.regs[i] !== k.regs[i]) out.push(`${GPR_NAMES[i]}: native ${n.regs[i]!.toString(16)}, kemu ${k.regs[i]!.toString(16)}`);
  }
  const fx = (n.rflags ^ k.rflags) & flagMask;
  if (fx) out.push(`flags differ in ${flagNames(fx)}: native ${flagNames(n.rflags & flagMask)}, kemu ${flagNames(k.rflags & flagMask)}`);
  for (let j = 0; j < n.data.length; j++) {
    if (n.data[j] !== k.data[j]) {
      out.push(`data+${j.toString(16)}: native ${n.data[j]!.toString(16)}, kemu ${k.data[j]!.toString(16)}`);
      break;
    }
  }
  out.push(...compareFx(n.fx, k.fx));
  return out.length ? out.join('; ') : null;
}

/** Differences in the compared x87/SSE state. */
function compareFx(n: Uint8Array, k: Uint8Array): string[] {
  const out: string[] = [];
  const nd = new DataView(n.buffer, n.byteOffset), kd = new DataView(k.buffer, k.byteOffset);
  const hex = (v: number | bigint) => v.toString(16);
  for (const [name, off, size] of [['fcw', 0, 2], ['fsw', 2, 2], ['ftw', 4, 1], ['mxcsr', FX_MXCSR, 4]] as const) {
    const get = (d: DataView) => (size === 1 ? d.getUint8(off) : size === 2 ? d.getUint16(off, true) : d.getUint32(off, true));
    if (get(nd) !== get(kd)) out.push(`${name}: native ${hex(get(nd))}, kemu ${hex(get(kd))}`);
  }
  for (let i = 0; i < 8; i++) {
    const o = FX_ST + 16 * i;
    const get = (d: DataView) => (BigInt(d.getUint16(o + 8, true)) << 64n) | d.getBigUint64(o, true);
    if (get(nd) !== get(kd)) out.push(`st${i}: native ${hex(get(nd))}, kemu ${hex(get(kd))}`);
  }
  for (let i = 0; i < 16; i++) {
    if (fxXmm(n, i) !== fxXmm(k, i)) out.push(`xmm${i}: native ${hex(fxXmm(n, i))}, kemu ${hex(fxXmm(k, i))}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Native

function runNative(snips: Snippet[], cases: Case[]): Outcome[] {
  const chunks: Buffer[] = [];
  const head = Buffer.alloc(12);
  head.writeUInt32LE(0x43524f4b, 0);
  head.writeUInt32LE(snips.length, 4);
  head.writeUInt32LE(cases.length, 8);
  chunks.push(head);
  for (const s of snips) {
    const l = Buffer.alloc(4);
    l.writeUInt32LE(s.bytes!.length);
    chunks.push(l, Buffer.from(s.bytes!));
  }
  for (const c of cases) {
    const b = Buffer.alloc(4 + 17 * 8 + 4);
    b.writeUInt32LE(c.code, 0);
    c.regs.forEach((v, i) => b.writeBigUInt64LE(v, 4 + 8 * i));
    b.writeBigUInt64LE(BigInt(c.flags | 0x202), 4 + 128);
    b.writeUInt32LE(c.data.length, 4 + 136);
    const o = Buffer.alloc(4 + 4 + 16);
    o.writeUInt32LE(c.outLen, 0);
    o.writeUInt32LE((c.fs !== undefined ? 1 : 0) | (c.gs !== undefined ? 2 : 0), 4);
    o.writeBigUInt64LE(c.fs ?? 0n, 8);
    o.writeBigUInt64LE(c.gs ?? 0n, 16);
    chunks.push(b, Buffer.from(c.data), o, Buffer.from(c.fx));
  }
  const base = join(scratchDir(), `oracle-${process.pid}-${batchNo++}`);
  writeFileSync(`${base}.in`, Buffer.concat(chunks));
  execFileSync(runner(), [`${base}.in`, `${base}.out`], { timeout: 60_000 });
  const out = readFileSync(`${base}.out`);
  for (const ext of ['in', 'out']) rmSync(`${base}.${ext}`, { force: true });
  let p = 0;
  return cases.map((c) => {
    const vec = out.readUInt32LE(p);
    const err = out.readUInt32LE(p + 4);
    const regs: bigint[] = [];
    for (let i = 0; i < 16; i++) regs.push(out.readBigUInt64LE(p + 8 + 8 * i));
    const rflags = Number(out.readBigUInt64LE(p + 8 + 128) & 0xffffffffn);
    const rip = out.readBigUInt64LE(p + 8 + 136);
    const data = new Uint8Array(out.subarray(p + 8 + 144, p + 8 + 144 + c.outLen));
    p += 8 + 144 + c.outLen;
    const fx = new Uint8Array(out.subarray(p, p + 512));
    p += 512;
    return { vector: vec === 0xffffffff ? -1 : vec, regs, rflags, rip, pfError: vec === 14 ? err & PF_BITS : undefined, data, fx };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// kemu

class Fault {
  constructor(readonly vector: number, readonly rip: bigint, readonly errorCode: number) {}
}

type KemuMachine = { m: Machine; states: Record<32 | 64, CpuState>; bits: number; jit?: Jit };
/** The machines by JIT use (run({ jit }) can ask for either in one process). */
const machines = new Map<boolean, KemuMachine>();

/**
 * One machine per process: a long-mode ELF64 start state (4 GiB identity map), reused for every case; 32-bit
 * snippets run from the same state with a 32-bit code segment (compatibility mode).
 */
function kemuMachine(useJit: boolean): KemuMachine {
  let machine = machines.get(useJit);
  if (!machine) {
    let jit: Jit | undefined;
    const m = new Machine({ ramSize: 16 << 20, output: () => {} });
    m.load(buildKernel('.globl _start\n_start: hlt\n', { bits: 64 }));
    // KEMU_ORACLE_JIT=1: every block goes through the WebAssembly JIT instead of the IR interpreter
    if (useJit) jit = enableJit(m.cpu, { threshold: 0 });
    m.cpu.onException = (vector, err, rip) => {
      throw new Fault(vector, rip, err);
    };
    // Page tables that map only the code and data areas (4 KiB pages), so that anything else faults as natively
    const mem = m.board.memory;
    const [pml4, pdpt, pd, pt] = [0, 1, 2, 3].map((i) => PT_BASE + i * 0x1000);
    mem.fill(PT_BASE, 0x4000);
    mem.writeU64(pml4!, BigInt(pdpt!) | 3n);
    mem.writeU64(pdpt!, BigInt(pd!) | 3n);
    mem.writeU64(pd! + 8 * (CODE >> 21), BigInt(pt!) | 3n);
    for (const [base, size] of [[CODE, CODE_SIZE], [DATA, DATA_SIZE]] as const) {
      for (let a = base; a < base + size; a += 0x1000) mem.writeU64(pt! + 8 * ((a >> 12) & 511), BigInt(a) | 3n);
    }
    // x87/SSE enabled: CR0.MP|NE (EM=TS=0), CR4.OSFXSR|OSXMMEXCPT
    const st0 = m.cpu.getState();
    const cr0 = (st0.cr0 | 0x22n) & ~0xcn, cr4 = st0.cr4 | 0x600n | 0x40000n; // and CR4.OSXSAVE with XCR0 = x87|SSE
    // EFER.NXE as Linux has it natively: a #PF on an instruction fetch then reports I/D (bit 4) on both sides
    const s64: CpuState = { ...st0, cr3: BigInt(pml4!), cr0, cr4, xcr0: 3n, efer: st0.efer | 0x800n };
    const s32: CpuState = { ...s64, cs: { ...s64.cs, l: false, db: true } };
    machine = { m, states: { 32: s32, 64: s64 }, bits: 0, jit };
    machines.set(useJit, machine);
  }
  return machine;
}

function runKemu(snips: Snippet[], cases: Case[], useJit: boolean): Outcome[] {
  const km = kemuMachine(useJit);
  const m = km.m;
  const cpu = m.cpu;
  const mem = m.board.memory;
  let last = -1;
  return cases.map((c) => {
    const snip = snips[c.code]!;
    if (snip.bits !== km.bits) {
      cpu.setState(km.states[snip.bits]);
      km.bits = snip.bits;
    }
    if (c.code !== last) {
      const bytes = snip.kemuBytes!;
      mem.write(CODE, bytes);
      mem.writeU8(CODE + bytes.length, 0xf4); // hlt
      cpu.flushTranslations();
      last = c.code;
    }
    mem.fill(DATA, DATA_SIZE);
    mem.write(DATA, c.data);
    c.regs.forEach((v, i) => cpu.set64(L.gprOff(i), v));
    cpu.rip = BigInt(CODE + snip.kemuStart!);
    cpu.set64(L.segOff(4) + L.SEG_BASE, c.fs ?? 0n);
    cpu.set64(L.segOff(5) + L.SEG_BASE, c.gs ?? 0n);
    cpu.setFlagsWord(c.flags | 2);
    setKemuFx(cpu, c.fx);
    cpu.halted = false;
    m.board.stopRequest = undefined;
    let vector = -1;
    let rip = 0n;
    let pfError: number | undefined;
    try {
      const r = m.run(100_000);
      if (r.kind !== 'halt') throw new Error(`kemu: snippet ended with ${JSON.stringify(r, (_, v) => (typeof v === 'bigint' ? v.toString(16) : v))}`);
    } catch (e) {
      if (!(e instanceof Fault)) throw e;
      vector = e.vector;
      rip = e.rip;
      if (vector === 14) pfError = e.errorCode & PF_BITS;
    }
    if (km.jit?.stats.failed) throw new Error(`the JIT failed to compile a block of ${snip.label}`);
    const regs = GPR_NAMES.map((_, i) => cpu.get64(L.gprOff(i)));
    return { vector, regs, rflags: cpu.flags(), rip, pfError, data: mem.read(DATA, c.outLen), fx: kemuFx(cpu) };
  });
}

/** Loads kemu's x87/SSE registers from an FXSAVE image (the state block keeps the x87 registers physically). */
function setKemuFx(cpu: Machine['cpu'], fx: Uint8Array): void {
  const dv = new DataView(fx.buffer, fx.byteOffset);
  const top = (dv.getUint16(2, true) >> 11) & 7;
  // as FXRSTOR does: FSW.ES (and B) say whether an unmasked exception is pending
  const fcw = dv.getUint16(0, true), fsw = dv.getUint16(2, true);
  const es = fsw & ~fcw & 0x3f ? 0x8080 : 0;
  cpu.set32(L.FCW, fcw | (((fsw & ~0x8080) | es) << 16));
  cpu.set32(L.FTW, dv.getUint8(4) | (dv.getUint16(6, true) << 16));
  cpu.set64(L.FIP, dv.getBigUint64(8, true));
  cpu.set64(L.FDP, dv.getBigUint64(16, true));
  cpu.set32(L.MXCSR, dv.getUint32(FX_MXCSR, true));
  for (let st = 0; st < 8; st++) {
    const r = L.fpRegOff((st + top) & 7);
    cpu.set64(r, dv.getBigUint64(FX_ST + 16 * st, true));
    cpu.set64(r + 8, dv.getBigUint64(FX_ST + 16 * st + 8, true));
  }
  for (let i = 0; i < 32; i++) cpu.set64(L.xmmOff(0) + 8 * i, dv.getBigUint64(FX_XMM + 8 * i, true));
}

/** kemu's x87/SSE registers as an FXSAVE image (the compared fields). */
function kemuFx(cpu: Machine['cpu']): Uint8Array {
  const fx = new Uint8Array(512);
  const dv = new DataView(fx.buffer);
  const w0 = cpu.get32(L.FCW), w1 = cpu.get32(L.FTW);
  dv.setUint32(0, w0, true);
  dv.setUint32(4, w1, true);
  dv.setUint32(FX_MXCSR, cpu.get32(L.MXCSR), true);
  const top = (w0 >>> 27) & 7;
  for (let st = 0; st < 8; st++) {
    const r = L.fpRegOff((st + top) & 7);
    dv.setBigUint64(FX_ST + 16 * st, cpu.get64(r), true);
    dv.setUint16(FX_ST + 16 * st + 8, Number(cpu.get64(r + 8) & 0xffffn), true);
  }
  for (let i = 0; i < 32; i++) dv.setBigUint64(FX_XMM + 8 * i, cpu.get64(L.xmmOff(0) + 8 * i), true);
  return fx;
}

// ---------------------------------------------------------------------------------------------------------------
// Input generators

/** A deterministic PRNG (xorshift64*), so failures reproduce. */
export class Rng {
  private s: bigint;
  constructor(seed = 0x9e3779b97f4a7c15n) {
    this.s = BigInt.asUintN(64, seed) || 1n;
  }
  u64(): bigint {
    let x = this.s;
    x ^= x >> 12n;
    x ^= BigInt.asUintN(64, x << 25n);
    x ^= x >> 27n;
    this.s = x;
    return BigInt.asUintN(64, x * 0x2545f4914f6cdd1dn);
  }
  int(n: number): number {
    return Number(this.u64() % BigInt(n));
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }
  /** Random status flags and DF off. */
  flags(): number {
    return Number(this.u64() & BigInt(STATUS));
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

/** Edge values of an operand of `bits` bits, zero-extended into 64 bits, plus random garbage above (bits < 64). */
export function edgeValues(bits: number): bigint[] {
  const m = (1n << BigInt(bits)) - 1n;
  const sign = 1n << BigInt(bits - 1);
  const v = [0n, 1n, 2n, 3n, 7n, 0x10n, 0x7fn, 0x80n, 0xffn, sign - 1n, sign, sign + 1n, m, m - 1n, m >> 1n, 0x5555555555555555n, 0xaaaaaaaaaaaaaaaan, 0x0123456789abcdefn, 0xfedcba9876543210n];
  return [...new Set(v.map((x) => x & m))];
}

/** A random value biased to edges: sometimes an edge value, sometimes small, sometimes full random. */
export function biased(r: Rng, bits: number): bigint {
  const m = (1n << BigInt(bits)) - 1n;
  switch (r.int(6)) {
    case 0: return r.pick(edgeValues(bits));
    case 1: return BigInt(r.int(33)) & m;
    case 2: return (m - BigInt(r.int(5))) & m;
    case 3: return ((1n << BigInt(r.int(bits))) + BigInt(r.int(3)) - 1n) & m;
    default: return r.u64() & m;
  }
}

/** Fills the bits above `bits` with random garbage (what the upper register part holds before a partial write). */
export function withGarbage(r: Rng, v: bigint, bits: number): bigint {
  if (bits >= 64) return v;
  const m = (1n << BigInt(bits)) - 1n;
  return (r.u64() & ~m & 0xffffffffffffffffn) | (v & m);
}

/** Register names of one size for operands: index 0-15 in encoding order. */
export const REGS: Record<number, readonly string[]> = {
  8: GPR_NAMES,
  4: ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'r8d', 'r9d', 'r10d', 'r11d', 'r12d', 'r13d', 'r14d', 'r15d'],
  2: ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di', 'r8w', 'r9w', 'r10w', 'r11w', 'r12w', 'r13w', 'r14w', 'r15w'],
  1: ['al', 'cl', 'dl', 'bl', 'spl', 'bpl', 'sil', 'dil', 'r8b', 'r9b', 'r10b', 'r11b', 'r12b', 'r13b', 'r14b', 'r15b'],
};
export const PTR: Record<number, string> = { 1: 'byte ptr', 2: 'word ptr', 4: 'dword ptr', 8: 'qword ptr' };

/** A short summary of a run's mismatches for a test failure message. */
export function report(r: RunResult, max = 12): string {
  if (!r.mismatches.length) return '';
  return `${r.mismatches.length} of ${r.count} cases differ:\n${r.mismatches.slice(0, max).join('\n')}`;
}
