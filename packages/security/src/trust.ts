import { type CertificateInfo, readCertificate } from './certificates.js';
import { rsaVerify } from './crypto-rsa.js';
import { parseHeader, type SignerId, signedBytes } from './header.js';
import { recordCertificate } from './record-key.js';
import { canSignFiles, Role, roleName } from './roles.js';
import { isEncrypted } from './sgn.js';
import { parseTrustList, type TrustList, type TrustRecord, verifyTrustList } from './trust-list.js';

/** Which rule made a phone accept a file. */
export type TrustRule = 'CTL' | 'ITL' | 'TVS' | 'NO_TRUST_LIST';

/** What a phone holds: its installed trust lists and (for diagnosis) its TVS's trust store. */
export interface PhoneTrust {
  readonly itl?: Uint8Array | TrustList;
  readonly ctl?: Uint8Array | TrustList;
  /**
   * PEM certificates the home cluster's TVS vouches for (its Phone-SAST-Trust and
   * CallManager-trust stores). Only consulted when the ITL lists a TVS.
   */
  readonly tvsTrust?: readonly string[];
}

/** The outcome of one rule. */
export interface TrustCheck {
  readonly rule: 'CTL' | 'ITL' | 'TVS';
  readonly outcome: 'accepted' | 'not-listed' | 'not-applicable' | 'signature-invalid';
  readonly detail: string;
}

export type RemedyAction =
  | 'sign-with-held-sast'
  | 'import-phone-sast-trust'
  | 'add-to-remote-ctl'
  | 'reset-itl'
  | 'disable-security-by-default';

/** The certificate a remedy moves between clusters. */
export interface RemedyCertificate {
  readonly subjectName: string;
  readonly serialHex: string;
  readonly issuerName: string;
  /** PEM, when the caller gave the signer's certificate (`signerCertPem`). */
  readonly pem: string | undefined;
}

/** One thing an operator can do so the phone accepts the file. */
export interface Remedy {
  readonly action: RemedyAction;
  readonly summary: string;
  readonly certificate: RemedyCertificate;
}

/** Result of {@link evaluateTrust}. */
export interface TrustDecision {
  readonly accepted: boolean;
  /** The rule that accepted the file (absent when rejected). */
  readonly rule?: TrustRule;
  /**
   * Whether the signature was checked with a key known to belong to the signer. False only
   * for a phone without trust lists when no `signerCertPem` was given: such a phone takes any
   * file, tampered or not.
   */
  readonly signatureChecked: boolean;
  /** One sentence: why it was accepted or rejected. */
  readonly reason: string;
  readonly signer: SignerId;
  readonly filename: string;
  readonly fileKind: 'sgn' | 'enc.sgn' | 'ITL' | 'CTL';
  /** The trust-list record or TVS certificate that matched the signer. */
  readonly matchedBy: TrustRecord | CertificateInfo | undefined;
  readonly checks: readonly TrustCheck[];
  /** Empty when accepted, or when the signature itself is broken (no trust move fixes that). */
  readonly remedies: readonly Remedy[];
}

const asList = (l: Uint8Array | TrustList | undefined): TrustList | undefined =>
  l === undefined ? undefined : l instanceof Uint8Array ? parseTrustList(l) : l;

// Headers name the signer by serial and by a name string rendered in no fixed way (CUCM's
// `CN=..;O=..`, certutils' `CN=..,O=..`): candidates are found by serial, and the signature
// checked with each candidate's certificate decides.
const sameSerial = (s: SignerId, serial: Buffer) => s.serial.equals(serial);

