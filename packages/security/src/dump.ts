import { createHash } from 'node:crypto';
import { HeaderTag, headerTagName, parseHeader, type SignedHeader } from './header.js';
import { roleDescription } from './roles.js';
import { colonHex, encodedSize, readCString, type TlvElement } from './tlv.js';
import { parseTrustList, RecordTag, recordTagName, type TrustList } from './trust-list.js';

const HEADER_LABELS: Record<number, string> = {
  [HeaderTag.SIGNER_INFO]: 'SIGNERINFO',
  [HeaderTag.SIGNER_NAME]: 'SIGNERNAME',
  [HeaderTag.SERIAL_NUMBER]: 'SERIALNUMBER',
  [HeaderTag.ISSUER_NAME]: 'ISSUERNAME',
  [HeaderTag.SIGNATURE_INFO]: 'SIGNATUREINFO',
  [HeaderTag.HASH_ALGORITHM]: 'DIGESTALGORITHM',
  [HeaderTag.SIGNATURE_ALGORITHM_INFO]: 'SIGNATUREALGOINFO',
  [HeaderTag.SIGNATURE_ALGORITHM]: 'SIGNATUREALGORITHM',
  [HeaderTag.SIGNATURE_MODULUS]: 'SIGNATUREMODULUS',
  [HeaderTag.SIGNATURE]: 'SIGNATURE',
  [HeaderTag.FILENAME]: 'FILENAME',
  [HeaderTag.TIMESTAMP]: 'TIMESTAMP',
  [HeaderTag.SIGNER_VERSION]: 'SIGNERVERSION',
};
const RECORD_LABELS: Record<number, string> = {
  [RecordTag.RECORD_LENGTH]: 'RECORDLENGTH',
  [RecordTag.DNS_NAME]: 'DNSNAME',
  [RecordTag.SUBJECT_NAME]: 'SUBJECTNAME',
  [RecordTag.ROLE]: 'FUNCTION',
  [RecordTag.ISSUER_NAME]: 'ISSUERNAME',
  [RecordTag.SERIAL_NUMBER]: 'SERIALNUMBER',
  [RecordTag.PUBLIC_KEY]: 'PUBLICKEY',
  [RecordTag.SIGNATURE]: 'SIGNATURE',
  [RecordTag.CERTIFICATE]: 'CERTIFICATE',
  [RecordTag.IP_ADDRESS]: 'IPADDRESS',
  [RecordTag.CERTIFICATE_HASH]: 'CERTHASH',
  [RecordTag.HASH_ALGORITHM]: 'HASH ALGORITHM',
};
const HASHES = ['', 'SHA1', 'SHA256', 'SHA512'];
const TABLE_HEAD = `${'BYTEPOS'.padEnd(8)}${'TAG'.padEnd(24)}${'LENGTH'.padEnd(8)}VALUE`;
const TABLE_RULE = '------- --- ------------------- ------- -----';

function row(pos: number, tag: number, label: string, length: number | string, value = ''): string {
  return `${String(pos).padEnd(8)}${String(tag).padEnd(4)}${label.padEnd(20)}${String(length).padEnd(8)}${value}`.trimEnd();
}

function headerValue(el: TlvElement): string {
  switch (el.tag) {
    case HeaderTag.SIGNER_NAME:
    case HeaderTag.ISSUER_NAME:
    case HeaderTag.FILENAME:
      return readCString(el.value);
    case HeaderTag.SERIAL_NUMBER:
      return colonHex(el.value);
    case HeaderTag.HASH_ALGORITHM:
    case HeaderTag.CONTENT_HASH_ALGORITHM:
      return HASHES[el.value[0] ?? 0] ?? String(el.value[0]);
    case HeaderTag.SIGNATURE_ALGORITHM:
      return el.value[0] === 0 ? 'RSA' : String(el.value[0]);
    case HeaderTag.SIGNATURE_MODULUS:
      return `${el.value[0]} (${[512, 1024, 2048, 4096][el.value[0] ?? 9] ?? '?'}-bit)`;
    case HeaderTag.TIMESTAMP: {
      // Only the first TIMESTAMP is length-checked by parseHeader; a dump shows the others raw.
      if (el.value.length !== 4) return el.value.toString('hex');
      const t = el.value.readUInt32BE(0);
      return `${t} (${new Date(t * 1000).toISOString()})`;
    }
    case HeaderTag.SIGNER_VERSION:
      return `${el.value[0]}.${el.value[1]}`;
    default:
      return el.children || el.value.length > 32 ? '' : el.value.toString('hex');
  }
}

