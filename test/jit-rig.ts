// Differential test rig for the JIT: one machine in long mode (booted from a tiny ELF64), whose whole memory
// (RAM, CPU state block, TLB) is snapshotted, then each program is run once by the IR interpreter and once as
// compiled WebAssembly from the same snapshot; the outcome, the instruction count and every byte of memory must
// agree.
//
// Memory map of the rig (RAM 4 MiB): 0x200000-0x2fffff is data mapped through a 4 KiB page table (so single
// pages can be absent, read-only or not yet dirty); the rest is the loader's identity map with 2 MiB pages.
import { Machine } from '../src/machine/machine.ts';
import type { Cpu } from '../src/cpu/cpu.ts';
import type { Program } from '../src/cpu/ir/builder.ts';
import { interpret } from '../src/cpu/ir/interp.ts';
import * as L from '../src/cpu/layout.ts';
import { GuestFault } from '../src/cpu/fault.ts';
import { Access } from '../src/cpu/mmu.ts';
import { CC_FLAGS_PROGRAMS } from '../src/cpu/frontend/cc-helper.ts';
import { ATTR_DB, ATTR_L } from '../src/cpu/segattr.ts';
import { JitRuntime, compileProgram } from '../src/jit/compiler.ts';
import { formatProgram } from '../src/jit/ir-print.ts';
import { buildKernel } from './loader-build.ts';

export const DATA = 0x200000;
export const DATA_PAGES = 256;
const PT = 0x3f0000; // the 4 KiB page table for the data region
const PD = 0xb000; // loader's first page directory (PD_ADDR)

/** Data pages with special mappings. */
export const pageKind = (i: number): 'absent' | 'readonly' | 'clean' | 'code' | 'normal' =>
  i % 16 === 5 ? 'absent' : i % 16 === 9 ? 'readonly' : i % 16 === 12 ? 'clean' : i % 32 === 14 ? 'code' : 'normal';

export class Rng {
  constructor(private s: number) {}
  next(): number {
    // xorshift32
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (this.s = x) >>> 0;
  }
  int(n: number): number {
    return this.next() % n;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }
  chance(p: number): boolean {
    return this.next() / 0x100000000 < p;
  }
  u64(): bigint {
    return (BigInt(this.next()) << 32n) | BigInt(this.next());
  }
  /** Interesting 64-bit values: edges, small, random. */
  val64(): bigint {
    switch (this.int(6)) {
      case 0: return this.pick([0n, 1n, 0x7fn, 0x80n, 0xffn, 0x7fffn, 0x8000n, 0xffffn, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n,
        0x7fffffffffffffffn, 0x8000000000000000n, 0xffffffffffffffffn, 0xfffffffffffffffen]);
      case 1: return BigInt(this.int(64));
      case 2: return BigInt.asUintN(64, -BigInt(this.int(300)));
      default: return this.u64();
    }
  }
}

export interface Outcome {
  result: string;
  icount: number;
}

export interface RigOptions {
  /** Run at CPL 3 (user pages). */
  user?: boolean;
  /** Compatibility mode (32-bit code segment): every access takes the slow path. */
  compat?: boolean;
  seed?: number;
  /** Kernel source (AT&T syntax, `_start` at 0x100000); default a lone hlt. */
  kernel?: string;
}

export class JitRig {
  readonly m: Machine;
  readonly cpu: Cpu;
  readonly rt: JitRuntime;
  private snap!: Uint8Array;
  private codePages!: Uint8Array;

  constructor(readonly opts: RigOptions = {}) {
    this.m = new Machine({ ramSize: 4 << 20 });
    this.m.load(buildKernel(opts.kernel ?? '.globl _start\n_start: hlt\n', { bits: 64 }));
    this.cpu = this.m.cpu;
    this.rt = new JitRuntime(this.cpu);
    const cpu = this.cpu;
    const dv = cpu.dv;
    const user = opts.user ? 4 : 0;
    // 4 KiB page table for 2-3 MiB (the rest of the 2 MiB region is absent)
    for (let i = 0; i < 512; i++) {
      const k = i < DATA_PAGES ? pageKind(i) : 'absent';
      const pte = k === 'absent' ? 0 : (DATA + i * 4096) | 1 | user | (k === 'readonly' ? 0 : 2) | (k === 'normal' || k === 'code' ? 0x60 : 0);
      dv.setUint32(PT + i * 8, pte, true);
      dv.setUint32(PT + i * 8 + 4, 0, true);
    }
    dv.setUint32(PD + 8, PT | 3 | user, true);
    if (user) {
      // user bit on every level and on the identity-mapped 2 MiB pages
      dv.setUint32(0x9000, dv.getUint32(0x9000, true) | 4, true);
      for (let i = 0; i < 4; i++) dv.setUint32(0xa000 + i * 8, dv.getUint32(0xa000 + i * 8, true) | 4, true);
      for (let i = 0; i < 2048; i++) if (i !== 1) dv.setUint32(PD + i * 8, dv.getUint32(PD + i * 8, true) | 4, true);
      cpu.set32(L.CPL, 3);
    }
    if (opts.compat) {
      const a = L.segOff(1) + L.SEG_ATTR;
      cpu.set32(a, (cpu.get32(a) & ~ATTR_L) | ATTR_DB);
    }
    cpu.updateMode();
    cpu.mmu.flushAll();
    cpu.set64(L.segOff(4) + L.SEG_BASE, BigInt(DATA));
    cpu.set64(L.segOff(5) + L.SEG_BASE, BigInt(DATA + 0x1000));
    const rng = new Rng(opts.seed ?? 1);
    for (let i = 0; i < DATA_PAGES * 4096; i += 4) dv.setUint32(DATA + i, rng.next(), true);
    // warm the TLB for most pages, so both the inline hit and the slow path get exercised
    const isUser = !!opts.user;
    for (let i = 0; i < DATA_PAGES; i++) {
      const k = pageKind(i);
      if (k === 'absent' || i % 8 === 3) continue;
      const lo = DATA + i * 4096;
      cpu.mmu.translate(lo, 0, Access.Read, isUser);
      if (k === 'normal') cpu.mmu.translate(lo, 0, Access.Write, isUser);
    }
    for (let i = 0; i < DATA_PAGES; i++) if (pageKind(i) === 'code') cpu.mmu.markCode((DATA >> 12) + i);
    this.randomState(rng);
    this.snapshot();
  }

