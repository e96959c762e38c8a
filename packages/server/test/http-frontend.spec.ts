import { afterEach, describe, expect, it } from 'vitest';
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
