// SSE4.2 string comparisons (pcmpestri/pcmpestrm/pcmpistri/pcmpistrm) against this machine's CPU: every imm8
// (format, aggregation, polarity, output selection) with strings over a small alphabet, nulls at every position,
// explicit lengths including negative, oversized and 64-bit values. Interpreter and JIT.
import { describe, expect, it } from 'vitest';
import { DATA, NATIVE_ORACLE, Oracle, Rng, report } from './util/oracle.ts';
import { bytesOf } from './cpu-sse-util.ts';

/** A 16-byte string over a few letters, maybe with a null somewhere (as bytes or as words). */
function str(r: Rng): bigint {
  const alpha = [0x41, 0x42, 0x43, 0x61, 0x80, 0xff, 0x7f];
  const b = new Uint8Array(16);
  for (let i = 0; i < 16; i++) b[i] = r.int(8) ? r.pick(alpha) : r.int(256);
  if (r.int(3)) {
    const z = r.int(17);
    for (let i = z; i < 16; i++) if (i === z || r.int(2)) b[i] = 0;
  }
  if (r.int(4) === 0) b.fill(0, r.int(16));
  let v = 0n;
  for (let i = 15; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  return v;
}

function len(r: Rng): bigint {
  switch (r.int(8)) {
    case 0: return BigInt(-r.int(20));
    case 1: return 0x80000000n;
    case 2: return BigInt(r.int(40));
    case 3: return 0xffffffff00000005n;
    case 4: return 0x100000003n;
    case 5: return 0x8000000000000000n;
    default: return BigInt(r.int(17));
  }
}

describe.skipIf(!NATIVE_ORACLE.ok)('SSE4.2 string comparisons (native oracle)', () => {
  it('every imm8, implicit and explicit lengths, index and mask outputs', () => {
    const o = new Oracle();
    const r = new Rng(720n);
    for (let imm = 0; imm < 256; imm += imm < 128 ? 1 : 11) {
      const forms = [`pcmpistri xmm1, xmm2, ${imm}`, `pcmpistrm xmm1, xmm2, ${imm}`, `pcmpestri xmm1, xmm2, ${imm}`,
        `pcmpestrm xmm1, [rdi], ${imm}`];
      if (imm % 8 === 0) forms.push(`pcmpistri xmm1, [rdi+1], ${imm}`, `pcmpestri xmm1, xmm2, ${imm}`.replace('pcmpestri', 'rex.w pcmpestri'),
        `pcmpistrm xmm0, xmm0, ${imm}`, `pcmpestrm xmm3, xmm0, ${imm}`);
      for (const f of forms) {
        const c = o.code(f);
        for (let k = 0; k < 10; k++) {
          const a = str(r), b = r.int(4) ? str(r) : a;
          o.add(c, { xmm: { 0: str(r), 1: a, 2: b, 3: a }, regs: { rax: len(r), rdx: len(r), rcx: r.u64(), rdi: DATA }, data: bytesOf(b, 17), flags: r.flags() });
        }
      }
    }
    expect(report(o.run({ jit: 'both' }))).toBe('');
  });
});
