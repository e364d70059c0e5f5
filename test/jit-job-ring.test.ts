// The compile worker's job queue (jit/job-ring.ts): jobs come out as they went in, in order, across many wraps of
// the ring, and a full ring refuses a job instead of overwriting one not yet taken.
import { describe, expect, it } from 'vitest';
import { JobRing } from '../src/jit/job-ring.ts';

const job = (id: number) => Int32Array.from({ length: (id * 7) % 23 }, (_, i) => id * 1000 + i);

describe('JIT job ring', () => {
  it('delivers jobs in order across wraps, with the consumer on the same buffer', () => {
    const producer = new JobRing(64);
    const consumer = new JobRing(producer.buffer);
    let next = 0;
    for (let id = 0; id < 2000; id++) {
      while (!producer.put(id, job(id))) {
        const got = consumer.take()!;
        expect(got.id).toBe(next);
        expect([...got.job]).toEqual([...job(next)]);
        next++;
      }
      if (id % 3 === 0) {
        const got = consumer.take()!;
        expect(got.id).toBe(next);
        expect([...got.job]).toEqual([...job(next)]);
        next++;
      }
    }
    for (let got = consumer.take(); got; got = consumer.take()) expect(got.id).toBe(next++);
    expect(next).toBe(2000);
  });

  it('refuses what does not fit and takes it once there is room', () => {
    const producer = new JobRing(16);
    const consumer = new JobRing(producer.buffer);
    expect(producer.put(0, new Int32Array(10))).toBe(true);
    expect(producer.put(1, new Int32Array(5))).toBe(false); // 12 + 7 > 16
    expect(producer.put(2, new Int32Array(17))).toBe(false); // never fits
    expect(consumer.take()!.id).toBe(0);
    expect(consumer.take()).toBeUndefined();
    expect(producer.put(1, Int32Array.of(1, 2, 3, 4, 5))).toBe(true); // wraps to the start
    expect(producer.put(3, Int32Array.of(9))).toBe(true);
    expect([...consumer.take()!.job]).toEqual([1, 2, 3, 4, 5]);
    expect([...consumer.take()!.job]).toEqual([9]);
  });

  it('wraps a job that would start exactly at the end of the ring', () => {
    const producer = new JobRing(16);
    const consumer = new JobRing(producer.buffer);
    expect(producer.put(0, new Int32Array(14))).toBe(true); // fills the ring to its last word
    expect(consumer.take()!.id).toBe(0);
    expect(producer.put(1, Int32Array.of(7))).toBe(true);
    expect(consumer.take()).toEqual({ id: 1, job: Int32Array.of(7) });
  });
});
