/**
 * Issue 13, item 1, through the built binary: thousands of random request targets, headers and
 * bodies at the admin and HTTP ports of `ptftp serve -c`; the process must still be there and
 * serving afterwards, with no failure left for the process-level guard.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { xorshiftBytes } from '../../../test-support/peers.js';

const BIN = fileURLToPath(new URL('../bin/ptftp.js', import.meta.url));
const REQUESTS = Number(process.env.PTFTP_HTTP_FUZZ_REQUESTS ?? 3000);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** One request's bytes, as a hostile client would write them. */
const requestBytes = fc
  .record({
    method: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'OPTIONS', 'CONNECT', 'G\x00T', ''),
    target: fc.oneof(
      fc.constantFrom('///', '//[', '//a:99999/', '//@', '//a%00b/', '*', '/%', '/%E0%A4%A', '//[::1'),
      fc.string({ unit: fc.constantFrom('/', '[', ']', '@', ':', '%', '?', '#', '.', '\\', 'a', '0', ' ') }),
      fc.string({ unit: 'binary', maxLength: 64 }),
      fc.constantFrom(
        '/health',
        '/metrics',
        '/status',
        '/cache/flush',
        '/reload',
        '/a.bin',
        '/..%2f..%2fetc',
      ),
    ),
    version: fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1 x', ''),
    headers: fc.array(
      fc.tuple(
        fc.oneof(
          fc.constantFrom(
            'Host',
            'Content-Type',
            'Content-Length',
            'Transfer-Encoding',
            'Range',
            'If-None-Match',
            'If-Modified-Since',
            'If-Range',
            'X-Ptftp-Proxied',
            'Connection',
          ),
          fc.string({ unit: 'grapheme-ascii', maxLength: 12 }),
        ),
        fc.oneof(
          fc.constantFrom(
            'application/json',
            '[',
            '127.0.0.1',
            'bytes=0-',
            'bytes=-0',
            '*',
            '-1',
            'chunked',
            '99999999999',
          ),
          fc.string({ unit: 'binary-ascii', maxLength: 40 }),
        ),
      ),
      { maxLength: 6 },
    ),
    body: fc.oneof(fc.constant(''), fc.json(), fc.string({ unit: 'binary', maxLength: 200 })),
  })
  .map(({ method, target, version, headers, body }) => {
    const head = [`${method} ${target} ${version}`, ...headers.map(([k, v]) => `${k}: ${v}`)].join('\r\n');
    return Buffer.from(`${head}\r\nConnection: close\r\n\r\n${body}`, 'utf8');
  });

/** Write the bytes, then wait (bounded) for the server to answer and close, or give up. */
function exchange(port: number, bytes: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = '';
    const timer = setTimeout(() => socket.destroy(), 2000);
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      if (received.length < 64) received += d;
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received.slice(0, 12));
    });
    socket.end(bytes);
  });
}

describe('ptftp serve -c survives random requests at its admin and HTTP ports', () => {
  let dir = '';
  let child: ChildProcess;
  let out = '';
  let err = '';
  let exited: Promise<number | null>;
  const file = xorshiftBytes(20_000, 5);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ptftp-hardening-'));
    await writeFile(join(dir, 'a.bin'), file);
    const config = join(dir, 'ptftp.config.json');
    await writeFile(
      config,
      JSON.stringify({
        listen: ['127.0.0.1:0'],
        http: { listen: ['127.0.0.1:0'] },
        admin: { listen: '127.0.0.1:0' },
        store: { root: dir },
        log: { level: 'warn' },
      }),
    );
    child = spawn(process.execPath, [BIN, 'serve', '-c', config, '--log-format', 'json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => {
      out += d;
    });
    child.stderr!.on('data', (d) => {
      if (err.length < 100_000) err += d;
    });
    exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`ptftp serve did not start:\n${out}\n${err}`)), 15_000);
      const check = () => {
        if (!/admin endpoint on/.test(out)) return;
        clearTimeout(timer);
        resolve();
      };
      child.stdout!.on('data', check);
      void exited.then(() => reject(new Error(`ptftp serve exited:\n${out}\n${err}`)));
    });
  }, 30_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  });

  const url = (marker: RegExp) => {
    const m = /(http:\/\/\S+)/.exec(out.split('\n').find((l) => marker.test(l)) ?? '');
    if (!m) throw new Error(`no address for ${marker} in:\n${out}`);
    return m[1]!;
  };

  it(`${REQUESTS} random targets, headers and bodies (fast-check, seeded): the process stays up and serves`, async () => {
    const admin = new URL(url(/\(health/));
    const http = new URL(url(/\(HTTP\)/));
    const ports = [Number(admin.port), Number(http.port)];
    const requests = fc.sample(requestBytes, { numRuns: REQUESTS, seed: 13 });
    expect(requests).toHaveLength(REQUESTS);
    let next = 0;
    let answered = 0;
    // Eight at a time, well under the admin endpoint's per-address cap.
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < requests.length) {
          const i = next++;
          const status = await exchange(ports[i % 2]!, requests[i]!);
          if (status.startsWith('HTTP/1.')) answered++;
        }
      }),
    );
    expect(child.exitCode).toBeNull();
    // Most requests are malformed: Node's parser answers them 400; the rest reach our routes.
    expect(answered).toBeGreaterThan(REQUESTS / 2);
    const health = await fetch(`${admin.origin}/health`);
    expect(await health.json()).toEqual({ status: 'ok' });
    const res = await fetch(`${http.origin}/a.bin`);
    expect(res.status).toBe(200);
    expect(sha(new Uint8Array(await res.arrayBuffer()))).toBe(sha(file));
    // Nothing reached the process-level guard: every request path contained its own failures.
    const metrics = await (await fetch(`${admin.origin}/metrics`)).text();
    expect(metrics).toMatch(/^# TYPE ptftp_unexpected_errors_total counter$/m);
    expect(metrics).not.toMatch(/^ptftp_unexpected_errors_total\{where="process"\} [1-9]/m);
    expect(err).not.toContain('unexpectedError');
  }, 180_000);
});
