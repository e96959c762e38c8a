import { readCertificate } from './certificates.js';
import { rsaSign, rsaVerify } from './crypto-rsa.js';
import { SecurityError, type SecurityErrorCode } from './errors.js';
import type { HashName } from './hash.js';
import {
  assembleSignedFile,
  HeaderTag,
  parseHeader,
  type SignedHeader,
  type SignerId,
  signedBytes,
} from './header.js';
import { recordCertificate } from './record-key.js';
import { resolveSigner, type SigningOptions } from './signer.js';
import { findElement } from './tlv.js';
import { parseTrustList, type TrustList } from './trust-list.js';

/** Options of {@link signSgn}. */
export interface SignSgnOptions extends SigningOptions {
  /**
   * The name phones request, subdirectory included (`Desktops/320x196x4/List.xml`); `.sgn` is
   * appended unless already there, and backslashes become forward slashes.
   */
  readonly filename: string;
}

/** The `.sgn` name embedded for a requested file name. */
export function sgnFilename(name: string): string {
  const slashed = name.replace(/\\/g, '/').replace(/^\/+/, '');
  return slashed.endsWith('.sgn') ? slashed : `${slashed}.sgn`;
}

/**
 * Wrap any file in a Cisco `.sgn` envelope (header version 1.0), signed with RSA PKCS#1 v1.5.
 *
 * @example
 * ```ts
 * const sgn = signSgn(readFileSync('SEP001122334455.cnf.xml'), {
 *   filename: 'SEP001122334455.cnf.xml', keyPem, certPem, hash: 'sha512',
 * });
 * writeFileSync('SEP001122334455.cnf.xml.sgn', sgn);
 * ```
 */
export function signSgn(data: Uint8Array, opts: SignSgnOptions): Buffer {
  const signer = resolveSigner(opts);
  return assembleSignedFile(
    {
      version: [1, 0],
      signer: { name: signer.cert.subjectName, serial: signer.cert.serial, issuer: signer.cert.issuerName },
      hash: signer.hash,
      modulusBytes: signer.modulusBytes,
      filename: sgnFilename(opts.filename),
      timestamp: signer.timestamp,
    },
    data,
    (bytes) => rsaSign(bytes, signer.key, signer.hash),
  );
}

/** Result of {@link verifySgn}. A malformed file throws instead. */
export interface SgnVerification {
  readonly valid: boolean;
  /** Why the file is not valid (absent when valid). */
  readonly reason?: string;
  readonly code?: SecurityErrorCode;
  readonly signer: SignerId;
  readonly filename: string;
  readonly hash: HashName;
  readonly timestamp: number;
  /** The signed content: the original file for `.sgn`, the ciphertext for `.enc.sgn`. */
  readonly payload: Buffer;
  readonly header: SignedHeader;
}

/** Certificates or trust lists to check a signature against. */
export interface VerifyOptions {
  /** The signer's certificate (PEM). */
  readonly certPem?: string;
  /** Or a trust list whose record with the header's serial holds the signer's certificate (tag 9). */
  readonly trustList?: Uint8Array | TrustList;
}

/**
 * Check a signed file (`.sgn`, `.enc.sgn` or a trust list's signature) against a certificate
 * or a trust list. Returns `valid: false` with a reason for a wrong signer or a bad
 * signature; throws a {@link SecurityError} when the bytes are not a signed file at all.
 *
 * @example
 * ```ts
 * const v = verifySgn(readFileSync('List.xml.sgn'), { certPem });
 * if (!v.valid) console.error(v.reason);
 * ```
 */
