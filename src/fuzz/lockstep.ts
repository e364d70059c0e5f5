// Lockstep cross-checking of a whole guest: the same kernel on kvm and on tcg (two boards, same devices), synchronised
// at KVM's exits. Each step runs KVM to its next exit; port I/O and MMIO operations are counted on both sides and
// tcg runs until it has done as many (or halts), then the two CPU states and the I/O operations themselves are
// compared. The first divergence stops the run and is described: both states, the differences, and the
// instructions tcg ran since the last agreement.
import type { Accelerator, AccelName, IoHandler, Vcpu, VcpuExit } from '../accel/accelerator.ts';
import { accelReserveBytes, createAccelerator } from '../accel/select.ts';
import type { TcgVcpu } from '../accel/tcg.ts';
import { codeBits } from '../cpu/mode.ts';
import { GPR_NAMES, type CpuState, type SegmentState } from '../cpu/state.ts';
import { decode } from '../decoder/decode.ts';
import { formatIntel } from '../disasm/intel.ts';
import type { IoSize } from '../machine/bus.ts';
import { Board } from '../machine/board.ts';
import type { LoadOptions } from '../machine/loader/index.ts';

export interface IoOp {
  kind: 'in' | 'out' | 'mmio-read' | 'mmio-write';
  addr: number;
  size: number;
  value: number;
}

const hex = (v: bigint | number) => '0x' + v.toString(16);
const fmtOp = (o: IoOp) => `${o.kind} ${hex(o.addr)}/${o.size} = ${hex(o.value >>> 0)}`;

/** One backend with its board, counting I/O operations. */
class Side {
  readonly board: Board;
  readonly accel: Accelerator;
  readonly vcpu: Vcpu;
  ops = 0;
  lastOp: IoOp | undefined;
  /** Stop the vCPU when `ops` reaches this (tcg). */
  stopAt = Infinity;

  constructor(readonly name: AccelName, ramSize: number, output: (b: Uint8Array) => void) {
    this.board = new Board({ ramSize, cpuReserve: accelReserveBytes(name), output });
    this.accel = createAccelerator(name, this.board.memory, name === 'kvm' ? { sliceMs: 200 } : {});
    const b = this.board;
    const note = (op: IoOp) => {
      this.ops++;
      this.lastOp = op;
      if (this.ops >= this.stopAt || b.stopRequest) this.vcpu.requestStop();
    };
    const io: IoHandler = {
      ioRead: (port, size) => {
        const value = b.io.read(port, size as IoSize);
        note({ kind: 'in', addr: port, size, value });
        return value;
      },
      ioWrite: (port, size, value) => {
        b.io.write(port, size as IoSize, value);
        note({ kind: 'out', addr: port, size, value });
      },
      mmioRead: (addr, size) => {
        const value = b.mmio.read(addr, size as IoSize);
        note({ kind: 'mmio-read', addr, size, value });
        return value;
      },
      mmioWrite: (addr, size, value) => {
        b.mmio.write(addr, size as IoSize, value);
        note({ kind: 'mmio-write', addr, size, value });
      },
    };
    this.vcpu = this.accel.createVcpu(io);
  }

  close(): void {
    (this.vcpu as { close?: () => void }).close?.();
    this.accel.close();
  }
}

export interface CrosscheckOptions {
  ramSize: number;
  load?: LoadOptions;
  /** RFLAGS bits never compared (besides the undefined ones with maskUndefined). */
  maskUndefined: boolean;
  /** Stop after this many sync points (default: until the guest ends). */
  maxSyncs?: number;
  /** Instructions tcg may run to reach KVM's next exit before it counts as a divergence. */
  tcgBudget?: number;
  /** Compare what kvm_pvm gets wrong too (see PVM_QUIRKS); default false. */
  strict?: boolean;
  /** Guest COM1 output (from the KVM side). */
  output?: (b: Uint8Array) => void;
  /** For tests: called on the tcg state at each sync point before the comparison. */
  perturb?: (tcg: CpuState, sync: number) => CpuState | undefined;
}

