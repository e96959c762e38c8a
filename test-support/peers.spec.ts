import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { lacking, runCommand, startAtftpd, startTftpdHpa, xorshiftBytes } from './peers.js';

describe('a missing peer', () => {
  it('is named with its path and Debian package, in one line, and requirePeer throws it', async () => {
    expect.assertions(4);
    const dir = await mkdtemp(join(tmpdir(), 'ptftp-nopeer-'));
    process.env.PTFTP_ATFTPD = join(dir, 'atftpd');
    vi.resetModules();
    try {
      const fresh = await import('./peers.js');
      const line = `atftpd (${join(dir, 'atftpd')}; apt-get install atftpd (unpacked into /opt/ptftp-peers by .ci/run))`;
      expect(fresh.peerProblem('atftpd')).toBe(line);
      const written: string[] = [];
      const write = process.stderr.write;
      process.stderr.write = ((s: string) => written.push(s) > 0) as typeof process.stderr.write;
      try {
        expect(fresh.lacking('atftpd')).toBe(true);
      } finally {
        process.stderr.write = write;
      }
      expect(written).toEqual([`skipped: needs ${line}\n`]);
      try {
        fresh.requirePeer('atftpd');
      } catch (err) {
        expect((err as Error).message).toBe(`peer missing: ${line}`);
      }
    } finally {
      delete process.env.PTFTP_ATFTPD;
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(lacking('inTftpd', 'atftpd', 'curl'))('the Debian peers', () => {
  let root: string;
  // A file of this test's own making (never one that happens to exist on one machine).
  const content = xorshiftBytes(3000, 42);
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'ptftp-peers-'));
    // The daemons drop privileges when started as root: the folder must be readable by anyone.
    await chmod(root, 0o755);
    await writeFile(join(root, 'a.bin'), content, { mode: 0o644 });
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('start on loopback and serve a file to curl, byte for byte', async () => {
    let served = 0;
    for (const [name, start] of [
      ['hpa', startTftpdHpa],
      ['atftpd', startAtftpd],
    ] as const) {
      for (const host of name === 'hpa' ? ['127.0.0.1', '::1'] : ['127.0.0.1']) {
        const p = await start({ root, host });
        try {
          const url = host.includes(':')
            ? `tftp://[${host}]:${p.port}/a.bin`
            : `tftp://${host}:${p.port}/a.bin`;
          const out = join(root, `got-${name}-${served}`);
          const r = await runCommand('/usr/bin/curl', ['-sS', '-o', out, url]);
          expect(r.stderr).toBe('');
          expect((await readFile(out)).equals(content)).toBe(true);
          served++;
        } finally {
          await p.stop();
        }
      }
    }
    expect(served).toBe(3);
  });
});
