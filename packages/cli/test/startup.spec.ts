/**
 * Start-up of the built binary (issue 15: every verb took 0.6-1.3 s): a verb loads its own
 * module and what it needs, nothing else. Proven on the modules Node actually loaded, not on a
 * clock (the timing is bench/cli.bench.mjs's job).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../../test-support/peers.js';

const BIN = fileURLToPath(new URL('../bin/ptftp.js', import.meta.url));

describe('ptftp loads only the verb it runs (built binary)', () => {
  let dir: string;
  let preload: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ptftp-startup-'));
    preload = join(dir, 'loaded.cjs');
    // At exit, list every CommonJS module the process loaded.
    await writeFile(
      preload,
      `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(join(dir, 'modules.json'))}, JSON.stringify(Object.keys(require.cache))));`,
    );
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function modulesOf(
    args: string[],
  ): Promise<{ code: number | null; stdout: string; modules: string[] }> {
    const r = await runCommand(process.execPath, ['-r', preload, BIN, ...args], { timeoutMs: 30_000 });
    return {
      code: r.code,
      stdout: r.stdout,
      modules: JSON.parse(await readFile(join(dir, 'modules.json'), 'utf8')),
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

  it('--help lists every verb and loads no package of ours', async () => {
    const r = await modulesOf(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('  serve [options] ');
    expect(r.stdout).toContain('  cert ');
    expect(r.modules.filter((m) => m.includes('/packages/') && !m.includes('/packages/cli/'))).toEqual([]);
  });
});
