/**
 * Issue 13, upstream side: hedged requests (a dead first address costs a phone well under a
 * second), only silence marks an address down, and streaming into an UpstreamSink (the address
 * is chosen before the first byte and never changes after it).
 */
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { rm } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { Readable } from 'node:stream';
import { FileNotFoundError, TimeoutError } from '@ptftp/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { lacking, startTftpdHpa } from '../../../test-support/peers.js';
import { hedgedFetch } from '../src/hedge.js';
import { HttpUpstream, TftpClusterUpstream } from '../src/index.js';
import { isSilence } from '../src/silence.js';
import { seedFolder } from './fixtures.js';

const sha = (d: Uint8Array) => createHash('sha256').update(d).digest('hex');
const bytes = (n: number, seed = 1) =>
  Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An address that takes datagrams and never answers: what a dead TFTP server looks like. */
async function blackHole(): Promise<string> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  cleanups.push(() => new Promise<void>((r) => s.close(() => r())));
  return `127.0.0.1:${s.address().port}`;
}

async function hpa(files: Record<string, Uint8Array>): Promise<string> {
  const root = await seedFolder(files);
  const peer = await startTftpdHpa({ root });
  cleanups.push(async () => {
    await peer.stop();
    await rm(root, { recursive: true, force: true });
  });
  return `127.0.0.1:${peer.port}`;
}

describe('hedged requests: a dead first address costs well under a second', () => {
  it.skipIf(lacking('inTftpd'))(
    'TFTP: first address silent, second tftpd-hpa: the answer comes after ~hedgeMs, not 2 × 1000 ms',
    async () => {
      const file = bytes(3000);
      const dead = await blackHole();
      const live = await hpa({ 'SEP001122334455.cnf.xml': file });
      const upstream = new TftpClusterUpstream({ id: 'B', tftp: [dead, live] });
      const failovers: string[] = [];
      const started = performance.now();
      const r = await upstream.fetch('SEP001122334455.cnf.xml', {
        signal: AbortSignal.timeout(10_000),
        reporter: { failover: (from, to) => failovers.push(`${from}->${to}`) },
      });
      const ms = performance.now() - started;
      expect(sha(r.data!)).toBe(sha(file));
      expect(r.address).toBe(live);
      expect(ms).toBeLessThan(900);
      expect(failovers).toEqual([`${dead}->${live}`]);
      // The first address said nothing for 300 ms while the second answered: it counts as silent
      // and backs off, so the next phone goes straight to the live address.
      expect(upstream.status().map((s) => s.healthy)).toEqual([false, true]);
      const again = performance.now();
      const r2 = await upstream.fetch('SEP001122334455.cnf.xml', { signal: AbortSignal.timeout(10_000) });
      expect(r2.address).toBe(live);
      expect(performance.now() - again).toBeLessThan(250);
    },
  );

  it('HTTP: a first address that accepts and never answers costs ~hedgeMs, not the 5 s timeout', async () => {
    const file = bytes(2000, 5);
    const hung = createNetServer(() => {}); // accepts, never answers
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => {
      hung.close();
      hung.unref();
    });
    const dead = `http://127.0.0.1:${(hung.address() as { port: number }).port}`;
    const live = await http(() => ({ status: 200, body: file }));
    const upstream = new HttpUpstream('H', [dead, live]);
    const started = performance.now();
    const r = await upstream.fetch('f.bin', { signal: AbortSignal.timeout(10_000) });
    expect(sha(r.data!)).toBe(sha(file));
    expect(r.address).toBe(live);
    expect(performance.now() - started).toBeLessThan(900);
  });

  it('hedgedFetch: the first answer wins, the slower attempt is aborted, hedging waits hedgeMs', async () => {
    const events: string[] = [];
    const started = performance.now();
    const value = await hedgedFetch(
      ['a', 'b', 'c'],
      ({ address, signal }) =>
        new Promise<string>((resolve, reject) => {
          events.push(`start ${address} @${Math.round((performance.now() - started) / 100) * 100}`);
          signal.addEventListener('abort', () => {
            events.push(`abort ${address}`);
            reject(signal.reason);
          });
          if (address === 'b') setTimeout(() => resolve('from b'), 20);
        }),
      { id: 'X', signal: AbortSignal.timeout(5000), hedgeMs: 100 },
    );
    expect(value).toBe('from b');
    expect(events).toEqual(['start a @0', 'start b @100', 'abort a']);
  });

  it('hedgedFetch: a loser silent for hedgeMs counts as silent; one that showed life is only abandoned', async () => {
    const verdicts: string[] = [];
    const run = (firstShowsLife: boolean) =>
      hedgedFetch(
        ['a', 'b'],
        ({ address, signal, alive }) =>
          new Promise<string>((resolve, reject) => {
            signal.addEventListener('abort', () => reject(signal.reason));
            if (address === 'a' && firstShowsLife) alive();
            if (address === 'b') setTimeout(() => resolve('b'), 5);
          }),
        {
          id: 'X',
          signal: AbortSignal.timeout(5000),
          hedgeMs: 50,
          silent: (address) => verdicts.push(`silent ${address}`),
          abandoned: (address) => verdicts.push(`abandoned ${address}`),
        },
      );
    await run(false);
    await run(true);
    expect(verdicts).toEqual(['silent a', 'abandoned a']);
  });

  it('hedgedFetch: "not found" from one address is the answer; every address silent is unreachable', async () => {
    const notFound = await hedgedFetch(['a', 'b'], async () => Promise.reject(new FileNotFoundError('x')), {
      id: 'X',
      signal: AbortSignal.timeout(5000),
      isAnswer: (e) => e instanceof FileNotFoundError,
    }).catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(FileNotFoundError);
    const none = await hedgedFetch(['a', 'b'], async () => Promise.reject(new TimeoutError('silent')), {
      id: 'X',
      signal: AbortSignal.timeout(5000),
      hedgeMs: 10,
    }).catch((e: unknown) => e);
    expect(none).toMatchObject({ code: 'PTFTP_ERR_UPSTREAM_UNREACHABLE' });
    expect((none as { attempts: unknown[] }).attempts).toHaveLength(2);
  });
});

