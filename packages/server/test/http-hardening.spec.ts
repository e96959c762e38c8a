/**
 * Issue 13, item 2: slow HTTP readers lock no one out. A per-address connection cap, a
 * response idle / minimum-rate timeout (progress is never cut), and conditional requests.
 */
import { connect, type Socket } from 'node:net';
import { bufferContent } from '@ptftp/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { notModified, rangeApplies, VersionDates } from '../src/http-conditional.js';
import { HttpFrontend } from '../src/http-frontend.js';
import type { FailedInfo, ProxyServer } from '../src/index.js';
import { pattern, sha256, startProxy } from './fixtures.js';

interface Raw {
  socket: Socket;
  /** Everything received, once the connection is closed (either side). */
  closed: Promise<string>;
}

/** A connection from `localAddress` (any 127.x.y.z is loopback on Linux). */
function rawFrom(port: number, localAddress = '127.0.0.1'): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress });
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      received += d;
    });
    const closed = new Promise<string>((done) => socket.on('close', () => done(received)));
    socket.on('error', () => {});
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

describe('http.maxConnectionsPerAddress', () => {
  let server: ProxyServer | undefined;
  const open: Socket[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) s.destroy();
    await server?.close({ graceMs: 0 });
    server = undefined;
  });

  it('one address over its cap is closed unanswered; another address is served meanwhile; a freed slot serves again', async () => {
    server = await startProxy(
      { http: { listen: ['127.0.0.1:0'], maxConnectionsPerAddress: 2 } },
      { 'a.cfg': 'hello' },
    );
    const port = server.addresses.http[0]!.port;
    const a = await rawFrom(port, '127.0.0.2');
    const b = await rawFrom(port, '127.0.0.2');
    open.push(a.socket, b.socket);
    const c = await rawFrom(port, '127.0.0.2');
    open.push(c.socket);
    c.socket.write('GET /a.cfg HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect(await c.closed).toBe('');
    // Another host is not held back by the first one's connections.
    const res = await fetch(`http://127.0.0.1:${port}/a.cfg`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('hello');
    a.socket.destroy();
    await a.closed;
    await vi.waitFor(
      async () => {
        const d = await rawFrom(port, '127.0.0.2');
        open.push(d.socket);
        d.socket.end('GET /a.cfg HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
        expect((await d.closed).endsWith('hello')).toBe(true);
      },
      { timeout: 5000, interval: 50 },
    );
  });
});

describe('http.idleTimeoutMs and http.minBytesPerSecond (responses the client stops reading)', () => {
  let server: ProxyServer | undefined;
  const open: Socket[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) s.destroy();
    await server?.close({ graceMs: 0 });
    server = undefined;
  });
  // Far larger than loopback's socket buffers on both sides, so a client that stops reading
  // stalls it, and a download takes several windows.
  const big = pattern(48 * 1024 * 1024, 3);

  const failures = (s: ProxyServer) => {
    const seen: FailedInfo[] = [];
    s.on('failed', (f) => seen.push(f));
    return seen;
  };

  it('a client that asks and never reads is cut after idleTimeoutMs, and its connection freed', async () => {
    server = await startProxy({ http: { listen: ['127.0.0.1:0'], idleTimeoutMs: 300 } }, { 'fw.bin': big });
    const failed = failures(server);
    const conn = await rawFrom(server.addresses.http[0]!.port);
    open.push(conn.socket);
    conn.socket.pause();
    conn.socket.write('GET /fw.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await vi.waitFor(() => expect(failed).toHaveLength(1), { timeout: 5000, interval: 50 });
    expect(failed[0]!.name).toBe('fw.bin');
    expect(failed[0]!.result).toBe('error');
    expect(server.status().activeSessions.http).toBe(0);
  });

  it('a client that goes away mid-body is reported failed, not served', async () => {
    server = await startProxy({}, { 'fw.bin': big });
    const failed = failures(server);
    const served: string[] = [];
    server.on('served', (s) => served.push(s.name));
    const socket = connect({ host: '127.0.0.1', port: server.addresses.http[0]!.port });
    open.push(socket);
    socket.on('error', () => {});
    let got = 0;
    socket.on('data', (d: Buffer) => {
      got += d.length;
      if (got > 1024 * 1024) socket.destroy();
    });
    socket.write('GET /fw.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await vi.waitFor(() => expect(failed).toHaveLength(1), { timeout: 5000, interval: 50 });
    expect(failed[0]!.error.message).toBe('connection closed before the body was sent');
    expect(served).toEqual([]);
  });

  it('a pipelined request behind a small one is watched too (its response gets the socket later)', async () => {
    server = await startProxy(
      { http: { listen: ['127.0.0.1:0'], idleTimeoutMs: 300 } },
      { 'fw.bin': big, 'a.cfg': 'hello' },
    );
    const failed = failures(server);
    const conn = await rawFrom(server.addresses.http[0]!.port);
    open.push(conn.socket);
    conn.socket.pause();
    conn.socket.write(
      'GET /a.cfg HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /fw.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
    );
    await vi.waitFor(() => expect(failed).toHaveLength(1), { timeout: 5000, interval: 50 });
    expect(failed[0]!.name).toBe('fw.bin');
  });

  it('a slow download that progresses is never cut (sha256 of the whole file)', async () => {
    server = await startProxy(
      { http: { listen: ['127.0.0.1:0'], idleTimeoutMs: 1500, minBytesPerSecond: 64 * 1024 } },
      { 'fw.bin': big },
    );
    const failed = failures(server);
    const socket = connect({ host: '127.0.0.1', port: server.addresses.http[0]!.port });
    open.push(socket);
    const chunks: Buffer[] = [];
    // At most 800 KiB per 100 ms: slower than loopback, far above the 64 KiB/s floor. The whole
    // body is one write, so a count of completed writes alone would see no progress and cut it.
    let slot = 0;
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      slot += d.length;
      if (slot >= 800 * 1024) socket.pause();
    });
    const pacer = setInterval(() => {
      slot = 0;
      socket.resume();
    }, 100);
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write('GET /fw.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    await ended.finally(() => clearInterval(pacer));
    const all = Buffer.concat(chunks);
    const bodyStart = all.indexOf('\r\n\r\n') + 4;
    expect(all.subarray(0, 15).toString()).toBe('HTTP/1.1 200 OK');
    expect(all.length - bodyStart).toBe(big.length);
    expect(sha256(all.subarray(bodyStart))).toBe(sha256(big));
    expect(failed).toHaveLength(0);
  }, 40_000);

  it('a client reading below minBytesPerSecond is cut', async () => {
    server = await startProxy(
      { http: { listen: ['127.0.0.1:0'], idleTimeoutMs: 300, minBytesPerSecond: 10 * 1024 * 1024 } },
      { 'fw.bin': big },
    );
    const failed = failures(server);
    const conn = await rawFrom(server.addresses.http[0]!.port);
    open.push(conn.socket);
    conn.socket.removeAllListeners('data');
    conn.socket.pause();
    conn.socket.write('GET /fw.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    // 64 KiB per 100 ms: 640 KiB/s, under the 10 MiB/s asked here.
    const reader = setInterval(() => conn.socket.read(64 * 1024), 100);
    try {
      await vi.waitFor(() => expect(failed).toHaveLength(1), { timeout: 10_000, interval: 50 });
    } finally {
      clearInterval(reader);
    }
    expect(failed[0]!.name).toBe('fw.bin');
  }, 15_000);
});

describe('conditional requests (RFC 9110 §13)', () => {
  let server: ProxyServer | undefined;
  afterEach(async () => {
    await server?.close({ graceMs: 0 });
    server = undefined;
  });
  const body = pattern(5000, 9);
  const url = (name: string) => `${server!.addresses.http[0]!.url}/${name}`;

  it('If-None-Match with the ETag (or *) is 304 without a body; another tag is 200', async () => {
    server = await startProxy({}, { 'SEP001122334455.cnf.xml': body });
    const first = await fetch(url('SEP001122334455.cnf.xml'));
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[0-9a-f]{16}"$/);
    await first.arrayBuffer();
    for (const inm of [etag!, `W/"old", ${etag}`, '*']) {
      const res = await fetch(url('SEP001122334455.cnf.xml'), { headers: { 'If-None-Match': inm } });
      expect(res.status).toBe(304);
      expect(res.headers.get('etag')).toBe(etag);
      expect((await res.arrayBuffer()).byteLength).toBe(0);
    }
    const head = await fetch(url('SEP001122334455.cnf.xml'), {
      method: 'HEAD',
      headers: { 'If-None-Match': etag! },
    });
    expect(head.status).toBe(304);
    const other = await fetch(url('SEP001122334455.cnf.xml'), { headers: { 'If-None-Match': '"0000"' } });
    expect(other.status).toBe(200);
    expect(sha256(new Uint8Array(await other.arrayBuffer()))).toBe(sha256(body));
  });

  it('If-Modified-Since at or after Last-Modified is 304, before it 200; If-None-Match takes precedence', async () => {
    server = await startProxy({}, { 'a.xml': body });
    // The first date of a version is the next whole second after the server first saw it.
    let lastModified = '';
    await vi.waitFor(
      async () => {
        const res = await fetch(url('a.xml'));
        await res.arrayBuffer();
        lastModified = res.headers.get('last-modified') ?? '';
        expect(lastModified).not.toBe('');
      },
      { timeout: 3000, interval: 100 },
    );
    const lm = Date.parse(lastModified);
    const ims = (t: number, extra: Record<string, string> = {}) =>
      fetch(url('a.xml'), { headers: { 'If-Modified-Since': new Date(t).toUTCString(), ...extra } });
    expect((await ims(lm)).status).toBe(304);
    expect((await ims(lm + 60_000)).status).toBe(304);
    const older = await ims(lm - 1000);
    expect(older.status).toBe(200);
    expect((await older.arrayBuffer()).byteLength).toBe(5000);
    expect((await ims(lm, { 'If-None-Match': '"other"' })).status).toBe(200);
  });

  it('If-Range: the range only for the same version, otherwise the whole file', async () => {
    server = await startProxy({}, { 'load.bin': body });
    const etag = (await fetch(url('load.bin'), { method: 'HEAD' })).headers.get('etag')!;
    const same = await fetch(url('load.bin'), { headers: { Range: 'bytes=0-9', 'If-Range': etag } });
    expect(same.status).toBe(206);
    expect((await same.arrayBuffer()).byteLength).toBe(10);
    const changed = await fetch(url('load.bin'), { headers: { Range: 'bytes=0-9', 'If-Range': '"old"' } });
    expect(changed.status).toBe(200);
    expect(sha256(new Uint8Array(await changed.arrayBuffer()))).toBe(sha256(body));
  });

  it("Last-Modified is the source's own date when the resolution carries one (whole seconds)", async () => {
    const data = new TextEncoder().encode('<device/>');
    const frontend = new HttpFrontend({
      resolve: async (name) => ({
        name,
        content: bufferContent(data),
        size: data.byteLength,
        source: 'local',
        version: 'v1',
        modifiedAt: Date.UTC(2026, 0, 1, 12, 0, 0, 700),
      }),
      served: () => {},
      failed: () => {},
      unexpected: () => {},
    });
    const [bound] = await frontend.listen(['127.0.0.1:0']);
    try {
      const base = `http://127.0.0.1:${bound!.port}/SEP001122334455.cnf.xml`;
      const res = await fetch(base);
      expect(res.headers.get('last-modified')).toBe('Thu, 01 Jan 2026 12:00:00 GMT');
      expect(await res.text()).toBe('<device/>');
      const same = await fetch(base, { headers: { 'If-Modified-Since': 'Thu, 01 Jan 2026 12:00:00 GMT' } });
      expect(same.status).toBe(304);
      const older = await fetch(base, { headers: { 'If-Modified-Since': 'Thu, 01 Jan 2026 11:59:59 GMT' } });
      expect(older.status).toBe(200);
      expect(await older.text()).toBe('<device/>');
    } finally {
      await frontend.close(0);
    }
  });

  it('notModified / rangeApplies: a response without the asked validator never matches', () => {
    expect(notModified({ 'if-none-match': '"a"' }, {})).toBe(false);
    expect(notModified({ 'if-modified-since': 'Fri, 04 Dec 2026 10:00:00 GMT' }, {})).toBe(false);
    expect(notModified({ 'if-modified-since': 'not a date' }, { lastModified: 0 })).toBe(false);
    expect(notModified({}, { etag: '"a"', lastModified: 0 })).toBe(false);
    expect(rangeApplies({ 'if-range': 'W/"a"' }, { etag: '"a"' })).toBe(false);
    expect(
      rangeApplies(
        { 'if-range': 'Fri, 04 Dec 2026 10:00:00 GMT' },
        { lastModified: Date.UTC(2026, 11, 4, 10) },
      ),
    ).toBe(true);
  });

  it('VersionDates: a new version always gets a later second; forgotten names come back later than any date given', () => {
    let now = Date.UTC(2026, 11, 4, 10, 0, 0, 500);
    const dates = new VersionDates(2, () => now);
    // Nothing before the second after start (an earlier process may have used this one).
    expect(dates.dateOf('a', 'v1')).toBeUndefined();
    now += 1000;
    const a1 = dates.dateOf('a', 'v1')!;
    expect(a1).toBe(Date.UTC(2026, 11, 4, 10, 0, 1));
    expect(dates.dateOf('a', 'v1')).toBe(a1);
    // Changed within the same second: dated one second later, given once that second is here.
    expect(dates.dateOf('a', 'v2')).toBeUndefined();
    now += 1000;
    expect(dates.dateOf('a', 'v2')).toBe(a1 + 1000);
    // Two more names push 'a' out; when it comes back it is dated after every date given so far.
    now += 5000;
    dates.dateOf('b', 'x');
    dates.dateOf('c', 'x');
    const back = dates.dateOf('a', 'v1');
    expect(back).toBeGreaterThan(a1 + 1000);
  });
});
