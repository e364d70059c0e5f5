// Generating and compiling wasm modules on a worker thread (JitOptions.asyncCompile): the CPU's thread hands over
// a batch's blocks (their IR and what chaining needs to know, batch-gen.ts, packed into a job of a shared-memory
// queue, job-ring.ts) and goes on interpreting; the worker (gen-worker.ts) generates the module, compiles it (every
// function at once: see below) and posts the Module back with the layout of its link table (V8 shares compiled code
// between threads, nothing is compiled again). The CPU's thread picks finished modules up without returning to the
// event loop: the worker counts them in shared memory and the JIT checks that counter where it asks for a block's
// code anyway (receiveMessageOnPort then takes the message synchronously).
//
// Eager compilation: V8 compiles a wasm function on its first call by default, on the calling thread, which made
// ~0.45 s of a Linux boot's main thread. Compiled eagerly on the worker, a module arrives ready to run. The flag is
// process-wide, so modules compiled on the CPU's thread (tiny helper modules, the synchronous path) are compiled
// eagerly too.
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';
import { packBlocks, type GenBatch, type GenBlock, type GenRuntime } from './batch-gen.ts';
import { JobRing } from './job-ring.ts';

/** Words of the job queue: a batch of 16 kernel blocks packs into ~5,000. */
const RING_WORDS = 1 << 20;

// The worker's script: run from the sources (tests, tsx), gen-worker.ts through tsx's CommonJS loader; run from
// kemu's bundle (bin/kemu.mjs), the worker bundle built beside it.
const FROM_SOURCES = import.meta.url.endsWith('.ts');
const BOOT = `
const { workerData } = require('node:worker_threads');
if (workerData.tsx) require(workerData.tsx).require(workerData.entry, workerData.entry);
else import(workerData.entry);
`;

function workerEntry(): { tsx?: string; entry: string } {
  if (!FROM_SOURCES) return { entry: new URL('./kemu-gen-worker.mjs', import.meta.url).href };
  return { tsx: createRequire(import.meta.url).resolve('tsx/cjs/api'), entry: fileURLToPath(new URL('./gen-worker.ts', import.meta.url)) };
}

/**
 * Lowers the scheduling priority (nice +10) of the threads the process has now but this one: V8's helper threads
 * (optimizing JavaScript, wasm compile tasks, concurrent GC). On a machine with two cores the CPU's thread, the
 * compile worker (started after this, at normal priority) and those helpers compete for the second core; a module
 * then took 12-16 ms on average to come back (blocks run in the interpreter meanwhile: half of all interpreted
 * instructions in a Linux boot) and the CPU's thread itself waited for a core ~1-1.5 s a boot. With the helpers
 * lowered: 10 ms, and boot times varied less in this machine's slow hours (bzImage, 4 interleaved runs: 12.7-14.1 s
 * against 12.8-18.6 s). Linux only (thread ids in /proc); elsewhere, or if not allowed, nothing changes.
 */
function lowerHelperThreads(): void {
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return;
  }
  for (const t of tids) {
    if (Number(t) === process.pid) continue;
    try {
      setPriority(Number(t), 10);
    } catch {
      // (a thread that ended meanwhile, or a system that refuses)
    }
  }
}

export interface Finished {
  id: number;
  module?: WebAssembly.Module;
  /** The module's layout (its bytes stay on the worker). */
  gen?: Omit<GenBatch, 'bytes'>;
  /** Why the batch did not generate or compile. */
  error?: string;
}

export class CompileWorker {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  /** [0]: modules compiled so far; [1]: 1 once the worker runs its script (both written by the worker). */
  private readonly done: Int32Array;
  private taken = 0;
  private nextId = 0;
  private readonly jobs = new JobRing(RING_WORDS);
  /** The worker died (an error it did not catch, or it exited): what it had not finished will not come. */
  lost = false;

  /** `rt`: the runtime the code is generated for. */
  constructor(rt: GenRuntime) {
    setFlagsFromString('--no-wasm-lazy-compilation');
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.done = new Int32Array(new SharedArrayBuffer(8));
    lowerHelperThreads();
    this.worker = new Worker(BOOT, {
      eval: true, workerData: { ...workerEntry(), done: this.done.buffer, jobs: this.jobs.buffer, port: port2, rt },
      transferList: [port2],
    });
    // (the CPU's thread never waits for the worker on the event loop: neither may keep the process alive)
    this.worker.unref();
    this.port.unref();
    this.worker.on('error', (e: Error) => {
      this.lost = true;
      // (the JIT goes on compiling on the CPU's thread, slower: say why, once)
      process.emitWarning(`the JIT's compile worker failed (${e.message}); compiling on the CPU's thread`);
    });
    this.worker.on('exit', () => (this.lost = true));
  }

  /** Queues a batch; returns the id its result will carry, or -1 if the queue is full (compile it here). */
  submit(blocks: GenBlock[]): number {
    if (!this.jobs.put(this.nextId, packBlocks(blocks))) return -1;
    return this.nextId++;
  }

  /** Some module finished since the last take() (a shared-memory read). */
  get ready(): boolean {
    return this.done[0] !== this.taken;
  }

  /**
   * Waits (blocking this thread) until the worker has loaded its script, at most `ms` milliseconds; whether it has.
   * Until then what is submitted waits (for the tests: from the sources the worker takes ~0.2 s to load).
   */
  waitStarted(ms: number): boolean {
    Atomics.wait(this.done, 1, 0, ms);
    return this.done[1] === 1;
  }

  /** The modules finished so far, in submission order. */
  take(): Finished[] {
    const out: Finished[] = [];
    while (this.done[0] !== this.taken) {
      const m = receiveMessageOnPort(this.port);
      if (!m) break; // (counted but not delivered yet: next time)
      this.taken++;
      out.push(m.message as Finished);
    }
    return out;
  }

  close(): void {
    void this.worker.terminate();
    this.port.close();
  }
}
