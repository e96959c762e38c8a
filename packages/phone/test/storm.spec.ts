/**
 * `runPhoneStorm` against the real `ptftp serve`: every phone's outcome counted, the firmware
 * share honoured, bytes accounted by transport and kind, and images hashed while they stream
 * (a storm never holds an image whole per phone).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

  it('hashes images while they stream: 8 phones upgrading at once hold far less than one image each', async () => {
    // Collect garbage before each sample, so the sample is what is still referenced.
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    gc();
    const base = process.memoryUsage().arrayBuffers;
    let peak = 0;
    let samples = 0;
    const sample = setInterval(() => {
      gc();
      samples++;
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
    }, 5);
    try {
      const r = await runPhoneStorm({
        tftp: srv.tftp,
        http: srv.http,
        count: 8,
        macPrefix: '00CC',
        concurrency: 8,
        upgradeShare: 1,
      });
      expect(r.registered).toBe(8);
      expect(r.bytesByPurpose.image).toBe(8 * (2 * IMAGE + 321));
    } finally {
      clearInterval(sample);
    }
    expect(samples).toBeGreaterThan(3);
    // Held whole, the 8 images in flight would be 24 MiB.
    expect(peak).toBeLessThan(6 * 1024 * 1024);
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
