/**
 * The cluster lifecycle on its own: which upstream a reconfiguration keeps (and with it the
 * health it learned), what it reports as gone or added, the asking order, and when a retired
 * upstream is closed (never under a fetch still streaming from it).
 */
import { describe, expect, it } from 'vitest';
import { Clusters } from '../src/clusters.js';
import { MemoryStore } from '../src/index.js';
import { makeSettings, type ResolverInit } from '../src/resolver-settings.js';
import type { ClusterConfig } from '../src/topology.js';
import type { Upstream } from '../src/upstream.js';

interface Recorded extends Upstream {
  closes: number;
}

/** Builds recording upstreams, one per call, and keeps them in build order. */
function factory() {
  const built: Recorded[] = [];
  const upstreamFactory = (cluster: ClusterConfig): Upstream => {
    const up: Recorded = {
      id: cluster.id,
      closes: 0,
      fetch: () => Promise.reject(new Error('not used')),
      close() {
        up.closes++;
      },
    };
    built.push(up);
    return up;
  };
  return { built, components: { upstreamFactory } };
}

const settings = (init: ResolverInit = {}) => makeSettings(init, { store: new MemoryStore() });
const B: ClusterConfig = { id: 'B', tftp: ['10.1.0.10'] };
const C: ClusterConfig = { id: 'C', tftp: ['10.2.0.10'] };
const D: ClusterConfig = { id: 'D', tftp: ['10.3.0.10'], enabled: false };

describe('Clusters: topology and upstream lifecycle', () => {
  it('asks preferred clusters first, then the others in configured order; disabled clusters are not asked', () => {
    const { built, components } = factory();
    const clusters = new Clusters([B, C, D], settings({ preference: ['C'] }), components);
    expect(clusters.topology.order).toEqual(['C', 'B']);
    expect(built.map((u) => u.id)).toEqual(['B', 'C', 'D']);
    expect(clusters.status().map((s) => [s.id, s.enabled])).toEqual([
      ['B', true],
      ['C', true],
      ['D', false],
    ]);
  });

  it('a reconfiguration keeps the upstream of an unchanged cluster, replaces a changed one, and reports it gone', () => {
    const { built, components } = factory();
    const clusters = new Clusters([B, C], settings(), components);
    const [upB, upC] = built;
    const changedC = { ...C, tftp: ['10.2.0.11'] };
    const change = clusters.apply([B, changedC], settings(), true);
    expect(change.next.upstreams.get('B')).toBe(upB);
    expect(change.next.upstreams.get('C')).not.toBe(upC);
    expect([...change.gone]).toEqual(['C']);
    expect(change.added).toBe(false);
    // C's old upstream was idle: closed at once; B's is still in use.
    expect(upC!.closes).toBe(1);
    expect(upB!.closes).toBe(0);
  });

  it('without reuse (upstream settings changed) every upstream is rebuilt; a new cluster counts as added', () => {
    const { built, components } = factory();
    const clusters = new Clusters([B], settings(), components);
    const change = clusters.apply([B, C], settings(), false);
    expect(built).toHaveLength(3);
    expect(change.next.upstreams.get('B')).toBe(built[1]);
    expect(built[0]!.closes).toBe(1);
    expect(change.gone.size).toBe(0);
    expect(change.added).toBe(true);
  });

  it('an upstream retired while a fetch uses it closes once that fetch is through, not before', () => {
    const { built, components } = factory();
    const clusters = new Clusters([B], settings(), components);
    const upB = built[0]!;
    const first = clusters.use(upB);
    const second = clusters.use(upB);
    clusters.apply([], settings(), true);
    expect(upB.closes).toBe(0);
    first();
    expect(upB.closes).toBe(0);
    second();
    expect(upB.closes).toBe(1);
    // close() does not close it twice: it is no longer retired.
    clusters.close();
    expect(upB.closes).toBe(1);
  });

  it('an upstream factory that throws leaves the topology in effect', () => {
    const { built, components } = factory();
    const clusters = new Clusters([B], settings(), components);
    const before = clusters.topology;
    const working = components.upstreamFactory;
    components.upstreamFactory = (c: ClusterConfig) => {
      if (c.id === 'C') throw new Error('no socket');
      return working(c);
    };
    expect(() => clusters.apply([B, C], settings(), false)).toThrow('no socket');
    expect(clusters.topology).toBe(before);
    expect(built[0]!.closes).toBe(0);
  });

  it('close() closes the upstreams in effect and those retired but still in use', () => {
    const { built, components } = factory();
    const clusters = new Clusters([B], settings(), components);
    const done = clusters.use(built[0]!);
    clusters.apply([C], settings(), true);
    clusters.close();
    expect(built.map((u) => [u.id, u.closes])).toEqual([
      ['B', 1],
      ['C', 1],
    ]);
    // The fetch ending after close does not close B a second time.
    done();
    expect(built[0]!.closes).toBe(1);
  });
});
