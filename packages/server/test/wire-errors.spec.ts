/**
 * Issue 16, one error model, through the whole proxy: a store's failure is classified by its
 * class, never by a `code` string anyone can write, and its message (which may name internal
 * paths) reaches neither the TFTP wire nor an HTTP body. TFTP bytes read on a raw socket.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { request } from 'node:http';
import { AccessViolationError, encodeRequest, Opcode, PtftpError } from '@ptftp/protocol';
import type { Store } from '@ptftp/resolver';
import { afterEach, describe, expect, it } from 'vitest';
import { createProxyServer, type ProxyServer } from '../src/index.js';

const NAME = 'SEP001122334455.cnf.xml';

function errorBytes(code: number, message: string): Buffer {
  return Buffer.concat([Buffer.from([0, 5, 0, code]), Buffer.from(message), Buffer.from([0])]);
}

/** One RRQ from a raw socket; the first datagram back. */
async function rrq(server: ProxyServer): Promise<Buffer> {
  const a = server.addresses.tftp[0]!;
  const socket = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const reply = once(socket, 'message', { signal: AbortSignal.timeout(10_000) });
    socket.send(encodeRequest(Opcode.RRQ, NAME, 'octet', {}), a.port, a.address);
    const [msg] = (await reply) as [Buffer];
    return msg;
  } finally {
    socket.close();
  }
}

function get(server: ProxyServer): Promise<{ status: number; body: string }> {
  const a = server.addresses.http[0]!;
  return new Promise((resolve, reject) => {
    const req = request({ host: a.address, port: a.port, path: `/${NAME}`, agent: false }, (res) => {
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

function failingStore(make: () => unknown): Store {
  return {
    get: async () => {
      throw make();
    },
  };
}

describe('a store failure reaches endpoints only as its class allows', () => {
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

  it('an error that only carries the code PTFTP_ERR_ACCESS_VIOLATION is internal: ERROR 0, HTTP 502', async () => {
    server = await start(
      failingStore(() =>
        Object.assign(new Error('EACCES /srv/secret/keys/SEP001122334455.cnf.xml'), {
          code: 'PTFTP_ERR_ACCESS_VIOLATION',
        }),
      ),
    );
    const failed: string[] = [];
    server.on('failed', (f) => failed.push(`${f.result} ${f.error.message}`));
    expect(await rrq(server)).toEqual(errorBytes(0, 'internal error'));
    expect(await get(server)).toEqual({ status: 502, body: 'internal error\n' });
    // Classified by class for metrics too, and the log keeps the message.
    expect(failed).toEqual([
      'error EACCES /srv/secret/keys/SEP001122334455.cnf.xml',
      'error EACCES /srv/secret/keys/SEP001122334455.cnf.xml',
    ]);
  });

  it('a PtftpError with an embedder code is internal: ERROR 0, HTTP 502, no path', async () => {
    server = await start(failingStore(() => new PtftpError('PTFTP_ERR_STORE', 'open /srv/secret/db.sqlite')));
    const wire = await rrq(server);
    expect(wire).toEqual(errorBytes(0, 'internal error'));
    expect(wire.includes('/srv/secret')).toBe(false);
    expect(await get(server)).toEqual({ status: 502, body: 'internal error\n' });
  });

  it('an AccessViolationError opts in: ERROR 2 with its message, HTTP 403', async () => {
    server = await start(failingStore(() => new AccessViolationError(NAME, `access violation: ${NAME}`)));
    expect(await rrq(server)).toEqual(errorBytes(2, `access violation: ${NAME}`));
    expect(await get(server)).toEqual({ status: 403, body: `access violation: ${NAME}\n` });
  });
});