describe('only silence marks an address down', () => {
  it('isSilence: timeouts and refused connections are silence; ERRORs, 5xx, limits, size mismatch are not', () => {
    expect(isSilence(new TimeoutError('no answer'))).toBe(true);
    expect(isSilence(new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } }))).toBe(true);
    expect(isSilence(new DOMException('timed out', 'TimeoutError'))).toBe(true);
    expect(isSilence(new Error('HTTP 503'))).toBe(false);
    expect(isSilence({ code: 'PTFTP_ERR_LIMIT' })).toBe(false);
    expect(isSilence({ code: 'PTFTP_ERR_SIZE_MISMATCH' })).toBe(false);
    expect(isSilence({ code: 'PTFTP_ERR_REMOTE' })).toBe(false);
  });

  it.skipIf(lacking('inTftpd'))(
    'TFTP: a file over maxBytes fails the fetch but leaves the live address healthy',
    async () => {
      const live = await hpa({ 'big.bin': bytes(5000) });
      const upstream = new TftpClusterUpstream({ id: 'B', tftp: [live] }, { maxBytes: 1000 });
      const err = await upstream
        .fetch('big.bin', { signal: AbortSignal.timeout(5000) })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'PTFTP_ERR_UPSTREAM_UNREACHABLE' });
      expect(upstream.status()).toEqual([{ address: live, healthy: true, failures: 0 }]);
    },
  );

  it('HTTP: a 503 fails this address but does not mark it down; the next address answers', async () => {
    const file = bytes(2000);
    const a = await http(() => ({ status: 503 }));
    const b = await http(() => ({ status: 200, body: file }));
    const upstream = new HttpUpstream('H', [a, b]);
    const r = await upstream.fetch('f.bin', { signal: AbortSignal.timeout(5000) });
    expect(sha(r.data!)).toBe(sha(file));
    expect(upstream.status().map((s) => [s.healthy, s.failures])).toEqual([
      [true, 0],
      [true, 0],
    ]);
  });
});

