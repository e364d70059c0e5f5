// The module builder's name section: profilers and stack traces name compiled blocks by guest RIP
// (KEMU_JIT_NAMES=1), so a CPU profile of a guest says which guest code is hot.
import { describe, expect, it } from 'vitest';
import { ModuleBuilder, Ty } from '../src/jit/wasm.ts';

describe('wasm module names', () => {
  it('a named function shows its name in a stack trace', () => {
    const mb = new ModuleBuilder();
    const f = mb.func(mb.type([], []), [], new Uint8Array([0x00, 0x0b])); // unreachable
    mb.name(f, 'guest_ffffffff81000000');
    mb.export('f', f);
    const bytes = mb.finish();
    const mod = new WebAssembly.Module(bytes);
    const run = new WebAssembly.Instance(mod).exports.f as () => void;
    let stack = '';
    try {
      run();
    } catch (e) {
      stack = (e as Error).stack ?? '';
    }
    expect(stack).toContain('guest_ffffffff81000000');
  });
});