/**
 * Decide whether a phone holding `phone` accepts a signed file (`.sgn`, `.enc.sgn`, or an ITL
 * or CTL update), by Cisco's rules: the signer must be a TFTP or CCM+TFTP certificate in the
 * phone's CTL, or one in its ITL, or a certificate a TVS listed in its ITL vouches for. A new
 * trust list must instead be signed by a SAST the phone already holds (in its CTL or ITL, or
 * vouched for by TVS), and must itself keep the trust-list rules (its signer a SAST record of
 * it, at most 2 SAST records). The signature is checked with the key that matched. When rejected, the remedies say which certificate to move where.
 *
 * @example
 * ```ts
 * const d = evaluateTrust(readFileSync('SEP001122334455.cnf.xml.sgn'), { itl: readFileSync('ITLSEP001122334455.tlv') }, { signerCertPem: proxyCert });
 * if (!d.accepted) for (const r of d.remedies) console.log(r.summary);
 * ```
 */
export function evaluateTrust(
  file: Uint8Array,
  phone: PhoneTrust,
  opts: { signerCertPem?: string } = {},
): TrustDecision {
  const { header } = parseHeader(file);
  const listKind =
    header.version.major === 1 && header.version.minor === 2 ? kindOf(header.filename) : undefined;
  const fileKind: TrustDecision['fileKind'] = listKind ?? (isEncrypted(header) ? 'enc.sgn' : 'sgn');
  const itl = asList(phone.itl);
  const ctl = asList(phone.ctl);
  const signed = signedBytes(file, header);
  const signer = header.signer;
  const base = { signer, filename: header.filename, fileKind };
  const checkSignature = (pem: string) => rsaVerify(signed, header.signature, pem, header.hash);
  const given = opts.signerCertPem === undefined ? undefined : readCertificate(opts.signerCertPem);
  const givenMatches = given !== undefined && sameSerial(signer, given.serial);
  const checks: TrustCheck[] = [];
  const broken = (why?: string): TrustDecision => ({
    ...base,
    accepted: false,
    signatureChecked: true,
    reason:
      why ??
      `the signature of ${header.filename} does not verify with the key of its signer ${signer.name}: the file was modified after signing or signed with another key; re-sign it`,
    matchedBy: undefined,
    checks,
    remedies: [],
  });

  if (!itl && !ctl) {
    if (givenMatches && !checkSignature(given.pem)) return broken();
    return {
      ...base,
      accepted: true,
      rule: 'NO_TRUST_LIST',
      signatureChecked: givenMatches,
      reason: givenMatches
        ? 'the phone holds no ITL or CTL, so it accepts the file without checking the signer (and installs the first ITL it gets); the signature verifies with the given signer certificate'
        : 'the phone holds no ITL or CTL, so it accepts the file without checking the signer (and installs the first ITL it gets); the signature was NOT checked (give the signer certificate to check it)',
      matchedBy: givenMatches ? given : undefined,
      checks: [],
      remedies: [],
    };
  }

  if (listKind !== undefined) {
    const own = verifyTrustList(file);
    // Broken rules, or a signer record altered (tag 7 not its certificate's key): refused
    // whoever signed it.
    if (!own.valid && (own.code === 'PTFTP_ERR_TRUST_RULE' || own.code === 'PTFTP_ERR_KEY')) {
      return {
        ...base,
        accepted: false,
        signatureChecked: false,
        reason: `the ${listKind} ${header.filename} breaks the trust-list rules: ${own.reason}`,
        matchedBy: undefined,
        checks: [],
        remedies: [],
      };
    }
  }

  // A new trust list must be signed by a SAST the phone already holds (a TFTP certificate may
  // sign configuration files, not trust lists); files are signed by TFTP / CCM+TFTP.
  const mayList = (r: TrustRecord) => (listKind !== undefined ? r.role === Role.SAST : canSignFiles(r.role));
  // A record that vouches for the signer, undefined when none is listed, or (a string) why
  // the listed one does not verify the file.
  const fromList = (rule: 'CTL' | 'ITL', list: TrustList | undefined): TrustRecord | string | undefined => {
    if (!list) {
      checks.push({ rule, outcome: 'not-applicable', detail: `the phone holds no ${rule}` });
      return undefined;
    }
    const same = list.records.filter((r) => sameSerial(signer, r.serial));
    const allowed = same.filter(mayList);
    if (allowed.length === 0) {
      const other = same.length
        ? `; it is listed only as ${same.map((r) => roleName(r.role)).join(', ')}, which may not sign this file`
        : '';
      checks.push({ rule, outcome: 'not-listed', detail: `signer not in ${rule}${other}` });
      return undefined;
    }
    // The key is the record's certificate's (tag 9), never PUBLIC_KEY (tag 7) on its own.
    const refused: string[] = [];
    for (const record of allowed) {
      const own = recordCertificate(record);
      if (!own.ok) refused.push(own.reason);
      else if (checkSignature(own.cert.pem)) {
        checks.push({ rule, outcome: 'accepted', detail: `${rule} lists the signer as ${record.roleName}` });
        return record;
      }
    }
    const detail = refused.length
      ? `the ${rule} record with the signer's serial cannot be used: ${refused.join('; ')}`
      : `the ${rule} record ${allowed[0]!.subjectName} (${allowed[0]!.roleName}) matches the signer but the signature does not verify with its certificate's key`;
    checks.push({ rule, outcome: 'signature-invalid', detail });
    return refused.length ? `${header.filename} is refused: ${detail}` : '';
  };

  const accept = (
    rule: TrustRule,
    matchedBy: TrustRecord | CertificateInfo,
    reason: string,
  ): TrustDecision => ({
    ...base,
    accepted: true,
    rule,
    signatureChecked: true,
    reason,
    matchedBy,
    checks,
    remedies: [],
  });

  const byCtl = fromList('CTL', ctl);
  if (typeof byCtl === 'string') return broken(byCtl || undefined);
  if (byCtl)
    return accept('CTL', byCtl, `the signer ${signer.name} is in the phone's CTL as ${byCtl.roleName}`);
  const byItl = fromList('ITL', itl);
  if (typeof byItl === 'string') return broken(byItl || undefined);
  if (byItl)
    return accept('ITL', byItl, `the signer ${signer.name} is in the phone's ITL as ${byItl.roleName}`);

  const tvs = itl?.records.filter((r) => r.role === Role.TVS) ?? [];
  if (!itl || tvs.length === 0) {
    checks.push({
      rule: 'TVS',
      outcome: 'not-applicable',
      detail: itl ? 'the ITL lists no TVS' : 'the phone holds no ITL, so it knows no TVS',
    });
  } else if (phone.tvsTrust === undefined) {
    checks.push({
      rule: 'TVS',
      outcome: 'not-listed',
      detail: `the ITL lists TVS ${tvs.map((r) => r.dnsName || r.subjectName).join(', ')}, but its trust store was not given, so a TVS vouch cannot be shown`,
    });
  } else {
    const known = phone.tvsTrust
      .map((pem) => readCertificate(pem))
      .filter((c) => sameSerial(signer, c.serial));
    const vouched = known.find((c) => checkSignature(c.pem)) ?? known[0];
    if (!vouched) {
      checks.push({
        rule: 'TVS',
        outcome: 'not-listed',
        detail: 'signer not in the TVS trust store (Phone-SAST-Trust / CallManager-trust)',
      });
    } else if (!checkSignature(vouched.pem)) {
      checks.push({
        rule: 'TVS',
        outcome: 'signature-invalid',
        detail: `TVS knows ${vouched.subjectName} but the signature does not verify with its key`,
      });
      return broken();
    } else {
      checks.push({ rule: 'TVS', outcome: 'accepted', detail: `TVS vouches for ${vouched.subjectName}` });
      return accept(
        'TVS',
        vouched,
        `TVS ${tvs[0]!.dnsName || tvs[0]!.subjectName} vouches for the signer ${signer.name}`,
      );
    }
  }

  // Rejected by trust: is the signature itself sound? Only answerable with the signer's certificate.
  if (givenMatches && !checkSignature(given.pem)) return broken();
  const certificate: RemedyCertificate = {
    subjectName: givenMatches ? given.subjectName : signer.name,
    serialHex: signer.serialHex,
    issuerName: signer.issuer,
    pem: givenMatches ? given.pem : undefined,
  };
  const why = checks
    .filter((c) => c.outcome !== 'not-applicable')
    .map((c) => c.detail)
    .join('; ');
  return {
    ...base,
    accepted: false,
    signatureChecked: givenMatches,
    reason:
      listKind !== undefined
        ? `the phone would not install this ${listKind} update: its signer ${signer.name} (serial ${signer.serialHex}) is not a SAST the phone already holds (${why})`
        : `sgn verify file failed: signer ${signer.name} (serial ${signer.serialHex}) is not trusted (${why})`,
    matchedBy: undefined,
    checks,
    remedies:
      listKind !== undefined
        ? listRemedies(listKind, certificate, itl, ctl)
        : remedies(certificate, itl, ctl, tvs),
  };
}

