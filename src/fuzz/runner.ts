// The differential fuzzing campaign: each random case runs on the reference lane (kvm: ring-3 code runs natively
// on the hardware) and on kemu's CPU (tcg) from the same state; the final states, exceptions (vector, error code,
// frame) and data areas must agree. Divergences are minimised (minimise.ts) and reported with a reproducer.
import { decode } from '../decoder/decode.ts';
import { formatIntel } from '../disasm/intel.ts';
import { GPR_NAMES, initialFpu, type CpuState, type FpuState, type SegmentState } from '../cpu/state.ts';
import { baseState, CODE_BASE, CODE_SIZE, DATA_BASE, DATA_SIZE, Lane, TERMINATOR, type CaseResult } from './env.ts';
import { randomCase, Rng, type FuzzCase, type GenOptions } from './generator.ts';
import { classify } from './known.ts';

/** The data area's contents come from this pool (fixed, so a case needs only its offset into it). */
const POOL = (() => {
  const r = new Rng(0x5eed);
  const p = new Uint8Array(0x10000 + DATA_SIZE);
  for (let i = 0; i < p.length; i += 4) {
    const v = r.u32();
    // Mix in runs of zeros and small values: more interesting for shifts, counts, bit offsets.
    const k = v & 7;
    const w = k === 0 ? 0 : k === 1 ? v >>> 29 : k === 2 ? 0xffffffff : v;
    p[i] = w & 0xff;
    p[i + 1] = (w >>> 8) & 0xff;
    p[i + 2] = (w >>> 16) & 0xff;
    p[i + 3] = w >>> 24;
  }
  return p;
})();

export function caseData(c: FuzzCase): Uint8Array {
  const d = POOL.slice(c.dataSeed, c.dataSeed + DATA_SIZE);
  for (const [off, bytes] of c.patch ?? []) d.set(bytes, off);
  return d;
}

export function caseState(c: FuzzCase, rip: number): CpuState {
  const s = baseState();
  s.gpr = c.gpr.slice();
  s.rflags = c.rflags;
  s.rip = BigInt(rip);
  s.fs.base = c.fsBase;
  s.gs.base = c.gsBase;
  s.fpu = caseFpu(c);
  return s;
}

/**
 * The x87/SSE registers a case starts from: FNINIT state, MXCSR defaults, XMM0-15 from the pool just after the
 * case's data (so a case still needs only its offset).
 */
function caseFpu(c: FuzzCase): FpuState {
  const f = initialFpu();
  f.xmm = f.xmm.map((_, i) => POOL.slice(c.dataSeed + DATA_SIZE - 256 + 16 * i, c.dataSeed + DATA_SIZE - 240 + 16 * i));
  return f;
}

/** Runs cases on a pair of lanes, placing each case's code in its own slot of the code area. */
export class Pair {
  readonly ref: Lane;
  readonly dut: Lane;
  private slot = 0;
  static readonly SLOT = 256;

  constructor(refName: 'kvm' | 'tcg' = 'kvm') {
    this.ref = new Lane(refName);
    this.dut = new Lane('tcg');
  }

  run(c: FuzzCase): { ref: CaseResult; dut: CaseResult; rip: number } {
    if (this.slot * Pair.SLOT >= CODE_SIZE) {
      this.slot = 0;
      this.ref.codeChanged();
      this.dut.codeChanged();
    }
    // The case ends at the end of its slot, so the bytes after the terminator are the next page / 0s.
    const rip = CODE_BASE + this.slot++ * Pair.SLOT;
    const code = new Uint8Array(c.code.length + TERMINATOR.length);
    code.set(c.code);
    code.set(TERMINATOR, c.code.length);
    if (code.length > Pair.SLOT) throw new Error('case too long for a code slot');
    const data = caseData(c);
    const st = caseState(c, rip);
    const out: CaseResult[] = [];
    for (const lane of [this.ref, this.dut]) {
      lane.memory.write(rip, code);
      lane.memory.write(DATA_BASE, data);
      out.push(lane.run(st));
    }
    return { ref: out[0]!, dut: out[1]!, rip };
  }

  close(): void {
    this.ref.close();
    this.dut.close();
  }
}

const hex = (v: bigint | number) => '0x' + v.toString(16);
const NT = 0x4000;

export interface CompareOptions {
  /** RFLAGS bits not compared. */
  flagMask: number;
}

const bytesHex = (b: Uint8Array) => BigInt('0x' + (Buffer.from(b).reverse().toString('hex') || '0'));

