// The x87 instructions' data operations as helpers (one definition, run by the interpreter and the JIT): arithmetic,
// comparisons, loads, stores, and the register-stack operations. The front end (frontend/x87-*.ts) stages memory
// operands at FTMP and passes an encoded operation word; stores come back at FTMP with a "store it" result.
//
// Every helper: reads FCW, computes with the exact arithmetic of arith.ts, writes the destination unless an
// unmasked IE/DE/ZE (or stack fault) stops the instruction, then commits the flags it raised to FSW (C1, the
// exception flags, ES and B when one of them is unmasked). Unmasked exceptions are reported by the next waiting
// instruction (#MF), which the front end checks.
import { defineHelper } from '../ir/helpers.ts';
import type { IrHost } from '../ir/interp.ts';
import * as L from '../layout.ts';
import {
  B, C0, C1, C2, C3, DE, ES, IE, PE, fcw, isEmpty, phys, pop, push, rd16, rd32, rd64, readPhys, readSt,
  setTop, setValid, stEmpty, top, wr16, wr32, wr64, writeSt, type F80,
} from './regs.ts';
import { Cls, FMT32, FMT64, FROM, TO, classify, exact, fromBits, indefBits, indefinite, isNaN80, quiet, toBits, zero80 } from './f80.ts';
import { CW, X, add, commit, div, mul, raise, resetX, setCw, stackFault } from './arith.ts';
import { BCD, RI, bcdToF80, compare, intToF80, roundInt, toBcd } from './convert.ts';
import { fprem, frndint, fscale, fsqrt, fxtract } from './ops2.ts';
import { ZF, PF, CF } from '../frontend/flags.ts';

/** Memory operand kinds (staged at FTMP) and ST(i). */
export const enum K {
  ST = 0, M32 = 1, M64 = 2, I16 = 3, I32 = 4, I64 = 5, M80 = 6, BCD = 7, I16T = 8, I32T = 9, I64T = 10,
}

/** Starts an instruction: no flags raised yet, the control word's settings. */
function begin(h: IrHost): void {
  resetX();
  setCw(fcw(h));
}


/** ST(7) holds a value: a push would overflow. */
const pushOverflows = (h: IrHost): boolean => !isEmpty(h, (top(h) - 1) & 7);

