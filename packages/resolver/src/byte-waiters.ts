import { AbortedError } from '@ptftp/protocol';

interface Entry {
  /** Bytes that must be in before this reader can go on. */
  need: number;
  settled: boolean;
  resolve: () => void;
  reject: (err: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * Readers waiting for a file that is still arriving, each until a byte count is reached.
 *
 * A boot storm puts hundreds of phones, each with a few reads ahead, on one arriving file, and
 * the upstream delivers it a block (about 1.4 KiB) at a time. Waking means looking only at the
 * readers whose bytes are now in: they are kept in a min-heap by the count they need, so a
 * block costs O(log n) per reader woken, not a pass over every reader (which, at 100 phones ×
 * 40 reads × 70,000 blocks, was most of the proxy's CPU).
 *
 * A reader that gives up (its signal aborts) is rejected at once and left in the heap, marked;
 * the heap is compacted when such entries are half of it, so stalled phones hold nothing long.
 */
export class ByteWaiters {
  #heap: Entry[] = [];
  #cancelled = 0;

  /** Readers waiting now (not counting those that gave up). */
  get size(): number {
    return this.#heap.length - this.#cancelled;
  }

  /** Entries held, counting those that gave up and are not yet dropped (a memory figure). */
  get pending(): number {
    return this.#heap.length;
  }

  /** Resolves once `release(n)` is called with `n >= need`; rejects on `fail` or an abort. */
  wait(need: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(new AbortedError('read aborted', { cause: signal.reason }));
    return new Promise<void>((resolve, reject) => {
      const entry: Entry = { need, settled: false, resolve, reject, signal, onAbort: undefined };
      if (signal) {
        entry.onAbort = () => {
          if (entry.settled) return;
          entry.settled = true;
          this.#cancelled++;
          reject(new AbortedError('read aborted', { cause: signal.reason }));
          if (this.#cancelled * 2 > this.#heap.length) this.#compact();
        };
        signal.addEventListener('abort', entry.onAbort, { once: true });
      }
      this.#push(entry);
    });
  }

  /** `bytes` are in: every reader needing no more goes on. */
  release(bytes: number): void {
    const heap = this.#heap;
    while (heap.length > 0 && heap[0]!.need <= bytes) {
      const entry = this.#pop();
      if (entry.settled) this.#cancelled--;
      else this.#finish(entry, undefined);
    }
  }

  /** Everyone goes on (the content is complete), or fails with `err`. */
  releaseAll(err?: unknown): void {
    const all = this.#heap;
    this.#heap = [];
    this.#cancelled = 0;
    for (const entry of all) if (!entry.settled) this.#finish(entry, err);
  }

  #finish(entry: Entry, err: unknown): void {
    entry.settled = true;
    if (entry.onAbort) entry.signal?.removeEventListener('abort', entry.onAbort);
    if (err !== undefined) entry.reject(err);
    else entry.resolve();
  }

  #compact(): void {
    const live = this.#heap.filter((e) => !e.settled);
    live.sort((a, b) => a.need - b.need); // a sorted array is a valid heap
    this.#heap = live;
    this.#cancelled = 0;
  }

  #push(entry: Entry): void {
    const heap = this.#heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.need <= entry.need) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = entry;
  }

  #pop(): Entry {
    const heap = this.#heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      const n = heap.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && heap[r]!.need < heap[l]!.need ? r : l;
        if (heap[c]!.need >= last.need) break;
        heap[i] = heap[c]!;
        i = c;
      }
      heap[i] = last;
    }
    return top;
  }
}