  /** Random registers (`pointers`: the share that point into the data region) and lazy flags. */
  randomState(rng: Rng, pointers = 0.5): void {
    const cpu = this.cpu;
    for (let i = 0; i < 16; i++) {
      cpu.set64(L.gprOff(i), rng.chance(pointers) ? BigInt(DATA + rng.int(DATA_PAGES * 4096)) : rng.val64());
    }
    cpu.set32(L.CC_OP, rng.int(CC_FLAGS_PROGRAMS));
    cpu.set64(L.CC_DST, rng.val64());
    cpu.set64(L.CC_SRC, rng.val64());
    cpu.set64(L.CC_SRC2, rng.val64() & 1n);
    cpu.rip = 0x100000n;
  }

  snapshot(): void {
    this.snap = new Uint8Array(this.cpu.memory.memory.buffer).slice();
    this.codePages = this.cpu.mmu.codePages.slice();
  }

  restore(): void {
    new Uint8Array(this.cpu.memory.memory.buffer).set(this.snap);
    this.cpu.mmu.codePages.set(this.codePages);
    this.cpu.icount = 1000;
    this.cpu.hi64 = 0;
  }

  private outcome(run: () => void): Outcome {
    let result = 'ok';
    try {
      run();
    } catch (e) {
      result = e instanceof GuestFault ? `fault ${e}` : `error ${(e as Error).message}`;
    }
    return { result, icount: this.cpu.icount - 1000 };
  }

  /** Runs `p` in the interpreter from the snapshot. */
  runInterp(p: Program): Outcome {
    this.restore();
    return this.outcome(() => interpret(p, this.cpu));
  }

  /** Compiles `p` and runs it from the snapshot. */
  runJit(p: Program, inlineTlb = true): Outcome {
    const { fn } = compileProgram(this.rt, p, { stateBase: this.cpu.stateBase, mode: this.cpu.mode, inlineTlb });
    this.restore();
    const cpu = this.cpu;
    return this.outcome(() => {
      const base = cpu.icount;
      this.rt.base = base;
      cpu.icount = base + fn(0, 0);
    });
  }

  private after?: Uint8Array;
  /** The interpreter's outcome of the last compare(). */
  last?: Outcome;

  /** Runs both ways; returns a description of the first difference, or null. */
  compare(p: Program, inlineTlb = true): string | null {
    const a = this.runInterp(p);
    this.last = a;
    const mem = new Uint8Array(this.cpu.memory.memory.buffer);
    const after = (this.after ??= new Uint8Array(mem.length));
    after.set(mem);
    const b = this.runJit(p, inlineTlb);
    const diffs: string[] = [];
    if (a.result !== b.result) diffs.push(`outcome: interpreter ${a.result}, jit ${b.result}`);
    if (a.icount !== b.icount) diffs.push(`icount: interpreter ${a.icount}, jit ${b.icount}`);
    if (Buffer.compare(after, mem) !== 0) {
      const sb = this.cpu.stateBase;
      let shown = 0;
      for (let i = 0; i < mem.length && shown < 8; i++) {
        if (after[i] === mem[i]) continue;
        const where = i >= sb ? `state+${i - sb}` : `ram 0x${i.toString(16)}`;
        diffs.push(`${where}: interpreter ${after[i]!.toString(16)}, jit ${mem[i]!.toString(16)}`);
        shown++;
        i |= 7; // one line per 8-byte slot
      }
    }
    return diffs.length ? `${diffs.join('\n')}\n(interpreter: ${a.result})\n${formatProgram(p)}` : null;
  }
}
