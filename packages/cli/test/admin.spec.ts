import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tftpGet } from '@ptftp/protocol';
import { MemoryStore } from '@ptftp/resolver';
import { createProxyServer, loadConfig, type ProxyServer } from '@ptftp/server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freeUdpPort } from '../../../test-support/peers.js';
import { byteSize } from '../src/commands/admin.js';
import { captureIo } from '../src/io.js';
import { run } from '../src/program.js';

async function cli(...argv: string[]) {
  const io = captureIo();
  const code = await run(argv, io);
  return { code, out: io.out, err: io.err };
}

describe('ptftp status / cache flush / reload (admin endpoint client)', () => {
  let dir: string;
  let server: ProxyServer | undefined;
  let file: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ptftp-cli-admin-'));
    file = join(dir, 'ptftp.config.json');
    await writeFile(
      file,
      JSON.stringify({ listen: ['127.0.0.1:0'], http: { enabled: false }, admin: { listen: '127.0.0.1:0' } }),
    );
    const store = new MemoryStore({ 'RingList.xml': '<CiscoIPPhoneRingList/>' });
    server = createProxyServer(await loadConfig(file), {
      configSource: () => loadConfig(file),
      createStore: () => store,
    });
    await server.start();
  });
  afterEach(async () => {
    await server?.close({ graceMs: 0 });
    server = undefined;
    await rm(dir, { recursive: true, force: true });
  });
  const admin = () => server!.addresses.admin!.url;

  it('status prints state, addresses and cache; --json gives the raw document', async () => {
    const t = server!.addresses.tftp[0]!;
    await tftpGet({ host: t.address, port: t.port }, 'RingList.xml');
    const r = await cli('status', '--admin', admin());
    expect(r.code).toBe(0);
    expect(r.out).toContain('state: running since ');
    expect(r.out).toContain(`tftp: ${t.url}\n`);
    expect(r.out).toContain('http: -\n');
    expect(r.out).toContain('clusters: none');
    expect(r.out).toContain('cache: 0 entries, 0 B (memory 0 B, disk 0 B); 0 hits, 0 misses\n');
    expect(r.out).toContain('upstream fetches: 0 in flight (0 B), 0 waiting, 0 refused busy\n');
    const json = await cli('status', '--json', '--admin', admin());
    expect(JSON.parse(json.out)).toMatchObject({
      state: 'running',
      reloads: { applied: 0, rejected: 0 },
      cache: { memoryBytes: 0, diskBytes: 0, inflightFetches: 0, inflightBytes: 0, budgetRefusals: 0 },
    });
  });

  it('cache flush: NAME, --pattern and --device are exclusive (usage error, exit 2)', async () => {
    const r = await cli('cache', 'flush', 'a.xml', '--pattern', 'b*', '--admin', admin());
    expect(r).toEqual({ code: 2, out: '', err: 'ptftp: give one of NAME, --pattern or --device\n' });
    const ok = await cli('cache', 'flush', '--pattern', 'SEP*', '--admin', admin());
    expect(ok).toEqual({ code: 0, out: 'flushed 0 cached file(s)\n', err: '' });
  });

  it('reload applies a changed file and reports what changed; an invalid one is refused, exit 1', async () => {
    await writeFile(
      file,
      JSON.stringify({
        listen: ['127.0.0.1:0'],
        http: { enabled: false },
        admin: { listen: '127.0.0.1:0' },
        cache: { ttlSeconds: 60 },
      }),
    );
    expect(await cli('reload', '--admin', admin())).toEqual({
      code: 0,
      out: 'reloaded: applied cache\n',
      err: '',
    });
    await writeFile(file, JSON.stringify({ listen: ['127.0.0.1:0'], cache: { ttlSeconds: 'soon' } }));
    const bad = await cli('reload', '--admin', admin());
    expect(bad.code).toBe(1);
    expect(bad.err).toBe(
      'ptftp: reload refused: invalid configuration: cache.ttlSeconds: Invalid input: expected number, received string\n',
    );
    expect(server!.config.cache.ttlSeconds).toBe(60);
  });

  it('a listen change is rebound live; limits.ports is reported as needing a restart', async () => {
    const port = await freeUdpPort();
    await writeFile(
      file,
      JSON.stringify({
        listen: [`127.0.0.1:${port}`],
        http: { enabled: false },
        admin: { listen: '127.0.0.1:0' },
        limits: { ports: 'single' },
      }),
    );
    const r = await cli('reload', '--admin', admin());
    expect(r).toEqual({
      code: 0,
      out: 'reloaded: applied listen\nneeds a restart to apply: limits.ports\n',
      err: '',
    });
    expect(server!.config.listen).toEqual([`127.0.0.1:${port}`]);
    expect(server!.addresses.tftp.map((a) => a.port)).toEqual([port]);
    expect(server!.config.limits.ports).toBeUndefined();
  });

  it('--admin that is not a URL is a usage error', async () => {
    const r = await cli('status', '--admin', 'not a url');
    expect(r).toEqual({
      code: 2,
      out: '',
      err: 'ptftp: --admin not a url is not a URL (e.g. http://127.0.0.1:9469)\n',
    });
  });

  it.each([
    ['status', '$ ptftp status'],
    ['reload', '$ ptftp reload'],
  ])('%s --help shows examples', async (verb, example) => {
    const r = await cli(verb, '--help');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`Examples:\n  ${example}`);
  });

  it('cache flush with an empty NAME or --pattern is refused, not read as "flush everything"', async () => {
    const flushed: unknown[] = [];
    const original = server!.flush.bind(server!);
    server!.flush = async (sel) => {
      flushed.push(sel);
      return original(sel);
    };
    const byName = await cli('cache', 'flush', '', '--admin', admin());
    expect(byName.code).toBe(1);
    expect(byName.err).toContain('"name" must be a non-empty string');
    const byPattern = await cli('cache', 'flush', '--pattern', '', '--admin', admin());
    expect(byPattern.code).toBe(1);
    expect(byPattern.err).toContain('"pattern" must be a non-empty string');
    expect(flushed).toEqual([]);
  });

  it('cache flush --help shows examples', async () => {
    const r = await cli('cache', 'flush', '--help');
    expect(r.code).toBe(0);
    expect(r.out).toContain('Examples:\n  $ ptftp cache flush');
  });
});

describe('byte sizes in `ptftp status`', () => {
  it('use the largest unit under 1024: 10.0 MiB, not 10240.1 KiB', () => {
    expect(byteSize(0)).toBe('0 B');
    expect(byteSize(1023)).toBe('1023 B');
    expect(byteSize(1024)).toBe('1.0 KiB');
    expect(byteSize(10 * 1024 * 1024 + 100)).toBe('10.0 MiB');
    expect(byteSize(3 * 1024 ** 3)).toBe('3.0 GiB');
  });
});
