import { execFile } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpsServer, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { bufferContent, FileNotFoundError } from '@ptftp/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config-load.js';
import type { ProxyConfig } from '../src/config-schema.js';
import type { FailedInfo, FrontendHooks, ServedInfo } from '../src/events.js';
import { httpFrontend } from '../src/frontend-bindings.js';
import { HttpFrontend } from '../src/http-frontend.js';
import { pattern, sha256 } from './fixtures.js';

const run = promisify(execFile);

/** A self-signed certificate for 127.0.0.1, made in its own temp folder. */
async function selfSigned(dir: string): Promise<{ key: string; cert: string }> {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
  ]);
  return { key: await readFile(key, 'utf8'), cert: await readFile(cert, 'utf8') };
}

function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer; peerSha256: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { rejectUnauthorized: false, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      const socket = res.socket as TLSSocket;
      const raw = socket.getPeerCertificate().raw;
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
          peerSha256: createHash('sha256').update(raw).digest('hex'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('an HTTPS front end is the HTTP front end with another server factory', () => {
  let dir: string | undefined;
  let frontend: ReturnType<typeof httpFrontend> | undefined;
  afterEach(async () => {
    await frontend?.close(0);
    frontend = undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('serves GET and a byte range over TLS with the configured certificate, reporting served and failed', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ptftp-https-'));
    const { key, cert } = await selfSigned(dir);
    const firmware = pattern(200_000, 7);
    const served: ServedInfo[] = [];
    const failed: FailedInfo[] = [];
    const hooks: FrontendHooks = {
      async resolve(name) {
        if (name !== 'firmware.loads') throw new FileNotFoundError(name);
        return {
          name,
          content: bufferContent(firmware, { version: 'v1' }),
          size: firmware.length,
          source: 'local',
        };
      },
      served: (info) => served.push(info),
      failed: (info) => failed.push(info),
      unexpected: (_where, error) => {
        throw error;
      },
    };
    const http = new HttpFrontend(hooks, {
      createServer: (options, handler) => createHttpsServer({ ...options, key, cert }, handler),
    });
    frontend = httpFrontend(http, [], 'https');
    const config: ProxyConfig = parseConfig({ http: { listen: ['127.0.0.1:0'] } });
    await frontend.listen(config);
    expect(frontend.bound).toHaveLength(1);
    const url = frontend.bound[0]!.url;
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);

    const whole = await get(`${url}/firmware.loads`);
    expect(whole.status).toBe(200);
    expect(whole.body.length).toBe(firmware.length);
    expect(sha256(whole.body)).toBe(sha256(firmware));
    // The TLS peer is the certificate the factory was given, not some default.
    expect(whole.peerSha256).toBe(createHash('sha256').update(new X509Certificate(cert).raw).digest('hex'));

    const part = await get(`${url}/firmware.loads`, { Range: 'bytes=1000-1999' });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 1000-1999/${firmware.length}`);
    expect(sha256(part.body)).toBe(sha256(firmware.subarray(1000, 2000)));

    const missing = await get(`${url}/nothing.xml`);
    expect(missing.status).toBe(404);
    expect(missing.body.toString()).toBe('file not found: nothing.xml\n');

    expect(served.map((s) => [s.transport, s.name, s.bytes, s.status])).toEqual([
      ['http', 'firmware.loads', firmware.length, 200],
      ['http', 'firmware.loads', 1000, 206],
    ]);
    expect(failed.map((f) => [f.name, f.result])).toEqual([['nothing.xml', 'not_found']]);
  });
});
