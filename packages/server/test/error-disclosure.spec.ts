import { PtftpError, TftpRemoteError, tftpGet } from '@ptftp/protocol';
import { MemoryStore, type Store } from '@ptftp/resolver';
import { afterEach, describe, expect, it } from 'vitest';
import { createProxyServer, type ProxyServer } from '../src/index.js';
import { rawGet } from './fixtures.js';

/** A store that fails the way a database-backed store does: with its own host in the message. */
const brokenStore: Store = {
  get: async () => {
    throw new PtftpError('PTFTP_ERR_UPSTREAM_UNREACHABLE', 'connect ECONNREFUSED db-1.corp.internal:5432');
  },
};

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
