import { createHash } from 'node:crypto';
import { tftpGet } from '@ptftp/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { type Demo, startDemo } from '../src/index.js';
import { canBind, DEMO_CLUSTERS } from '../src/internal.js';
import { untilServed } from './fixtures.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('embedded demo', () => {
  let demo: Demo | undefined;
  afterEach(async () => {
    await demo?.close();
    demo = undefined;
  });

  it('serves a remote-cluster phone file over TFTP and HTTP with identical bytes (lookup order: local, then clusters)', async () => {
    demo = await startDemo({ listen: ['127.0.0.1:0'], httpListen: ['127.0.0.1:0'], admin: false });
    const served: string[] = [];
    demo.server.on('served', (s) => served.push(`${s.transport}:${s.source}:${s.clusterId ?? ''}`));
    const reported = untilServed(demo.server, 2);
    const tftp = demo.server.addresses.tftp[0]!;
    const http = demo.server.addresses.http[0]!;
    const name = `SEP${DEMO_CLUSTERS[0].phones[0].mac}.cnf.xml`;
    const overTftp = await tftpGet({ host: tftp.address, port: tftp.port }, name);
    const res = await fetch(`${http.url}/${name}`);
    const overHttp = new Uint8Array(await res.arrayBuffer());
    expect(res.status).toBe(200);
    expect(sha(overHttp)).toBe(sha(overTftp));
    expect(new TextDecoder().decode(overTftp)).toContain(
      `<deviceName>${name.replace('.cnf.xml', '')}</deviceName>`,
    );
    await reported;
    expect(served).toEqual(['tftp:cluster:cluster-b', 'http:cache:cluster-b']);
  });

  it('serves common files (RingList.xml, the locale tones) from the local copy, over IPv6 too', async () => {
    const v6 = await canBind('::1');
    demo = await startDemo({
      listen: v6 ? ['127.0.0.1:0', '[::1]:0'] : ['127.0.0.1:0'],
      httpListen: ['127.0.0.1:0'],
      admin: false,
    });
    expect(demo.ipv6).toBe(v6);
    const sources: string[] = [];
    demo.server.on('served', (s) => sources.push(`${s.name}:${s.source}`));
    const reported = untilServed(demo.server, 2);
    const target = demo.server.addresses.tftp.at(-1)!;
    const ring = await tftpGet({ host: target.address, port: target.port }, 'RingList.xml');
    const tones = await tftpGet(
      { host: target.address, port: target.port },
      'English_United_States/g3-tones.xml',
    );
    expect(new TextDecoder().decode(ring)).toContain('<DisplayName>Chirp1</DisplayName>');
    expect(new TextDecoder().decode(tones)).toContain('<tones country="United_States"');
    await reported;
    expect(sources).toEqual(['RingList.xml:local', 'English_United_States/g3-tones.xml:local']);
    expect(demo.hints.some((h) => h.includes('RingList.xml'))).toBe(true);
  });
});