export interface CrosscheckResult {
  /** 'agree': the guest ended (exit, halt, shutdown) the same way on both; 'diverged'; 'limit': maxSyncs. */
  kind: 'agree' | 'diverged' | 'limit' | 'error';
  syncs: number;
  ioOps: number;
  tcgInstructions: number;
  /** How the guest ended (for agree), or the report lines (for diverged/error). */
  end: string;
  report: string[];
}

interface BlockInfo {
  lin: bigint;
  mode: number;
  insns: number;
}

/**
 * What kvm_pvm does differently from the architecture (it emulates ring 0 in the host and runs ring 3 natively):
 * RFLAGS.IOPL reads as 0 in ring 3, and IRET/SYSRET to ring 3 keep data segment selectors whose DPL is below the new
 * CPL (the manuals load null into them). These are masked unless `strict`.
 */
export const PVM_QUIRKS = 'RFLAGS.IOPL; DS/ES/FS/GS selectors an IRET to ring 3 must null (kvm_pvm keeps them)';
const IOPL = 0x3000;

/** What the two sides are compared on; a list of "field: kvm vs tcg" lines. */
export function compareStates(k: CpuState, t: CpuState, flagMask: number, strict = true): string[] {
  const d: string[] = [];
  const cmp = (what: string, x: bigint | number | boolean, y: bigint | number | boolean) => {
    if (x !== y) d.push(`${what}: ${typeof x === 'boolean' ? x : hex(x as bigint)} vs ${typeof y === 'boolean' ? y : hex(y as bigint)}`);
  };
  GPR_NAMES.forEach((n, i) => cmp(n, k.gpr[i]!, t.gpr[i]!));
  cmp('rip', k.rip, t.rip);
  const keep = ~BigInt(flagMask | (strict ? 0 : IOPL));
  cmp('rflags', k.rflags & keep, t.rflags & keep);
  const long = (k.efer & 0x400n) !== 0n;
  for (const n of ['es', 'cs', 'ss', 'ds', 'fs', 'gs', 'ldtr', 'tr'] as const) {
    const x = k[n];
    const y = t[n];
    if (!strict && long && (n === 'ds' || n === 'es' || n === 'fs' || n === 'gs') && t.ss.dpl === 3 && y.selector < 4 && x.dpl < 3) {
      if (n === 'fs' || n === 'gs') cmp(`${n}.base`, x.base, y.base);
      continue;
    }
    cmp(`${n}.selector`, x.selector, y.selector);
    // The hidden part of a null/unusable segment is not architectural (64-bit mode, or unusable in protected mode).
    if ((x.unusable && y.unusable) || (long && n !== 'cs' && n !== 'tr' && x.selector < 4 && y.selector < 4)) {
      if (n === 'fs' || n === 'gs') cmp(`${n}.base`, x.base, y.base);
      continue;
    }
    for (const f of ['base', 'limit', 'type', 's', 'dpl', 'present', 'l', 'db', 'g'] as (keyof SegmentState)[]) {
      cmp(`${n}.${f}`, x[f] as bigint, y[f] as bigint);
    }
  }
  cmp('gdtr.base', k.gdtr.base, t.gdtr.base);
  cmp('gdtr.limit', k.gdtr.limit, t.gdtr.limit);
  cmp('idtr.base', k.idtr.base, t.idtr.base);
  cmp('idtr.limit', k.idtr.limit, t.idtr.limit);
  for (const n of ['cr0', 'cr2', 'cr3', 'cr4', 'cr8', 'efer'] as const) cmp(n, k[n], t[n]);
  cmp('halted', k.halted, t.halted);
  return d;
}

