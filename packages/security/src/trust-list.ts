import { createHash } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { readCertificate } from './certificates.js';
import { rsaSign, rsaVerify } from './crypto-rsa.js';
import { SecurityError, type SecurityErrorCode } from './errors.js';
import { type HashName, hashCode, hashFromCode } from './hash.js';
import { assembleSignedFile, parseHeader, type SignedHeader, signedBytes } from './header.js';
import { recordCertificate, recordHolds } from './record-key.js';
import { Role, type RoleInput, roleName, toRole } from './roles.js';
import { resolveSigner, type SigningOptions } from './signer.js';
import {
  cString,
  decodeElements,
  encodeElements,
  expectLength,
  minimalBytes,
  readCString,
  type TlvElement,
  tlv,
  u8,
  u16,
} from './tlv.js';

/** Trust-list record tags. */
export const RecordTag = {
  RECORD_LENGTH: 1,
  DNS_NAME: 2,
  SUBJECT_NAME: 3,
  ROLE: 4,
  ISSUER_NAME: 5,
  SERIAL_NUMBER: 6,
  PUBLIC_KEY: 7,
  SIGNATURE: 8,
  CERTIFICATE: 9,
  IP_ADDRESS: 10,
  CERTIFICATE_HASH: 11,
  HASH_ALGORITHM: 12,
} as const;

const RECORD_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(RecordTag).map(([name, tag]) => [tag, name]),
);

/** `DNS_NAME` for tag 2, `TAG_99` for tags nobody has named. */
export function recordTagName(tag: number): string {
  return RECORD_NAMES[tag] ?? `TAG_${tag}`;
}

/** Version 1.2, as every `.tlv` trust list carries. */
export const TRUST_LIST_VERSION = [1, 2] as const;

/** One certificate entry of a trust list. `elements` is the source of truth for re-encoding. */
export interface TrustRecord {
  readonly role: number;
  readonly roleName: string;
  readonly dnsName: string;
  readonly subjectName: string;
  readonly issuerName: string;
  readonly serial: Buffer;
  readonly serialHex: string;
  /** PKCS#1 DER `RSAPublicKey` (or an EC point). */
  readonly publicKey: Buffer;
  readonly signature: Buffer | undefined;
  /** DER X.509 certificate (empty when the record has none). */
  readonly certificate: Buffer;
  readonly ipAddress: string | undefined;
  readonly certificateHash: Buffer | undefined;
  readonly hashAlgorithm: HashName | undefined;
  /** Byte offset of the record in the file it was parsed from. */
  readonly offset: number;
  readonly elements: readonly TlvElement[];
}

/** A parsed `ITLFile.tlv` / `CTLFile.tlv` (or per-phone `ITLSEP<MAC>.tlv` / `CTLSEP<MAC>.tlv`). */
export interface TrustList {
  /** From the embedded FILENAME. */
  readonly kind: 'ITL' | 'CTL' | 'unknown';
  readonly header: SignedHeader;
  readonly records: readonly TrustRecord[];
  /**
   * The first SAST record with the header signer's serial, if any. Only a guess until
   * {@link verifyTrustList} has checked the signature with that record's certificate.
   */
  readonly signer: TrustRecord | undefined;
  readonly bytes: Buffer;
}

