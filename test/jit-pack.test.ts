// Batches cross to the compile worker packed into one array (batch-gen.ts packBlocks/unpackBlocks): every field a
// block's code generation reads comes back as it went, including addresses above 2 GiB.
import { describe, expect, it } from 'vitest';
import { packBlocks, unpackBlocks, type GenBlock } from '../src/jit/batch-gen.ts';

const prog = (n: number) => ({
  code: Int32Array.from({ length: n }, (_, i) => i * 7 - 3), widths: Uint8Array.from({ length: n % 7 + 1 }, (_, i) => (i % 2 ? 64 : 32)),
  labels: 2, labelAt: Int32Array.of(5, -1),
});

describe('JIT batch packing', () => {
  it('unpacks what it packed', () => {
    const blocks: GenBlock[] = [
      { prog: prog(9), opts: { stateBase: 0x9000_0000, mode: 0x22, inlineTlb: true, loop: { lo: -0x7f000000, hi: -1 } }, token: 7,
        chain: { key: `34:${0xffffffff81000010n}`, twoPages: true,
          check: { stateBase: 0x9000_0000, mode: 0x22, rip: 0xffffffff81000010n, page: 0xc000_0000, page2: 0x1000 } } },
      { prog: prog(3), opts: { stateBase: 4096, mode: 1, inlineTlb: false } },
      { prog: prog(1), opts: { stateBase: 4096, mode: 2, inlineTlb: true, helperMode: true }, token: 0,
        chain: { key: '2:4096', twoPages: false, check: { stateBase: 4096, mode: 2, rip: 4096n, page: 0 } } },
    ];
    const back = unpackBlocks(packBlocks(blocks));
    expect(back.length).toBe(3);
    back.forEach((b, i) => {
      const a = blocks[i]!;
      expect([...b.prog.code]).toEqual([...a.prog.code]);
      expect([...b.prog.widths]).toEqual([...a.prog.widths]);
      expect([...b.prog.labelAt]).toEqual([...a.prog.labelAt]);
      expect(b.prog.labels).toBe(a.prog.labels);
      expect(b.opts).toEqual(a.opts);
      expect(b.token).toBe(a.token);
      expect(b.chain).toEqual(a.chain && { ...a.chain, check: { page2: undefined, ...a.chain.check } });
    });
  });
});
