/**
 * Issue 13, item 1: no single request takes the process down. Each request path contains its
 * own failures; what escapes them is counted in ptftp_unexpected_errors_total and reported.
 */
import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { tftpGet } from '@ptftp/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { targetPath } from '../src/admin.js';
import { containRequests } from '../src/contain.js';
import { guardProcess, type ProxyServer } from '../src/index.js';
import { metricValue, pattern, sha256, startProxy, untilServed } from './fixtures.js';

/** Send raw bytes on a new connection; resolves with everything received until the server closes or `idleMs` passes. */
function rawExchange(port: number, request: string | Buffer, idleMs = 2000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = '';
    const timer = setTimeout(() => socket.destroy(), idleMs);
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      received += d;
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
    socket.write(request);
  });
}

describe('request targets that used to kill the process (admin endpoint)', () => {
  let server: ProxyServer | undefined;
  afterEach(async () => {
    await server?.close({ graceMs: 0 });
    server = undefined;
  });

  it('targetPath: the path of any target, never a throw (no WHATWG URL parsing)', () => {
    expect(targetPath('/status?x=1')).toBe('/status');
    expect(targetPath('http://127.0.0.1:9469/health#x')).toBe('/health');
    expect(targetPath('///')).toBe('///');
    expect(targetPath('//[')).toBe('//[');
    expect(targetPath('//a:99999/')).toBe('//a:99999/');
    expect(targetPath('*')).toBe('*');
  });

  it('///, //[, //a:99999/, //@ and //a%00b/ with any Host header get 404 (or 421), and /health still answers', async () => {
    server = await startProxy({}, {});
    const port = server.addresses.admin!.port;
    const targets = ['///', '//[', '//a:99999/', '//@', '//a%00b/', '//[::1', '/\\\\a'];
    const hosts = ['127.0.0.1', 'evil.example', '[', '[::1]:99999'];
    const statuses: string[] = [];
    for (const target of targets) {
      for (const host of hosts) {
        const answer = await rawExchange(
          port,
          `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
        );
        statuses.push(answer.slice(0, 12));
      }
    }
    expect(statuses).toHaveLength(targets.length * hosts.length);
    // Loopback endpoint: an IP or localhost Host gets the route's 404, a DNS name or junk the 421.
    for (const s of statuses) expect(['HTTP/1.1 404', 'HTTP/1.1 421']).toContain(s);
    expect(statuses.filter((s) => s === 'HTTP/1.1 404')).toHaveLength(targets.length * 2);
    const health = await fetch(`${server.addresses.admin!.url}/health`);
    expect(await health.json()).toEqual({ status: 'ok' });
    const metrics = await (await fetch(`${server.addresses.admin!.url}/metrics`)).text();
    // Handled on the route, not by the last line of defence.
    expect(metricValue(metrics, 'ptftp_unexpected_errors_total', { where: 'admin' })).toBe(0);
  });
});

describe('containRequests: a handler failure stays with its request', () => {
  it('a throw before the answer is a 500; a throw after it cuts the connection; both are reported', async () => {
    const reported: string[] = [];
    const http = createServer(
      containRequests(
        async (req, res) => {
          if (req.url === '/sync') throw new Error('sync boom');
          if (req.url === '/late') {
            res.writeHead(200, { 'Content-Length': 10 });
            res.write('hello');
            await Promise.resolve();
            throw new Error('late boom');
          }
          await Promise.reject('a string, not an Error');
        },
        (err) => reported.push(err.message),
      ),
    );
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const port = (http.address() as AddressInfo).port;
    try {
      const early = await rawExchange(port, 'GET /sync HTTP/1.1\r\nHost: x\r\n\r\n');
      expect(early.startsWith('HTTP/1.1 500 ')).toBe(true);
      expect(early.endsWith('internal error\n')).toBe(true);
      const late = await rawExchange(port, 'GET /late HTTP/1.1\r\nHost: x\r\n\r\n');
      expect(late.startsWith('HTTP/1.1 200 ')).toBe(true);
      expect(late.endsWith('hello')).toBe(true); // 5 of the 10 announced bytes, then the cut
      const other = await rawExchange(port, 'GET /other HTTP/1.1\r\nHost: x\r\n\r\n');
      expect(other.startsWith('HTTP/1.1 500 ')).toBe(true);
      expect(reported).toEqual(['sync boom', 'late boom', 'a string, not an Error']);
    } finally {
      await new Promise((r) => http.close(r));
    }
  });
});

describe('listeners that throw do not break requests', () => {
  let server: ProxyServer | undefined;
  afterEach(async () => {
    await server?.close({ graceMs: 0 });
    server = undefined;
  });

  it('a throwing "served" listener: HTTP and TFTP still serve, the throw is counted as where="listener"', async () => {
    const body = pattern(3000);
    server = await startProxy({}, { 'a.bin': body });
    const unexpected: string[] = [];
    server.on('unexpectedError', (e) => unexpected.push(`${e.where}: ${e.error.message}`));
    server.on('served', () => {
      throw new Error('listener bug');
    });
    const res = await fetch(`${server.addresses.http[0]!.url}/a.bin`);
    expect(res.status).toBe(200);
    expect(sha256(new Uint8Array(await res.arrayBuffer()))).toBe(sha256(body));
    const t = server.addresses.tftp[0]!;
    const reported = untilServed(server, 1);
    expect(sha256(await tftpGet({ host: t.address, port: t.port }, 'a.bin'))).toBe(sha256(body));
    await reported;
    await vi.waitFor(() => expect(unexpected).toHaveLength(2));
    expect(unexpected).toEqual(['listener: listener bug', 'listener: listener bug']);
    const metrics = await (await fetch(`${server.addresses.admin!.url}/metrics`)).text();
    expect(metricValue(metrics, 'ptftp_unexpected_errors_total', { where: 'listener' })).toBe(2);
    // The HTTP request was not counted as failed because of the listener.
    expect(metricValue(metrics, 'ptftp_requests_total', { transport: 'http', result: 'error' })).toBe(0);
  });
});

describe('guardProcess: the process-level policy', () => {
  it('reports unhandled rejections and uncaught exceptions with their kind, and removes its handlers', () => {
    const target = new EventEmitter();
    const seen: string[] = [];
    const unguard = guardProcess(
      (err, kind) => seen.push(`${kind}: ${err.message}`),
      target as unknown as NodeJS.Process,
    );
    target.emit('unhandledRejection', new Error('lost promise'));
    target.emit('uncaughtException', new Error('thrown in a timer'));
    target.emit('unhandledRejection', undefined);
    expect(seen).toEqual([
      'unhandledRejection: lost promise',
      'uncaughtException: thrown in a timer',
      'unhandledRejection: non-error value thrown: undefined',
    ]);
    unguard();
    expect(target.listenerCount('unhandledRejection')).toBe(0);
    expect(target.listenerCount('uncaughtException')).toBe(0);
  });

  it('a reporter that throws does not turn into the next failure', () => {
    const target = new EventEmitter();
    guardProcess(
      () => {
        throw new Error('logger down');
      },
      target as unknown as NodeJS.Process,
    );
    expect(() => target.emit('unhandledRejection', new Error('x'))).not.toThrow();
  });
});
