// Random IR programs for the JIT differential tests: straight-line code with forward branches, state loads and
// stores (partial ones too), guest memory accesses (hits, misses, page crossings, absent and read-only pages,
// MMIO, non-canonical addresses, FS/GS), helper calls (some faulting), raises and exits.
import { IrBuilder, type Label, type T, type T32, type T64 } from '../src/cpu/ir/builder.ts';
import { defineHelper } from '../src/cpu/ir/helpers.ts';
import { A, Cond, OPS, Op } from '../src/cpu/ir/ops.ts';
import type { Program } from '../src/cpu/ir/builder.ts';
import * as L from '../src/cpu/layout.ts';
import { GuestFault } from '../src/cpu/fault.ts';
import { CC_FLAGS_PROGRAMS, H_CC_FLAGS } from '../src/cpu/frontend/cc-helper.ts';
import { DATA, DATA_PAGES, type Rng } from './jit-rig.ts';

const st = (h: { i32: Int32Array; stateBase: number }, off: number) => h.i32[(h.stateBase + off) >> 2]!;

/** (u64, i32) -> u64: reads RAX, writes RCX; faults #GP(0x18) when the low byte of b is 0x5a. */
export const H_MIX = defineHelper('jit_test_mix', [64, 32], 64, true, (h, a, b) => {
  if (((b as number) & 0xff) === 0x5a) throw new GuestFault(13, 0x18);
  const rax = BigInt(st(h, L.gprOff(0))) & 0xffffffffn;
  h.i32[(h.stateBase + L.gprOff(1)) >> 2] = Number(BigInt.asIntN(32, (a as bigint) ^ BigInt(b as number)));
  return (a as bigint) + rax;
});
/** () -> void: counts its calls in a scratch word. */
export const H_COUNT = defineHelper('jit_test_count', [], 0, false, (h) => {
  h.i32[(h.stateBase + L.SCRATCH + 8) >> 2]!++;
});
/** () -> u64: returns RIP as the helper sees it (must be the calling instruction's). */
export const H_RIP = defineHelper('jit_test_rip', [], 64, false, (h) => {
  return (BigInt(st(h, L.RIP + 4) >>> 0) << 32n) | BigInt(st(h, L.RIP) >>> 0);
});
/** (i32, u64, i32) -> i32 */
export const H_THREE = defineHelper('jit_test_three', [32, 64, 32], 32, false, (_h, a, b, c) => {
  return ((a as number) * 3 + Number((b as bigint) & 0xffffn) - (c as number)) | 0;
});

const GPR_OFFS = Array.from({ length: 16 }, (_, i) => L.gprOff(i));
const CC_OFFS = [L.CC_DST, L.CC_SRC, L.CC_SRC2];
const BIN32 = [Op.ADD32, Op.SUB32, Op.MUL32, Op.AND32, Op.OR32, Op.XOR32, Op.SHL32, Op.SHR32, Op.SAR32, Op.ROTL32, Op.ROTR32,
  Op.DIVU32, Op.DIVS32, Op.REMU32, Op.REMS32];
const BIN64 = [Op.ADD64, Op.SUB64, Op.MUL64, Op.AND64, Op.OR64, Op.XOR64, Op.SHL64, Op.SHR64, Op.SAR64, Op.ROTL64, Op.ROTR64,
  Op.MULHU64, Op.MULHS64];
const DIV64 = [Op.DIVU64, Op.DIVS64, Op.REMU64, Op.REMS64];
const UN32 = [Op.NEG32, Op.NOT32, Op.CLZ32, Op.CTZ32, Op.POPCNT32, Op.BSWAP32, Op.ZEXT8, Op.ZEXT16, Op.SEXT8, Op.SEXT16, Op.MOV32];
const UN64 = [Op.NEG64, Op.NOT64, Op.CLZ64, Op.CTZ64, Op.POPCNT64, Op.BSWAP64, Op.MOV64];

export interface GenOptions {
  ops: number;
  /** Emit memory accesses. */
  memory?: boolean;
  /** Emit helper calls. */
  helpers?: boolean;
  /** Touch RIP directly (the JIT then keeps RIP in memory like the interpreter). */
  ripAccess?: boolean;
}

