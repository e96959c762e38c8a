import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ProxyServer, parseRange } from '../src/index.js';
import { pattern, sha256, startProxy } from './fixtures.js';

describe('parseRange (RFC 9110 §14.1.2)', () => {
  it('reads first-last, open-ended and suffix ranges, clamps the end, and ignores what it cannot use', () => {
    expect(parseRange('bytes=0-99', 1000)).toEqual({ start: 0, end: 99 });
    expect(parseRange('bytes=900-', 1000)).toEqual({ start: 900, end: 999 });
    expect(parseRange('bytes=-100', 1000)).toEqual({ start: 900, end: 999 });
    expect(parseRange('bytes=990-5000', 1000)).toEqual({ start: 990, end: 999 });
    expect(parseRange('bytes=0-1,5-6', 1000)).toBeUndefined();
    expect(parseRange('items=0-1', 1000)).toBeUndefined();
    expect(parseRange('bytes=5-1', 1000)).toBeUndefined();
    expect(parseRange('bytes=1000-', 1000)).toBe('unsatisfiable');
    expect(parseRange('bytes=-0', 1000)).toBe('unsatisfiable');
  });
});

describe('HTTP front end (TCP 6970: phones try HTTP before TFTP)', () => {
  let server: ProxyServer | undefined;
  const body = pattern(10_000);
  afterEach(async () => {
    await server?.close({ graceMs: 0 });
    server = undefined;
  });

  const url = (name: string) => `${server!.addresses.http[0]!.url}/${name}`;

  it('GET serves the whole file with Content-Length and Accept-Ranges', async () => {
    server = await startProxy({}, { 'Desktops/320x212x16/List.xml': body });
    const res = await fetch(url('Desktops/320x212x16/List.xml'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe('10000');
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(sha256(new Uint8Array(await res.arrayBuffer()))).toBe(sha256(body));
  });

  it('Range: answers 206 with Content-Range and exactly the asked bytes', async () => {
    server = await startProxy({}, { 'load.bin': body });
    const res = await fetch(url('load.bin'), { headers: { Range: 'bytes=100-1099' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe('bytes 100-1099/10000');
    expect(res.headers.get('content-length')).toBe('1000');
    expect(sha256(new Uint8Array(await res.arrayBuffer()))).toBe(sha256(body.subarray(100, 1100)));
  });

  it('Range: a suffix range gives the last bytes', async () => {
    server = await startProxy({}, { 'load.bin': body });
    const res = await fetch(url('load.bin'), { headers: { Range: 'bytes=-10' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe('bytes 9990-9999/10000');
    expect([...new Uint8Array(await res.arrayBuffer())]).toEqual([...body.subarray(9990)]);
  });

  it('Range: a range past the end answers 416 with "Content-Range: bytes */size"', async () => {
    server = await startProxy({}, { 'load.bin': body });
    const res = await fetch(url('load.bin'), { headers: { Range: 'bytes=10000-' } });
    expect(res.status).toBe(416);
    expect(res.headers.get('content-range')).toBe('bytes */10000');
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });

  it('HEAD: Content-Length of the file and no body', async () => {
    server = await startProxy({}, { 'load.bin': body });
    const res = await fetch(url('load.bin'), { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe('10000');
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });

  it('a missing file is 404 "file not found: NAME"; other methods are 405', async () => {
    server = await startProxy({}, {});
    const res = await fetch(url('SEP000000000000.cnf.xml'));
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('file not found: SEP000000000000.cnf.xml\n');
    const put = await fetch(url('x'), { method: 'PUT', body: 'x' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, HEAD');
  });

  it('a name that escapes the root is refused, never served', async () => {
    server = await startProxy({}, { 'a.xml': 'a' });
    const res = await fetch(url('..%2F..%2Fetc%2Fpasswd'));
    expect([403, 404]).toContain(res.status);
  });
});

/** Open a TCP connection and collect what the server sends until it closes the connection. */
function rawConnection(port: number): Promise<{ socket: Socket; closed: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      received += d;
    });
    const closed = new Promise<string>((done) => socket.on('close', () => done(received)));
    socket.once('error', () => {});
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

describe('HTTP front end limits (a phone network is no place for slowloris)', () => {
  let server: ProxyServer | undefined;
  const open: Socket[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) s.destroy();
    await server?.close({ graceMs: 0 });
    server = undefined;
  });

  it('http.maxConnections: a connection over the cap is closed unanswered; a freed slot serves again', async () => {
    server = await startProxy({ http: { listen: ['127.0.0.1:0'], maxConnections: 2 } }, { 'a.cfg': 'hello' });
    const port = server.addresses.http[0]!.port;
    const a = await rawConnection(port);
    const b = await rawConnection(port);
    open.push(a.socket, b.socket);
    const c = await rawConnection(port);
    open.push(c.socket);
    // The third connection is accepted by the kernel, then closed by the server without a byte.
    expect(await c.closed).toBe('');
    a.socket.destroy();
    await a.closed;
    // The server counts the closed connection out on its own tick: retry until the slot is free.
    const res = await vi.waitFor(() => fetch(`http://127.0.0.1:${port}/a.cfg`), { interval: 20 });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('hello');
  });

  it('http.headersTimeoutMs: a client that never finishes its headers gets 408 and is disconnected', async () => {
    server = await startProxy({ http: { listen: ['127.0.0.1:0'], headersTimeoutMs: 300 } }, { 'a.cfg': 'x' });
    const conn = await rawConnection(server.addresses.http[0]!.port);
    open.push(conn.socket);
    conn.socket.write('GET /a.cfg HTTP/1.1\r\nHost: 127.0.0.1\r\n'); // no blank line: headers never end
    const received = await conn.closed;
    expect(received.startsWith('HTTP/1.1 408 ')).toBe(true);
  });

  it('the admin endpoint drops a client that stalls in its headers too', async () => {
    server = await startProxy({}, {});
    const conn = await rawConnection(server.addresses.admin!.port);
    open.push(conn.socket);
    conn.socket.write('GET /status HTTP/1.1\r\n');
    expect((await conn.closed).startsWith('HTTP/1.1 408 ')).toBe(true);
  }, 15_000);
});
