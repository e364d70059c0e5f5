// A single-producer single-consumer queue of int32 jobs in shared memory, from the CPU's thread to the compile
// worker. Why not postMessage: waking a sleeping worker costs the sender a cross-CPU wake-up, which measured
// ~0.15 ms per message on this machine's virtual CPUs (~0.15 s of a Linux boot's CPU thread). The producer only
// writes memory; the consumer polls, sleeping on its own timer between polls (gen-worker.ts), nobody wakes it.
//
// Layout: control words, then the ring. A job is [id, length, words...]; a job that would not fit before the end
// of the ring starts at its beginning, after a WRAP marker (or the end itself). Positions are word counts that
// wrap at 2^32, so they stay valid forever; what the producer may overwrite is what the consumer has counted read.

const SUBMITTED = 0; // jobs put (producer)
const READ = 1; // words consumed, markers and skipped ends included (consumer)
const CONTROL = 2;
const WRAP = -1;

export class JobRing {
  readonly buffer: SharedArrayBuffer;
  private readonly ctl: Int32Array;
  private readonly ring: Int32Array;
  private readonly size: number;
  /** This side's position in the ring, its words so far (mod 2^32) and its jobs so far. */
  private pos = 0;
  private words = 0;
  private jobs = 0;

  /** A new ring of `words` words, or the other side of `buffer`. */
  constructor(from: number | SharedArrayBuffer) {
    this.buffer = typeof from === 'number' ? new SharedArrayBuffer((CONTROL + from) * 4) : from;
    this.ctl = new Int32Array(this.buffer, 0, CONTROL);
    this.ring = new Int32Array(this.buffer, CONTROL * 4);
    this.size = this.ring.length;
  }

  /** Producer: queues a job; false if the ring has no room for it now (the consumer is behind, or it is huge). */
  put(id: number, job: Int32Array): boolean {
    const need = job.length + 2;
    const free = this.size - ((this.words - Atomics.load(this.ctl, READ)) | 0);
    const wrap = this.pos + need > this.size;
    const skip = wrap ? this.size - this.pos : 0;
    if (skip + need > free) return false;
    if (wrap) {
      if (this.pos < this.size) this.ring[this.pos] = WRAP;
      this.words = (this.words + skip) | 0;
      this.pos = 0;
    }
    this.ring[this.pos] = id;
    this.ring[this.pos + 1] = job.length;
    this.ring.set(job, this.pos + 2);
    this.pos += need;
    this.words = (this.words + need) | 0;
    // (a sequentially consistent store: the job's words are visible to whoever sees the count)
    Atomics.store(this.ctl, SUBMITTED, ++this.jobs | 0);
    return true;
  }

  /** Consumer: the next job (a copy), or undefined if none is queued. */
  take(): { id: number; job: Int32Array } | undefined {
    if (Atomics.load(this.ctl, SUBMITTED) === (this.jobs | 0)) return undefined;
    if (this.pos === this.size || this.ring[this.pos] === WRAP) {
      this.words = (this.words + this.size - this.pos) | 0;
      this.pos = 0;
    }
    const id = this.ring[this.pos]!;
    const n = this.ring[this.pos + 1]!;
    const job = this.ring.slice(this.pos + 2, this.pos + 2 + n);
    this.pos += n + 2;
    this.words = (this.words + n + 2) | 0;
    this.jobs++;
    Atomics.store(this.ctl, READ, this.words);
    return { id, job };
  }

  /** Consumer: sleeps until a job may be queued, at most `ms` milliseconds (the producer does not wake it). */
  wait(ms: number): void {
    Atomics.wait(this.ctl, SUBMITTED, this.jobs | 0, ms);
  }
}