function recordFromElements(elements: readonly TlvElement[], offset: number, where: string): TrustRecord {
  const get = (tag: number) => elements.find((e) => e.tag === tag);
  const roleEl = get(RecordTag.ROLE);
  if (!roleEl)
    throw new SecurityError('PTFTP_ERR_TLV_MISSING', `${where}: ROLE (tag 4) is missing`, { offset });
  const role = expectLength(roleEl, 2, where, 'ROLE').readUInt16BE(0);
  const ip = get(RecordTag.IP_ADDRESS);
  const hashEl = get(RecordTag.HASH_ALGORITHM);
  const serial = minimalBytes(get(RecordTag.SERIAL_NUMBER)?.value ?? Buffer.alloc(0));
  return {
    role,
    roleName: roleName(role),
    dnsName: readCString(get(RecordTag.DNS_NAME)?.value ?? Buffer.alloc(0)),
    subjectName: readCString(get(RecordTag.SUBJECT_NAME)?.value ?? Buffer.alloc(0)),
    issuerName: readCString(get(RecordTag.ISSUER_NAME)?.value ?? Buffer.alloc(0)),
    serial,
    serialHex: serial.toString('hex').toUpperCase(),
    publicKey: get(RecordTag.PUBLIC_KEY)?.value ?? Buffer.alloc(0),
    signature: get(RecordTag.SIGNATURE)?.value,
    certificate: get(RecordTag.CERTIFICATE)?.value ?? Buffer.alloc(0),
    ipAddress: ip ? [...expectLength(ip, 4, where, 'IP_ADDRESS')].join('.') : undefined,
    certificateHash: get(RecordTag.CERTIFICATE_HASH)?.value,
    hashAlgorithm: hashEl
      ? hashFromCode(expectLength(hashEl, 1, where, 'HASH_ALGORITHM')[0]!, `${where} HASH_ALGORITHM (tag 12)`)
      : undefined,
    offset,
    elements,
  };
}

/** Decode the records that follow a trust-list header. */
export function parseRecords(bytes: Buffer, start: number): TrustRecord[] {
  const records: TrustRecord[] = [];
  let off = start;
  while (off < bytes.length) {
    const where = `record #${records.length + 1} at offset ${off}`;
    if (off + 5 > bytes.length) {
      throw new SecurityError(
        'PTFTP_ERR_TLV_TRUNCATED',
        `${where}: ${bytes.length - off} bytes left, too few for RECORD_LENGTH`,
        {
          offset: off,
        },
      );
    }
    if (bytes[off] !== RecordTag.RECORD_LENGTH || bytes.readUInt16BE(off + 1) !== 2) {
      throw new SecurityError(
        'PTFTP_ERR_TLV_LENGTH',
        `${where}: does not start with RECORD_LENGTH (tag 1, length 2)`,
        {
          offset: off,
        },
      );
    }
    const length = bytes.readUInt16BE(off + 3);
    if (length < 5) {
      throw new SecurityError(
        'PTFTP_ERR_TLV_LENGTH',
        `${where}: RECORD_LENGTH ${length} is shorter than its own element`,
        {
          offset: off,
        },
      );
    }
    if (off + length > bytes.length) {
      throw new SecurityError(
        'PTFTP_ERR_TLV_TRUNCATED',
        `${where}: RECORD_LENGTH ${length} runs past the end of the file (${bytes.length} bytes)`,
        { offset: off },
      );
    }
    const elements = decodeElements(bytes, off, off + length, {
      where,
      overrunCode: 'PTFTP_ERR_TLV_LENGTH',
      tagName: (t) => `${recordTagName(t)} (tag ${t})`,
    });
    records.push(recordFromElements(elements, off, where));
    off += length;
  }
  return records;
}

function kindOf(filename: string): TrustList['kind'] {
  const upper = filename.toUpperCase();
  if (upper.startsWith('ITL')) return 'ITL';
  if (upper.startsWith('CTL')) return 'CTL';
  return 'unknown';
}

/** SAST records with the header signer's serial: the header names its signer by serial only. */
function signerCandidates(header: SignedHeader, records: readonly TrustRecord[]): TrustRecord[] {
  return records.filter((r) => r.role === Role.SAST && r.serial.equals(header.signer.serial));
}

/**
 * Parse a trust list. Structure errors throw a {@link SecurityError}; the signature and the
 * SAST rules are checked by {@link verifyTrustList}.
 *
 * @example
 * ```ts
 * const itl = parseTrustList(readFileSync('ITLFile.tlv'));
 * for (const r of itl.records) console.log(r.roleName, r.subjectName);
 * ```
 */
