import { SecurityError } from './errors.js';
import { type HashName, hashCode, hashFromCode } from './hash.js';
import {
  container,
  cString,
  decodeElements,
  encodedSize,
  encodeElements,
  expectLength,
  findElement,
  minimalBytes,
  paddingByte,
  readCString,
  type TlvElement,
  tlv,
  u8,
  u16,
  u32,
} from './tlv.js';

/** Header tags of `.tlv`, `.sgn` and `.enc.sgn` files. */
export const HeaderTag = {
  VERSION: 1,
  HEADER_LENGTH: 2,
  SIGNER_INFO: 3,
  SIGNER_NAME: 4,
  SERIAL_NUMBER: 5,
  ISSUER_NAME: 6,
  SIGNATURE_INFO: 7,
  HASH_ALGORITHM: 8,
  SIGNATURE_ALGORITHM_INFO: 9,
  SIGNATURE_ALGORITHM: 10,
  SIGNATURE_MODULUS: 11,
  SIGNATURE: 12,
  PADDING: 13,
  FILENAME: 14,
  TIMESTAMP: 15,
  ENCRYPTION_INFO: 16,
  IV_INFO: 17,
  IV_ALGORITHM: 18,
  IV: 19,
  PAD_COUNT: 20,
  KEY_INFO: 21,
  KEY_ALGORITHM: 22,
  ENCRYPTED_KEY_BITS: 23,
  KEY_PADDING: 24,
  ENCRYPTED_KEY: 25,
  CONTENT_HASH_ALGORITHM: 26,
  CONTENT_HASH: 27,
  SIGNER_VERSION: 28,
} as const;

const HEADER_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(HeaderTag).map(([name, tag]) => [tag, name]),
);

/** `SIGNER_NAME` for tag 4, `TAG_99` for tags nobody has named. */
export function headerTagName(tag: number): string {
  return HEADER_NAMES[tag] ?? `TAG_${tag}`;
}

const CONTAINERS: ReadonlySet<number> = new Set([
  HeaderTag.SIGNER_INFO,
  HeaderTag.SIGNATURE_INFO,
  HeaderTag.SIGNATURE_ALGORITHM_INFO,
  HeaderTag.ENCRYPTION_INFO,
  HeaderTag.IV_INFO,
  HeaderTag.KEY_INFO,
]);

/** Signature lengths that tag 11 indexes (512- to 4096-bit RSA). */
export const MODULUS_SIZES = [64, 128, 256, 512] as const;

/** Who signed a file, as its header names them. */
export interface SignerId {
  /** Subject in Cisco's form, e.g. `CN=cucm-pub;OU=TAC;O=Cisco;L=Krakow;ST=Malopolska;C=PL`. */
  readonly name: string;
  /** Serial number bytes (minimal big-endian). */
  readonly serial: Buffer;
  readonly serialHex: string;
  readonly issuer: string;
}

/** A parsed header. `elements` is the source of truth for re-encoding; the rest is derived. */
export interface SignedHeader {
  readonly version: { readonly major: number; readonly minor: number };
  readonly headerLength: number;
  readonly signerVersion: { readonly major: number; readonly minor: number } | undefined;
  readonly signer: SignerId;
  readonly hash: HashName;
  /** 0 = RSA. */
  readonly signatureAlgorithm: number;
  /** Signature length in bytes, from tag 11. */
  readonly modulusBytes: number;
  readonly signature: Buffer;
  /** Byte offset of the SIGNATURE element (its tag byte). */
  readonly signatureOffset: number;
  readonly filename: string;
  readonly timestamp: number;
  /** Number of bare padding bytes. */
  readonly padding: number;
  readonly elements: readonly TlvElement[];
}

function required(elements: readonly TlvElement[], tag: number): TlvElement {
  const el = findElement(elements, tag);
  if (!el) {
    const code = tag === HeaderTag.SIGNATURE ? 'PTFTP_ERR_SIGNATURE_MISSING' : 'PTFTP_ERR_TLV_MISSING';
    throw new SecurityError(code, `header: ${headerTagName(tag)} (tag ${tag}) is missing`);
  }
  return el;
}

/**
 * Parse the header of a signed file. Structural problems throw a {@link SecurityError}; a
 * signature is not checked here.
 */
