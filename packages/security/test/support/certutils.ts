/**
 * usecallmanagernz/certutils (the open Python tools used with real Cisco phones) as a test
 * peer: it is run, never copied. It lives beside the repository, in `../shared/oracles/certutils`
 * (a git worktree also looks in the folders above), and needs a Python with `cryptography`
 * and `lxml` (Debian's python3-cryptography and python3-lxml for /usr/bin/python3). When either
 * is missing the tests that need them are skipped with one line saying what is missing.
 * The CLI's tests import this file by relative path too.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from '../../../../test-support/peers.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

function findOracle(): string | undefined {
  const override = process.env.PTFTP_CERTUTILS;
  if (override) return existsSync(join(override, 'sgnfile')) ? override : undefined;
  // `<repo>/../shared/...` first (CI); then each folder above, for git worktrees.
  for (let dir = dirname(repoRoot); ; dir = dirname(dir)) {
    const candidate = join(dir, 'shared', 'oracles', 'certutils');
    if (existsSync(join(candidate, 'sgnfile'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

function findPython(): string | undefined {
  for (const python of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(python, ['-c', 'import cryptography, lxml'], { stdio: 'ignore', timeout: 20_000 });
    if (r.status === 0) return python;
  }
  return undefined;
}

const oracle = findOracle();
const python = findPython();

/** Why the certutils tests cannot run here, or undefined when they can. */
export const certutilsMissing: string | undefined = !oracle
  ? `certutils not found (PTFTP_CERTUTILS, or shared/oracles/certutils above ${repoRoot})`
  : !python
    ? 'no python3 that can import cryptography and lxml (apt install python3-cryptography python3-lxml)'
    : undefined;

let announced = false;
/** Print the one skip line (once per test file) and return whether to skip. */
export function skipWithoutCertutils(): boolean {
  if (certutilsMissing && !announced) {
    announced = true;
    console.log(`[certutils] skipped: ${certutilsMissing}`);
  }
  return certutilsMissing !== undefined;
}

export interface ToolRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run one certutils tool (`sgnfile`, `tlvfile`, `enccnf`) in `cwd` (a temp folder of the test). */
export function certutils(
  tool: 'sgnfile' | 'tlvfile' | 'enccnf',
  args: string[],
  cwd: string,
): Promise<ToolRun> {
  if (!oracle || !python) throw new Error(`certutils cannot run: ${certutilsMissing}`);
  return runCommand(python, [join(oracle, tool), ...args], { cwd, timeoutMs: 30_000 });
}

/** Run a Python snippet with the interpreter certutils uses; `argv[1..]` are `args`. */
export function python3(code: string, args: string[], cwd: string): Promise<ToolRun> {
  if (!python) throw new Error(`python cannot run: ${certutilsMissing}`);
  return runCommand(python, ['-c', code, ...args], { cwd, timeoutMs: 30_000 });
}

/**
 * Load a PEM certificate with python-cryptography the way certutils does, and print its
 * subject and issuer (RFC 4514). Strict: a PrintableString holding `_`, `&` or `@` fails.
 */
export function loadInPython(pemPath: string, cwd: string): Promise<ToolRun> {
  return python3(
    [
      'import sys',
      'from cryptography import x509',
      'c = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())',
      'print(c.subject.rfc4514_string())',
      'print(c.issuer.rfc4514_string())',
      'print(format(c.serial_number, "X"))',
    ].join('\n'),
    [pemPath],
    cwd,
  );
}

/** certutils takes the certificate and its private key in one `.pem`. */
export function writeCombinedPem(path: string, certPem: string, keyPem: string): string {
  writeFileSync(path, `${certPem.trimEnd()}\n${keyPem.trimEnd()}\n`);
  return path;
}
