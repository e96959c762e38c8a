import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../src/index.js';

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const cluster = (id: string, tftp: string[], extra: Record<string, unknown> = {}) => ({ id, tftp, ...extra });

describe('configuration: validation with every problem listed by path', () => {
  it('an address listed twice is refused, also when spelt differently ("[0::1]" is "[::1]")', () => {
    expect(issuesOf(() => parseConfig({ listen: ['[::1]:6969', '[0:0::1]:6969'] }))).toEqual([
      'listen[1]: [::1]:6969 is listed twice',
    ]);
    expect(issuesOf(() => parseConfig({ http: { listen: ['127.0.0.1:0', '127.0.0.1:0'] } }))).toEqual([
      'http.listen[1]: 127.0.0.1:0 is listed twice',
    ]);
  });

  it('http limits: defaults 1024 connections and 10 s for headers; nonsense is refused by path', () => {
    const cfg = parseConfig({});
    expect(cfg.http.maxConnections).toBe(1024);
    expect(cfg.http.headersTimeoutMs).toBe(10_000);
    const issues = issuesOf(() => parseConfig({ http: { maxConnections: 0, headersTimeoutMs: 1.5 } }));
    expect(issues.map((i) => i.split(':')[0]).sort()).toEqual([
      'http.headersTimeoutMs',
      'http.maxConnections',
    ]);
  });

  it('refuses a 4th TFTP address in a cluster: "clusters[2].tftp[3]: at most 3 TFTP addresses per cluster"', () => {
    const issues = issuesOf(() =>
      parseConfig({
        clusters: [
          cluster('cluster-a', ['127.0.0.2']),
          cluster('cluster-b', ['127.0.0.3']),
          cluster('cluster-c', ['127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7']),
        ],
      }),
    );
    expect(issues).toEqual(['clusters[2].tftp[3]: at most 3 TFTP addresses per cluster']);
  });

  it('refuses peers that point at each other (single-level hierarchy, no loops) naming the edge', () => {
    const issues = issuesOf(() =>
      parseConfig({
        primaryId: 'proxy-a',
        clusters: [
          cluster('cluster-b', ['127.0.0.2'], { peers: ['proxy-a', 'cluster-c'] }),
          cluster('cluster-c', ['127.0.0.3'], { peers: ['proxy-a', 'cluster-b'] }),
        ],
      }),
    );
    expect(issues).toEqual([
      'clusters[0].peers[1]: peers form a loop (cluster-b -> cluster-c -> cluster-b): the hierarchy is single level',
      'clusters[1].peers[1]: peers form a loop (cluster-c -> cluster-b -> cluster-c): the hierarchy is single level',
    ]);
  });

  it('lists schema and topology problems together in one error, sorted by path', () => {
    const issues = issuesOf(() =>
      parseConfig({
        listen: ['127.0.0.1:99999', 'tftp.example.com:69'],
        cache: { ttlSeconds: -1 },
        clusters: [cluster('bad id!', ['127.0.0.2'], { colour: 'red' })],
        limits: { maxBlksize: 4 },
        typo: true,
      }),
    );
    expect(issues).toEqual([
      'cache.ttlSeconds: Too small: expected number to be >=0',
      'clusters[0].colour: unknown key',
      "clusters[0].id: cluster ID may contain only letters, digits, '.' and '-'",
      'limits.maxBlksize: Too small: expected number to be >=8',
      'listen[0]: "127.0.0.1:99999" has a port above 65535',
      'listen[1]: "tftp.example.com:69" must be an IP address to listen on',
      'typo: unknown key',
    ]);
  });

  it('an address without a port means 69; defaults fill the rest (cache 30 minutes, admin on loopback 9469)', () => {
    const config = parseConfig({
      listen: ['127.0.0.1', '::1'],
      clusters: [cluster('cluster-b', ['127.0.0.2', '[::1]:6969'])],
    });
    expect(config.listen).toEqual(['127.0.0.1:69', '[::1]:69']);
    expect(config.clusters[0]?.tftp).toEqual(['127.0.0.2:69', '[::1]:6969']);
    expect(config.cache.ttlSeconds).toBe(1800);
    expect(config.admin).toEqual({ enabled: true, listen: '127.0.0.1:9469' });
    expect(config.http).toEqual({
      enabled: true,
      listen: ['127.0.0.1:6970'],
      maxConnections: 1024,
      maxConnectionsPerAddress: 64,
      headersTimeoutMs: 10_000,
      idleTimeoutMs: 30_000,
      minBytesPerSecond: 1024,
    });
  });

  it('parsing is idempotent: a validated configuration is a valid input', () => {
    const once = parseConfig({
      store: { root: '/srv/tftp' },
      clusters: [cluster('cluster-b', ['127.0.0.2'])],
    });
    expect(parseConfig(once)).toEqual(once);
  });

  it('refuses a cluster address that is the proxy itself', () => {
    expect(
      issuesOf(() =>
        parseConfig({ listen: ['127.0.0.1:6969'], clusters: [cluster('b', ['127.0.0.1:6969'])] }),
      ),
    ).toEqual([
      "clusters[0].tftp[0]: TFTP address is this proxy's own listen address (the proxy would ask itself)",
    ]);
  });
});

describe('configuration files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ptftp-config-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the contract keys from ptftp.config.json; paths are relative to the file', async () => {
    const file = join(dir, 'ptftp.config.json');
    await writeFile(
      file,
      JSON.stringify({
        listen: ['127.0.0.1:6969', '[::1]:6969'],
        http: { listen: ['127.0.0.1:6970'] },
        store: { root: './tftpboot' },
        clusters: [
          {
            id: 'cluster-b',
            fqdn: 'tftp.b.example.com',
            tftp: ['127.0.0.2:69', '127.0.0.3:69'],
            secure: false,
          },
        ],
        cache: { ttlSeconds: 1800 },
      }),
    );
    const config = await loadConfig(file);
    expect(config.store?.root).toBe(join(dir, 'tftpboot'));
    expect(config.clusters).toEqual([
      {
        id: 'cluster-b',
        fqdn: 'tftp.b.example.com',
        tftp: ['127.0.0.2:69', '127.0.0.3:69'],
        enabled: true,
        secure: false,
      },
    ]);
    expect(config.http.listen).toEqual(['127.0.0.1:6970']);
  });

  it('accepts YAML', async () => {
    const file = join(dir, 'ptftp.yaml');
    await writeFile(file, 'listen: ["127.0.0.1:6969"]\nstore:\n  root: boot\ncache:\n  ttlSeconds: 60\n');
    const config = await loadConfig(file);
    expect(config.cache.ttlSeconds).toBe(60);
    expect(config.store?.root).toBe(join(dir, 'boot'));
  });

  it('names the file and the problem for broken JSON and a missing file', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(file, '{ "listen": [ }');
    await expect(loadConfig(file)).rejects.toMatchObject({ code: 'PTFTP_ERR_CONFIG', file });
    await expect(loadConfig(join(dir, 'none.json'))).rejects.toThrow(/none\.json.*\nfile not found/);
  });
});
