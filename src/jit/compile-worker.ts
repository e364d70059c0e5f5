// Compiling wasm modules on a worker thread (JitOptions.asyncCompile): the CPU's thread hands over a module's bytes
// and goes on interpreting; the worker compiles them (every function at once: see below) and posts the Module back
// (V8 shares compiled code between threads, nothing is compiled again). The CPU's thread picks finished modules
// up without returning to the event loop: the worker counts them in shared memory and the JIT checks that counter
// where it asks for a block's code anyway (receiveMessageOnPort then takes the message synchronously).
//
// Eager compilation: V8 compiles a wasm function on its first call by default, on the calling thread, which made
// ~0.45 s of a Linux boot's main thread. Compiled eagerly on the worker, a module arrives ready to run. The flag is
// process-wide, so modules compiled on the CPU's thread (tiny helper modules, the synchronous path) are compiled
// eagerly too.
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { setFlagsFromString } from 'node:v8';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const done = new Int32Array(workerData.done);
parentPort.on('message', ({ id, bytes }) => {
  let module, error;
  try {
    module = new WebAssembly.Module(bytes);
  } catch (e) {
    error = String(e && e.message || e);
  }
  workerData.port.postMessage({ id, module, error });
  Atomics.add(done, 0, 1);
});
`;

export interface Finished {
  id: number;
  module?: WebAssembly.Module;
  /** Why the bytes did not compile. */
  error?: string;
}

export class CompileWorker {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  /** Modules compiled so far (written by the worker). */
  private readonly done: Int32Array;
  private taken = 0;
  private nextId = 0;
  /** The worker died (an error it did not catch, or it exited): what it had not finished will not come. */
  lost = false;

  constructor() {
    setFlagsFromString('--no-wasm-lazy-compilation');
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.done = new Int32Array(new SharedArrayBuffer(4));
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { done: this.done.buffer, port: port2 }, transferList: [port2] });
    // (the CPU's thread never waits for the worker on the event loop: neither may keep the process alive)
    this.worker.unref();
    this.port.unref();
    this.worker.on('error', () => (this.lost = true));
    this.worker.on('exit', () => (this.lost = true));
  }

  /** Queues `bytes` for compilation; returns the id its result will carry. */
  submit(bytes: Uint8Array): number {
    const id = this.nextId++;
    this.worker.postMessage({ id, bytes }, [bytes.buffer as ArrayBuffer]);
    return id;
  }

  /** Some module finished since the last take() (a shared-memory read). */
  get ready(): boolean {
    return this.done[0] !== this.taken;
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