/** What makes a phone install a new ITL or CTL: a SAST it holds signs it, or it holds none. */
function listRemedies(
  kind: 'ITL' | 'CTL',
  cert: RemedyCertificate,
  itl: TrustList | undefined,
  ctl: TrustList | undefined,
): Remedy[] {
  const held = [...(ctl?.records ?? []), ...(itl?.records ?? [])]
    .filter((r) => r.role === Role.SAST)
    .map((r) => r.subjectName);
  const out: Remedy[] = [
    {
      action: 'sign-with-held-sast',
      summary: `Sign the new ${kind} with a SAST key the phone already holds${held.length ? ` (${[...new Set(held)].join(', ')})` : ''}, e.g. ptftp tlv build/add --key <sast.key> --cert <sast.pem>.`,
      certificate: cert,
    },
  ];
  if (kind === 'ITL' && itl) {
    out.push({
      action: 'reset-itl',
      summary: `Erase the ITL on the phone (Settings > Security > Trust List, or a factory reset): a phone without an ITL installs the first one it gets.`,
      certificate: cert,
    });
  }
  return out;
}

function remedies(
  cert: RemedyCertificate,
  itl: TrustList | undefined,
  ctl: TrustList | undefined,
  tvs: readonly TrustRecord[],
): Remedy[] {
  const who = `${cert.subjectName} (serial ${cert.serialHex})`;
  const out: Remedy[] = [];
  if (tvs.length > 0) {
    out.push({
      action: 'import-phone-sast-trust',
      summary: `Import ${who} into the home cluster's Phone-SAST-Trust store so its TVS (${tvs.map((r) => r.dnsName || r.subjectName).join(', ')}) vouches for it.`,
      certificate: cert,
    });
  }
  if (ctl) {
    out.push({
      action: 'add-to-remote-ctl',
      summary: `Mixed mode: add ${who} to the home cluster's CTL as TFTP and re-sign it with a SAST key (ptftp tlv add CTLFile.tlv --record TFTP:<cert> --key <sast.key> --cert <sast.pem>), after a bulk certificate export/import between the clusters.`,
      certificate: cert,
    });
  }
  if (itl) {
    out.push({
      action: 'reset-itl',
      summary: `Reset the phone's ITL (erase it on the phone, or serve an ITL signed by the ITLRecovery certificate it holds) so it installs an ITL that lists ${who}.`,
      certificate: cert,
    });
    out.push({
      action: 'disable-security-by-default',
      summary: `Disable Security By Default for these phones (they then skip the ITL check); the least secure choice.`,
      certificate: cert,
    });
  }
  return out;
}

function kindOf(filename: string): 'ITL' | 'CTL' | undefined {
  const upper = filename.toUpperCase();
  return upper.startsWith('ITL') ? 'ITL' : upper.startsWith('CTL') ? 'CTL' : undefined;
}