export function verifySgn(file: Uint8Array, opts: VerifyOptions = {}): SgnVerification {
  const { header, body } = parseHeader(file);
  const base = {
    signer: header.signer,
    filename: header.filename,
    hash: header.hash,
    timestamp: header.timestamp,
    payload: body,
    header,
  };
  const fail = (code: SecurityErrorCode, reason: string): SgnVerification => ({
    ...base,
    valid: false,
    code,
    reason,
  });
  // The header names its signer by serial number (and by names rendered in no fixed way:
  // certutils writes `CN=..,O=..`, CUCM `CN=..;O=..`), so candidates are found by serial and
  // the signature check with each candidate's own key decides.
  const data = signedBytes(file, header);
  const verifies = (pem: string) => rsaVerify(data, header.signature, pem, header.hash);
  const mismatch = () =>
    fail(
      'PTFTP_ERR_SIGNATURE_INVALID',
      `signature does not match the content (${header.hash.toUpperCase()}, signer ${header.signer.name}): the file was modified or signed with another key`,
    );
  if (opts.certPem !== undefined) {
    const cert = readCertificate(opts.certPem);
    if (!cert.serial.equals(header.signer.serial)) {
      return fail(
        'PTFTP_ERR_SIGNATURE_INVALID',
        `signed by ${header.signer.name} (serial ${header.signer.serialHex}, issuer ${header.signer.issuer}), ` +
          `not by the given certificate ${cert.subjectName} (serial ${cert.serialHex}, issuer ${cert.issuerName})`,
      );
    }
    return verifies(cert.pem) ? { ...base, valid: true } : mismatch();
  }
  if (opts.trustList !== undefined) {
    const list = opts.trustList instanceof Uint8Array ? parseTrustList(opts.trustList) : opts.trustList;
    const records = list.records.filter((r) => r.serial.equals(header.signer.serial));
    if (records.length === 0) {
      return fail(
        'PTFTP_ERR_SIGNATURE_INVALID',
        `signer ${header.signer.name} (serial ${header.signer.serialHex}) is not in the trust list ${list.header.filename}`,
      );
    }
    const refused: string[] = [];
    for (const record of records) {
      const own = recordCertificate(record);
      if (!own.ok) refused.push(own.reason);
      else if (verifies(own.cert.pem)) return { ...base, valid: true };
    }
    if (refused.length === records.length) {
      return fail('PTFTP_ERR_KEY', `${list.header.filename}: ${refused.join('; ')}`);
    }
    return mismatch();
  }
  return fail('PTFTP_ERR_ARGUMENT', 'no certificate or trust list given: the signature was not checked');
}

/**
 * The original file inside a `.sgn`: everything after HEADER_LENGTH bytes. Only tags 1 and 2
 * are read, so this works on any version of the envelope.
 *
 * @example
 * ```ts
 * writeFileSync('List.xml', stripSgn(readFileSync('List.xml.sgn')));
 * ```
 */
export function stripSgn(file: Uint8Array): Buffer {
  const bytes = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (
    bytes.length < 10 ||
    bytes[0] !== HeaderTag.VERSION ||
    bytes.readUInt16BE(1) !== 2 ||
    bytes[5] !== HeaderTag.HEADER_LENGTH ||
    bytes.readUInt16BE(6) !== 2
  ) {
    throw new SecurityError(
      'PTFTP_ERR_TLV_LENGTH',
      'not a signed file: VERSION (tag 1) and HEADER_LENGTH (tag 2) are not at offsets 0 and 5',
      {
        offset: 0,
      },
    );
  }
  const headerLength = bytes.readUInt16BE(8);
  // Below 10 the "original file" would start inside VERSION / HEADER_LENGTH themselves.
  if (headerLength < 10) {
    throw new SecurityError(
      'PTFTP_ERR_TLV_HEADER_LENGTH',
      `HEADER_LENGTH ${headerLength} cannot be right: VERSION and HEADER_LENGTH alone take 10 bytes`,
      { offset: 8 },
    );
  }
  if (headerLength > bytes.length) {
    throw new SecurityError(
      'PTFTP_ERR_TLV_TRUNCATED',
      `HEADER_LENGTH is ${headerLength} but the file has only ${bytes.length} bytes`,
      {
        offset: 8,
      },
    );
  }
  return Buffer.from(bytes.subarray(headerLength));
}

/** True when the header holds the `.enc.sgn` encryption info. */
export function isEncrypted(header: SignedHeader): boolean {
  return findElement(header.elements, HeaderTag.ENCRYPTION_INFO) !== undefined;
}