/** The staged memory operand of kind k as F80 (X.srcDenormal set for binary32/64 denormals). */
function memSrc(h: IrHost, k: K): F80 {
  switch (k) {
    case K.M32: {
      const v = fromBits(BigInt(rd32(h, L.FTMP) >>> 0), FMT32);
      X.srcDenormal = FROM.denormal;
      return v;
    }
    case K.M64: {
      const v = fromBits(rd64(h, L.FTMP), FMT64);
      X.srcDenormal = FROM.denormal;
      return v;
    }
    case K.I16: return intToF80(BigInt(rd16(h, L.FTMP)), 16);
    case K.I32: return intToF80(BigInt(rd32(h, L.FTMP)), 32);
    case K.I64: return intToF80(rd64(h, L.FTMP), 64);
    case K.BCD: return bcdToF80(rd64(h, L.FTMP), rd16(h, L.FTMP + 8));
    default: return { se: rd16(h, L.FTMP + 8), m: rd64(h, L.FTMP) };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Arithmetic: dst = dst op src. Code: op (bits 0-2, the D8 /reg order: add mul - - sub subr div divr), source kind
// (4-7), dst ST index (8-10), src ST index (11-13), pop (14).

export const H_ARITH = defineHelper('x87_arith', [32], 0, false, (h, c) => {
  const code = c as number;
  const op = code & 7, k = ((code >> 4) & 15) as K, d = (code >> 8) & 7, s = (code >> 11) & 7, popIt = code & 0x4000;
  begin(h);
  let r: F80 | null;
  if (stEmpty(h, d) || (k === K.ST && stEmpty(h, s))) {
    r = stackFault(false) ? indefinite() : null;
  } else {
    const a = readSt(h, d);
    const b = k === K.ST ? readSt(h, s) : memSrc(h, k);
    switch (op) {
      case 0: r = add(a, b, false); break;
      case 1: r = mul(a, b); break;
      case 4: r = add(a, b, true); break;
      case 5: r = add(b, a, true); break;
      case 6: r = div(a, b); break;
      default: r = div(b, a); break;
    }
  }
  if (r) {
    writeSt(h, d, r);
    if (popIt) pop(h);
  }
  commit(h);
});

// ---------------------------------------------------------------------------------------------------------------
// Comparisons. Code: source kind (4-7), src ST index (8-10), pops (11-12), unordered-quiet fucom (13), EFLAGS
// result fcomi (14), compare with +0 ftst (15). Returns the ZF/PF/CF word for fcomi forms, -1 for "unchanged".

const CMP_CC = [C0, C3, 0, C3 | C2 | C0]; // less, equal, greater, unordered -> C3 C2 C0
const CMP_FL = [CF, ZF, 0, ZF | PF | CF];

export const H_CMP = defineHelper('x87_cmp', [32], 32, false, (h, c) => {
  const code = c as number;
  const k = ((code >> 4) & 15) as K, s = (code >> 8) & 7;
  let pops = (code >> 11) & 3;
  const quietNaN = (code & 0x2000) !== 0, eflags = (code & 0x4000) !== 0, tst = (code & 0x8000) !== 0;
  begin(h);
  let res = -1; // 0 less, 1 equal, 2 greater, 3 unordered
  if (stEmpty(h, 0) || (k === K.ST && !tst && stEmpty(h, s))) {
    // unordered even when IE is unmasked (then without the pops)
    if (!stackFault(false)) pops = 0;
    res = 3;
  } else {
    const a = readSt(h, 0);
    const b = tst ? zero80(0) : k === K.ST ? readSt(h, s) : memSrc(h, k);
    const ca = classify(a), cb = classify(b);
    // an unmasked exception still sets the condition codes, but keeps the stack (no pops)
    let stop = false;
    const unordered = isNaN80(ca) || isNaN80(cb) || ca === Cls.Unsupported || cb === Cls.Unsupported;
    if (ca === Cls.Unsupported || cb === Cls.Unsupported || ca === Cls.SNaN || cb === Cls.SNaN) stop = raise(IE);
    else if (unordered) stop = quietNaN ? false : raise(IE);
    else if (ca === Cls.Denormal || cb === Cls.Denormal || X.srcDenormal) stop = raise(DE);
    res = unordered ? 3 : compare(a, b) + 1;
    if (stop) pops = 0;
  }
  if (res >= 0) for (let i = 0; i < pops; i++) pop(h);
  X.c1 = 0;
  if (eflags) {
    commit(h);
    return res >= 0 ? CMP_FL[res]! : -1;
  }
  commit(h, res >= 0 ? C0 | C2 | C3 : 0, res >= 0 ? CMP_CC[res]! : 0);
  return -1;
});

// ---------------------------------------------------------------------------------------------------------------
// Loads (push). Code: kind (0-3: K.ST/M32/M64/I16 ...; 16+n: constant n), src ST index (8-10).

/** The constants' 64-bit significands truncated, whether the dropped bits round up to nearest, and exponents. */
const CONSTS: { m: bigint; e: number; rnUp: boolean; exact: boolean }[] = [
  { m: 1n << 63n, e: 0x3fff, rnUp: false, exact: true }, // fld1
  { m: 0xd49a784bcd1b8afen, e: 0x4000, rnUp: false, exact: false }, // fldl2t
  { m: 0xb8aa3b295c17f0bbn, e: 0x3fff, rnUp: true, exact: false }, // fldl2e
  { m: 0xc90fdaa22168c234n, e: 0x4000, rnUp: true, exact: false }, // fldpi
  { m: 0x9a209a84fbcff798n, e: 0x3ffd, rnUp: true, exact: false }, // fldlg2
  { m: 0xb17217f7d1cf79abn, e: 0x3ffe, rnUp: true, exact: false }, // fldln2
  { m: 0n, e: 0, rnUp: false, exact: true }, // fldz
];

function constant(n: number): F80 {
  const c = CONSTS[n]!;
  // rounded by RC (all are positive): up for "up", and for nearest when the dropped bits are above half
  const up = !c.exact && (CW.rc === 2 || (CW.rc === 0 && c.rnUp));
  return { se: c.e, m: up ? c.m + 1n : c.m };
}

export const H_LOAD = defineHelper('x87_load', [32], 0, false, (h, c) => {
  const code = c as number;
  const k = code & 31, s = (code >> 8) & 7;
  begin(h);
  let v: F80 | null = null;
  if (k === K.ST && stEmpty(h, s)) {
    if (stackFault(false)) v = indefinite();
    if (v && pushOverflows(h)) v = stackFault(true) ? indefinite() : null;
  } else if (pushOverflows(h)) {
    if (stackFault(true)) v = indefinite();
  } else if (k >= 16) {
    v = constant(k - 16);
  } else if (k === K.ST) {
    v = readSt(h, s);
  } else {
    v = memSrc(h, k as K);
    if (k === K.M32 || k === K.M64) {
      const cl = classify(v);
      if (cl === Cls.SNaN) v = raise(IE) ? null : quiet(v);
      else if (X.srcDenormal) X.exc |= DE; // loaded even when DE is unmasked
    }
  }
  if (v) push(h, v);
  commit(h);
});

// ---------------------------------------------------------------------------------------------------------------
// Stores from ST0. Code: kind (0-4: K), dst ST index (8-10), pop (14). Memory results go to FTMP; returns 1 when
// the front end must store them.

const INT_BITS: Partial<Record<K, number>> = { [K.I16]: 16, [K.I32]: 32, [K.I64]: 64, [K.I16T]: 16, [K.I32T]: 32, [K.I64T]: 64 };

function stageIndefinite(h: IrHost, k: K): void {
  switch (k) {
    case K.M32: wr32(h, L.FTMP, Number(indefBits(FMT32) | 0n) | 0); break;
    case K.M64: wr64(h, L.FTMP, indefBits(FMT64)); break;
    case K.M80: wr64(h, L.FTMP, 0xc000000000000000n); wr16(h, L.FTMP + 8, 0xffff); break;
    case K.BCD: wr64(h, L.FTMP, 0xc000000000000000n); wr16(h, L.FTMP + 8, 0xffff); break;
    default: wr64(h, L.FTMP, 1n << BigInt(INT_BITS[k]! - 1)); break;
  }
}

/** Converts ST0 to memory kind k into FTMP; false when an unmasked exception leaves memory alone. */
function storeValue(h: IrHost, v: F80, k: K): boolean {
  if (k === K.M80) {
    wr64(h, L.FTMP, v.m);
    wr16(h, L.FTMP + 8, v.se);
    return true;
  }
  if (k === K.M32 || k === K.M64) {
    const f = k === K.M32 ? FMT32 : FMT64;
    const bits = toBits(v, f, CW.rc, CW.masks);
    if (TO.exc & IE && raise(IE)) return false;
    X.exc |= TO.exc;
    X.c1 = TO.c1;
    if (!TO.store) return false;
    if (k === K.M32) wr32(h, L.FTMP, Number(bits) | 0);
    else wr64(h, L.FTMP, bits);
    return true;
  }
  // integers and BCD: round by RC (FISTTP: toward zero); NaN, infinity and out of range are invalid
  const cl = classify(v);
  const bits = INT_BITS[k] ?? 0;
  let ok = cl === Cls.Zero || cl === Cls.Normal || cl === Cls.Denormal;
  let q = 0n;
  const x = exact(v);
  if (ok) {
    roundInt(x, k >= K.I16T ? 3 : CW.rc);
    q = RI.q;
    if (k === K.BCD) ok = q < 1000000000000000000n;
    else ok = x.sign ? q <= 1n << BigInt(bits - 1) : q < 1n << BigInt(bits - 1);
  }
  if (!ok) {
    if (raise(IE)) return false;
    stageIndefinite(h, k);
    return true;
  }
  if (RI.inexact) {
    X.exc |= PE;
    X.c1 = RI.up ? 1 : 0;
  }
  if (k === K.BCD) {
    toBcd(q, x.sign);
    wr64(h, L.FTMP, BCD.lo);
    wr16(h, L.FTMP + 8, BCD.hi);
  } else wr64(h, L.FTMP, BigInt.asUintN(64, x.sign ? -q : q));
  return true;
}

export const H_STORE = defineHelper('x87_store', [32], 32, false, (h, c) => {
  const code = c as number;
  const k = (code & 15) as K, d = (code >> 8) & 7, popIt = code & 0x4000;
  begin(h);
  let done: boolean;
  if (stEmpty(h, 0)) {
    done = stackFault(false);
    if (done) {
      if (k === K.ST) writeSt(h, d, indefinite());
      else stageIndefinite(h, k);
    }
  } else if (k === K.ST) {
    writeSt(h, d, readSt(h, 0));
    done = true;
  } else done = storeValue(h, readSt(h, 0), k);
  if (done && popIt) pop(h);
  commit(h);
  return done && k !== K.ST ? 1 : 0;
});

// ---------------------------------------------------------------------------------------------------------------
// Register-stack and one-operand operations. Code: operation (0-7 bits), ST index (8-10); the second argument is
// FCMOVcc's condition.

export const enum M {
  CHS, ABS, XCH, FREE, FREEP, INCSTP, DECSTP, CMOV, XAM, RNDINT, SQRT, SCALE, XTRACT, PREM, PREM1, NOP,
}

/** C3 C2 C0 of FXAM by class. */
const XAM_CC: Record<number, number> = {
  [Cls.Unsupported]: 0, [Cls.QNaN]: C0, [Cls.SNaN]: C0, [Cls.Normal]: C2, [Cls.Inf]: C2 | C0, [Cls.Zero]: C3,
  [Cls.Denormal]: C3 | C2,
};

export const H_MISC = defineHelper('x87_misc', [32, 32], 0, false, (h, c, arg) => {
  const code = c as number;
  const op = (code & 0xff) as M, i = (code >> 8) & 7;
  begin(h);
  switch (op) {
    case M.CHS:
    case M.ABS: {
      if (stEmpty(h, 0)) {
        if (stackFault(false)) writeSt(h, 0, indefinite());
      } else {
        const v = readSt(h, 0);
        writeSt(h, 0, { se: op === M.CHS ? v.se ^ 0x8000 : v.se & 0x7fff, m: v.m });
      }
      return commit(h);
    }
    case M.XCH: {
      let a = readSt(h, 0), b = readSt(h, i);
      if (stEmpty(h, 0) || stEmpty(h, i)) {
        if (!stackFault(false)) return commit(h);
        if (stEmpty(h, 0)) a = indefinite();
        if (stEmpty(h, i)) b = indefinite();
      }
      writeSt(h, 0, b);
      writeSt(h, i, a);
      return commit(h);
    }
    case M.FREE:
    case M.FREEP:
      setValid(h, phys(h, i), false);
      if (op === M.FREEP) setTop(h, top(h) + 1);
      return commit(h, 0, 0, true);
    case M.INCSTP:
    case M.DECSTP:
      setTop(h, top(h) + (op === M.INCSTP ? 1 : -1));
      return commit(h);
    case M.CMOV:
      if (stEmpty(h, 0) || stEmpty(h, i)) {
        if (stackFault(false)) writeSt(h, 0, indefinite()); // whatever the condition
      } else if (arg) writeSt(h, 0, readSt(h, i));
      return commit(h);
    case M.XAM: {
      const p = phys(h, 0);
      const v = readPhys(h, p);
      const cc = isEmpty(h, p) ? C3 | C0 : XAM_CC[classify(v)]!;
      X.c1 = v.se >> 15;
      return commit(h, C0 | C2 | C3, cc);
    }
    case M.NOP:
      return commit(h, 0, 0, true);
    default:
      return oneOperand(h, op);
  }
});

/** FSQRT, FRNDINT, FSCALE, FXTRACT, FPREM, FPREM1: the stack checks around ops2.ts's value operations. */
function oneOperand(h: IrHost, op: M): void {
  const two = op === M.SCALE || op === M.PREM || op === M.PREM1;
  if (stEmpty(h, 0) || (two && stEmpty(h, 1))) {
    if (stackFault(false)) {
      writeSt(h, 0, indefinite());
      if (op === M.XTRACT && !pushOverflows(h)) push(h, indefinite());
    }
    return commit(h);
  }
  const a = readSt(h, 0);
  switch (op) {
    case M.SQRT: {
      const r = fsqrt(a);
      if (r) writeSt(h, 0, r);
      return commit(h);
    }
    case M.RNDINT: {
      const r = frndint(a);
      if (r) writeSt(h, 0, r);
      return commit(h);
    }
    case M.SCALE: {
      const r = fscale(a, readSt(h, 1));
      if (r) writeSt(h, 0, r);
      return commit(h);
    }
    case M.XTRACT: {
      if (pushOverflows(h)) {
        if (stackFault(true)) {
          writeSt(h, 0, indefinite());
          push(h, indefinite());
        }
        return commit(h);
      }
      const r = fxtract(a);
      if (r) {
        writeSt(h, 0, r[0]);
        push(h, r[1]);
      }
      return commit(h);
    }
    default: {
      const r = fprem(a, readSt(h, 1), op === M.PREM1);
      if (r) writeSt(h, 0, r.v);
      return commit(h, r ? C0 | C2 | C3 : 0, r ? r.cc : 0);
    }
  }
}
