/**
 * The search strategies on their own, without sockets or a cache: the order clusters are asked
 * in, the fan-out bound, preference among answers of the same turn, and what happens to the
 * answers that lose (docs/packages/resolver.md, "Remote lookup").
 */
import { AbortedError } from '@ptftp/protocol';
import { describe, expect, it, vi } from 'vitest';
import type { CacheFill } from '../src/resolver-cache.js';
import {
  type AskCluster,
  type Attempt,
  type FoundAttempt,
  searchParallel,
  searchSequential,
} from '../src/search-strategies.js';

/** A found answer whose fill records `fail`. */
function found(clusterId: string): FoundAttempt & { failed: unknown[] } {
  const failed: unknown[] = [];
  const fill = { fail: (err: unknown) => failed.push(err) } as unknown as CacheFill;
  return {
    kind: 'found',
    clusterId,
    fill,
    done: Promise.resolve({ address: `${clusterId}:69` }),
    address: `${clusterId}:69`,
    whole: false,
    failed,
  };
}

/** An `ask` whose answers the test releases one by one; records the order and the signals. */
function controlledAsk() {
  const pending = new Map<string, (a: Attempt) => void>();
  const asked: string[] = [];
  const signals = new Map<string, AbortSignal>();
  let running = 0;
  let maxRunning = 0;
  const ask: AskCluster = (id, signal) => {
    asked.push(id);
    signals.set(id, signal);
    running++;
    maxRunning = Math.max(maxRunning, running);
    return new Promise<Attempt>((resolve) => {
      pending.set(id, (a) => {
        running--;
        pending.delete(id);
        resolve(a);
      });
    });
  };
  const answer = (id: string, a: Attempt) => {
    const settle = pending.get(id);
    if (!settle) throw new Error(`${id} was not asked`);
    settle(a);
  };
  return { ask, answer, asked, signals, pending, maxRunning: () => maxRunning };
}

describe('searchSequential: one cluster after another', () => {
  it('asks in order, stops at the first that has the file, and counts only unreachable clusters as failures', async () => {
    const asked: string[] = [];
    const boom = new Error('timeout');
    const answers: Record<string, Attempt> = {
      B: { kind: 'missing', clusterId: 'B' },
      C: { kind: 'unreachable', clusterId: 'C', error: boom },
      D: found('D'),
      E: found('E'),
    };
    const result = await searchSequential(['B', 'C', 'D', 'E'], new AbortController().signal, async (id) => {
      asked.push(id);
      return answers[id]!;
    });
    expect(asked).toEqual(['B', 'C', 'D']);
    expect(result.found?.clusterId).toBe('D');
    expect(result.failures).toEqual([{ address: 'C', error: boom }]);
  });

  it('nowhere: no winner, and every unreachable cluster listed', async () => {
    const result = await searchSequential(['B', 'C'], new AbortController().signal, async (id) => ({
      kind: 'unreachable',
      clusterId: id,
      error: id,
    }));
    expect(result.found).toBeUndefined();
    expect(result.failures.map((f) => f.address)).toEqual(['B', 'C']);
  });
});

describe('searchParallel: up to fanout at once, first found wins', () => {
  it('never asks more than fanout at once; each "not found" starts the next cluster', async () => {
    const c = controlledAsk();
    const search = searchParallel(['B', 'C', 'D', 'E'], 2, new AbortController().signal, c.ask);
    expect(c.asked).toEqual(['B', 'C']);
    c.answer('B', { kind: 'missing', clusterId: 'B' });
    await vi.waitFor(() => expect(c.asked).toEqual(['B', 'C', 'D']));
    c.answer('C', { kind: 'missing', clusterId: 'C' });
    await vi.waitFor(() => expect(c.asked).toEqual(['B', 'C', 'D', 'E']));
    c.answer('E', found('E'));
    const result = await search;
    expect(c.maxRunning()).toBe(2);
    expect(result.found?.clusterId).toBe('E');
    // The one still running lost: its signal fired.
    expect(c.signals.get('D')!.aborted).toBe(true);
    expect(c.signals.get('E')!.aborted).toBe(false);
  });

  it('answers of the same turn rank by preference (the order given); the losers are stopped and their fills failed', async () => {
    const c = controlledAsk();
    const search = searchParallel(['B', 'C', 'D'], 4, new AbortController().signal, c.ask);
    const fromD = found('D');
    const fromC = found('C');
    // D answers first, C in the same turn: C is preferred.
    c.answer('D', fromD);
    c.answer('C', fromC);
    const result = await search;
    expect(result.found).toBe(fromC);
    expect(fromC.failed).toEqual([]);
    expect(fromD.failed).toHaveLength(1);
    expect(fromD.failed[0]).toBeInstanceOf(AbortedError);
    expect(c.signals.get('D')!.aborted).toBe(true);
    // B had not answered: aborted with the search.
    expect(c.signals.get('B')!.aborted).toBe(true);
  });

  it('an aborted search rejects with AbortedError and aborts every cluster still asked', async () => {
    const c = controlledAsk();
    const controller = new AbortController();
    const search = searchParallel(['B', 'C'], 4, controller.signal, c.ask);
    controller.abort(new Error('phone gave up'));
    await expect(search).rejects.toMatchObject({ code: 'PTFTP_ERR_ABORTED' });
    expect(c.signals.get('B')!.aborted).toBe(true);
    expect(c.signals.get('C')!.aborted).toBe(true);
  });

  it('no clusters: settles at once with nothing found', async () => {
    const ask = vi.fn<AskCluster>();
    await expect(searchParallel([], 4, new AbortController().signal, ask)).resolves.toEqual({ failures: [] });
    expect(ask).not.toHaveBeenCalled();
  });
});