export function parseHeader(input: Uint8Array): { header: SignedHeader; body: Buffer } {
  const bytes = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (bytes.length < 10) {
    throw new SecurityError(
      'PTFTP_ERR_TLV_TRUNCATED',
      `header: ${bytes.length} bytes is too short for VERSION and HEADER_LENGTH`,
      {
        offset: 0,
      },
    );
  }
  if (bytes[0] !== HeaderTag.VERSION || bytes.readUInt16BE(1) !== 2) {
    throw new SecurityError(
      'PTFTP_ERR_TLV_LENGTH',
      'header: the file does not start with VERSION (tag 1, length 2): not a Cisco signed file',
      {
        offset: 0,
      },
    );
  }
  if (bytes[5] !== HeaderTag.HEADER_LENGTH || bytes.readUInt16BE(6) !== 2) {
    throw new SecurityError(
      'PTFTP_ERR_TLV_LENGTH',
      'header: HEADER_LENGTH (tag 2, length 2) must follow VERSION at offset 5',
      {
        offset: 5,
      },
    );
  }
  const headerLength = bytes.readUInt16BE(8);
  if (headerLength > bytes.length) {
    throw new SecurityError(
      'PTFTP_ERR_TLV_TRUNCATED',
      `header: HEADER_LENGTH is ${headerLength} but the file has only ${bytes.length} bytes`,
      { offset: 8 },
    );
  }
  if (headerLength < 10) {
    throw new SecurityError(
      'PTFTP_ERR_TLV_HEADER_LENGTH',
      `header: HEADER_LENGTH ${headerLength} is shorter than its own first two elements`,
      {
        offset: 8,
      },
    );
  }
  let elements: TlvElement[];
  try {
    elements = decodeElements(bytes, 0, headerLength, {
      containers: CONTAINERS,
      barePadding: true,
      where: 'header',
      overrunCode: 'PTFTP_ERR_TLV_HEADER_LENGTH',
      tagName: (t) => `${headerTagName(t)} (tag ${t})`,
    });
  } catch (err) {
    // The elements are read up to HEADER_LENGTH: when they do not end exactly there, the
    // first thing to suspect (and name) is HEADER_LENGTH itself, not the tag it ran into.
    if (!(err instanceof SecurityError) || err.code === 'PTFTP_ERR_TLV_LENGTH') throw err;
    throw new SecurityError(
      'PTFTP_ERR_TLV_HEADER_LENGTH',
      `header: HEADER_LENGTH ${headerLength} (offset 8) does not end where the header's elements end: it is wrong, or the header is damaged (${err.message})`,
      { offset: 8, cause: err },
    );
  }

  const where = 'header';
  const version = expectLength(required(elements, HeaderTag.VERSION), 2, where, 'VERSION');
  const sv = findElement(elements, HeaderTag.SIGNER_VERSION);
  const signerVersion = sv ? expectLength(sv, 2, where, 'SIGNER_VERSION') : undefined;
  required(elements, HeaderTag.SIGNER_INFO);
  const serial = required(elements, HeaderTag.SERIAL_NUMBER).value;
  const hashByte = expectLength(required(elements, HeaderTag.HASH_ALGORITHM), 1, where, 'HASH_ALGORITHM')[0]!;
  const algorithm = expectLength(
    required(elements, HeaderTag.SIGNATURE_ALGORITHM),
    1,
    where,
    'SIGNATURE_ALGORITHM',
  )[0]!;
  const modulusIndex = expectLength(
    required(elements, HeaderTag.SIGNATURE_MODULUS),
    1,
    where,
    'SIGNATURE_MODULUS',
  )[0]!;
  const modulusBytes = MODULUS_SIZES[modulusIndex];
  if (modulusBytes === undefined) {
    throw new SecurityError(
      'PTFTP_ERR_TLV_LENGTH',
      `header: SIGNATURE_MODULUS (tag 11) index ${modulusIndex} is not 0..3`,
    );
  }
  const timestamp = expectLength(required(elements, HeaderTag.TIMESTAMP), 4, where, 'TIMESTAMP').readUInt32BE(
    0,
  );
  const filename = readCString(required(elements, HeaderTag.FILENAME).value);

  // Locate the signature's top-level position; Cisco never nests it.
  let offset = 0;
  let signatureOffset = -1;
  let padding = 0;
  for (const el of elements) {
    if (el.tag === HeaderTag.SIGNATURE && !el.bare && signatureOffset < 0) signatureOffset = offset;
    if (el.bare) padding++;
    offset += encodedSize(el);
  }
  if (signatureOffset < 0) {
    throw new SecurityError(
      'PTFTP_ERR_SIGNATURE_MISSING',
      'header: SIGNATURE (tag 12) is missing: the file is not signed',
    );
  }
  const signature = bytes.subarray(
    signatureOffset + 3,
    signatureOffset + 3 + bytes.readUInt16BE(signatureOffset + 1),
  );
  if (signature.length !== modulusBytes) {
    throw new SecurityError(
      'PTFTP_ERR_TLV_LENGTH',
      `header: SIGNATURE (tag 12) at offset ${signatureOffset} has length ${signature.length}, but SIGNATURE_MODULUS says ${modulusBytes}`,
      { offset: signatureOffset },
    );
  }
  if (headerLength % 4 !== 0) {
    throw new SecurityError(
      'PTFTP_ERR_PADDING',
      `header: HEADER_LENGTH ${headerLength} is not a multiple of 4 (the header has ${padding} PADDING bytes)`,
      { offset: 8 },
    );
  }
  const header: SignedHeader = {
    version: { major: version[0]!, minor: version[1]! },
    headerLength,
    signerVersion: signerVersion ? { major: signerVersion[0]!, minor: signerVersion[1]! } : undefined,
    signer: {
      name: readCString(required(elements, HeaderTag.SIGNER_NAME).value),
      serial: minimalBytes(serial),
      serialHex: minimalBytes(serial).toString('hex').toUpperCase(),
      issuer: readCString(required(elements, HeaderTag.ISSUER_NAME).value),
    },
    hash: hashFromCode(hashByte, 'header HASH_ALGORITHM (tag 8)'),
    signatureAlgorithm: algorithm,
    modulusBytes,
    signature: Buffer.from(signature),
    signatureOffset,
    filename,
    timestamp,
    padding,
    elements,
  };
  return { header, body: Buffer.from(bytes.subarray(headerLength)) };
}