export function formatState(s: CpuState): string[] {
  const lines: string[] = [];
  const regs = GPR_NAMES.map((n, i) => `${n.padStart(3)}=${s.gpr[i]!.toString(16).padStart(16, '0')}`);
  for (let i = 0; i < 16; i += 4) lines.push(regs.slice(i, i + 4).join(' '));
  lines.push(`rip=${hex(s.rip)} rflags=${hex(s.rflags)} cr0=${hex(s.cr0)} cr2=${hex(s.cr2)} cr3=${hex(s.cr3)} cr4=${hex(s.cr4)} efer=${hex(s.efer)}`);
  const seg = (n: string, g: SegmentState) => `${n}=${hex(g.selector)}(${hex(g.base)},${hex(g.limit)},t${g.type}${g.s ? 's' : ''} dpl${g.dpl}${g.l ? ' L' : ''}${g.db ? ' D' : ''}${g.unusable ? ' unusable' : ''})`;
  lines.push([seg('cs', s.cs), seg('ss', s.ss), seg('ds', s.ds)].join(' '));
  lines.push([seg('es', s.es), seg('fs', s.fs), seg('gs', s.gs)].join(' '));
  lines.push(`gdtr=${hex(s.gdtr.base)}/${hex(s.gdtr.limit)} idtr=${hex(s.idtr.base)}/${hex(s.idtr.limit)} ${seg('tr', s.tr)}${s.halted ? ' halted' : ''}`);
  return lines;
}

