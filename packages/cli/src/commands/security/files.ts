import { createPrivateKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { type HashName, isSecurityError, type RoleInput, readCertificate, toRole } from '@ptftp/security';
import { Option } from 'commander';
import { CliError } from '../../io.js';

const FS_REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
};

function fsReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === undefined) return (err as Error).message;
  return FS_REASONS[code] ? `${FS_REASONS[code]} (${code})` : code;
}

/** Read a file the user named, with a one-line error instead of a stack. */
export function readBytes(path: string, what = 'file'): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new CliError(`cannot read ${what} ${path}: ${fsReason(err)}`);
  }
}

/**
 * Read a private key the user named and check it loads, so a wrong file is reported with the
 * option and path (`--key x.pem: ...`) instead of an OpenSSL decoder code.
 */
export function readKeyPem(path: string, flag: string): string {
  const text = readText(path, flag);
  if (/-----BEGIN CERTIFICATE-----/.test(text) && !/PRIVATE KEY-----/.test(text)) {
    throw new CliError(`${flag} ${path}: holds a certificate, not a private key`);
  }
  try {
    createPrivateKey(text);
  } catch {
    throw new CliError(`${flag} ${path}: not a readable private key (PEM, PKCS#1 or PKCS#8, unencrypted)`);
  }
  return text;
}

/** Read a certificate the user named and check it parses, naming the option and path when not. */
export function readCertPem(path: string, flag: string, label = `${flag} ${path}`): string {
  const text = readText(path, flag);
  if (!/-----BEGIN CERTIFICATE-----/.test(text)) {
    const what = /PRIVATE KEY-----/.test(text)
      ? 'holds a private key, not a certificate'
      : 'no PEM certificate in it';
    throw new CliError(`${label}: ${what}`);
  }
  try {
    readCertificate(text);
  } catch (err) {
    throw new CliError(`${label}: ${(err as Error).message.split('\n')[0]}`);
  }
  return text;
}

/**
 * Run a library call on a file the user named: a {@link SecurityError} about its bytes becomes
 * one line that says which argument was wrong (`--itl ITLFile.tlv: header: ...`).
 */
export function aboutFile<T>(label: string, body: () => T): T {
  try {
    return body();
  } catch (err) {
    if (isSecurityError(err)) throw new CliError(`${label}: ${err.message}`);
    throw err;
  }
}

export function readText(path: string, what = 'file'): string {
  return readBytes(path, what).toString('utf8');
}

export function writeBytes(path: string, data: string | Uint8Array, mode?: number): void {
  try {
    writeFileSync(path, data, mode === undefined ? undefined : { mode });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // ENOENT on a write means the folder is missing, not the file.
    const reason = code === 'ENOENT' ? `folder ${dirname(path)} does not exist (ENOENT)` : fsReason(err);
    throw new CliError(`cannot write ${path}: ${reason}`);
  }
}

/**
 * `--hash sha1|sha256|sha512`, SHA-1 by default like CUCM. SHA-256 (hash id 2) stays for
 * other tools, but CUCM writes only SHA-1 and SHA-512 and certutils refuses id 2, so phones
 * are not known to take it.
 */
export function hashOption(): Option {
  return new Option(
    '--hash <alg>',
    'signature hash; phones are only known to take sha1 (CUCM default) and sha512 — sha256 is not written by CUCM',
  )
    .choices(['sha1', 'sha256', 'sha512'])
    .default('sha1');
}

export function timestampOption(): Option {
  return new Option('--timestamp <unix>', 'TIMESTAMP to write, Unix seconds (default: now)').argParser(
    (v) => {
      if (!/^\d+$/.test(v)) throw new CliError(`--timestamp must be Unix seconds, not ${v}`, 2);
      return Number(v);
    },
  );
}

export type HashOpt = HashName;

/** Commander collector for repeatable options. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `ROLE:CERT.pem` as `--record` takes it. */
export function parseRecordSpec(spec: string): { role: RoleInput; path: string } {
  const at = spec.indexOf(':');
  if (at <= 0 || at === spec.length - 1) {
    throw new CliError(`--record takes ROLE:CERT.pem (e.g. CCM+TFTP:CallManager.pem), not ${spec}`, 2);
  }
  const role = spec.slice(0, at);
  try {
    toRole(role);
  } catch (err) {
    throw new CliError(`--record ${spec}: ${(err as Error).message}`, 2);
  }
  return { role, path: spec.slice(at + 1) };
}