export function randomProgram(rng: Rng, o: GenOptions): ReturnType<IrBuilder['finish']> {
  const b = new IrBuilder();
  let p32: T32[] = [];
  let p64: T64[] = [];
  const open: { l: Label; n32: number; n64: number; left: number }[] = [];
  let rip = 0x100000n + BigInt(rng.int(0x1000));
  let insns = 0;

  const v32 = (): T32 => (p32.length && rng.chance(0.85) ? rng.pick(p32) : b.const32(Number(BigInt.asIntN(32, rng.val64()))));
  const v64 = (): T64 => (p64.length && rng.chance(0.85) ? rng.pick(p64) : b.const64(rng.val64()));
  const add32 = (t: T32) => { p32.push(t); };
  const add64 = (t: T64) => { p64.push(t); };
  const insn = () => {
    const len = 1 + rng.int(15);
    b.insn(rip, len);
    rip += BigInt(len);
    insns++;
  };
  const stateOff = (size: number): number => {
    const r = rng.int(10);
    if (r < 6) {
      const g = rng.pick(GPR_OFFS);
      return size === 1 ? g + rng.pick([0, 0, 1, 7]) : size === 2 ? g + rng.pick([0, 0, 2, 6]) : size === 4 ? g + rng.pick([0, 0, 4]) : g;
    }
    if (r < 8) return rng.pick(CC_OFFS) + (size === 4 ? rng.pick([0, 4]) : 0);
    if (r < 9) return L.SCRATCH + 16 + rng.int(4) * 8;
    return o.ripAccess ? L.RIP : L.gprOff(0);
  };
  const address = (): { seg: number; addr: T64; size: 1 | 2 | 4 | 8 } => {
    const size = rng.pick([1, 2, 4, 8] as const);
    const r = rng.int(20);
    let seg = rng.pick([-1, 0, 2, 3, 3, 3]);
    let a: bigint;
    if (r < 12) a = BigInt(DATA + rng.int(DATA_PAGES * 4096 - 8));
    else if (r < 14) a = BigInt(DATA + rng.int(DATA_PAGES) * 4096 + 4096 - 1 - rng.int(7)); // page crossing (maybe)
    else if (r < 15) a = BigInt(DATA + rng.int(DATA_PAGES) * 4096 + 4096 * 256); // absent
    else if (r < 16) a = 0x10000000n + BigInt(rng.int(4096)); // MMIO (nothing mapped)
    else if (r < 17) a = BigInt.asUintN(64, rng.pick([0x800000000000n, -0x800000000001n, 0x123400000000000n]) + BigInt(rng.int(64)));
    else {
      seg = rng.pick([4, 5]);
      a = BigInt(rng.int(0x3000));
    }
    let addr = b.const64(a);
    if (p64.length && rng.chance(0.3)) addr = b.bin64(Op.ADD64, addr, b.bin64(Op.AND64, rng.pick(p64), b.const64(0x1f)));
    return { seg, addr, size };
  };

  insn();
  for (let i = 0; i < o.ops; i++) {
    // close branches whose region is done
    for (let k = open.length - 1; k >= 0; k--) {
      if (--open[k]!.left > 0) continue;
      while (open.length > k) {
        const x = open.pop()!;
        b.place(x.l);
        p32 = p32.slice(0, x.n32);
        p64 = p64.slice(0, x.n64);
      }
      break;
    }
    const r = rng.int(100);
    if (r < 8) insn();
    else if (r < 28) add32(b.bin32(rng.pick(BIN32), v32(), v32()));
    else if (r < 43) add64(b.bin64(rng.pick(BIN64), v64(), v64()));
    else if (r < 45) add64(b.bin64(rng.pick(DIV64), v64(), b.bin64(Op.OR64, v64(), b.const64(rng.chance(0.5) ? 1 : 0x8000000000000000n))));
    else if (r < 50) add32(b.un32(rng.pick(UN32), v32()));
    else if (r < 54) add64(b.un64(rng.pick(UN64), v64()));
    else if (r < 58) {
      switch (rng.int(7)) {
        case 0: add64(b.zext64(v32())); break;
        case 1: add64(b.sext64(v32())); break;
        case 2: add32(b.lo32(v64())); break;
        case 3: add32(b.hi32(v64())); break;
        case 4: add64(b.pair64(v32(), v32())); break;
        case 5: { const d = b.t64(); b.emit(rng.chance(0.5) ? Op.MULU32W : Op.MULS32W, d, v32(), v32()); add64(d); break; }
        default: add32(rng.chance(0.5) ? b.setcc32(rng.int(10) as Cond, v32(), v32()) : b.setcc64(rng.int(10) as Cond, v64(), v64()));
      }
    } else if (r < 61) {
      if (rng.chance(0.5)) add32(b.select32(v32(), v32(), v32()));
      else add64(b.select64(v32(), v64(), v64()));
    } else if (r < 70) {
      const size = rng.pick([1, 2, 4, 8] as const);
      const off = stateOff(size);
      if (size === 8) add64(b.ld64(off));
      else add32(size === 4 ? b.ld32(off) : size === 2 ? b.ld16(off) : b.ld8(off));
    } else if (r < 80) {
      const size = rng.pick([1, 2, 4, 8, 8] as const);
      const off = stateOff(size);
      if (off === L.RIP && size !== 8) continue;
      if (size === 8) b.st64(off, v64());
      else if (size === 4) b.st32(off, v32());
      else if (size === 2) b.st16(off, v32());
      else b.st8(off, v32());
      if (rng.chance(0.1)) b.st32(L.CC_OP, b.const32(rng.int(CC_FLAGS_PROGRAMS)));
    } else if (r < 88 && o.memory) {
      const { seg, addr, size } = address();
      if (rng.chance(0.5)) {
        const t = b.ldm(size, seg, addr);
        if (size === 8) add64(t as T64);
        else add32(t as T32);
      } else b.stm(size, seg, addr, size === 8 ? v64() : v32());
      if (rng.chance(0.05)) b.st64(L.segOff(4) + L.SEG_BASE, b.const64(DATA + rng.int(4) * 0x1000));
    } else if (r < 91 && o.helpers) {
      switch (rng.int(5)) {
        case 0: add64(b.call(H_MIX, [v64(), rng.chance(0.1) ? b.const32(0x5a) : v32()], 64) as T64); break;
        case 1: b.call(H_COUNT, []); break;
        case 2: add64(b.call(H_RIP, [], 64) as T64); break;
        case 3: add32(b.call(H_THREE, [v32(), v64(), v32()], 32) as T32); break;
        default: b.st32(L.CC_OP, b.const32(rng.chance(0.03) ? 1000 : rng.int(CC_FLAGS_PROGRAMS))); add32(b.call(H_CC_FLAGS, [], 32) as T32);
      }
    } else if (r < 95) {
      // a forward branch over the next few ops
      const l = b.label();
      const c = v32();
      if (rng.chance(0.15)) b.br(l);
      else if (rng.chance(0.5)) b.brz(c, l);
      else b.brnz(c, l);
      open.push({ l, n32: p32.length, n64: p64.length, left: 1 + rng.int(12) });
    } else if (r < 96 && open.length) {
      if (rng.chance(0.5)) b.raise(rng.pick([0, 6, 13]), rng.pick([-1, 0, 8]));
      else b.exit(v64());
    } else if (r < 97 && rng.chance(0.3)) {
      // a two-way exit like a conditional jump ends a block, with code after it behind a label
      const l = b.label();
      b.brz(v32(), l);
      b.exitTo(rip + 100n);
      b.place(l);
    }
  }
  while (open.length) {
    const x = open.pop()!;
    b.place(x.l);
    p32 = p32.slice(0, x.n32);
    p64 = p64.slice(0, x.n64);
  }
  // end: store a few temps so their values are visible, then exit
  for (let k = 0; k < 4; k++) {
    if (p64.length) b.st64(L.SCRATCH + 32 + 8 * k, rng.pick(p64));
  }
  if (p32.length) b.st32(L.SCRATCH + 24, rng.pick(p32));
  if (rng.chance(0.5)) b.exitTo(rip);
  else b.exit(v64());
  void insns;
  return b.finish();
}

