import { afterEach, describe, expect, it } from 'vitest';
import {
  bootStormFixture,
  createFaultyTftpServer,
  createLossyLink,
  defaultPhoneFiles,
  type FaultyTftpServer,
  type LossyLink,
  percentile,
  phoneMacs,
  runBootStorm,
} from '../src/testing/index.js';

const open: Array<FaultyTftpServer | LossyLink> = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

describe('phoneMacs', () => {
  it('gives distinct, seeded, locally administered MACs', () => {
    const macs = phoneMacs(5000, 9);
    expect(new Set(macs).size).toBe(5000);
    expect(phoneMacs(5000, 9)).toEqual(macs);
    expect(phoneMacs(10, 10)).not.toEqual(macs.slice(0, 10));
    for (const m of macs) expect(m).toMatch(/^[0-9A-F]{12}$/);
    // Second-lowest bit of the first octet set: locally administered, not a real vendor's.
    expect(Number.parseInt(macs[0]!.slice(0, 2), 16) & 0x02).toBe(2);
  });
});

describe('percentile', () => {
  it('is the nearest rank', () => {
    const v = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(v, 50)).toBe(50);
    expect(percentile(v, 99)).toBe(99);
    expect(percentile(v, 100)).toBe(100);
    expect(percentile([], 50)).toBe(0);
  });
});

describe('runBootStorm', () => {
  it('boots every phone with every file verified, and catches a wrong file', async () => {
    const fx = bootStormFixture({ phones: 20, seed: 4, sizes: { localeJar: 5000 } });
    const server = await createFaultyTftpServer({ files: fx.files, fault: 'none' });
    open.push(server);
    const target = { address: server.address, port: server.port };
    const r = await runBootStorm({ target, phones: 20, seed: 4, verify: fx.sha256 });
    expect(r.failures).toBe(0);
    expect(r.transfers).toBe(20 * defaultPhoneFiles('X').length);
    expect(r.phones.map((p) => p.mac)).toEqual(fx.macs);
    expect(r.packetsPerBlock).toBe(1);
    expect(r.retransmissions).toBe(0);
    expect(r.p99Ms).toBeGreaterThanOrEqual(r.p50Ms);

    // Another seed means other MACs: their files do not exist, so every phone fails.
    const wrong = await runBootStorm({ target, phones: 3, seed: 5, verify: fx.sha256, retries: 1 });
    expect(wrong.failedPhones).toBe(3);
    // A verifier that rejects one name fails exactly that file on each phone.
    const picky = await runBootStorm({
      target,
      phones: 5,
      seed: 4,
      verify: (name) => name !== 'RingList.xml.sgn',
    });
    expect(picky.failures).toBe(5);
    expect(picky.errors).toEqual({ 'content does not verify': 5 });
    expect(picky.phones.every((p) => p.error === 'RingList.xml.sgn: content does not verify')).toBe(true);
  });

  it('completes through 5% loss and 1% duplication, counting retransmissions', async () => {
    const fx = bootStormFixture({ phones: 10, seed: 2, sizes: { localeJar: 8000 } });
    const server = await createFaultyTftpServer({ files: fx.files, retransmitTimeoutMs: 50, retries: 10 });
    open.push(server);
    const link = await createLossyLink({
      target: { address: server.address, port: server.port },
      seed: 11,
      drop: 0.05,
      duplicate: 0.01,
      reorder: 0.01,
    });
    open.push(link);
    const r = await runBootStorm({
      target: { address: link.address, port: link.port },
      phones: 10,
      seed: 2,
      verify: fx.sha256,
      // Loss is seeded, time is not: a phone gives up only after 20 × 200 ms without progress,
      // so a loaded CI machine does not turn a slow turn of the event loop into a failure.
      retransmitTimeoutMs: 200,
      retries: 20,
    });
    expect(r.failures).toBe(0);
    expect(link.stats.dropped).toBeGreaterThan(0);
    expect(r.retransmissions + server.dataSent - r.blocks).toBeGreaterThan(0);
    expect(r.packetsPerBlock).toBeGreaterThanOrEqual(1);
    expect(r.packetsPerBlock).toBeLessThan(1.3);
  });
});
