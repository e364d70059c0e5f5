// The compile worker's thread (compile-worker.ts starts it): takes each batch from the job queue, generates its
// module (batch-gen.ts) and compiles it, then posts the Module back with what instantiating it needs, and counts it
// in shared memory. It polls the queue (job-ring.ts: the CPU's thread never wakes it), so its event loop never
// runs: it needs none (posting a message does not), and terminate() still stops it.
import { workerData, type MessagePort } from 'node:worker_threads';
import { genBatch, unpackBlocks, type GenRuntime } from './batch-gen.ts';
import { JobRing } from './job-ring.ts';

const { port, rt } = workerData as { port: MessagePort; rt: GenRuntime };
const done = new Int32Array(workerData.done as SharedArrayBuffer);
const jobs = new JobRing(workerData.jobs as SharedArrayBuffer);

Atomics.store(done, 1, 1);
Atomics.notify(done, 1);
// polls every millisecond while jobs come; after 0.1 s without one every 10 ms, after 1.1 s every 50 ms (an idle guest)
let empty = 0;
for (;;) {
  const next = jobs.take();
  if (!next) {
    empty++;
    jobs.wait(empty < 100 ? 1 : empty < 200 ? 10 : 50);
    continue;
  }
  empty = 0;
  let module, gen, error;
  try {
    const g = genBatch(rt, unpackBlocks(next.job));
    module = new WebAssembly.Module(g.bytes);
    gen = { size: g.size, table: g.table, direct: g.direct, ms: g.ms };
  } catch (e) {
    error = String((e as Error)?.message ?? e);
  }
  port.postMessage({ id: next.id, module, gen, error });
  Atomics.add(done, 0, 1);
}