export type { T };

/** Checks that every temp is defined on every path before its use (the IR's rule); returns a problem or null. */
export function checkDefs(p: Program): string | null {
  const c = p.code;
  let def = new Uint8Array(p.widths.length);
  const atLabel: (Uint8Array | undefined)[] = [];
  let reach = true;
  const merge = (l: number) => {
    const x = atLabel[l];
    if (!x) atLabel[l] = def.slice();
    else for (let i = 0; i < x.length; i++) x[i]! &= def[i]!;
  };
  for (let pc = 0; pc < c.length; pc += 1 + OPS[c[pc]!]!.args.length) {
    const o = c[pc]!;
    const d = OPS[o]!;
    if (o === Op.LABEL) {
      if (reach) merge(c[pc + 1]!);
      const x = atLabel[c[pc + 1]!];
      reach = !!x;
      if (x) def = x.slice();
      continue;
    }
    if (!reach) continue;
    for (let a = 0; a < d.args.length; a++) {
      const k = d.args[a];
      const v = c[pc + 1 + a]!;
      if ((k === A.S32 || k === A.S64 || (k === A.ANY && a > 0)) && v >= 0 && !def[v]) return `use of undefined temp ${v} at ${pc}`;
    }
    if (d.args[0] === A.D32 || d.args[0] === A.D64 || (o === Op.CALL && c[pc + 1]! >= 0)) def[c[pc + 1]!] = 1;
    if (o === Op.BR) {
      merge(c[pc + 1]!);
      reach = false;
    }
    if (o === Op.BRZ || o === Op.BRNZ) merge(c[pc + 2]!);
    if (o === Op.EXIT || o === Op.EXITI || o === Op.RAISE) reach = false;
  }
  return null;
}
