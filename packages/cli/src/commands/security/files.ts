import { readFileSync, writeFileSync } from 'node:fs';
import { type HashName, type RoleInput, toRole } from '@ptftp/security';
import { Option } from 'commander';
import { CliError } from '../../io.js';

/** Read a file the user named, with a one-line error instead of a stack. */
export function readBytes(path: string, what = 'file'): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new CliError(
      `cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

export function readText(path: string, what = 'file'): string {
  return readBytes(path, what).toString('utf8');
}

export function writeBytes(path: string, data: string | Uint8Array, mode?: number): void {
  try {
    writeFileSync(path, data, mode === undefined ? undefined : { mode });
  } catch (err) {
    throw new CliError(
      `cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

/** `--hash sha1|sha256|sha512`, SHA-1 by default like CUCM. */
export function hashOption(): Option {
  return new Option('--hash <alg>', 'signature hash').choices(['sha1', 'sha256', 'sha512']).default('sha1');
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
