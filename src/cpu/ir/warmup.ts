// Type feedback for the IR interpreter before a guest runs. V8 optimises the interpreter's one large switch
// function and deoptimises it whenever a case runs that it never saw (no feedback there); each time the whole
// function runs unoptimised until its next optimisation (~100 ms of compiling here). Booting Linux did this about
// 30 times. Running every op once, with values that overflow int32 arithmetic, before the guest starts leaves
// feedback in every case: the measured boot then deoptimised it 3 times and took ~10% less time.
import { IrBuilder, type Program, type T, type T32, type T64 } from './builder.ts';
import { A, OPS, Op } from './ops.ts';
import { defineHelper } from './helpers.ts';
import { interpret, type IrHost } from './interp.ts';
import { SCRATCH } from '../layout.ts';
import { GuestFault } from '../fault.ts';

const H_WARM = defineHelper('warmup_mix', [64, 32], 64, false, (_h, a, b) => (a as bigint) ^ BigInt(b as number));

// (32: a 64-bit rotate by exactly 32 is a case of its own)
const V32 = [0, 1, -1, 7, 0x7fffffff, -0x80000000, 0x12345678, 0x40000000, 32];
const V64: bigint[] = [0n, 1n, -1n, 0x7fffffffn, 0x80000000n, 0x123456789abcdefn, -0x8000000000000000n, 0xffffffff00000000n, 32n];

/** A program that runs `op` once with operand pattern `k`; memory operands address `mem`..`mem`+64 (linear). */
function opProgram(op: number, k: number, mem: number): Program {
  const b = new IrBuilder();
  if (op === Op.LABEL || op === Op.BR || op === Op.BRNZ || op === Op.BRZ) {
    const l = b.label();
    if (op === Op.BR) b.br(l);
    else if (op !== Op.LABEL) (op === Op.BRNZ ? b.brnz : b.brz).call(b, b.const32(k & 1) as T32, l);
    b.place(l);
  } else if (op === Op.CALL) {
    b.call(H_WARM, [b.const64(V64[k % V64.length]!) as T, b.const32(V32[k % V32.length]!) as T], 64);
  } else if (op === Op.RAISE) {
    b.raise(6);
    return b.finish();
  } else if (op === Op.EXIT) {
    b.exit(b.const64(BigInt(k)) as T64);
    return b.finish();
  } else if (op === Op.EXITI) {
    b.emit(op, k, 0);
    return b.finish();
  } else {
    b.emit(op, ...operands(b, op, k, mem));
  }
  b.exit(b.const64(0n));
  return b.finish();
}

/** Operand words for `op` with pattern `k`: fresh destinations, sources set from the value lists. */
function operands(b: IrBuilder, op: number, k: number, mem: number): number[] {
  const isDiv = op >= Op.DIVU32 && op <= Op.REMS64;
  const isMem = (op >= Op.LDM8 && op <= Op.STM64) || (op >= Op.LDMW8 && op <= Op.LDMW64);
  let src = 0;
  const words: number[] = [];
  for (const kind of OPS[op]!.args) {
    const v = k + 3 * src;
    switch (kind) {
      case A.D32: words.push(b.t32()); break;
      case A.D64: words.push(b.t64()); break;
      case A.S32: {
        // a divisor is non-zero and not -1 (the front end rules out #DE)
        words.push(b.const32(isDiv && src === 1 ? 3 + (k & 1) * 0x10000 : V32[v % V32.length]!));
        src++;
        break;
      }
      case A.S64: {
        let x = isDiv && src === 1 ? 3n + BigInt(k & 1) * 0x100000000n : V64[v % V64.length]!;
        if (isMem) x = BigInt(mem + (k & 7) * 4);
        words.push(b.const64(BigInt.asUintN(64, x)));
        src++;
        break;
      }
      case A.IMM: words.push(V32[v % V32.length]!); break;
      case A.COND: words.push(k % 10); break;
      case A.OFF: words.push(SCRATCH + (k & 1) * 8); break;
      case A.SEG: words.push(-1); break;
      default: throw new Error(`warmup: operand kind ${A[kind]} not generated`);
    }
  }
  return words;
}

/**
 * Runs every IR op through the interpreter a few times on `h`. `mem`: a linear address with
 * 64 bytes of scratch RAM that memory ops may overwrite; `h`'s state is changed in SCRATCH and RIP only, and its
 * instruction count by the INSN ops.
 */
export function warmUpInterpreter(h: IrHost, mem: number): void {
  const progs = warmUpPrograms(mem);
  // (the feedback vector exists only after a few calls: the first round may not count)
  for (let round = 0; round < 4; round++) {
    // 32-bit loads return zero-extended values, 2^31 and above not small integers: the later rounds see such
    // values in memory (kernel pointers are full of them), so a guest's first one does not deoptimise the loop
    if (round >= 2) h.u8.fill(round === 2 ? 0x80 : 0xff, mem, mem + 64);
    for (const p of progs) {
      try {
        interpret(p, h);
      } catch (e) {
        if (!(e instanceof GuestFault)) throw e; // RAISE ends its program as in a guest
      }
    }
  }
}

/** The warm-up programs: each op of OPS with eight operand patterns. */
export function warmUpPrograms(mem: number): Program[] {
  const progs: Program[] = [];
  for (let op = 0; op < OPS.length; op++) for (let k = 0; k < 8; k++) progs.push(opProgram(op, k, mem));
  return progs;
}
