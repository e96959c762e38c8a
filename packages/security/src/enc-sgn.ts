import {
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  publicEncrypt,
  randomBytes,
} from 'node:crypto';
import forge from 'node-forge';
import { readCertificate } from './certificates.js';
import { loadPrivateKey, loadPublicKey, type PrivateKeyInput, rsaSign } from './crypto-rsa.js';
import { SecurityError } from './errors.js';
import { type HashName, hashCode, hashFromCode } from './hash.js';
import { assembleSignedFile, HeaderTag, parseHeader, type SignerId } from './header.js';
import { type SgnVerification, signSgn, verifySgn } from './sgn.js';
import { resolveSigner, type SigningOptions } from './signer.js';
import { container, expectLength, findElement, tlv, u8, u16 } from './tlv.js';
import { topLevelElements } from './xml-elements.js';

/** Options of {@link encryptConfig}. */
export interface EncryptConfigOptions extends SigningOptions {
  /** The phone's certificate (PEM): its RSA key wraps the AES key. */
  readonly phoneCertPem: string;
  /** Requested configuration name, e.g. `SEP001122334455.cnf.xml`; `.enc.sgn` is appended. */
  readonly filename: string;
  /** Fixed AES key and IV, for reproducible tests only. */
  readonly aesKey?: Uint8Array;
  readonly iv?: Uint8Array;
}

/** `SEP001122334455.cnf.xml` → `SEP001122334455.cnf.xml.enc.sgn`. */
export function encSgnFilename(name: string): string {
  const base = name.replace(/\\/g, '/').replace(/\.enc\.sgn$|\.sgn$/, '');
  return `${base}.enc.sgn`;
}

/**
 * Encrypt a phone configuration into a `.enc.sgn` (header version 2.0): AES-128-CBC under a
 * fresh key, the key wrapped with the phone certificate's RSA key (PKCS#1 v1.5), the whole
 * file signed by the TFTP key.
 *
 * @example
 * ```ts
 * const enc = encryptConfig(readFileSync('SEP001122334455.cnf.xml'), {
 *   filename: 'SEP001122334455.cnf.xml', phoneCertPem, keyPem: tftpKey, certPem: tftpCert,
 * });
 * ```
 */
export function encryptConfig(xml: Uint8Array | string, opts: EncryptConfigOptions): Buffer {
  const signer = resolveSigner(opts);
  const plain = typeof xml === 'string' ? Buffer.from(xml, 'utf8') : Buffer.from(xml);
  const phoneKey = loadPublicKey(opts.phoneCertPem);
  const phoneBits = phoneKey.asymmetricKeyDetails?.modulusLength ?? 0;
  const aesKey = Buffer.from(opts.aesKey ?? randomBytes(16));
  const iv = Buffer.from(opts.iv ?? randomBytes(16));
  if (aesKey.length !== 16 || iv.length !== 16) {
    throw new SecurityError('PTFTP_ERR_ARGUMENT', 'AES-128-CBC needs a 16-byte key and a 16-byte IV');
  }
  // Cisco pads with carriage returns (harmless whitespace in XML) rather than PKCS#7, and
  // always pads: a plaintext that fills whole blocks gets a full block of 16, as certutils
  // writes it (and as its reader needs: it cuts PAD_COUNT bytes, and 0 would cut them all).
  const padCount = 16 - (plain.length % 16);
  const padded = Buffer.concat([plain, Buffer.alloc(padCount, 0x0d)]);
  const cipher = createCipheriv('aes-128-cbc', aesKey, iv).setAutoPadding(false);
  const ciphertext = Buffer.concat([cipher.update(padded), cipher.final()]);
  const wrapped = publicEncrypt({ key: phoneKey, padding: constants.RSA_PKCS1_PADDING }, aesKey);
  const contentHash: HashName = signer.hash;
  const trailer = [
    container(HeaderTag.ENCRYPTION_INFO, [
      container(HeaderTag.IV_INFO, [
        tlv(HeaderTag.IV_ALGORITHM, u8(0)),
        tlv(HeaderTag.IV, iv),
        tlv(HeaderTag.PAD_COUNT, u16(padCount)),
      ]),
      container(HeaderTag.KEY_INFO, [
        tlv(HeaderTag.KEY_ALGORITHM, u8(0)),
        tlv(HeaderTag.ENCRYPTED_KEY_BITS, u16(phoneBits)),
        tlv(HeaderTag.KEY_PADDING, u8(1)),
        tlv(HeaderTag.ENCRYPTED_KEY, wrapped),
      ]),
    ]),
    tlv(HeaderTag.CONTENT_HASH_ALGORITHM, u8(hashCode(contentHash))),
    tlv(HeaderTag.CONTENT_HASH, createHash(contentHash).update(plain).digest()),
  ];
  return assembleSignedFile(
    {
      version: [2, 0],
      signer: { name: signer.cert.subjectName, serial: signer.cert.serial, issuer: signer.cert.issuerName },
      hash: signer.hash,
      modulusBytes: signer.modulusBytes,
      filename: encSgnFilename(opts.filename),
      timestamp: signer.timestamp,
      trailer,
    },
    ciphertext,
    (bytes) => rsaSign(bytes, signer.key, signer.hash),
  );
}