describe("while a cluster's state is unknown, phones wait (bounded)", () => {
  it('a request that finds the only address down with its probe in flight waits for the probe and gets the file', async () => {
    let calls = 0;
    let releaseProbe!: () => void;
    const upstream = new TftpClusterUpstream(
      { id: 'B', tftp: ['127.0.0.1:1001'] },
      {
        backoffMs: 1,
        get: async () => {
          calls++;
          if (calls === 1) throw new TimeoutError('no answer');
          if (calls === 2) await new Promise<void>((r) => (releaseProbe = r));
          return Buffer.from(`answer ${calls}`);
        },
      },
    );
    await expect(upstream.fetch('f', { signal: AbortSignal.timeout(5000) })).rejects.toMatchObject({
      code: 'PTFTP_ERR_UPSTREAM_UNREACHABLE',
    });
    await new Promise((r) => setTimeout(r, 5)); // the 1 ms back-off ends
    const probe = upstream.fetch('f', { signal: AbortSignal.timeout(5000) });
    const waiting = upstream.fetch('f', { signal: AbortSignal.timeout(5000) });
    await expect.poll(() => calls).toBe(2);
    releaseProbe();
    expect(Buffer.from((await probe).data!).toString()).toBe('answer 2');
    // It waited for the probe's verdict instead of failing at once, then asked the live address.
    expect(Buffer.from((await waiting).data!).toString()).toBe('answer 3');
  });
});

describe('streaming into an UpstreamSink', () => {
  it.skipIf(lacking('inTftpd'))(
    'TFTP against tftpd-hpa: the bytes go to the sink (no data in the result), tsize announced first',
    async () => {
      const file = bytes(70_000, 9);
      const live = await hpa({ 'fw.bin': file });
      const upstream = new TftpClusterUpstream({ id: 'B', tftp: [live] });
      const calls: string[] = [];
      const chunks: Uint8Array[] = [];
      const r = await upstream.fetch('fw.bin', {
        signal: AbortSignal.timeout(10_000),
        sink: {
          size: (n) => calls.push(`size ${n}`),
          write: (c) => {
            if (chunks.length === 0) calls.push('first write');
            chunks.push(new Uint8Array(c));
          },
        },
      });
      expect(r).toEqual({ address: live, size: file.byteLength });
      expect(calls).toEqual([`size ${file.byteLength}`, 'first write']);
      expect(sha(Buffer.concat(chunks))).toBe(sha(file));
    },
  );

  it('HTTP: Content-Length is announced, the body streamed', async () => {
    const file = bytes(100_000, 3);
    const base = await http(() => ({ status: 200, body: file }));
    const upstream = new HttpUpstream('H', [base]);
    const chunks: Uint8Array[] = [];
    const sizes: number[] = [];
    const r = await upstream.fetch('f.bin', {
      signal: AbortSignal.timeout(5000),
      sink: { size: (n) => sizes.push(n), write: (c) => void chunks.push(new Uint8Array(c)) },
    });
    expect(r).toEqual({ address: base, size: file.byteLength });
    expect(sizes).toEqual([file.byteLength]);
    expect(sha(Buffer.concat(chunks))).toBe(sha(file));
  });

  it('once a byte was written the fetch never fails over: a cut stream rejects, the next address is not asked', async () => {
    const asked: string[] = [];
    const upstream = new TftpClusterUpstream(
      { id: 'B', tftp: ['127.0.0.1:1001', '127.0.0.1:1002'] },
      {
        getStream: async (target) => {
          asked.push(String(target.port));
          const stream = new Readable({ read() {} });
          stream.push(Buffer.from('half a file'));
          setImmediate(() => stream.destroy(new TimeoutError('server went silent')));
          return { size: 100, stream };
        },
      },
    );
    const written: string[] = [];
    const err = await upstream
      .fetch('f.bin', {
        signal: AbortSignal.timeout(5000),
        sink: { write: (c) => void written.push(Buffer.from(c).toString()) },
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(written).toEqual(['half a file']);
    expect(asked).toEqual(['1001']);
  });
});

/** An HTTP server whose every answer `reply` decides. */
async function http(reply: () => { status: number; body?: Uint8Array }): Promise<string> {
  const server: Server = createHttpServer((_req, res) => {
    const { status, body } = reply();
    res
      .writeHead(status, body ? { 'content-length': body.byteLength } : {})
      .end(body ? Buffer.from(body) : undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}
