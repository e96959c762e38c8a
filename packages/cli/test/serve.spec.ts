import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, parseConfig } from '@ptftp/server';
import { describe, expect, it } from 'vitest';
import { applyOverrides, configErrorText, rootModeConfig } from '../src/commands/serve.js';
import { captureIo } from '../src/io.js';
import { describeSource, prettyLine } from '../src/logger.js';
import { run } from '../src/program.js';

async function cli(...argv: string[]) {
  const io = captureIo();
  const code = await run(argv, io);
  return { code, out: io.out, err: io.err };
}

describe('ptftp serve (options, without sockets)', () => {
  it('--help shows the demo, config, --root and port-override examples', async () => {
    const r = await cli('serve', '--help');
    expect(r.code).toBe(0);
    expect(r.out).toContain('$ ptftp serve                ');
    expect(r.out).toContain('$ ptftp serve --root ./tftpboot --listen 127.0.0.1:6969 --listen [::1]:6969');
    expect(r.out).toContain('--admin <addr>');
  });

  it('--config and --root together are a usage error (exit 2)', async () => {
    expect(await cli('serve', '-c', 'x.json', '--root', '.')).toEqual({
      code: 2,
      out: '',
      err: 'ptftp: give either --config or --root, not both\n',
    });
  });

  it('a missing configuration file is one line and exit 1', async () => {
    expect(await cli('serve', '-c', '/nonexistent/ptftp.config.json')).toEqual({
      code: 1,
      out: '',
      err: 'ptftp: invalid configuration /nonexistent/ptftp.config.json: file not found\n',
    });
  });

  it('a missing or non-folder store is one line and exit 1, before any socket is bound', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ptftp-serve-store-'));
    try {
      const file = join(dir, 'a-file');
      await writeFile(file, 'x');
      const missing = join(dir, 'nonexistent');
      expect(await cli('serve', '--root', missing, '--listen', '127.0.0.1:0')).toEqual({
        code: 1,
        out: '',
        err: `ptftp: --root ${missing} does not exist\n`,
      });
      expect(await cli('serve', '--root', file, '--listen', '127.0.0.1:0')).toEqual({
        code: 1,
        out: '',
        err: `ptftp: --root ${file} is not a folder\n`,
      });
      const config = join(dir, 'ptftp.config.json');
      await writeFile(config, JSON.stringify({ listen: ['127.0.0.1:0'], store: { root: 'nonexistent' } }));
      expect(await cli('serve', '-c', config, '--no-admin', '--no-http')).toEqual({
        code: 1,
        out: '',
        err: `ptftp: store.root ${missing} does not exist\n`,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('flags override the file (and are re-applied on reload): listen, HTTP, admin, log level', () => {
    const config = parseConfig({ listen: ['10.0.0.5:69'] });
    const out = parseConfig(
      applyOverrides(config, {
        listen: ['127.0.0.1:0'],
        httpListen: ['127.0.0.1:0'],
        admin: '127.0.0.1:0',
        logLevel: 'warn',
      }),
    );
    expect(out.listen).toEqual(['127.0.0.1:0']);
    expect(out.http).toMatchObject({ enabled: true, listen: ['127.0.0.1:0'] });
    expect(out.admin).toEqual({ enabled: true, listen: '127.0.0.1:0' });
    expect(out.log.level).toBe('warn');
    expect(parseConfig(applyOverrides(config, { http: false, admin: false })).admin.enabled).toBe(false);
  });

  it('--root binds only TFTP unless HTTP or admin are asked for', async () => {
    const config = parseConfig(await rootModeConfig({ root: '/srv/tftp', listen: ['127.0.0.1:0'] }));
    expect(config.store?.root).toBe('/srv/tftp');
    expect(config.clusters).toEqual([]);
    expect(config.http.enabled).toBe(false);
    expect(config.admin.enabled).toBe(false);
  });

  it('ConfigError text: one problem on one line, several as an indented list', () => {
    const one = new ConfigError(
      [{ path: 'clusters[2].tftp[3]', message: 'at most 3 TFTP addresses per cluster' }],
      'a.json',
    );
    expect(configErrorText(one)).toBe(
      'invalid configuration a.json: clusters[2].tftp[3]: at most 3 TFTP addresses per cluster',
    );
    const two = new ConfigError([
      { path: 'listen[0]', message: 'x' },
      { path: 'typo', message: 'unknown key' },
    ]);
    expect(configErrorText(two)).toBe(
      'invalid configuration (2 problems):\n  listen[0]: x\n  typo: unknown key',
    );
  });

  it('logs name the source of each answer: local, cache (cluster@address), cluster@address', () => {
    expect(describeSource({ source: 'local' })).toBe('local');
    expect(describeSource({ source: 'cluster', clusterId: 'cluster-b', address: '127.0.0.2:69' })).toBe(
      'cluster-b@127.0.0.2:69',
    );
    expect(describeSource({ source: 'cache', clusterId: 'cluster-b', address: '127.0.0.2:69' })).toBe(
      'cache (cluster-b@127.0.0.2:69)',
    );
    expect(prettyLine('{"level":40,"time":0,"msg":"hello"}')).toBe('00:00:00.000 WARN  hello\n');
  });
});