/** The encryption parameters of a `.enc.sgn` header. */
export interface EncryptionInfo {
  readonly iv: Buffer;
  readonly padCount: number;
  readonly encryptedKeyBits: number;
  readonly encryptedKey: Buffer;
  readonly contentHashAlgorithm: HashName;
  readonly contentHash: Buffer;
}

/** Read the encryption elements (tags 16-27) of a parsed `.enc.sgn` header. */
export function readEncryptionInfo(file: Uint8Array): EncryptionInfo {
  const { header } = parseHeader(file);
  const el = (tag: number) => {
    const found = findElement(header.elements, tag);
    if (!found) {
      throw new SecurityError(
        'PTFTP_ERR_TLV_MISSING',
        `header: tag ${tag} of the encryption info is missing: not a .enc.sgn file`,
      );
    }
    return found;
  };
  return {
    iv: expectLength(el(HeaderTag.IV), 16, 'header', 'IV'),
    padCount: expectLength(el(HeaderTag.PAD_COUNT), 2, 'header', 'PAD_COUNT').readUInt16BE(0),
    encryptedKeyBits: expectLength(
      el(HeaderTag.ENCRYPTED_KEY_BITS),
      2,
      'header',
      'ENCRYPTED_KEY_BITS',
    ).readUInt16BE(0),
    encryptedKey: el(HeaderTag.ENCRYPTED_KEY).value,
    contentHashAlgorithm: hashFromCode(
      expectLength(el(HeaderTag.CONTENT_HASH_ALGORITHM), 1, 'header', 'CONTENT_HASH_ALGORITHM')[0]!,
      'header CONTENT_HASH_ALGORITHM (tag 26)',
    ),
    contentHash: el(HeaderTag.CONTENT_HASH).value,
  };
}

/** Result of {@link decryptConfig}. */
export interface DecryptedConfig {
  readonly xml: Buffer;
  readonly filename: string;
  readonly signer: SignerId;
  /**
   * Signature check, when `certPem` was given. `xml` is returned either way: check
   * `verification.valid` before trusting it (`ptftp enc decrypt --cert` writes nothing otherwise).
   */
  readonly verification: SgnVerification | undefined;
}

/**
 * Decrypt a `.enc.sgn` with the phone's private key: unwrap the AES key, decrypt, remove the
 * `\r` padding and check the plaintext hash. Throws `PTFTP_ERR_DECRYPT` for a wrong key and
 * `PTFTP_ERR_PADDING` for padding that does not match tag 20.
 *
 * @example
 * ```ts
 * const { xml } = decryptConfig(readFileSync('SEP001122334455.cnf.xml.enc.sgn'), { phoneKeyPem });
 * ```
 */
