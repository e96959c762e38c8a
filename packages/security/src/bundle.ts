import { type CertificateInfo, readCertificate, splitPemCertificates } from './certificates.js';
import { SecurityError } from './errors.js';
import { type RoleInput, roleName, toRole } from './roles.js';

/** One certificate in a bundle, with the trust store or role it belongs to on the far side. */
export interface BundleEntry {
  readonly certificate: string | Uint8Array;
  /** Where the certificate goes on import, e.g. `Phone-SAST-Trust` or `CallManager-trust`. */
  readonly store?: string;
  /** Its trust-list role, when it should become a CTL/ITL record. */
  readonly role?: RoleInput;
}

export interface ImportedBundleEntry {
  readonly info: CertificateInfo;
  readonly store: string | undefined;
  readonly role: number | undefined;
}

/**
 * A bundle for moving trust between clusters: PEM certificates, each preceded by comment
 * lines (`# store: ...`, `# role: ...`, `# subject: ...`). Plain PEM tools ignore the
 * comments, so the file also works with `openssl x509` or CUCM's upload page one block at a
 * time.
 *
 * @example
 * ```ts
 * const text = exportCertificateBundle([{ certificate: proxyCertPem, store: 'Phone-SAST-Trust', role: 'TFTP' }]);
 * const [entry] = importCertificateBundle(text);
 * ```
 */
export function exportCertificateBundle(entries: readonly BundleEntry[]): string {
  return entries
    .map((e) => {
      const info = readCertificate(e.certificate);
      const lines = [`# subject: ${info.subjectName}`, `# serial: ${info.serialHex}`, `# sha1: ${info.sha1}`];
      if (e.store) lines.push(`# store: ${e.store}`);
      if (e.role !== undefined) lines.push(`# role: ${roleName(toRole(e.role))}`);
      return `${lines.join('\n')}\n${info.pem}`;
    })
    .join('\n');
}

/** Read a bundle written by {@link exportCertificateBundle} (or any PEM concatenation). */
export function importCertificateBundle(text: string): ImportedBundleEntry[] {
  const blocks = splitPemCertificates(text);
  if (blocks.length === 0)
    throw new SecurityError('PTFTP_ERR_CERTIFICATE', 'the bundle holds no PEM certificate');
  const out: ImportedBundleEntry[] = [];
  let rest = text;
  for (const block of blocks) {
    const at = rest.indexOf(block.trim());
    const preamble = rest.slice(0, at);
    rest = rest.slice(at + block.trim().length);
    const meta = (key: string) => preamble.match(new RegExp(`^# ${key}: (.+)$`, 'm'))?.[1]?.trim();
    const role = meta('role');
    out.push({
      info: readCertificate(block),
      store: meta('store'),
      role: role === undefined ? undefined : toRole(role),
    });
  }
  return out;
}