function compareFpu(x: FpuState, y: FpuState, cmp: (what: string, a: bigint | number, b: bigint | number) => void): void {
  cmp('mxcsr', x.mxcsr, y.mxcsr);
  cmp('fcw', x.fcw, y.fcw);
  cmp('fsw', x.fsw, y.fsw);
  cmp('ftw', x.ftwx, y.ftwx);
  x.xmm.forEach((v, i) => cmp(`xmm${i}`, bytesHex(v), bytesHex(y.xmm[i]!)));
  // only registers tagged valid hold values (MMX writes tag them all)
  x.st.forEach((v, i) => {
    const phys = (((x.fsw >> 11) & 7) + i) & 7;
    if ((x.ftwx | y.ftwx) & (1 << phys)) cmp(`st${i}`, bytesHex(v), bytesHex(y.st[i]!));
  });
}

/** Differences between two results, one line each; empty if they agree. */
export function compareResults(a: CaseResult, b: CaseResult, opts: CompareOptions, rip: number): string[] {
  const d: string[] = [];
  // NT is masked always: under kvm_pvm the hypervisor does not preserve it for ring-3 code.
  const keep = ~BigInt(opts.flagMask | NT);
  const cmp = (what: string, x: bigint | number | boolean, y: bigint | number | boolean) => {
    if (x !== y) d.push(`${what}: ${typeof x === 'boolean' ? x : hex(x as bigint)} vs ${typeof y === 'boolean' ? y : hex(y as bigint)}`);
  };
  if (a.kind !== b.kind || a.vector !== b.vector) {
    d.push(`outcome: ${describeOutcome(a, rip)} vs ${describeOutcome(b, rip)}`);
  }
  for (let i = 0; i < Math.max(a.frame.length, b.frame.length) && a.vector === b.vector; i++) {
    const names = a.frame.length === 6 ? ['error code', 'frame rip', 'frame cs', 'frame rflags', 'frame rsp', 'frame ss'] : ['frame rip', 'frame cs', 'frame rflags', 'frame rsp', 'frame ss'];
    const x = a.frame[i] ?? -1n;
    const y = b.frame[i] ?? -1n;
    cmp(names[i]!, names[i] === 'frame rflags' ? x & keep : x, names[i] === 'frame rflags' ? y & keep : y);
  }
  const s = a.state;
  const t = b.state;
  GPR_NAMES.forEach((n, i) => cmp(n, s.gpr[i]!, t.gpr[i]!));
  cmp('rip', s.rip, t.rip);
  cmp('rflags', s.rflags & keep, t.rflags & keep);
  for (const n of ['es', 'cs', 'ss', 'ds', 'fs', 'gs'] as const) {
    const x = s[n];
    const y = t[n];
    // Hidden parts of a null data segment are not architecturally visible in 64-bit mode (except FS/GS bases).
    // (A null SS in 64-bit mode, as exception delivery to ring 0 loads it, counts as such too.)
    if (n !== 'cs' && x.selector === 0 && y.selector === 0) {
      if (n === 'fs' || n === 'gs') cmp(`${n}.base`, x.base, y.base);
      continue;
    }
    for (const f of ['selector', 'base', 'limit', 'type', 's', 'dpl', 'present', 'l', 'db', 'g'] as (keyof SegmentState)[]) {
      cmp(`${n}.${f}`, x[f] as bigint, y[f] as bigint);
    }
  }
  for (const n of ['cr0', 'cr2', 'cr3', 'cr4', 'efer'] as const) cmp(n, s[n], t[n]);
  if (s.fpu && t.fpu) compareFpu(s.fpu, t.fpu, cmp);
  if (a.data.length === b.data.length && Buffer.compare(a.data, b.data) !== 0) {
    let shown = 0;
    for (let i = 0; i < a.data.length; i++) {
      if (a.data[i] === b.data[i]) continue;
      if (shown++ < 8) d.push(`mem[${hex(DATA_BASE + i)}]: ${hex(a.data[i]!)} vs ${hex(b.data[i]!)}`);
    }
    if (shown > 8) d.push(`... ${shown - 8} more bytes differ`);
  }
  return d;
}

export const VECTOR_SHORT = ['#DE', '#DB', 'NMI', '#BP', '#OF', '#BR', '#UD', '#NM', '#DF', '9', '#TS', '#NP', '#SS', '#GP', '#PF', '15', '#MF', '#AC', '#MC', '#XM'];

