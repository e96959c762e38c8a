import { describe, expect, it } from 'vitest';
import { ByteWaiters } from '../src/byte-waiters.js';

/** Settles to the order in which the waiters went on. */
function track(waiters: ByteWaiters, needs: number[], signals: (AbortSignal | undefined)[] = []) {
  const order: string[] = [];
  const all = needs.map((need, i) =>
    waiters.wait(need, signals[i]).then(
      () => order.push(`ok:${need}`),
      (err: { code?: string; message?: string }) => order.push(`err:${need}:${err.code ?? err.message}`),
    ),
  );
  return { order, all };
}

describe('ByteWaiters: readers of a file still arriving', () => {
  it('wakes exactly the readers whose bytes are in, in order of need, whatever order they came in', async () => {
    const w = new ByteWaiters();
    const { order, all } = track(w, [3000, 1468, 100_000, 1468, 2936]);
    w.release(1467);
    await Promise.resolve();
    expect([order.length, w.size]).toEqual([0, 5]);
    w.release(2936);
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['ok:1468', 'ok:1468', 'ok:2936']);
    expect(w.size).toBe(2);
    w.releaseAll();
    await Promise.all(all);
    expect(order.slice(3)).toEqual(['ok:3000', 'ok:100000']);
    expect(w.size).toBe(0);
  });

  it('a failure rejects every waiter with it; an aborted reader rejects at once with PTFTP_ERR_ABORTED', async () => {
    const w = new ByteWaiters();
    const ac = new AbortController();
    const { order, all } = track(w, [10, 20, 30], [undefined, ac.signal, undefined]);
    ac.abort();
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['err:20:PTFTP_ERR_ABORTED']);
    w.releaseAll(new Error('cut'));
    await Promise.all(all);
    expect(order.slice(1)).toEqual(['err:10:cut', 'err:30:cut']);
    await expect(w.wait(1, ac.signal)).rejects.toMatchObject({ code: 'PTFTP_ERR_ABORTED' });
  });

  it('readers that gave up do not pile up: 10,000 aborted waits leave the heap compacted', async () => {
    const w = new ByteWaiters();
    const live = track(w, [5_000_000]);
    const controllers = Array.from({ length: 10_000 }, () => new AbortController());
    const gone = track(
      w,
      controllers.map((_, i) => 1_000_000 + i),
      controllers.map((c) => c.signal),
    );
    for (const c of controllers) c.abort();
    await Promise.all(gone.all);
    expect(w.size).toBe(1);
    // The entries of aborted readers were dropped, not merely marked.
    expect(w.pending).toBeLessThanOrEqual(2);
    w.release(5_000_000);
    await Promise.all(live.all);
    expect(live.order).toEqual(['ok:5000000']);
  });
});
