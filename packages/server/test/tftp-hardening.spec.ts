/**
 * Issue 13 at the TFTP front end: while a cluster that might have the file cannot be asked,
 * a phone gets ERROR 0 "try again later", never ERROR 1 (which could make it fall back to its
 * default configuration); and a dead first cluster address costs it well under a second.
 */
import dgram from 'node:dgram';
import { encodeRequest, tftpGet } from '@ptftp/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProxyServer } from '../src/index.js';
import { type FakeCluster, pattern, sha256, startCluster, startProxy } from './fixtures.js';

describe('TFTP front end while upstreams are in trouble', () => {
  let server: ProxyServer | undefined;
  const clusters: FakeCluster[] = [];
  const sockets: dgram.Socket[] = [];
  afterEach(async () => {
    await server?.close({ graceMs: 0 });
    server = undefined;
    await Promise.all(clusters.splice(0).map((c) => c.server.close({ graceMs: 0 })));
    for (const s of sockets.splice(0)) s.close();
  });
  /** A cluster address that takes datagrams and never answers. */
  const silent = async (host: string) => {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => s.bind(0, host, () => resolve()));
    sockets.push(s);
    return `${host}:${s.address().port}`;
  };
  const target = () => {
    const a = server!.addresses.tftp[0]!;
    return { host: a.address, port: a.port };
  };

  it('no cluster had the file and one could not be asked: ERROR 0 "try again later" on the wire, not ERROR 1', async () => {
    expect.assertions(3);
    const a = await startCluster('127.0.0.2', {});
    clusters.push(a);
    server = await startProxy({
      clusters: [
        { id: 'a', tftp: [a.address] },
        { id: 'b', tftp: [await silent('127.0.0.3')] },
      ],
      upstream: { timeoutMs: 100, retries: 0 },
    });
    try {
      await tftpGet(target(), 'SEP00AABBCC0B01.cnf.xml', { retransmitTimeoutMs: 3000 });
    } catch (err) {
      expect(err).toMatchObject({ code: 'PTFTP_ERR_REMOTE', tftpCode: 0 });
      expect((err as Error).message).toMatch(/try again later/);
      expect((err as Error).message).not.toMatch(/127\.0\.0\.3/);
    }
  });

  it('a dead first address of the cluster: the phone has its file in well under a second', async () => {
    const file = pattern(5000, 3);
    const live = await startCluster('127.0.0.2', { 'SEP00AABBCC0B02.cnf.xml': file });
    clusters.push(live);
    server = await startProxy({
      clusters: [{ id: 'b', tftp: [await silent('127.0.0.3'), live.address] }],
    });
    const started = performance.now();
    const got = await tftpGet(target(), 'SEP00AABBCC0B02.cnf.xml');
    const ms = performance.now() - started;
    expect(sha256(got)).toBe(sha256(file));
    expect(ms).toBeLessThan(900);
  });

  it('limits.newSessionsPerSecondPerSource and limits.burstPerSource reach the TFTP server: over the burst, silence', async () => {
    server = await startProxy(
      { limits: { newSessionsPerSecondPerSource: 0.001, burstPerSource: 2 } },
      { 'RingList.xml': '<ring/>' },
    );
    const answers: number[] = [];
    const peers = await Promise.all([0, 1, 2].map(() => silentPeer()));
    for (const [i, p] of peers.entries()) p.on('message', () => answers.push(i));
    for (const p of peers) p.send(encodeRequest(1, 'RingList.xml', 'octet', {}), target().port, '127.0.0.1');
    await expect.poll(() => answers.length).toBe(2);
    await new Promise((r) => setTimeout(r, 300));
    expect(answers.sort()).toEqual([0, 1]);
  });

  /** A client socket that only listens (each its own port, all from 127.0.0.1). */
  const silentPeer = async () => {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
    sockets.push(s);
    return s;
  };
});