export function describeOutcome(r: CaseResult, rip: number): string {
  if (r.kind === 'end') return 'completed';
  if (r.kind === 'exception') {
    const name = VECTOR_SHORT[r.vector] ?? `vector ${r.vector}`;
    const ec = r.frame.length === 6 ? `(${hex(r.frame[0]!)})` : '';
    const at = r.frame[r.frame.length === 6 ? 1 : 0]!;
    return `${name}${ec} at +${hex(Number(at) - rip)}`;
  }
  return `stopped: ${r.message}`;
}

/** Disassembly of a case's instructions, one per line. */
export function disassemble(code: Uint8Array, base = 0): string[] {
  const lines: string[] = [];
  for (let off = 0; off < code.length; ) {
    const insn = decode(code, off, 64);
    const bytes = Buffer.from(code.subarray(off, off + insn.length)).toString('hex');
    lines.push(`  +${off.toString(16).padStart(2, '0')}  ${bytes.padEnd(30)} ${formatIntel(insn, code, off, base + off)}`);
    off += Math.max(1, insn.length);
  }
  return lines;
}

/** Flags the manuals leave undefined after any instruction of the case. */
export function undefinedFlagsOf(c: FuzzCase): number {
  let m = 0;
  for (const off of c.offsets) m |= decode(c.code, off, 64).flagsUndefined;
  return m;
}

/** Instructions of the case that ran (before the terminator or up to the faulting one, which counts). */
export function executedCount(c: FuzzCase, r: CaseResult, rip: number): number {
  const end = r.kind === 'exception' ? Number(r.frame[r.frame.length === 6 ? 1 : 0]!) - rip : r.kind === 'end' ? c.code.length : 0;
  let n = 0;
  for (const o of c.offsets) if (o <= end) n++;
  return Math.min(n, c.offsets.length);
}

/** The reproducer form of a case: JSON for `kemu fuzz --replay`. */
export function caseToJson(c: FuzzCase): string {
  return JSON.stringify({
    code: Buffer.from(c.code).toString('hex'),
    gpr: c.gpr.map((v) => hex(v)),
    rflags: hex(c.rflags),
    fs: hex(c.fsBase),
    gs: hex(c.gsBase),
    data: c.dataSeed,
    ...(c.patch?.length ? { patch: c.patch.map(([o, b]) => [o, Buffer.from(b).toString('hex')]) } : {}),
  });
}

export function caseFromJson(text: string): FuzzCase {
  const j = JSON.parse(text) as { code: string; gpr: string[]; rflags: string; fs?: string; gs?: string; data?: number; patch?: [number, string][] };
  const code = new Uint8Array(Buffer.from(j.code, 'hex'));
  const offsets: number[] = [];
  for (let off = 0; off < code.length; ) {
    offsets.push(off);
    off += Math.max(1, decode(code, off, 64).length);
  }
  if (j.gpr.length !== 16) throw new Error('replay: gpr must have 16 values');
  return {
    code, offsets, gpr: j.gpr.map((v) => BigInt(v)), rflags: BigInt(j.rflags), fsBase: BigInt(j.fs ?? 0), gsBase: BigInt(j.gs ?? 0),
    dataSeed: j.data ?? 0, patch: (j.patch ?? []).map(([o, h]) => [o, new Uint8Array(Buffer.from(h, 'hex'))]),
  };
}

export function describeCase(c: FuzzCase): string[] {
  const lines = ['code:', ...disassemble(c.code)];
  const regs = GPR_NAMES.map((n, i) => `${n}=${hex(c.gpr[i]!)}`);
  for (let i = 0; i < 16; i += 4) lines.push('  ' + regs.slice(i, i + 4).join(' '));
  lines.push(`  rflags=${hex(c.rflags)} fs.base=${hex(c.fsBase)} gs.base=${hex(c.gsBase)} data=pool+${hex(c.dataSeed)}${c.patch?.length ? ` (+${c.patch.length} patches)` : ''}`);
  return lines;
}

export interface Divergence {
  original: FuzzCase;
  minimal: FuzzCase;
  diff: string[];
  ref: string;
  dut: string;
  /** The known class (known.ts) it belongs to, if any. */
  known?: string;
}

export interface CampaignOptions extends GenOptions {
  seed: number;
  /** Instructions to execute (counted on the reference). */
  count: number;
  /** Stop after this many divergences. */
  maxDivergences: number;
  onProgress?: (s: CampaignStats) => void;
  onDivergence?: (d: Divergence) => void;
}

export interface CampaignStats {
  cases: number;
  instructions: number;
  exceptions: number;
  divergences: number;
  /** Distinct divergences by known class, and how many are in none. */
  known: Record<string, number>;
  unknown: number;
  ms: number;
}

