import { MemoryStore, type Upstream } from '@ptftp/resolver';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createProxyServer, type ProxyServer } from '../src/index.js';
import { rawGet } from './fixtures.js';

describe('reload: a resolver replaced with the store is released once its requests end', () => {
  let server: ProxyServer | undefined;
  afterEach(async () => {
    await server?.close({ graceMs: 0 });
    server = undefined;
  });

  it('the old resolver (and its upstreams and cache) is closed after its in-flight request finishes, not at shutdown', async () => {
    const closed: number[] = [];
    let release: (() => void) | undefined;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let made = 0;
    const upstreamFactory = (): Upstream => {
      const n = made++;
      return {
        id: 'cluster-b',
        fetch: async () => {
          await gate;
          return { data: new TextEncoder().encode(`from upstream ${n}`), address: '192.0.2.1:69' };
        },
        close: () => closed.push(n),
      };
    };
    const config = (root: string) => ({
      listen: ['127.0.0.1:0'],
      http: { listen: ['127.0.0.1:0'] },
      admin: { enabled: false },
      store: { root },
      clusters: [{ id: 'cluster-b', tftp: ['192.0.2.1'] }],
    });
    server = createProxyServer(config('/srv/ptftp-a'), {
      createStore: () => new MemoryStore({}),
      upstreamFactory,
    });
    await server.start();
    const inFlight = rawGet(server, '/SEP001122334455.cnf.xml');
    // The request has reached the (first) upstream once the HTTP front end counts it active.
    await vi.waitFor(() => expect(server!.status().activeSessions.http).toBe(1), { interval: 1 });

    const result = await server.reload(config('/srv/ptftp-b'));
    expect(result.storeReplaced).toBe(true);
    expect(closed).toEqual([]); // still serving the request it started

    release!();
    expect(await inFlight).toEqual({ status: 200, body: 'from upstream 0' });
    expect(closed).toEqual([0]); // before: only closed by server.close()

    // A second reload with nothing in flight closes the replaced resolver at once.
    await server.reload(config('/srv/ptftp-c'));
    expect(closed).toEqual([0, 1]);
  });
});

describe('reload with discovery: the swap is atomic', () => {
  let server: ProxyServer | undefined;
  afterEach(async () => {
    await server?.close({ graceMs: 0 });
    server = undefined;
  });

  it('while the new resolver discovers its clusters, requests are still answered by the old one (no "not found" window)', async () => {
    let gate: Promise<void> | undefined;
    let discovering = 0;
    const discovery = {
      async discover() {
        discovering++;
        await gate;
        return [{ id: 'cluster-b', tftp: ['192.0.2.1'] }];
      },
    };
    const upstreamFactory = (): Upstream => ({
      id: 'cluster-b',
      fetch: async () => ({ data: new TextEncoder().encode('remote'), address: '192.0.2.1:69' }),
    });
    const config = (root: string) => ({
      listen: ['127.0.0.1:0'],
      http: { listen: ['127.0.0.1:0'] },
      admin: { enabled: false },
      store: { root },
      cache: { ttlSeconds: 0 }, // every request goes to the clusters the resolver knows now
    });
    server = createProxyServer(config('/srv/ptftp-a'), {
      createStore: () => new MemoryStore({}),
      upstreamFactory,
      discovery,
    });
    await server.start();
    expect(await rawGet(server, '/SEP001122334455.cnf.xml')).toEqual({ status: 200, body: 'remote' });

    let open: () => void = () => {};
    gate = new Promise<void>((r) => {
      open = r;
    });
    const reloading = server.reload(config('/srv/ptftp-b'));
    await vi.waitFor(() => expect(discovering).toBe(2), { interval: 1 });
    // Before: the new resolver (no clusters yet) was already answering: 404, negatively cached.
    expect(await rawGet(server, '/SEP00AABBCCDDEE.cnf.xml')).toEqual({ status: 200, body: 'remote' });
    open();
    expect((await reloading).storeReplaced).toBe(true);
    expect(await rawGet(server, '/SEP00AABBCCDDEE.cnf.xml')).toEqual({ status: 200, body: 'remote' });
  });
});