function headerRows(elements: readonly TlvElement[], start: number, out: string[]): void {
  let pos = start;
  for (const el of elements) {
    if (el.bare) {
      out.push(row(pos, el.tag, 'PADDING', 1));
    } else if (el.tag !== HeaderTag.VERSION && el.tag !== HeaderTag.HEADER_LENGTH) {
      const label = HEADER_LABELS[el.tag] ?? headerTagName(el.tag);
      out.push(row(pos, el.tag, label, el.value.length, headerValue(el)));
      if (el.children) headerRows(el.children, pos + 3, out);
    }
    pos += encodedSize(el);
  }
}

/** The header part of a dump: VERSION, HEADER_LENGTH and one line per element. */
export function formatHeader(header: SignedHeader): string {
  const out = [
    `Version: ${header.version.major}.${header.version.minor}`,
    `HeaderLength: ${header.headerLength} (BYTES)`,
    '',
    TABLE_HEAD,
    TABLE_RULE,
  ];
  headerRows(header.elements, 0, out);
  return out.join('\n');
}

function recordValue(el: TlvElement): string {
  // A hostile file may repeat RECORD_LENGTH or ROLE with odd lengths: show those raw.
  if ((el.tag === RecordTag.RECORD_LENGTH || el.tag === RecordTag.ROLE) && el.value.length !== 2) {
    return el.value.toString('hex');
  }
  switch (el.tag) {
    case RecordTag.RECORD_LENGTH:
      return String(el.value.readUInt16BE(0));
    case RecordTag.DNS_NAME:
    case RecordTag.SUBJECT_NAME:
    case RecordTag.ISSUER_NAME:
      return readCString(el.value);
    case RecordTag.ROLE:
      return roleDescription(el.value.readUInt16BE(0));
    case RecordTag.SERIAL_NUMBER:
      return colonHex(el.value);
    case RecordTag.CERTIFICATE:
      return `${createHash('sha1').update(el.value).digest('hex').toUpperCase()} (SHA1 Hash HEX)`;
    case RecordTag.IP_ADDRESS:
      return [...el.value].join('.');
    case RecordTag.CERTIFICATE_HASH:
      return el.value.toString('hex').toUpperCase();
    case RecordTag.HASH_ALGORITHM:
      return HASHES[el.value[0] ?? 0] ?? String(el.value[0]);
    default:
      return '';
  }
}

/**
 * A trust list the way Cisco's `show ctl` / `show itl` print it: header elements with byte
 * positions, then every record, and which record signed the file.
 *
 * @example
 * ```ts
 * console.log(formatTrustList(parseTrustList(readFileSync('CTLFile.tlv'))));
 * ```
 */
export function formatTrustList(input: Uint8Array | TrustList): string {
  const list = input instanceof Uint8Array ? parseTrustList(input) : input;
  const name = list.kind === 'unknown' ? 'Trust List' : list.kind;
  const out = [
    `Length of ${name} file: ${list.bytes.length}`,
    `The checksum value of the ${name} file:`,
    `${createHash('md5').update(list.bytes).digest('hex')}(MD5)`,
    `${createHash('sha1').update(list.bytes).digest('hex')}(SHA1)`,
    '',
    `Parse ${name} File`,
    '----------------',
    '',
    formatHeader(list.header),
  ];
  list.records.forEach((record, i) => {
    out.push('', `${name} Record #:${i + 1}`, '----', TABLE_HEAD, TABLE_RULE);
    let pos = 0;
    for (const el of record.elements) {
      out.push(
        row(pos, el.tag, RECORD_LABELS[el.tag] ?? recordTagName(el.tag), el.value.length, recordValue(el)),
      );
      pos += 3 + el.value.length;
    }
    if (record === list.signer) out.push('', `This etoken was used to sign the ${name} file.`);
  });
  if (!list.signer) out.push('', `No SAST record matches the signer serial ${list.header.signer.serialHex}.`);
  out.push('', `The ${name} file holds ${list.records.length} record(s).`);
  return `${out.join('\n')}\n`;
}

/**
 * The header of a `.sgn` / `.enc.sgn` file, in the same style.
 *
 * @example
 * ```ts
 * console.log(formatSignedFile(readFileSync('SEP001122334455.cnf.xml.sgn')));
 * ```
 */
export function formatSignedFile(file: Uint8Array): string {
  const { header, body } = parseHeader(file);
  return `${formatHeader(header)}\n\nPayload: ${body.length} bytes after the ${header.headerLength}-byte header\n`;
}
