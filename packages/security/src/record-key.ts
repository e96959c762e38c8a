import { type CertificateInfo, readCertificate, sameCertificate } from './certificates.js';
import type { TrustRecord } from './trust-list.js';

/** The certificate of a trust-list record, or why the record cannot vouch for a key. */
export type RecordCertificate =
  | { readonly ok: true; readonly cert: CertificateInfo }
  | { readonly ok: false; readonly reason: string };

/**
 * The certificate (tag 9) of a trust-list record, checked against the record's own copies of
 * its key (PUBLIC_KEY, tag 7) and serial (tag 6). Signatures are checked with the
 * certificate's key, never with tag 7 alone: a record whose tag 7 was swapped for a rogue key
 * (and the list re-signed with that key) must not pass, as certutils and phones refuse it.
 *
 * @example
 * ```ts
 * const r = recordCertificate(list.records[0]!);
 * if (r.ok) rsaVerify(data, signature, r.cert.pem, 'sha1');
 * ```
 */
export function recordCertificate(record: TrustRecord): RecordCertificate {
  const who = `record ${record.subjectName || record.serialHex} (${record.roleName})`;
  if (record.certificate.length === 0) {
    return { ok: false, reason: `${who} has no CERTIFICATE (tag 9), so its key cannot be trusted` };
  }
  let cert: CertificateInfo;
  try {
    cert = readCertificate(record.certificate);
  } catch (err) {
    return { ok: false, reason: `${who}: CERTIFICATE (tag 9): ${(err as Error).message}` };
  }
  if (record.publicKey.length > 0 && !record.publicKey.equals(cert.publicKey)) {
    return {
      ok: false,
      reason: `${who}: PUBLIC_KEY (tag 7) is not the key of its CERTIFICATE (tag 9): the record was altered`,
    };
  }
  if (!record.serial.equals(cert.serial)) {
    return {
      ok: false,
      reason: `${who}: SERIAL_NUMBER (tag 6) ${record.serialHex} is not the serial ${cert.serialHex} of its CERTIFICATE (tag 9)`,
    };
  }
  return { ok: true, cert };
}

/** True when the record holds exactly this certificate (issuer DER, serial and key). */
export function recordHolds(record: TrustRecord, cert: CertificateInfo): boolean {
  if (!record.serial.equals(cert.serial)) return false;
  const own = recordCertificate(record);
  return own.ok && sameCertificate(own.cert, cert);
}
