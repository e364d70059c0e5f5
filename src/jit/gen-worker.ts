// The compile worker's thread (compile-worker.ts starts it): generates each batch's module (batch-gen.ts) and
// compiles it, then posts the Module back with what instantiating it needs, and counts it in shared memory.
import { workerData, parentPort, type MessagePort } from 'node:worker_threads';
import { genBatch, type GenBlock, type GenRuntime } from './batch-gen.ts';

const { port, rt } = workerData as { port: MessagePort; rt: GenRuntime };
const done = new Int32Array(workerData.done as SharedArrayBuffer);

parentPort!.on('message', ({ id, blocks }: { id: number; blocks: GenBlock[] }) => {
  let module, gen, error;
  try {
    const g = genBatch(rt, blocks);
    module = new WebAssembly.Module(g.bytes);
    gen = { size: g.size, table: g.table, direct: g.direct, ms: g.ms };
  } catch (e) {
    error = String((e as Error)?.message ?? e);
  }
  port.postMessage({ id, module, gen, error });
  Atomics.add(done, 0, 1);
});
Atomics.store(done, 1, 1);
Atomics.notify(done, 1);