export function parseTrustList(bytes: Uint8Array): TrustList {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { header } = parseHeader(buf);
  if (header.version.major !== TRUST_LIST_VERSION[0]) {
    throw new SecurityError(
      'PTFTP_ERR_VERSION',
      `VERSION ${header.version.major}.${header.version.minor} (${header.filename}) is not a trust list (1.2): an encrypted .enc.sgn file?`,
      { offset: 3 },
    );
  }
  if (header.filename.toLowerCase().endsWith('.sgn')) {
    throw new SecurityError(
      'PTFTP_ERR_VERSION',
      `${header.filename} (VERSION ${header.version.major}.${header.version.minor}) is a signed file, not a trust list: use verifySgn / ptftp sgn`,
      { offset: 3 },
    );
  }
  const records = parseRecords(buf, header.headerLength);
  return {
    kind: kindOf(header.filename),
    header,
    records,
    signer: signerCandidates(header, records)[0],
    bytes: Buffer.from(buf),
  };
}

/** Re-encode a parsed trust list from its elements (byte-identical to what was parsed). */
export function encodeTrustList(list: TrustList): Buffer {
  return Buffer.concat([
    encodeElements(list.header.elements),
    ...list.records.map((r) => encodeElements(r.elements)),
  ]);
}

/** A certificate to put into a trust list. */
export interface TrustRecordInput {
  readonly role: RoleInput;
  /** PEM or DER certificate. */
  readonly certificate: string | Uint8Array;
  /** Host name; the certificate's CN unless given (Cisco writes an empty name for tokens). */
  readonly dnsName?: string;
  /** IPv4 address for the optional IP_ADDRESS element. */
  readonly ipAddress?: string;
  /** Add CERTIFICATE_HASH and HASH_ALGORITHM (as ITL files do) with this hash. */
  readonly certificateHash?: HashName;
  /** Leave out the certificate's signature (tag 8). Cisco includes it. */
  readonly omitSignature?: boolean;
}

function isParsedRecord(r: TrustRecordInput | TrustRecord): r is TrustRecord {
  return 'elements' in r;
}

/** Build a record in Cisco's element order 1..12. */
export function buildRecord(input: TrustRecordInput): TrustRecord {
  const cert = readCertificate(input.certificate);
  const role = toRole(input.role);
  if (input.ipAddress !== undefined && !isIPv4(input.ipAddress)) {
    throw new SecurityError('PTFTP_ERR_ARGUMENT', `IP_ADDRESS ${input.ipAddress} is not an IPv4 address`);
  }
  const body: TlvElement[] = [
    tlv(RecordTag.DNS_NAME, cString(input.dnsName ?? (role === Role.SAST ? '' : cert.commonName))),
    tlv(RecordTag.SUBJECT_NAME, cString(cert.subjectName)),
    tlv(RecordTag.ROLE, u16(role)),
    tlv(RecordTag.ISSUER_NAME, cString(cert.issuerName)),
    tlv(RecordTag.SERIAL_NUMBER, cert.serial),
    tlv(RecordTag.PUBLIC_KEY, cert.publicKey),
    ...(input.omitSignature ? [] : [tlv(RecordTag.SIGNATURE, cert.signature)]),
    tlv(RecordTag.CERTIFICATE, cert.der),
    ...(input.ipAddress ? [tlv(RecordTag.IP_ADDRESS, input.ipAddress.split('.').map(Number))] : []),
    ...(input.certificateHash
      ? [
          tlv(RecordTag.CERTIFICATE_HASH, createHash(input.certificateHash).update(cert.der).digest()),
          tlv(RecordTag.HASH_ALGORITHM, u8(hashCode(input.certificateHash))),
        ]
      : []),
  ];
  const length = 5 + encodeElements(body).length;
  if (length > 0xffff)
    throw new SecurityError(
      'PTFTP_ERR_TLV_LENGTH',
      `record for ${cert.subjectName} is ${length} bytes, past RECORD_LENGTH's 16 bits`,
    );
  const elements = [tlv(RecordTag.RECORD_LENGTH, u16(length)), ...body];
  return recordFromElements(elements, 0, `record ${cert.subjectName}`);
}