/** Runs the kernel on both backends in lockstep. KVM must be usable (the caller checks). */
export function crosscheck(image: Uint8Array, opts: CrosscheckOptions): CrosscheckResult {
  const kvm = new Side('kvm', opts.ramSize, opts.output ?? (() => {}));
  const tcg = new Side('tcg', opts.ramSize, () => {});
  const cpu = (tcg.vcpu as TcgVcpu).cpu;
  const tcgBudget = opts.tcgBudget ?? 200_000_000;
  const strict = opts.strict ?? false;
  // The blocks tcg ran since the last agreement (for the report), and what each block is.
  const blocks = new Map<bigint, BlockInfo>();
  let recent: bigint[] = [];
  let pendingLin: { lin: bigint; mode: number; insns: number } | undefined;
  cpu.onTranslate = (lin, _rip, mode, insns) => (pendingLin = { lin, mode, insns });
  cpu.onBlock = (rip) => {
    if (pendingLin) {
      blocks.set(rip, pendingLin);
      pendingLin = undefined;
    }
    recent.push(rip);
    if (recent.length > 4096) recent = recent.slice(-256);
  };
  const result = (kind: CrosscheckResult['kind'], end: string, report: string[] = []): CrosscheckResult => ({
    kind, syncs, ioOps: kvm.ops, tcgInstructions: cpu.icount, end, report,
  });
  let syncs = 0;
  try {
    const loaded = [kvm, tcg].map((s) => s.board.loadKernel(image, opts.load));
    kvm.vcpu.setState(loaded[0]!.state);
    tcg.vcpu.setState(loaded[1]!.state);
    let lastAgreed = 'the initial state';
    const disasmRecent = (): string[] => {
      const lines: string[] = [];
      let shown = 0;
      const tail = recent.slice(-32);
      if (recent.length > tail.length) lines.push(`  ... ${recent.length - tail.length} earlier blocks`);
      for (const rip of tail) {
        const b = blocks.get(rip);
        if (!b) {
          lines.push(`  ${hex(rip)}: (block not known)`);
          continue;
        }
        let lin = b.lin;
        let r = rip;
        for (let n = 0; n < b.insns && shown < 400; n++, shown++) {
          const bytes = cpu.peekCode(lin);
          const insn = decode(bytes, 0, codeBits(b.mode));
          lines.push(`  ${hex(r).padStart(18)}:  ${formatIntel(insn, bytes, 0, r)}`);
          lin += BigInt(insn.length);
          r += BigInt(insn.length);
        }
      }
      return lines;
    };
    const undefinedMask = (): number => {
      if (!opts.maskUndefined) return 0;
      let m = 0;
      for (const rip of recent.slice(-64)) {
        const b = blocks.get(rip);
        if (!b) continue;
        let lin = b.lin;
        for (let n = 0; n < b.insns; n++) {
          const bytes = cpu.peekCode(lin);
          const insn = decode(bytes, 0, codeBits(b.mode));
          m |= insn.flagsUndefined;
          lin += BigInt(Math.max(1, insn.length));
        }
      }
      return m;
    };
    const diverged = (why: string, ks: CpuState, ts: CpuState, diff: string[]): CrosscheckResult =>
      result('diverged', why, [
        `DIVERGENCE at sync point ${syncs} (${why}); last agreement: ${lastAgreed}`,
        `kvm: I/O operations ${kvm.ops}${kvm.lastOp ? `, last ${fmtOp(kvm.lastOp)}` : ''}`,
        `tcg: I/O operations ${tcg.ops}${tcg.lastOp ? `, last ${fmtOp(tcg.lastOp)}` : ''}, ${cpu.icount} instructions`,
        'kvm state:', ...formatState(ks).map((l) => '  ' + l),
        'tcg state:', ...formatState(ts).map((l) => '  ' + l),
        'differences (kvm vs tcg):', ...diff.map((l) => '  ' + l),
        'tcg ran since the last agreement:', ...disasmRecent(),
      ]);

    for (;;) {
      if (opts.maxSyncs !== undefined && syncs >= opts.maxSyncs) return result('limit', `${syncs} sync points`);
      recent = [];
      let ke: VcpuExit;
      const before = kvm.ops;
      do ke = kvm.vcpu.run(1);
      while (ke.kind === 'budget' && kvm.ops === before && !kvm.board.stopRequest);
      if (ke.kind === 'error') return result('error', ke.message, [`kvm: ${ke.message}`]);
      const kvmEnded = ke.kind === 'halt' || ke.kind === 'idle' || ke.kind === 'shutdown';
      // tcg: to the same number of I/O operations, or to its own end
      tcg.stopAt = kvm.ops;
      let te: VcpuExit = { kind: 'budget' };
      const startIcount = cpu.icount;
      while (tcg.ops < kvm.ops && !tcg.board.stopRequest) {
        te = tcg.vcpu.run(1_000_000);
        if (te.kind !== 'budget' && te.kind !== 'stopped') break;
        if (cpu.icount - startIcount > tcgBudget) break;
      }
      if (kvmEnded && tcg.ops === kvm.ops && !tcg.board.stopRequest) {
        // KVM halted or shut down: tcg must do the same without further I/O
        while (te.kind === 'budget' && cpu.icount - startIcount <= tcgBudget) te = tcg.vcpu.run(1_000_000);
      }
      syncs++;
      const ks = kvm.vcpu.getState();
      let ts = tcg.vcpu.getState();
      ts = opts.perturb?.(ts, syncs) ?? ts;
      if (tcg.ops !== kvm.ops) {
        return diverged(`tcg did ${tcg.ops} I/O operations where kvm did ${kvm.ops} (tcg: ${te.kind})`, ks, ts, compareStates(ks, ts, 0, strict));
      }
      if (kvm.lastOp && tcg.lastOp && fmtOp(kvm.lastOp) !== fmtOp(tcg.lastOp)) {
        return diverged(`I/O operation ${kvm.ops} differs: kvm ${fmtOp(kvm.lastOp)}, tcg ${fmtOp(tcg.lastOp)}`, ks, ts, compareStates(ks, ts, 0, strict));
      }
      const diff = compareStates(ks, ts, undefinedMask(), strict);
      if (diff.length) return diverged('states differ', ks, ts, diff);
      lastAgreed = kvm.lastOp ? `I/O operation ${kvm.ops} (${fmtOp(kvm.lastOp)}) at rip ${hex(ks.rip)}` : `rip ${hex(ks.rip)}`;
      const req = kvm.board.stopRequest;
      if (req) return result('agree', req.kind === 'exit' ? `guest exit, status ${req.status}` : 'guest reset');
      if (ke.kind === 'halt' || ke.kind === 'shutdown') {
        if (te.kind !== ke.kind) return diverged(`kvm: ${ke.kind}, tcg: ${te.kind}`, ks, ts, diff);
        return result('agree', ke.kind === 'halt' ? 'HLT with interrupts disabled' : 'shutdown (triple fault)');
      }
      if (ke.kind === 'idle') {
        if (te.kind !== 'idle') return diverged(`kvm: idle, tcg: ${te.kind}`, ks, ts, diff);
        return result('agree', 'HLT waiting for an interrupt (interrupts are not modelled in lockstep)');
      }
    }
  } finally {
    kvm.close();
    tcg.close();
  }
}
