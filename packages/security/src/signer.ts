import type { KeyObject } from 'node:crypto';
import { type CertificateInfo, readCertificate } from './certificates.js';
import {
  keyMatches,
  loadPrivateKey,
  loadPublicKey,
  modulusBytes,
  type PrivateKeyInput,
} from './crypto-rsa.js';
import { SecurityError } from './errors.js';
import type { HashName } from './hash.js';

/** The key and certificate that sign a file. */
export interface SigningOptions {
  /** Private key, PEM (PKCS#1 or PKCS#8). */
  readonly keyPem: PrivateKeyInput;
  /** The certificate of that key, PEM; its subject, serial and issuer go into the header. */
  readonly certPem: string;
  /** Signature hash; SHA-1 unless given, as CUCM's "TFTP File Signature Algorithm" default. */
  readonly hash?: HashName;
  /** Unix seconds for the TIMESTAMP element; now unless given. */
  readonly timestamp?: number;
}

export interface ResolvedSigner {
  readonly key: KeyObject;
  readonly cert: CertificateInfo;
  readonly modulusBytes: number;
  readonly hash: HashName;
  readonly timestamp: number;
}

/** Load key and certificate and refuse a pair that does not belong together. */
export function resolveSigner(opts: SigningOptions): ResolvedSigner {
  const key = loadPrivateKey(opts.keyPem);
  const cert = readCertificate(opts.certPem);
  if (!keyMatches(key, loadPublicKey(opts.certPem))) {
    throw new SecurityError(
      'PTFTP_ERR_KEY',
      `the private key does not belong to the certificate ${cert.subjectName} (serial ${cert.serialHex})`,
    );
  }
  const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
  if (!Number.isInteger(timestamp) || timestamp < 0 || timestamp > 0xffffffff) {
    throw new SecurityError('PTFTP_ERR_ARGUMENT', `timestamp ${timestamp} is not a u32 of Unix seconds`);
  }
  return { key, cert, modulusBytes: modulusBytes(key), hash: opts.hash ?? 'sha1', timestamp };
}