/** Options of {@link buildTrustList}. */
export interface BuildTrustListOptions extends SigningOptions {
  /** Records in the order to write them; parsed records are copied byte for byte. */
  readonly records: readonly (TrustRecordInput | TrustRecord)[];
  /**
   * Embedded FILENAME, `ITLFile.tlv` unless given. Per-phone names (`ITLSEP<MAC>.tlv`) become
   * the generic name, as CUCM writes them.
   */
  readonly filename?: string;
  /** SIGNER_VERSION (tag 28); 1.0 unless given; `null` leaves the element out (older CTLs). */
  readonly signerVersion?: readonly [number, number] | null;
  /** Add the signing certificate as a SAST record when no SAST record has its serial (default true). */
  readonly addSignerRecord?: boolean;
}

/** `ITLSEP001122334455.tlv` → `ITLFile.tlv`: what per-phone files embed. */
export function embeddedTrustListName(name: string): string {
  const base = name.replace(/\\/g, '/').split('/').pop() ?? name;
  const m = /^(ITL|CTL)SEP[0-9A-F]{12}\.tlv$/i.exec(base);
  return m ? `${m[1]!.toUpperCase()}File.tlv` : base;
}

/**
 * Build and sign a trust list. Enforces Cisco's rules: at most two SAST records, and the
 * signer is a SAST record with the signing certificate's serial (added first when missing).
 *
 * @example
 * ```ts
 * const itl = buildTrustList({
 *   keyPem: recoveryKey, certPem: recoveryCert, hash: 'sha512', filename: 'ITLFile.tlv',
 *   records: [{ role: 'CCM+TFTP', certificate: callManagerPem }, { role: 'TVS', certificate: tvsPem }],
 * });
 * ```
 */
export function buildTrustList(opts: BuildTrustListOptions): Buffer {
  const signer = resolveSigner(opts);
  const records = opts.records.map((r) => (isParsedRecord(r) ? r : buildRecord(r)));
  const isSignerSast = (r: TrustRecord) => r.role === Role.SAST && recordHolds(r, signer.cert);
  if (!records.some(isSignerSast)) {
    if (opts.addSignerRecord === false) {
      throw new SecurityError(
        'PTFTP_ERR_TRUST_RULE',
        `the signer ${signer.cert.subjectName} (serial ${signer.cert.serialHex}) is not a SAST record of the list`,
      );
    }
    records.unshift(buildRecord({ role: Role.SAST, certificate: signer.cert.pem, dnsName: '' }));
  }
  checkSastCount(records);
  const body = Buffer.concat(records.map((r) => encodeElements(r.elements)));
  return assembleSignedFile(
    {
      version: TRUST_LIST_VERSION,
      signerVersion: opts.signerVersion === null ? undefined : (opts.signerVersion ?? [1, 0]),
      signer: { name: signer.cert.subjectName, serial: signer.cert.serial, issuer: signer.cert.issuerName },
      hash: signer.hash,
      modulusBytes: signer.modulusBytes,
      filename: embeddedTrustListName(opts.filename ?? 'ITLFile.tlv'),
      timestamp: signer.timestamp,
    },
    body,
    (bytes) => rsaSign(bytes, signer.key, signer.hash),
  );
}

function checkSastCount(records: readonly TrustRecord[]): void {
  const sast = records.filter((r) => r.role === Role.SAST);
  if (sast.length > 2) {
    throw new SecurityError(
      'PTFTP_ERR_TRUST_RULE',
      `a trust list holds at most 2 SAST records, this one has ${sast.length}: ${sast.map((r) => r.subjectName).join(', ')}`,
    );
  }
}

/** Result of {@link verifyTrustList}. */
export interface TrustListVerification {
  readonly valid: boolean;
  readonly reason?: string;
  readonly code?: SecurityErrorCode;
  readonly list: TrustList;
  readonly signer: TrustRecord | undefined;
}

