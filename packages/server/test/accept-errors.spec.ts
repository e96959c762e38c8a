import { afterEach, describe, expect, it } from 'vitest';
import type { ProxyServer } from '../src/index.js';
import { rawGet, startProxy } from './fixtures.js';

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
