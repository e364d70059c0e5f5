// The decoder must survive any byte sequence: no exception, never more than 15 bytes, always some progress.
import { describe, expect, it } from 'vitest';
import { decode, newInstruction } from '../src/decoder/decode.ts';
import { Invalid, type Mode } from '../src/decoder/types.ts';

/** Small deterministic PRNG (xorshift32) so failures reproduce. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

const PREFIXY = [0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x2e, 0x3e, 0x26, 0x36, 0x64, 0x65, 0x40, 0x48, 0x4f, 0x0f, 0xc4, 0xc5, 0x62, 0x8f, 0x38, 0x3a];

describe('decoder fuzz', () => {
  for (const mode of [16, 32, 64] as Mode[]) {
    it(`decodes random bytes safely in ${mode}-bit mode`, () => {
      const next = rng(0x9e3779b9 ^ mode);
      const buf = new Uint8Array(1 << 16);
      const insn = newInstruction();
      let decoded = 0;
      const problems: string[] = [];
      for (let round = 0; round < 8; round++) {
        // Bias towards prefix and escape bytes, where the tricky paths are.
        for (let i = 0; i < buf.length; i++) {
          const r = next();
          buf[i] = r % 4 === 0 ? PREFIXY[(r >>> 8) % PREFIXY.length]! : r >>> 24;
        }
        let off = 0;
        while (off < buf.length) {
          decode(buf, off, mode, insn);
          const bad = insn.length < 1 || insn.length > 15 || (insn.invalid === Invalid.Truncated && off + insn.length !== buf.length);
          if (bad && problems.length < 10) problems.push(`${off}: length ${insn.length} ${Buffer.from(buf.subarray(off, off + 15)).toString('hex')}`);
          off += Math.max(1, insn.length);
          decoded++;
        }
      }
      expect(problems).toEqual([]);
      expect(decoded).toBeGreaterThan(50_000);
    });

    it(`flags over-long instructions in ${mode}-bit mode`, () => {
      // 14 operand-size prefixes + a 2-byte instruction = 16 bytes: #GP, not a decode.
      const bytes = new Uint8Array([...new Array(14).fill(0x66), 0x01, 0xc0]);
      const insn = decode(bytes, 0, mode);
      expect(insn.invalid).toBe(Invalid.TooLong);
      expect(insn.length).toBe(15);
    });

    it(`reports truncation in ${mode}-bit mode`, () => {
      const insn = decode(new Uint8Array([0x66, 0x81]), 0, mode);
      expect(insn.invalid).toBe(Invalid.Truncated);
      expect(insn.length).toBe(2);
    });
  }

  it('never reads past the 15-byte window', () => {
    // A guard that throws on any index >= 15 from the start: reads past the window would hit it.
    const bytes = new Uint8Array(64).fill(0x66);
    const view = new Proxy(bytes, {
      get(target, prop, recv) {
        if (typeof prop === 'string' && /^\d+$/.test(prop) && Number(prop) >= 15) throw new Error(`read at ${prop}`);
        const v = Reflect.get(target, prop, target);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    }) as unknown as Uint8Array;
    expect(() => decode(view, 0, 64)).not.toThrow();
  });
});