/**
 * Check a trust list's own rules and signature: at most two SAST records, a SAST record
 * matching the header's signer, and the signature made by that record's key.
 *
 * @example
 * ```ts
 * const v = verifyTrustList(readFileSync('CTLFile.tlv'));
 * console.log(v.valid ? `signed by ${v.signer?.subjectName}` : v.reason);
 * ```
 */
export function verifyTrustList(input: Uint8Array | TrustList): TrustListVerification {
  const list = input instanceof Uint8Array ? parseTrustList(input) : input;
  const fail = (code: SecurityErrorCode, reason: string): TrustListVerification => ({
    valid: false,
    code,
    reason,
    list,
    signer: list.signer,
  });
  try {
    checkSastCount(list.records);
  } catch (err) {
    return fail('PTFTP_ERR_TRUST_RULE', (err as Error).message);
  }
  const candidates = signerCandidates(list.header, list.records);
  if (candidates.length === 0) {
    return fail(
      'PTFTP_ERR_TRUST_RULE',
      `no SAST record has the header's signer serial ${list.header.signer.serialHex} (${list.header.signer.name})`,
    );
  }
  const data = signedBytes(list.bytes, list.header);
  const refused: string[] = [];
  for (const record of candidates) {
    // The key is the certificate's (tag 9); a PUBLIC_KEY (tag 7) that disagrees refuses the record.
    const own = recordCertificate(record);
    if (!own.ok) {
      refused.push(own.reason);
      continue;
    }
    if (rsaVerify(data, list.header.signature, own.cert.pem, list.header.hash)) {
      return { valid: true, list, signer: record };
    }
  }
  if (refused.length === candidates.length) {
    return fail('PTFTP_ERR_KEY', `the signer's SAST record cannot be used: ${refused.join('; ')}`);
  }
  return fail(
    'PTFTP_ERR_SIGNATURE_INVALID',
    `signature does not match the content (${list.header.hash.toUpperCase()}, SAST ${candidates[0]!.subjectName}): the file was modified or signed with another key`,
  );
}

/** Options of {@link addToTrustList}. */
export interface AddToTrustListOptions extends SigningOptions {
  readonly records: readonly TrustRecordInput[];
}

/**
 * Add certificates (e.g. a proxy's CallManager certificate as TFTP) to an existing CTL or ITL
 * and re-sign it. The signing certificate must already be a SAST record of the list: phones
 * that installed the list accept a new version only from a SAST they know.
 *
 * @example
 * ```ts
 * const ctl = addToTrustList(readFileSync('CTLFile.tlv'), {
 *   keyPem: sastKey, certPem: sastCert, records: [{ role: 'TFTP', certificate: proxyCallManagerPem }],
 * });
 * ```
 */
export function addToTrustList(existing: Uint8Array, opts: AddToTrustListOptions): Buffer {
  const list = parseTrustList(existing);
  const cert = readCertificate(opts.certPem);
  const known = list.records.some((r) => r.role === Role.SAST && recordHolds(r, cert));
  if (!known) {
    throw new SecurityError(
      'PTFTP_ERR_TRUST_RULE',
      `${cert.subjectName} (serial ${cert.serialHex}) is not a SAST record of ${list.header.filename}: ` +
        'phones accept a new version only when a SAST they already trust signs it',
    );
  }
  return buildTrustList({
    ...opts,
    filename: list.header.filename,
    signerVersion: list.header.signerVersion
      ? [list.header.signerVersion.major, list.header.signerVersion.minor]
      : null,
    // Adding a certificate that is already listed in the same role is a no-op, so scripts
    // can run the same `tlv add` twice.
    records: [...list.records, ...opts.records.filter((r) => !alreadyListed(list.records, r))],
    addSignerRecord: false,
  });
}

function alreadyListed(records: readonly TrustRecord[], input: TrustRecordInput): boolean {
  const cert = readCertificate(input.certificate);
  const role = toRole(input.role);
  return records.some((r) => r.role === role && recordHolds(r, cert));
}
