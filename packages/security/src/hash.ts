import { SecurityError } from './errors.js';

/** Hash algorithms Cisco files use for signatures. */
export type HashName = 'sha1' | 'sha256' | 'sha512';

const CODES: Record<HashName, number> = { sha1: 1, sha256: 2, sha512: 3 };

/** Header tag 8 / record tag 12 / enc tag 26 value for `hash`. */
export function hashCode(hash: HashName): number {
  const code = CODES[hash];
  if (code === undefined) {
    throw new SecurityError('PTFTP_ERR_ARGUMENT', `hash must be sha1, sha256 or sha512, not ${String(hash)}`);
  }
  return code;
}

/** The hash named by a header byte, or a typed error naming the byte. */
export function hashFromCode(code: number, where: string): HashName {
  for (const [name, value] of Object.entries(CODES)) if (value === code) return name as HashName;
  throw new SecurityError(
    'PTFTP_ERR_TLV_LENGTH',
    `${where}: unknown hash algorithm ${code} (1 = SHA-1, 2 = SHA-256, 3 = SHA-512)`,
  );
}
