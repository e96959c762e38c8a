import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProxyServer } from '../src/index.js';
import { startProxy } from './fixtures.js';

describe('admin endpoint on loopback: DNS rebinding', () => {
  let server: ProxyServer | undefined;
  afterEach(async () => {
    await server?.close({ graceMs: 0 });
    server = undefined;
  });

  function adminGet(path: string, host: string): Promise<{ status: number; body: string }> {
    const a = server!.addresses.admin!;
    return new Promise((resolve, reject) => {
      const req = request(
        { host: a.address, port: a.port, path, agent: false, headers: { Host: host } },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            body += c;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  it('a request addressed to a DNS name is refused with 421; IP literals and localhost are served', async () => {
    server = await startProxy({});
    const port = server.addresses.admin!.port;
    const refused = await adminGet('/status', `attacker.example:${port}`);
    expect(refused.status).toBe(421);
    expect(JSON.parse(refused.body)).toEqual({
      error: { message: 'a loopback admin endpoint answers only to an IP address or localhost' },
    });
    expect(refused.body).not.toContain('127.0.0.1');
    expect((await adminGet('/health', `127.0.0.1:${port}`)).status).toBe(200);
    expect((await adminGet('/health', `localhost:${port}`)).status).toBe(200);
    expect((await adminGet('/health', `[::1]:${port}`)).status).toBe(200);
  });
});
