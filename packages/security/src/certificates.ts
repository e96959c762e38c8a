import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';
import { SecurityError } from './errors.js';
import { memoizeString } from './memo.js';
import { ciscoName, commonNameOf, type DistinguishedName, decodeName, rfc4514Name } from './names.js';
import { minimalBytes } from './tlv.js';

/** What this package needs to know about an X.509 certificate, read with node-forge. */
export interface CertificateInfo {
  readonly pem: string;
  readonly der: Buffer;
  /** Subject in Cisco's form (`CN=...;OU=...;...`), as trust lists and headers carry it. */
  readonly subjectName: string;
  readonly issuerName: string;
  /** Subject and issuer as RFC 4514 strings (`CN=a,O=Example\\, Inc.,DC=example,DC=com`), for people. */
  readonly subjectRfc4514: string;
  readonly issuerRfc4514: string;
  /** Subject and issuer attribute by attribute, decoded (UTF8String, BMPString...). */
  readonly subject: DistinguishedName;
  readonly issuer: DistinguishedName;
  /** DER of the issuer `Name`: with {@link serial}, what identifies a certificate. */
  readonly issuerDer: Buffer;
  /** DER `SubjectPublicKeyInfo`. */
  readonly spki: Buffer;
  readonly commonName: string;
  /** Serial number, big-endian, without leading zero bytes (as Cisco headers carry it). */
  readonly serial: Buffer;
  /** Upper-case hex of {@link serial}. */
  readonly serialHex: string;
  /** PKCS#1 DER `RSAPublicKey`: the PUBLIC_KEY value of a trust-list record. */
  readonly publicKey: Buffer;
  /** The certificate's own signature value (trust-list record tag 8). */
  readonly signature: Buffer;
  readonly keyBits: number;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly selfSigned: boolean;
  /** Hex SHA-1 and MD5 of the DER (Cisco shows SHA-1; `<certHash>` in encrypted-config stubs is MD5). */
  readonly sha1: string;
  readonly md5: string;
}

function certificateDer(input: string | Uint8Array): Buffer {
  if (typeof input !== 'string') return Buffer.from(input);
  const block = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(input);
  if (!block) {
    throw new SecurityError('PTFTP_ERR_CERTIFICATE', 'cannot read the certificate: no PEM CERTIFICATE block');
  }
  return Buffer.from(block[1]!.replace(/\s+/g, ''), 'base64');
}

/**
 * Read a PEM or DER X.509 certificate.
 *
 * @example
 * ```ts
 * const info = readCertificate(readFileSync('CallManager.pem', 'utf8'));
 * console.log(info.subjectName, info.serialHex);
 * ```
 */
export function readCertificate(input: string | Uint8Array): CertificateInfo {
  return typeof input === 'string' ? readPem(input) : readDer(Buffer.from(input).toString('base64'));
}

const readPem = memoizeString((pem: string) => parseCertificate(certificateDer(pem)));
// Trust lists carry DER; keyed by base64 so the cache can hold them.
const readDer = memoizeString((b64: string) => parseCertificate(Buffer.from(b64, 'base64')));

function parseCertificate(der: Buffer): CertificateInfo {
  try {
    return parseUnchecked(der);
  } catch (err) {
    if (err instanceof SecurityError) throw err;
    throw new SecurityError(
      'PTFTP_ERR_CERTIFICATE',
      `cannot read the certificate (PEM or DER X.509 with an RSA key expected): ${(err as Error).message}`,
      { cause: err },
    );
  }
}

function parseUnchecked(der: Buffer): CertificateInfo {
  const asn1 = forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary')));
  const cert = forge.pki.certificateFromAsn1(asn1);
  const tbs = ((asn1.value as forge.asn1.Asn1[])[0]!.value as forge.asn1.Asn1[]).slice();
  // TBSCertificate: [0] version (optional), serial, signature, issuer, validity, subject, spki.
  if (tbs[0]!.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC) tbs.shift();
  const toDer = (node: forge.asn1.Asn1) => Buffer.from(forge.asn1.toDer(node).getBytes(), 'binary');
  const issuer = decodeName(tbs[2]!);
  const subject = decodeName(tbs[4]!);
  const key = cert.publicKey as forge.pki.rsa.PublicKey;
  const publicKey = toDer(forge.pki.publicKeyToRSAPublicKey(key));
  const subjectName = ciscoName(subject);
  const serial = minimalBytes(
    Buffer.from(cert.serialNumber.length % 2 ? `0${cert.serialNumber}` : cert.serialNumber, 'hex'),
  );
  const b64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return {
    pem: `-----BEGIN CERTIFICATE-----\n${b64}-----END CERTIFICATE-----\n`,
    der,
    subjectName,
    issuerName: ciscoName(issuer),
    subjectRfc4514: rfc4514Name(subject),
    issuerRfc4514: rfc4514Name(issuer),
    subject,
    issuer,
    issuerDer: toDer(tbs[2]!),
    spki: toDer(tbs[5]!),
    commonName: commonNameOf(subject),
    serial,
    serialHex: serial.toString('hex').toUpperCase(),
    publicKey,
    signature: Buffer.from(cert.signature as string, 'binary'),
    keyBits: key.n.bitLength(),
    notBefore: cert.validity.notBefore,
    notAfter: cert.validity.notAfter,
    selfSigned: cert.isIssuer(cert),
    sha1: createHash('sha1').update(der).digest('hex'),
    md5: createHash('md5').update(der).digest('hex'),
  };
}

/**
 * True when two certificates are the same one: same issuer (DER) and serial number, and the
 * same key. Names are never compared as strings: one certificate renders differently in
 * Cisco's `CN=..;O=..` form, RFC 4514 and certutils' comma-joined DER order.
 */
