/**
 * Start-up of the built binary (issue 15: every verb took 0.6-1.3 s): a verb loads its own
 * module and what it needs, nothing else. Proven on the modules Node actually loaded, not on a
 * clock (the timing is bench/cli.bench.mjs's job).
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeUdpPort, runCommand } from '../../../test-support/peers.js';

const BIN = fileURLToPath(new URL('../bin/ptftp.js', import.meta.url));

describe('ptftp loads only the verb it runs (built binary)', () => {
  let dir: string;
  let preload: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ptftp-startup-'));
    preload = join(dir, 'loaded.cjs');
    // At exit, list every CommonJS module the process loaded, and Node's own modules.
    await writeFile(
      preload,
      `process.on('exit', () => {
        const fs = require('node:fs');
        fs.writeFileSync(${JSON.stringify(join(dir, 'modules.json'))}, JSON.stringify(Object.keys(require.cache)));
        fs.writeFileSync(${JSON.stringify(join(dir, 'builtins.json'))}, JSON.stringify(process.moduleLoadList));
      });`,
    );
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function modulesOf(
    args: string[],
  ): Promise<{ code: number | null; stdout: string; stderr: string; modules: string[]; builtins: string[] }> {
    const r = await runCommand(process.execPath, ['-r', preload, BIN, ...args], { timeoutMs: 30_000 });
    return {
      code: r.code,
      stdout: r.stdout,
      stderr: r.stderr,
      modules: JSON.parse(await readFile(join(dir, 'modules.json'), 'utf8')),
      builtins: JSON.parse(await readFile(join(dir, 'builtins.json'), 'utf8')),
    };
  }
  const pkg = (modules: string[], name: string) => modules.some((m) => m.includes(`/${name}/`));

  it('dhcp option150 loads @ptftp/dhcp-options only: no server, protocol, security, pino or YAML', async () => {
    const r = await modulesOf(['dhcp', 'option150', '10.1.1.10', '10.1.1.11']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('96080a01010a0a01010b\n');
    expect(pkg(r.modules, 'dhcp-options')).toBe(true);
    for (const heavy of ['server', 'protocol', 'resolver', 'security', 'pino', 'yaml', 'node-forge', 'zod'])
      expect(pkg(r.modules, heavy), heavy).toBe(false);
  });

  it('get loads the protocol client entry only: no protocol index, server, node:crypto, dns or perf_hooks', async () => {
    // A port nothing listens on: get fails at once (ECONNREFUSED), after loading all it needs.
    const port = await freeUdpPort();
    const r = await modulesOf(['get', `tftp://127.0.0.1:${port}/x.bin`, '-o', join(dir, 'x.bin')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ECONNREFUSED');
    const ours = r.modules.filter((m) => m.includes('/packages/') && !m.includes('/packages/cli/'));
    expect(ours.some((m) => m.endsWith('/packages/protocol/dist/client.cjs'))).toBe(true);
    expect(ours.filter((m) => !m.includes('/packages/protocol/dist/'))).toEqual([]);
    expect(ours.filter((m) => m.endsWith('/index.cjs'))).toEqual([]);
    for (const builtin of ['crypto', 'dns/promises', 'perf_hooks'])
      expect(r.builtins, builtin).not.toContain(`NativeModule ${builtin}`);
  });

  it('--help lists every verb and loads no package of ours', async () => {
    const r = await modulesOf(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('  serve [options] ');
    expect(r.stdout).toContain('  cert ');
    expect(r.modules.filter((m) => m.includes('/packages/') && !m.includes('/packages/cli/'))).toEqual([]);
  });
});

// module.enableCompileCache exists from Node 22.8; on Node 20 the binary starts as before.
const nodeModule = (await import('node:module')).default as unknown as { enableCompileCache?: unknown };
const hasCompileCache = typeof nodeModule.enableCompileCache === 'function';

describe.skipIf(!hasCompileCache)('the ptftp binary turns on Node’s compile cache (Node 22.8+)', () => {
  it('a run fills node-compile-cache in the temporary folder; NODE_DISABLE_COMPILE_CACHE=1 leaves it empty', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ptftp-compile-cache-'));
    try {
      const on = join(dir, 'on');
      const off = join(dir, 'off');
      const run = (env: Record<string, string>) =>
        spawnSync(process.execPath, [BIN, 'dhcp', 'option150', '10.1.1.10'], {
          encoding: 'utf8',
          timeout: 30_000,
          env: { ...process.env, ...env },
        });
      // Not NODE_COMPILE_CACHE: that variable turns the cache on by itself. The binary's call
      // uses os.tmpdir()/node-compile-cache, and os.tmpdir() follows TMPDIR.
      await mkdir(on);
      await mkdir(off);
      const a = run({ TMPDIR: on });
      expect(a.status).toBe(0);
      expect(a.stdout).toBe('96040a01010a\n');
      // One folder per Node version and flags, holding one cache file per module compiled.
      const [version] = await readdir(join(on, 'node-compile-cache'));
      expect(version).toBeDefined();
      expect((await readdir(join(on, 'node-compile-cache', version!))).length).toBeGreaterThan(0);
      const b = run({ TMPDIR: off, NODE_DISABLE_COMPILE_CACHE: '1' });
      expect(b.status).toBe(0);
      expect(await readdir(off)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
