import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import forge from 'node-forge';
import { SecurityError } from './errors.js';
import type { HashName } from './hash.js';
import { memoizeString } from './memo.js';

/**
 * Which library does the RSA arithmetic. `node` (OpenSSL through `node:crypto`) is the
 * default: the bench (bench/results/security.md) measures it well over 10x faster than
 * node-forge's pure-JavaScript big-number code for 2048-bit keys. `forge` is kept for
 * comparison and for hosts whose OpenSSL refuses a legacy key.
 */
export type RsaEngine = 'node' | 'forge';

/** A private key as PEM (PKCS#1 or PKCS#8) or an already-loaded `KeyObject`. */
export type PrivateKeyInput = string | KeyObject;
/** A public key: PEM public key, PEM certificate, PKCS#1 DER `RSAPublicKey` bytes, or a `KeyObject`. */
export type PublicKeyInput = string | Uint8Array | KeyObject;

/** Load a private RSA key, with a typed error instead of OpenSSL's message alone. */
export function loadPrivateKey(key: PrivateKeyInput): KeyObject {
  return typeof key === 'string' ? loadPrivatePem(key) : key;
}

const loadPrivatePem = memoizeString((key: string): KeyObject => {
  try {
    const obj = createPrivateKey(key);
    if (obj.asymmetricKeyType !== 'rsa') {
      throw new Error(`a ${obj.asymmetricKeyType} key; Cisco signed files here use RSA`);
    }
    return obj;
  } catch (err) {
    throw new SecurityError('PTFTP_ERR_KEY', `cannot load the private key: ${(err as Error).message}`, {
      cause: err,
    });
  }
});

/** Load a public RSA key from any {@link PublicKeyInput}. */
export function loadPublicKey(key: PublicKeyInput): KeyObject {
  if (typeof key !== 'string' && !(key instanceof Uint8Array)) return key;
  try {
    if (typeof key === 'string') return loadPublicPem(key);
    return loadPublicDer(Buffer.from(key).toString('base64'));
  } catch (err) {
    throw new SecurityError('PTFTP_ERR_KEY', `cannot load the public key: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Size of the RSA modulus in bytes: the signature length. */
export function modulusBytes(key: KeyObject): number {
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (!bits) throw new SecurityError('PTFTP_ERR_KEY', 'the key has no RSA modulus');
  return Math.ceil(bits / 8);
}

/** PKCS#1 DER RSAPublicKey of a key: what trust-list records carry in PUBLIC_KEY. */
export function publicKeyPkcs1(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ format: 'der', type: 'pkcs1' });
}

const loadPublicPem = memoizeString((pem: string) => createPublicKey(pem));
// Trust-list records carry PKCS#1 DER; keyed by base64 so the cache can hold them.
const loadPublicDer = memoizeString((b64: string) =>
  createPublicKey({ key: Buffer.from(b64, 'base64'), format: 'der', type: 'pkcs1' }),
);

function forgeMd(hash: HashName): forge.md.MessageDigest {
  switch (hash) {
    case 'sha1':
      return forge.md.sha1.create();
    case 'sha256':
      return forge.md.sha256.create();
    case 'sha512':
      return forge.md.sha512.create();
  }
}

/**
 * RSA PKCS#1 v1.5 signature of `data` with `hash`.
 *
 * @example
 * ```ts
 * const sig = rsaSign(Buffer.from('hello'), keyPem, 'sha256');
 * rsaVerify(Buffer.from('hello'), sig, certPem, 'sha256'); // true
 * ```
 */
export function rsaSign(
  data: Uint8Array,
  key: PrivateKeyInput,
  hash: HashName,
  engine: RsaEngine = 'node',
): Buffer {
  const keyObject = loadPrivateKey(key);
  if (engine === 'forge') {
    const pem = keyObject.export({ format: 'pem', type: 'pkcs1' }).toString();
    const md = forgeMd(hash);
    md.update(Buffer.from(data).toString('binary'));
    return Buffer.from(forge.pki.privateKeyFromPem(pem).sign(md), 'binary');
  }
  return sign(hash, data, keyObject);
}

/** Check an RSA PKCS#1 v1.5 signature; false (never a throw) when it does not match. */
export function rsaVerify(
  data: Uint8Array,
  signature: Uint8Array,
  key: PublicKeyInput,
  hash: HashName,
  engine: RsaEngine = 'node',
): boolean {
  const keyObject = loadPublicKey(key);
  if (engine === 'forge') {
    const pem = keyObject.export({ format: 'pem', type: 'spki' }).toString();
    const md = forgeMd(hash);
    md.update(Buffer.from(data).toString('binary'));
    try {
      const pub = forge.pki.publicKeyFromPem(pem) as forge.pki.rsa.PublicKey;
      return pub.verify(md.digest().bytes(), Buffer.from(signature).toString('binary'));
    } catch {
      return false;
    }
  }
  try {
    return verify(hash, data, keyObject, signature);
  } catch {
    return false;
  }
}

/** True when the private key and the public key share a modulus. */
export function keyMatches(privateKey: KeyObject, publicKey: KeyObject): boolean {
  return publicKeyPkcs1(privateKey).equals(publicKeyPkcs1(publicKey));
}
