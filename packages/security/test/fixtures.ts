import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type GeneratedCertificate, generateSigningCertificate } from '@ptftp/security';
import { requirePeer, runCommand } from '../../../test-support/peers.js';

/** A TFTP-style signing certificate with a Cisco-like subject (keys from node:crypto). */
export function makeCert(commonName: string, keyBits: 1024 | 2048 = 2048): GeneratedCertificate {
  return generateSigningCertificate({
    subject: {
      commonName,
      organizationalUnit: 'TAC',
      organization: 'Cisco',
      locality: 'Krakow',
      state: 'Malopolska',
      country: 'PL',
    },
    keyBits,
  });
}

/** A temp folder removed by `cleanup()`. */
export function tempDir(): {
  dir: string;
  path: (name: string) => string;
  write: (name: string, data: string | Uint8Array) => string;
  cleanup: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'ptftp-security-'));
  return {
    dir,
    path: (name) => join(dir, name),
    write: (name, data) => {
      const p = join(dir, name);
      writeFileSync(p, data);
      return p;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Run Debian's openssl; fails the test (never skips) when it is missing. Inputs go through
 * files, never stdin: an openssl that exits before reading stdin would raise EPIPE.
 */
export function openssl(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runCommand(requirePeer('openssl'), args, { timeoutMs: 20_000 });
}
