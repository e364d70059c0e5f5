// The lazy-flags helper (cc_flags) in wasm: the very programs the JS helper interprets (one per CC_OP value,
// frontend/cc-helper.ts), compiled by the JIT's code generator into one shared module, behind a br_table on
// CC_OP. Compiled blocks import it instead of the JS helper, so reading flags produced in an earlier block stays
// inside wasm (and does not stop chaining). An out-of-range CC_OP goes to the JS helper (which reports it).
import { CC_FLAGS_PROGRAMS, H_CC_FLAGS, ccFlagsProgram } from '../cpu/frontend/cc-helper.ts';
import * as L from '../cpu/layout.ts';
import { generate, type Callee, type CodegenEnv } from './codegen.ts';
import { Code, ModuleBuilder, Ty, VOID, W } from './wasm.ts';

type Fn = (...args: never[]) => unknown;

/** Compiled modules by state base (a new machine of the same layout instantiates the same module again). */
const compiled = new Map<number, WebAssembly.Module>();

/** Instantiates the module for this memory; `jsHelper` is the import convention's JS wrapper of cc_flags: (n) -> flags. */
export function buildCcFlags(stateBase: number, memory: WebAssembly.Memory, jsHelper: Fn): Fn {
  let mod = compiled.get(stateBase);
  if (!mod) compiled.set(stateBase, (mod = new WebAssembly.Module(ccFlagsModule(stateBase))));
  const imports: Record<string, Fn | WebAssembly.Memory> = { mem: memory, js: jsHelper };
  const inst = new WebAssembly.Instance(mod, { e: imports as WebAssembly.Imports['e'] });
  return inst.exports.cc as Fn;
}

function ccFlagsModule(stateBase: number): Uint8Array {
  const mb = new ModuleBuilder();
  mb.importMemory('e', 'mem');
  const I = Ty.I32;
  const fallback = mb.importFunc('e', 'js', [I], [I]);
  const none = (): Callee => {
    throw new Error('cc_flags programs call nothing');
  };
  const env: CodegenEnv = { read: none, read64: none, write: none, write64: none, raise: none, helper: none };
  const bodies = [];
  for (let op = 0; op < CC_FLAGS_PROGRAMS; op++) {
    bodies.push(generate(ccFlagsProgram(op)!, env, { stateBase, mode: 0, helperMode: true }));
  }
  const first = mb.funcImports;
  const progType = mb.type([I, I], [I]);
  bodies.forEach((g) => mb.func(progType, g.locals, g.body));
  const n = bodies.length;
  const c = new Code();
  c.op(W.block).byte(VOID); // default: bad CC_OP
  for (let i = 0; i < n; i++) c.op(W.block).byte(VOID);
  c.i32(0).mem(W.i32_load, 2, stateBase + L.CC_OP);
  c.op(W.br_table).u32(n);
  for (let i = 0; i < n; i++) c.u32(i);
  c.u32(n);
  for (let i = 0; i < n; i++) {
    c.op(W.end);
    c.get(0).i32(0).op(W.call).u32(first + i).op(W.drop);
    c.i32(0).mem(W.i32_load, 2, stateBase + L.SCRATCH).op(W.return_);
  }
  c.op(W.end);
  c.get(0).op(W.call).u32(fallback);
  c.op(W.end);
  mb.export('cc', mb.func(mb.type([I], [I]), [], c.view().slice()));
  return mb.finish();
}

export { H_CC_FLAGS };
