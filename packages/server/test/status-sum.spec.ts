import { describe, expect, it } from 'vitest';
import type { ProxyStatus } from '../src/proxy-types.js';
import { sumStatuses } from '../src/status-sum.js';

function worker(n: number, shared?: { up: boolean; errors: number }): ProxyStatus {
  return {
    state: 'running',
    startedAt: `2026-12-04T10:00:0${n}.000Z`,
    uptimeSeconds: 1,
    addresses: {
      tftp: [{ address: '127.0.0.1', port: 6969, family: 4, url: 'tftp://127.0.0.1:6969' }],
      http: [],
    },
    activeSessions: { tftp: n, http: 10 * n },
    cache: {
      entries: n,
      bytes: 100 * n,
      memoryBytes: 60 * n,
      diskBytes: 40 * n,
      hits: 1000 * n,
      misses: 2 * n,
      inflightFetches: n,
      inflightBytes: 7 * n,
      waitingFetches: 3 * n,
      budgetRefusals: 5 * n,
      ...(shared && { shared }),
    },
    clusters: [{ id: `c${n}`, enabled: true, addresses: [] }],
    reloads: { applied: 9, rejected: 9 },
  };
}

describe('sumStatuses: N workers as one server', () => {
  it("adds sessions and every cache count; addresses and clusters are the first worker's; reloads the primary's", () => {
    const whole = sumStatuses([worker(1), worker(2)], { applied: 1, rejected: 0 }, []);
    expect(whole.activeSessions).toEqual({ tftp: 3, http: 30 });
    expect(whole.cache).toEqual({
      entries: 3,
      bytes: 300,
      memoryBytes: 180,
      diskBytes: 120,
      hits: 3000,
      misses: 6,
      inflightFetches: 3,
      inflightBytes: 21,
      waitingFetches: 9,
      budgetRefusals: 15,
    });
    expect(whole.clusters).toEqual([{ id: 'c1', enabled: true, addresses: [] }]);
    expect(whole.addresses.tftp.map((a) => a.url)).toEqual(['tftp://127.0.0.1:6969']);
    expect(whole.reloads).toEqual({ applied: 1, rejected: 0 });
    expect(whole.startedAt).toBe('2026-12-04T10:00:01.000Z');
    expect(whole.state).toBe('running');
  });

  it('the shared cache is up only when every worker reaches Redis; errors add up', () => {
    const whole = sumStatuses(
      [worker(1, { up: true, errors: 1 }), worker(2, { up: false, errors: 4 })],
      { applied: 0, rejected: 0 },
      [],
    );
    expect(whole.cache.shared).toEqual({ up: false, errors: 5 });
  });

  it('no worker answering: idle, nothing counted', () => {
    const whole = sumStatuses([], { applied: 0, rejected: 0 }, []);
    expect(whole.state).toBe('idle');
    expect(whole.activeSessions).toEqual({ tftp: 0, http: 0 });
    expect(whole.cache.hits).toBe(0);
  });
});