export function sameCertificate(a: CertificateInfo, b: CertificateInfo): boolean {
  return a.serial.equals(b.serial) && a.issuerDer.equals(b.issuerDer) && a.spki.equals(b.spki);
}

/** Subject of a generated certificate; CN is required, the rest default to blank (omitted). */
export interface CertificateSubject {
  readonly commonName: string;
  readonly organizationalUnit?: string;
  readonly organization?: string;
  readonly locality?: string;
  readonly state?: string;
  readonly country?: string;
}

export interface GenerateCertificateOptions {
  readonly subject: CertificateSubject;
  /** RSA modulus size; 2048 (CUCM's default) unless given. */
  readonly keyBits?: 1024 | 2048 | 3072 | 4096;
  /** Validity in days from now; CUCM uses 5 years. */
  readonly days?: number;
  /** Reuse an existing private key (PEM) instead of generating one. */
  readonly keyPem?: string;
}

export interface GeneratedCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  readonly info: CertificateInfo;
}

/** The characters X.680 allows in a PrintableString; anything else needs a UTF8String. */
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/**
 * One subject attribute, as PrintableString when its characters allow it (what CUCM writes)
 * and UTF8String otherwise: `_`, `&`, `@` or non-ASCII letters in a PrintableString make DER
 * that strict parsers (python-cryptography, hence certutils) refuse.
 */
function attribute(shortName: string, value: string): forge.pki.CertificateField {
  return {
    shortName,
    value,
    valueTagClass: (PRINTABLE.test(value) ? forge.asn1.Type.PRINTABLESTRING : forge.asn1.Type.UTF8) as number,
  } as forge.pki.CertificateField;
}

function subjectAttrs(s: CertificateSubject): forge.pki.CertificateField[] {
  const attrs: forge.pki.CertificateField[] = [];
  if (s.country) {
    // X.520 countryName is a PrintableString of exactly two letters (ISO 3166).
    if (!/^[A-Za-z]{2}$/.test(s.country)) {
      throw new SecurityError(
        'PTFTP_ERR_ARGUMENT',
        `country must be a two-letter ISO 3166 code, not ${JSON.stringify(s.country)}`,
      );
    }
    attrs.push(attribute('C', s.country.toUpperCase()));
  }
  if (s.state) attrs.push(attribute('ST', s.state));
  if (s.locality) attrs.push(attribute('L', s.locality));
  if (s.organization) attrs.push(attribute('O', s.organization));
  if (s.organizationalUnit) attrs.push(attribute('OU', s.organizationalUnit));
  attrs.push(attribute('CN', s.commonName));
  return attrs;
}

function selfSigned(opts: GenerateCertificateOptions, extensions: object[]): GeneratedCertificate {
  if (!opts.subject.commonName)
    throw new SecurityError('PTFTP_ERR_ARGUMENT', 'subject.commonName is required');
  // Key generation in node-forge's pure JavaScript takes seconds for 2048 bits; OpenSSL (via
  // node:crypto) takes milliseconds. node-forge then builds and signs the certificate.
  const keyPem =
    opts.keyPem ??
    (generateKeyPairSync('rsa', { modulusLength: opts.keyBits ?? 2048 }).privateKey.export({
      format: 'pem',
      type: 'pkcs8',
    }) as string);
  let privateKey: forge.pki.rsa.PrivateKey;
  try {
    privateKey = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  } catch (err) {
    throw new SecurityError('PTFTP_ERR_KEY', `cannot load the private key: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(privateKey.n, privateKey.e);
  // 16 random bytes like CUCM's serials; top bit cleared so DER needs no sign byte.
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x10;
  cert.serialNumber = serial.toString('hex');
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 60_000);
  cert.validity.notAfter = new Date(now + (opts.days ?? 1825) * 86_400_000);
  const attrs = subjectAttrs(opts.subject);
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([...extensions, { name: 'subjectKeyIdentifier' }]);
  cert.sign(privateKey, forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(cert).replace(/\r\n/g, '\n');
  return { certPem, keyPem, info: readCertificate(certPem) };
}

/**
 * A self-signed TFTP signing certificate shaped like CUCM's `CallManager.pem`: the
 * certificate that signs `.sgn` files and that phones must find in their CTL/ITL or get
 * vouched for by TVS.
 *
 * @example
 * ```ts
 * const { certPem, keyPem } = generateSigningCertificate({ subject: { commonName: 'proxy-tftp.example.com', organization: 'Example' } });
 * ```
 */
export function generateSigningCertificate(opts: GenerateCertificateOptions): GeneratedCertificate {
  return selfSigned(opts, [
    { name: 'basicConstraints', cA: false },
    {
      name: 'keyUsage',
      digitalSignature: true,
      keyEncipherment: true,
      dataEncipherment: true,
      keyAgreement: true,
    },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true, ipsecIKE: true },
  ]);
}

/**
 * A self-signed ITLRecovery certificate: the SAST that signs ITL files, and the one that can
 * sign a replacement ITL for phones whose ITL no longer matches the cluster.
 *
 * @example
 * ```ts
 * const recovery = generateItlRecoveryCertificate({ subject: { commonName: 'ITLRECOVERY_cucm-pub' } });
 * ```
 */
export function generateItlRecoveryCertificate(opts: GenerateCertificateOptions): GeneratedCertificate {
  const cn = opts.subject.commonName.startsWith('ITLRECOVERY_')
    ? opts.subject.commonName
    : `ITLRECOVERY_${opts.subject.commonName}`;
  return selfSigned({ ...opts, subject: { ...opts.subject, commonName: cn } }, [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
  ]);
}

/** Split PEM text into its certificate blocks. */
export function splitPemCertificates(text: string): string[] {
  return (
    text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)?.map((p) => `${p}\n`) ?? []
  );
}
