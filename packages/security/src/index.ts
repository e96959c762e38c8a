/**
 * @packageDocumentation
 * Cisco trust lists and signed files, byte-exact: build, parse, sign, verify and explain
 * `ITLFile.tlv` / `CTLFile.tlv` (and per-phone `ITLSEP<MAC>.tlv` / `CTLSEP<MAC>.tlv`), `.sgn`
 * and `.enc.sgn` files, and answer "would this phone accept this file, and if not, what
 * fixes it" (`evaluateTrust`). X.509 work uses node-forge; RSA signing and verifying use
 * `node:crypto` (OpenSSL), which the bench measures an order of magnitude faster.
 *
 * ```ts
 * import { signSgn, verifySgn, evaluateTrust } from '@ptftp/security';
 *
 * const sgn = signSgn(xml, { filename: 'SEP001122334455.cnf.xml', keyPem, certPem, hash: 'sha512' });
 * verifySgn(sgn, { certPem }).valid; // true
 * const decision = evaluateTrust(sgn, { itl: itlBytes });
 * if (!decision.accepted) console.log(decision.reason, decision.remedies);
 * ```
 */

export {
  type BundleEntry,
  exportCertificateBundle,
  type ImportedBundleEntry,
  importCertificateBundle,
} from './bundle.js';
export {
  type CertificateInfo,
  type CertificateSubject,
  type GenerateCertificateOptions,
  type GeneratedCertificate,
  generateItlRecoveryCertificate,
  generateSigningCertificate,
  readCertificate,
  splitPemCertificates,
} from './certificates.js';
export {
  keyMatches,
  loadPrivateKey,
  loadPublicKey,
  type PrivateKeyInput,
  type PublicKeyInput,
  type RsaEngine,
  rsaSign,
  rsaVerify,
} from './crypto-rsa.js';
export { formatHeader, formatSignedFile, formatTrustList } from './dump.js';
export {
  type DecryptedConfig,
  decryptConfig,
  type EncryptConfigOptions,
  type EncryptionInfo,
  encryptConfig,
  encryptedConfigStub,
  encSgnFilename,
  readEncryptionInfo,
  signEncryptedConfigStub,
} from './enc-sgn.js';
export { isSecurityError, SecurityError, type SecurityErrorCode } from './errors.js';
export type { HashName } from './hash.js';
export {
  assembleSignedFile,
  encodeHeader,
  type HeaderFields,
  HeaderTag,
  headerTagName,
  MODULUS_SIZES,
  parseHeader,
  type SignedHeader,
  type SignerId,
  signedBytes,
} from './header.js';
export {
  canSignFiles,
  Role,
  type RoleInput,
  type RoleValue,
  roleDescription,
  roleName,
  toRole,
} from './roles.js';
export {
  isEncrypted,
  type SgnVerification,
  type SignSgnOptions,
  sgnFilename,
  signSgn,
  stripSgn,
  type VerifyOptions,
  verifySgn,
} from './sgn.js';
export type { SigningOptions } from './signer.js';
export {
  container,
  decodeElements,
  encodeElements,
  PADDING_TAG,
  paddingByte,
  type TlvElement,
  tlv,
} from './tlv.js';
export {
  evaluateTrust,
  type PhoneTrust,
  type Remedy,
  type RemedyAction,
  type RemedyCertificate,
  type TrustCheck,
  type TrustDecision,
  type TrustRule,
} from './trust.js';
export {
  type AddToTrustListOptions,
  addToTrustList,
  type BuildTrustListOptions,
  buildRecord,
  buildTrustList,
  embeddedTrustListName,
  encodeTrustList,
  parseTrustList,
  RecordTag,
  recordTagName,
  TRUST_LIST_VERSION,
  type TrustList,
  type TrustListVerification,
  type TrustRecord,
  type TrustRecordInput,
  verifyTrustList,
} from './trust-list.js';