export function compareOptionsFor(c: FuzzCase, maskUndefined: boolean): CompareOptions {
  return { flagMask: maskUndefined ? undefinedFlagsOf(c) : 0 };
}

/**
 * Divergences with the same key are reported once: the two outcomes (vector names, error codes of #PF) and the
 * fields that differ, plus the mnemonic when registers, flags or memory differ (a semantic difference is per
 * instruction; a different exception is usually one cause shared by many instructions).
 */
export function divergenceKey(c: FuzzCase, ref: CaseResult, dut: CaseResult, diff: string[], rip: number): string {
  const out = (r: CaseResult) => describeOutcome(r, rip).replace(/ at .*/, '');
  const fields = [...new Set(diff.map((l) => l.split(/[:[]/)[0]!))];
  const semantic = fields.some((f) => f === 'mem' || f === 'rflags' || /^(xmm|st)\d+$|^(mxcsr|fsw|fcw|ftw)$/.test(f) || (GPR_NAMES as readonly string[]).includes(f));
  const insn = decode(c.code, c.offsets[c.offsets.length - 1] ?? 0, 64);
  const tf = (c.rflags & 0x100n) !== 0n ? 'TF/' : (c.rflags & 0x40000n) !== 0n ? 'AC/' : '';
  if (out(ref) !== out(dut)) return `${tf}${out(ref)}/${out(dut)}`;
  return `${tf}${out(ref)}/${fields.join(',')}${semantic && !tf ? '/' + insn.mnemonic + insn.opSize : ''}`;
}

/** A coarser key, on an unminimised case: the outcomes and the kinds of fields that differ. */
function coarseKey(ref: CaseResult, dut: CaseResult, diff: string[], rip: number): string {
  const out = (r: CaseResult) => describeOutcome(r, rip).replace(/ at .*/, '');
  const kinds = new Set(diff.map((l) => {
    const f = l.split(/[:[.]/)[0]!;
    return (GPR_NAMES as readonly string[]).includes(f) ? 'gpr' : f;
  }));
  return `${out(ref)}/${out(dut)}/${[...kinds].sort().join(',')}`;
}

/** Runs a campaign; returns the statistics. */
export function runCampaign(pair: Pair, opts: CampaignOptions, minimise: (pair: Pair, c: FuzzCase, mask: boolean) => FuzzCase): CampaignStats {
  const r = new Rng(opts.seed);
  const t0 = performance.now();
  const stats: CampaignStats = { cases: 0, instructions: 0, exceptions: 0, divergences: 0, known: {}, unknown: 0, ms: 0 };
  let lastProgress = t0;
  const seen = new Set<string>();
  const seenRaw = new Set<string>();
  while (stats.instructions < opts.count && stats.divergences < opts.maxDivergences) {
    const c = randomCase(r, opts);
    const { ref, dut, rip } = pair.run(c);
    stats.cases++;
    stats.instructions += executedCount(c, ref, rip);
    if (ref.kind === 'exception') stats.exceptions++;
    const diff = compareResults(ref, dut, compareOptionsFor(c, opts.maskUndefined), rip);
    if (diff.length) {
      // Minimising costs tens of runs: skip it for a divergence that looks like one already reported.
      const raw = coarseKey(ref, dut, diff, rip);
      if (seenRaw.has(raw)) continue;
      seenRaw.add(raw);
      const minimal = minimise(pair, c, opts.maskUndefined);
      const m = pair.run(minimal);
      const mdiff = compareResults(m.ref, m.dut, compareOptionsFor(minimal, opts.maskUndefined), m.rip);
      const key = divergenceKey(minimal, m.ref, m.dut, mdiff, m.rip);
      if (!seen.has(key)) {
        seen.add(key);
        stats.divergences++;
        const known = mdiff.length ? classify(minimal, m.ref, m.dut, mdiff)?.name : classify(c, ref, dut, diff)?.name;
        if (known) stats.known[known] = (stats.known[known] ?? 0) + 1;
        else stats.unknown++;
        opts.onDivergence?.({
          original: c, minimal, diff: mdiff.length ? mdiff : diff,
          ref: describeOutcome(m.ref, m.rip), dut: describeOutcome(m.dut, m.rip), known,
        });
      }
    }
    const now = performance.now();
    if (opts.onProgress && now - lastProgress > 5000) {
      lastProgress = now;
      stats.ms = now - t0;
      opts.onProgress(stats);
    }
  }
  stats.ms = performance.now() - t0;
  return stats;
}
