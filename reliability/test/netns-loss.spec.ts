import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '@ptftp/protocol/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lacking, runCommand } from '../../test-support/peers.js';

const script = fileURLToPath(new URL('../netns-loss.sh', import.meta.url));
const dist = fileURLToPath(new URL('../../packages/protocol/dist/index.js', import.meta.url));

// A phone's files in miniature: a trust list, a configuration, a locale archive.
const SIZES: Record<string, number> = {
  'ITLSEP0A1B2C3D4E5F.tlv': 1_200,
  'SEP0A1B2C3D4E5F.cnf.xml': 8_000,
  'English_United_States/tc-sccp.jar': 40_000,
};

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'ptftp-netns-'));
  const rand = mulberry32(77);
  for (const [name, size] of Object.entries(SIZES)) {
    const path = join(root, name);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, Buffer.from(Array.from({ length: size }, () => Math.floor(rand() * 256))));
  }
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.skipIf(lacking('unshare', 'nft', 'curl', 'atftp'))(
  'real clients through real packet loss (network namespace, nftables, 5% UDP drop)',
  () => {
    it('curl and atftp get every file with the right SHA-256 from the built server', async () => {
      if (!existsSync(dist))
        throw new Error(
          `${dist} is missing: this check runs the BUILT server; run "npm run build -w @ptftp/protocol"`,
        );
      const r = await runCommand('unshare', ['--net', 'bash', script, root, '5', '1428'], {
        timeoutMs: 170_000,
      });
      const lines = r.stdout.split('\n');
      const ok = lines.filter((l) => l.startsWith('OK '));
      expect(lines.filter((l) => l.startsWith('FAIL'))).toEqual([]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(ok).toHaveLength(Object.keys(SIZES).length * 2);
      // The loss was real: nftables dropped datagrams, and the server resent for them.
      const dropped = Number(lines.find((l) => l.startsWith('NFT-DROPPED '))?.split(' ')[1]);
      expect(dropped).toBeGreaterThan(0);
      const server = JSON.parse(lines.find((l) => l.startsWith('SERVER '))!.slice(7));
      // Every transfer ended on the server too: complete, or failed because a client left
      // without hearing the last DATA again after its final ACK was lost (TFTP has no fix for that).
      expect(server.complete + server.errors).toBeGreaterThanOrEqual(ok.length);
      expect(server.activeAfterClose).toBe(0);
    }, 180_000);
  },
);
