import { request } from 'node:http';
import { PtftpError, TftpRemoteError, tftpGet } from '@ptftp/protocol';
import { MemoryStore, type Store, type Upstream } from '@ptftp/resolver';
import { afterEach, describe, expect, it } from 'vitest';
import { requestName } from '../src/http-frontend.js';
import { ConfigError, createProxyServer, type ProxyServer, parseConfig } from '../src/index.js';
import { startProxy } from './fixtures.js';

/** One GET with the request target sent exactly as given (fetch() would normalise it first). */
function rawGet(server: ProxyServer, target: string): Promise<{ status: number; body: string }> {
  const a = server.addresses.http[0]!;
  return new Promise((resolve, reject) => {
    const req = request({ host: a.address, port: a.port, path: target, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A store that fails the way a database-backed store does: with its own host in the message. */
const brokenStore: Store = {
  get: async () => {
    throw new PtftpError('PTFTP_ERR_UPSTREAM_UNREACHABLE', 'connect ECONNREFUSED db-1.corp.internal:5432');
  },
};

describe('HTTP front end: request targets are never normalised into another name', () => {
  let server: ProxyServer | undefined;
  afterEach(async () => {
    await server?.close({ graceMs: 0 });
    server = undefined;
  });

  it('requestName keeps dot segments and backslashes for the resolver to refuse, drops query and authority', () => {
    expect(requestName('/a/%2e%2e/SEP001122334455.cnf.xml')).toBe('a/../SEP001122334455.cnf.xml');
    expect(requestName('/a/../b.xml')).toBe('a/../b.xml');
    expect(requestName('/..\\b.xml')).toBe('..\\b.xml');
    expect(requestName('//b.xml')).toBe('b.xml');
    expect(requestName('/b.xml?x=1#f')).toBe('b.xml');
    expect(requestName('http://proxy:6970/Desktops/List.xml?q')).toBe('Desktops/List.xml');
    expect(requestName('*')).toBeUndefined();
    expect(requestName('/%E0%A4%A')).toBeUndefined();
  });

  it('traversal through %2e%2e, "..", or a backslash is 403 over HTTP, as over TFTP, never another file', async () => {
    server = await startProxy({}, { 'a.xml': 'secret-ish', 'x/a.xml': 'x' });
    for (const target of [
      '/x/%2e%2e/a.xml',
      '/x/%2E%2E/a.xml',
      '/x/../a.xml',
      '/x/..\\a.xml',
      '/x\\..\\a.xml',
    ]) {
      const res = await rawGet(server, target);
      expect({ target, status: res.status }).toEqual({ target, status: 403 });
      expect(res.body).not.toContain('secret-ish');
    }
  });

  it('"//name" and a query string still name the file; an absolute-form target is served by its path', async () => {
    server = await startProxy({}, { 'a.xml': 'A', 'b/c.xml': 'C' });
    expect(await rawGet(server, '//a.xml')).toEqual({ status: 200, body: 'A' });
    expect(await rawGet(server, '/a.xml?rand=1')).toEqual({ status: 200, body: 'A' });
    expect(await rawGet(server, 'http://phone.example/b/c.xml')).toEqual({ status: 200, body: 'C' });
    // Before: URL parsing read "//b/c.xml" as host "b" and path "/c.xml".
    expect((await rawGet(server, '//b/c.xml')).body).toBe('C');
  });
});

describe('failures do not leak internal names to endpoints', () => {
  let server: ProxyServer | undefined;
  afterEach(async () => {
    await server?.close({ graceMs: 0 });
    server = undefined;
  });

  async function start(store: Store): Promise<ProxyServer> {
    const s = createProxyServer(
      { listen: ['127.0.0.1:0'], http: { listen: ['127.0.0.1:0'] }, admin: { enabled: false } },
      { createStore: () => store },
    );
    await s.start();
    return s;
  }

  it('HTTP: an internal failure is "502 internal error"; its message only goes to the failed event', async () => {
    server = await start(brokenStore);
    const failed: string[] = [];
    server.on('failed', (f) => failed.push(f.error.message));
    const res = await rawGet(server, '/SEP001122334455.cnf.xml');
    expect(res).toEqual({ status: 502, body: 'internal error\n' });
    expect(failed).toEqual(['connect ECONNREFUSED db-1.corp.internal:5432']);
  });

  it('TFTP: an internal failure is ERROR 0 "internal error", not the store\'s message', async () => {
    server = await start(brokenStore);
    const a = server.addresses.tftp[0]!;
    const err = await tftpGet({ host: a.address, port: a.port }, 'SEP001122334455.cnf.xml', {
      retransmitTimeoutMs: 2000,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TftpRemoteError);
    expect((err as TftpRemoteError).remoteCode).toBe(0);
    expect((err as TftpRemoteError).remoteMessage).toBe('internal error');
  });

  it('not found keeps its documented answers: HTTP 404 "file not found: NAME", TFTP ERROR 1', async () => {
    server = await start(new MemoryStore({}));
    expect(await rawGet(server, '/SEP001122334455.cnf.xml')).toEqual({
      status: 404,
      body: 'file not found: SEP001122334455.cnf.xml\n',
    });
    const a = server.addresses.tftp[0]!;
    const err = await tftpGet({ host: a.address, port: a.port }, 'SEP001122334455.cnf.xml').catch(
      (e: unknown) => e,
    );
    expect((err as { code?: string }).code).toBe('PTFTP_ERR_NOT_FOUND'); // the client's reading of ERROR 1
  });
});

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
    while (server.status().activeSessions.http === 0) await new Promise((r) => setImmediate(r));

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

describe('admin endpoint on loopback: DNS rebinding', () => {
  let server: ProxyServer | undefined;
  afterEach(async () => {
    await server?.close({ graceMs: 0 });
    server = undefined;
  });

  function adminGet(path: string, host: string): Promise<{ status: number; body: string }> {
    const a = server!.addresses.admin!;
    return new Promise((resolve, reject) => {
      const req = request(
        { host: a.address, port: a.port, path, agent: false, headers: { Host: host } },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            body += c;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  it('a request addressed to a DNS name is refused with 421; IP literals and localhost are served', async () => {
    server = await startProxy({});
    const port = server.addresses.admin!.port;
    const refused = await adminGet('/status', `attacker.example:${port}`);
    expect(refused.status).toBe(421);
    expect(JSON.parse(refused.body)).toEqual({
      error: { message: 'a loopback admin endpoint answers only to an IP address or localhost' },
    });
    expect(refused.body).not.toContain('127.0.0.1');
    expect((await adminGet('/health', `127.0.0.1:${port}`)).status).toBe(200);
    expect((await adminGet('/health', `localhost:${port}`)).status).toBe(200);
    expect((await adminGet('/health', `[::1]:${port}`)).status).toBe(200);
  });
});

describe('configuration: peerAddresses', () => {
  it('a peer address that is not an IP is refused by path, since it could never match a request', () => {
    let error: unknown;
    try {
      parseConfig({
        peerAddresses: ['10.0.0.5', 'proxy-b.corp.example', '10.0.0.6:6969', '[2001:db8::5]', 'x:y'],
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([
      {
        path: 'peerAddresses[1]',
        message:
          '"proxy-b.corp.example" must be an IP address: a peer proxy is recognised by the address its requests come from',
      },
      { path: 'peerAddresses[4]', message: '"x:y" has an invalid port' },
    ]);
    expect(parseConfig({ peerAddresses: ['10.0.0.5', '[2001:db8::5]'] }).peerAddresses).toEqual([
      '10.0.0.5',
      '[2001:db8::5]',
    ]);
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
    while (discovering < 2) await new Promise((r) => setImmediate(r));
    // Before: the new resolver (no clusters yet) was already answering: 404, negatively cached.
    expect(await rawGet(server, '/SEP00AABBCCDDEE.cnf.xml')).toEqual({ status: 200, body: 'remote' });
    open();
    expect((await reloading).storeReplaced).toBe(true);
    expect(await rawGet(server, '/SEP00AABBCCDDEE.cnf.xml')).toEqual({ status: 200, body: 'remote' });
  });
});

describe('HTTP and admin sockets survive accept errors', () => {
  let server: ProxyServer | undefined;
  afterEach(async () => {
    await server?.close({ graceMs: 0 });
    server = undefined;
  });

  it('EMFILE on accept, twice, neither throws nor stops the servers', async () => {
    server = await startProxy({}, { 'a.xml': 'A' });
    // The sockets are private; an accept failure is an `error` event on them (node:net onconnection).
    const [, http, admin] = (
      server as unknown as {
        frontends: [
          unknown,
          { inner: { servers: Map<string, import('node:http').Server> } },
          { endpoint: { server: import('node:http').Server } },
        ];
      }
    ).frontends;
    const emfile = () => Object.assign(new Error('accept EMFILE'), { code: 'EMFILE', syscall: 'accept' });
    for (const s of [[...http.inner.servers.values()][0]!, admin.endpoint.server]) {
      expect(() => {
        s.emit('error', emfile());
        s.emit('error', emfile());
      }).not.toThrow();
    }
    expect(await rawGet(server, '/a.xml')).toEqual({ status: 200, body: 'A' });
    const res = await fetch(`${server.addresses.admin!.url}/health`);
    expect(res.status).toBe(200);
  });
});