/** The bytes a signature covers: the whole file minus the SIGNATURE element. */
export function signedBytes(file: Uint8Array, header: SignedHeader): Buffer {
  const bytes = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  const start = header.signatureOffset;
  return Buffer.concat([bytes.subarray(0, start), bytes.subarray(start + 3 + header.signature.length)]);
}

/** The fields a signed header is built from. */
export interface HeaderFields {
  readonly version: readonly [number, number];
  readonly signerVersion?: readonly [number, number] | undefined;
  readonly signer: { readonly name: string; readonly serial: Uint8Array; readonly issuer: string };
  readonly hash: HashName;
  readonly modulusBytes: number;
  readonly filename: string;
  readonly timestamp: number;
  /** Elements after TIMESTAMP and before the padding (the `.enc.sgn` encryption info). */
  readonly trailer?: readonly TlvElement[];
}

/**
 * Build a signed file: header in Cisco's element order, padding so that the header length
 * (which already counts the SIGNATURE element) is a multiple of 4, then `sign` over the
 * header-without-signature plus body, and the signature spliced in before FILENAME.
 */
export function assembleSignedFile(
  fields: HeaderFields,
  body: Uint8Array,
  sign: (data: Buffer) => Buffer,
): Buffer {
  const modulusIndex = MODULUS_SIZES.indexOf(fields.modulusBytes as (typeof MODULUS_SIZES)[number]);
  if (modulusIndex < 0) {
    throw new SecurityError(
      'PTFTP_ERR_KEY',
      `a ${fields.modulusBytes * 8}-bit RSA key cannot be described in SIGNATURE_MODULUS (512, 1024, 2048 or 4096 bits)`,
    );
  }
  const lead = (headerLength: number): TlvElement[] => [
    tlv(HeaderTag.VERSION, [fields.version[0], fields.version[1]]),
    tlv(HeaderTag.HEADER_LENGTH, u16(headerLength)),
    ...(fields.signerVersion
      ? [tlv(HeaderTag.SIGNER_VERSION, [fields.signerVersion[0], fields.signerVersion[1]])]
      : []),
    container(HeaderTag.SIGNER_INFO, [
      tlv(HeaderTag.SIGNER_NAME, cString(fields.signer.name)),
      tlv(HeaderTag.SERIAL_NUMBER, minimalBytes(fields.signer.serial)),
      tlv(HeaderTag.ISSUER_NAME, cString(fields.signer.issuer)),
    ]),
    container(HeaderTag.SIGNATURE_INFO, [
      tlv(HeaderTag.HASH_ALGORITHM, u8(hashCode(fields.hash))),
      container(HeaderTag.SIGNATURE_ALGORITHM_INFO, [
        tlv(HeaderTag.SIGNATURE_ALGORITHM, u8(0)),
        tlv(HeaderTag.SIGNATURE_MODULUS, u8(modulusIndex)),
      ]),
    ]),
  ];
  const tail: TlvElement[] = [
    tlv(HeaderTag.FILENAME, cString(fields.filename)),
    tlv(HeaderTag.TIMESTAMP, u32(fields.timestamp)),
    ...(fields.trailer ?? []),
  ];
  const unpadded = [...lead(0), ...tail].reduce((n, el) => n + encodedSize(el), 0);
  const signatureElement = 3 + fields.modulusBytes;
  const padding = (4 - ((unpadded + signatureElement) % 4)) % 4;
  const headerLength = unpadded + padding + signatureElement;
  if (headerLength > 0xffff) {
    throw new SecurityError(
      'PTFTP_ERR_TLV_HEADER_LENGTH',
      `the header would be ${headerLength} bytes, past the 16-bit HEADER_LENGTH`,
    );
  }
  const before = encodeElements(lead(headerLength));
  const after = encodeElements([...tail, ...Array.from({ length: padding }, paddingByte)]);
  const signature = sign(Buffer.concat([before, after, body]));
  if (signature.length !== fields.modulusBytes) {
    throw new SecurityError(
      'PTFTP_ERR_KEY',
      `the signature is ${signature.length} bytes, expected ${fields.modulusBytes}`,
    );
  }
  return Buffer.concat([before, encodeElements([tlv(HeaderTag.SIGNATURE, signature)]), after, body]);
}

/** Re-encode parsed header elements (byte-identical to what was parsed). */
export function encodeHeader(header: SignedHeader): Buffer {
  return encodeElements(header.elements);
}