export function decryptConfig(
  file: Uint8Array,
  opts: { phoneKeyPem: PrivateKeyInput; certPem?: string },
): DecryptedConfig {
  const { header, body } = parseHeader(file);
  if (header.version.major !== 2) {
    throw new SecurityError(
      'PTFTP_ERR_VERSION',
      `${header.filename} has VERSION ${header.version.major}.${header.version.minor}; encrypted configurations (.enc.sgn) are 2.0`,
      { offset: 3 },
    );
  }
  const info = readEncryptionInfo(file);
  const phoneKey = loadPrivateKey(opts.phoneKeyPem);
  // node:crypto on Node 20 refuses PKCS#1 v1.5 private decryption (Marvin attack mitigation);
  // unwrapping one key per file with node-forge costs a few milliseconds.
  let aesKey: Buffer;
  try {
    const pem = phoneKey.export({ format: 'pem', type: 'pkcs1' }).toString();
    const forgeKey = forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey;
    aesKey = Buffer.from(
      forgeKey.decrypt(info.encryptedKey.toString('binary'), 'RSAES-PKCS1-V1_5'),
      'binary',
    );
  } catch (err) {
    throw new SecurityError(
      'PTFTP_ERR_DECRYPT',
      `cannot unwrap the AES key (tag 25) with this private key: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  if (aesKey.length !== 16) {
    throw new SecurityError(
      'PTFTP_ERR_DECRYPT',
      `the unwrapped key is ${aesKey.length} bytes, AES-128 needs 16`,
    );
  }
  // 1..16 as Cisco and certutils write it; 0 as ptftp before 0.x wrote whole blocks.
  if (body.length % 16 !== 0 || info.padCount > 16 || info.padCount > body.length) {
    throw new SecurityError(
      'PTFTP_ERR_PADDING',
      `ciphertext of ${body.length} bytes with PAD_COUNT ${info.padCount}: AES-CBC needs a multiple of 16 and at most 16 pad bytes`,
    );
  }
  const decipher = createDecipheriv('aes-128-cbc', aesKey, info.iv).setAutoPadding(false);
  const padded = Buffer.concat([decipher.update(body), decipher.final()]);
  const xml = padded.subarray(0, padded.length - info.padCount);
  if (!padded.subarray(xml.length).every((b) => b === 0x0d)) {
    throw new SecurityError(
      'PTFTP_ERR_PADDING',
      `the last ${info.padCount} plaintext bytes (PAD_COUNT, tag 20) are not \\r padding`,
    );
  }
  if (!createHash(info.contentHashAlgorithm).update(xml).digest().equals(info.contentHash)) {
    throw new SecurityError(
      'PTFTP_ERR_DECRYPT',
      'the decrypted configuration does not match its hash (tag 27): wrong key or corrupted file',
    );
  }
  return {
    xml: Buffer.from(xml),
    filename: header.filename,
    signer: header.signer,
    verification: opts.certPem === undefined ? undefined : verifySgn(file, { certPem: opts.certPem }),
  };
}

/**
 * Elements of the full configuration a phone still needs when it cannot decrypt it: how to
 * reach the network (`ipAddressMode`), which firmware to load (`loadInformation`), and how to
 * get a certificate from CAPF (`capfAuthMode`, `capfList`) so it can decrypt next time.
 * certutils copies the same four into its stub.
 */
const STUB_ELEMENTS = ['ipAddressMode', 'loadInformation', 'capfAuthMode', 'capfList'] as const;

/**
 * The stub that replaces `SEP<MAC>.cnf.xml.sgn` once a phone's configuration is encrypted:
 * it tells the phone to fetch the `.enc.sgn` and which certificate (MD5) it must hold. Given
 * the full configuration, it also carries the elements a phone without the right key still
 * needs ({@link STUB_ELEMENTS}), copied byte for byte, in certutils' order.
 *
 * @example
 * ```ts
 * encryptedConfigStub(phoneCertPem, fullXml); // '<device>...<loadInformation>...<certHash>...'
 * ```
 */
export function encryptedConfigStub(phoneCertPem: string, config?: Uint8Array | string): string {
  const md5 = readCertificate(phoneCertPem).md5;
  const copied =
    config === undefined
      ? []
      : topLevelElements(typeof config === 'string' ? config : Buffer.from(config).toString('utf8')).filter(
          (e) => (STUB_ELEMENTS as readonly string[]).includes(e.name),
        );
  return [
    '<device>',
    '<fullConfig>false</fullConfig>',
    ...copied.map((e) => e.text),
    `<certHash>${md5}</certHash>`,
    '<encrConfig>true</encrConfig>',
    '</device>',
    '',
  ].join('\r\n');
}

/**
 * The signed stub `SEP<MAC>.cnf.xml.sgn` for an encrypted configuration. Pass `config` (the
 * plaintext configuration) so the stub carries what a phone that cannot decrypt needs.
 *
 * @example
 * ```ts
 * const stub = signEncryptedConfigStub({ phoneCertPem, config: xml, filename: 'SEP001122334455.cnf.xml', keyPem, certPem });
 * ```
 */
export function signEncryptedConfigStub(
  opts: SigningOptions & { phoneCertPem: string; filename: string; config?: Uint8Array | string },
): Buffer {
  return signSgn(Buffer.from(encryptedConfigStub(opts.phoneCertPem, opts.config)), {
    filename: opts.filename.replace(/\.enc\.sgn$/, '').replace(/\.sgn$/, ''),
    keyPem: opts.keyPem,
    certPem: opts.certPem,
    hash: opts.hash,
    timestamp: opts.timestamp,
  });
}
