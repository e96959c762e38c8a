import { AbortedError, type Content } from '@ptftp/protocol';
import { readAll } from '@ptftp/protocol/internal';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore, Resolver, type Upstream } from '../src/index.js';
import { MemoryUpstream } from '../src/testing/index.js';

const body = (r: { content: Content }) => readAll(r.content);

const ticks = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

const open: Resolver[] = [];
afterEach(() => {
  for (const r of open.splice(0)) r.close();
});

describe('Resolver: coalescing after every requester gave up', () => {
  it('sequential lookup: a request arriving while the abandoned fetch winds down starts a new fetch instead of inheriting its abort', async () => {
    // An upstream whose first transfer takes a while to notice the abort (a TFTP transfer
    // notices at its next packet or timeout), as real ones do.
    let release: () => void = () => {};
    const slowToDie = new Promise<void>((r) => {
      release = r;
    });
    let fetches = 0;
    const upstream: Upstream = {
      id: 'B',
      async fetch(_name, { signal }) {
        fetches++;
        if (fetches === 1) {
          await slowToDie;
          if (signal.aborted) throw new AbortedError('fetch aborted', { cause: signal.reason });
        }
        return { data: new TextEncoder().encode('a'), address: '192.0.2.1:69' };
      },
    };
    const resolver = new Resolver(
      { clusters: [{ id: 'B', tftp: ['192.0.2.1'] }], lookup: 'sequential' },
      { store: new MemoryStore(), upstreamFactory: () => upstream },
    );
    open.push(resolver);

    const gaveUp = new AbortController();
    const first = resolver.resolve('a.xml', { signal: gaveUp.signal });
    await ticks();
    gaveUp.abort();
    await expect(first).rejects.toMatchObject({ code: 'PTFTP_ERR_ABORTED' });

    // The phone retries before the abandoned transfer has ended.
    const retry = resolver.resolve('a.xml');
    await ticks();
    release();
    const got = await retry;
    expect(Buffer.from(await body(got)).toString()).toBe('a');
    expect(got.source).toBe('cluster');
    expect(fetches).toBe(2);
  });
});

describe('Resolver: flush "at once" also covers fetches in flight', () => {
  it('after flush({ device }) a new request does not join the fetch started before it: the phone moved', async () => {
    const a = new MemoryUpstream('A', { 'SEP001122334455.cnf.xml': '<cluster A/>' });
    const resolver = new Resolver(
      { clusters: [{ id: 'A', tftp: ['192.0.2.1'] }] },
      { store: new MemoryStore(), upstreamFactory: () => a },
    );
    open.push(resolver);
    const release = a.pause();
    const before = resolver.resolve('SEP001122334455.cnf.xml');
    await ticks();
    // The operator moves the phone (here: the cluster's file changes) and flushes the device.
    a.set('SEP001122334455.cnf.xml', '<moved/>');
    await resolver.flush({ device: 'SEP001122334455' });
    const after = resolver.resolve('SEP001122334455.cnf.xml');
    await ticks();
    release();
    await before;
    expect(Buffer.from(await body(await after)).toString()).toBe('<moved/>');
    expect(a.fetchCount('SEP001122334455.cnf.xml')).toBe(2);
  });

  it('close still aborts a fetch that a flush detached', async () => {
    const a = new MemoryUpstream('A', { 'a.xml': 'a' });
    const resolver = new Resolver(
      { clusters: [{ id: 'A', tftp: ['192.0.2.1'] }] },
      { store: new MemoryStore(), upstreamFactory: () => a },
    );
    a.pause();
    const pending = resolver.resolve('a.xml');
    await ticks();
    await resolver.flush();
    resolver.close();
    await expect(pending).rejects.toMatchObject({ code: 'PTFTP_ERR_ABORTED' });
    expect(a.aborted).toBe(1);
  });
});
