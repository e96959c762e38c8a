/**
 * `runPhoneStorm` against the real `ptftp serve`: every phone's outcome counted, the firmware
 * share honoured, bytes accounted by transport and kind, and images hashed while they stream
 * (a storm never holds an image whole per phone).
 */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ServedPtftp, startPtftpServe } from '../../../test-support/ptftp-serve.js';
import { macRange, percentile, runPhoneStorm } from '../src/index.js';
import { configXml, type FirmwareFixture, firmware, writeTree } from './cluster-fixture.js';

describe('runPhoneStorm through ptftp serve', () => {
  let dir: string;
  let srv: ServedPtftp;
  const IMAGE = 3 * 1024 * 1024;
  let fw: FirmwareFixture;
  const macs = macRange('00CC', 40);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ptftp-phone-storm-'));
    fw = firmware('sip88xx.storm', IMAGE);
    const files: Record<string, string | Buffer> = {
      [`${fw.load}.loads`]: fw.loadsFile,
      ...Object.fromEntries(fw.images),
      'RingList.xml': '<CiscoIPPhoneRingList/>',
    };
    // The last phone has no configuration: it must be counted as CONFIG_NOT_FOUND.
    for (const mac of macs.slice(0, -1)) files[`SEP${mac}.cnf.xml`] = configXml({ load: fw.load });
    await writeTree(dir, files);
    srv = await startPtftpServe([
      '--root',
      dir,
      '--listen',
      '127.0.0.1:0',
      '--http-listen',
      '127.0.0.1:0',
      '--no-admin',
      '--log-level',
      'warn',
    ]);
  });

  afterAll(async () => {
    await srv?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('boots 40 phones, 1 in 5 upgrading: counts, failures by reason, bytes by transport and kind', async () => {
    const seen: number[] = [];
    const r = await runPhoneStorm({
      tftp: srv.tftp,
      http: srv.http,
      count: 40,
      macPrefix: '00CC',
      concurrency: 10,
      upgradeShare: 0.2,
      onPhone: (_res, i) => seen.push(i),
    });
    expect(r.phones).toBe(40);
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(r.upgraded).toBe(8);
    expect(r.registered).toBe(39);
    expect(r.failures).toEqual({ CONFIG_NOT_FOUND: 1 });
    expect(r.failureExamples.CONFIG_NOT_FOUND).toContain(`SEP${macs[39]}.cnf.xml`);
    const imageBytes = [...fw.images.values()].reduce((n, b) => n + b.length, 0);
    // Upgraders among the phones that found a configuration: phone 39 upgrades but has none.
    expect(r.bytesByPurpose.image).toBe(7 * imageBytes);
    expect(r.bytesByTransport.tftp).toBe(0);
    expect(r.bytesByTransport.http).toBe(Object.values(r.bytesByPurpose).reduce((n, v) => n + (v ?? 0), 0));
    expect(r.bootMs.p50).toBeGreaterThan(0);
    expect(r.bootMs.p50).toBeLessThanOrEqual(r.bootMs.p99);
    expect(r.bootMs.p99).toBeLessThanOrEqual(r.bootMs.max);
    expect(r.cpuMs.user).toBeGreaterThan(0);
  });

  it('hashes images while they stream: 8 phones stalled 12 MiB into a 16 MiB image hold far less than that', async () => {
    // An HTTP 6970 of our own that stops every image at 12 MiB until the memory is measured:
    // a phone that kept the image would hold its 12 MiB then, one that hashes holds a chunk.
    const IMG = 16 * 1024 * 1024;
    const STALL = 12 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 7);
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let stalled = 0;
    const server = http.createServer(async (req, res) => {
      const name = decodeURIComponent((req.url ?? '/').slice(1));
      if (/^SEP[0-9A-F]{12}\.cnf\.xml$/.test(name)) return res.end(configXml({ load: 'big' }));
      if (name === 'big.loads') return res.end(`big.sbn size=${IMG}\n`);
      if (name !== 'big.sbn') {
        res.statusCode = 404;
        return res.end();
      }
      res.setHeader('content-length', IMG);
      for (let n = 0; n < IMG; n += chunk.length) {
        if (n === STALL) {
          stalled++;
          await released;
        }
        if (!res.write(chunk)) await once(res, 'drain');
      }
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    try {
      gc();
      const base = process.memoryUsage().arrayBuffers;
      const storm = runPhoneStorm({
        tftp: srv.tftp,
        http: { host: '127.0.0.1', port },
        count: 8,
        macPrefix: '00CD',
        concurrency: 8,
        upgradeShare: 1,
        // The stall is ours: no phone may give up on HTTP while the others catch up.
        httpTimeoutMs: 60_000,
      });
      await vi.waitFor(() => expect(stalled).toBe(8), { timeout: 20_000, interval: 20 });
      gc();
      const held = process.memoryUsage().arrayBuffers - base;
      release();
      // Kept whole, 8 phones would hold at least 8 x (12 MiB - the loopback socket buffers).
      // (Measured: under 16 MiB on Node 20, 20 MiB on Node 24, whose stream buffers are larger.)
      expect(held).toBeLessThan(40 * 1024 * 1024);
      const r = await storm;
      expect(r.registered).toBe(8);
      expect(r.bytesByPurpose.image).toBe(8 * IMG);
    } finally {
      release();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('percentile is nearest-rank', () => {
    expect(percentile([], 0.5)).toBe(0);
    expect(percentile([4, 1, 3, 2], 0.5)).toBe(2);
    expect(
      percentile(
        Array.from({ length: 100 }, (_, i) => i + 1),
        0.99,
      ),
    ).toBe(99);
    expect(percentile([5], 0.99)).toBe(5);
  });
});
