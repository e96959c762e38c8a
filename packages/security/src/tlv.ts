import { SecurityError } from './errors.js';

/**
 * One tag-length-value element. Containers carry `children` (their value is the encoding of
 * the children); a bare header padding byte (tag 13) has `bare: true` and no length field.
 * Parsed elements keep unknown tags as opaque values, so re-encoding gives the same bytes.
 */
export interface TlvElement {
  readonly tag: number;
  readonly value: Buffer;
  readonly children?: readonly TlvElement[];
  readonly bare?: boolean;
}

/** Header tag 13: a single byte with no length, used to pad the header to a multiple of 4. */
export const PADDING_TAG = 13;

/** Create a plain element. */
export function tlv(tag: number, value: Uint8Array | readonly number[]): TlvElement {
  return { tag, value: Buffer.from(value as Uint8Array) };
}

/** Create a container element; its value is always recomputed from the children. */
export function container(tag: number, children: readonly TlvElement[]): TlvElement {
  return { tag, value: encodeElements(children), children };
}

/** One bare padding byte. */
export function paddingByte(): TlvElement {
  return { tag: PADDING_TAG, value: Buffer.alloc(0), bare: true };
}

/** Encoded size of one element (tag + length + value, or one byte for bare padding). */
export function encodedSize(el: TlvElement): number {
  if (el.bare) return 1;
  return 3 + (el.children ? el.children.reduce((n, c) => n + encodedSize(c), 0) : el.value.length);
}

/** Encode elements in order. Lengths above 65535 cannot be represented and are refused. */
export function encodeElements(elements: readonly TlvElement[]): Buffer {
  const parts: Buffer[] = [];
  for (const el of elements) {
    if (el.bare) {
      parts.push(Buffer.of(el.tag));
      continue;
    }
    const value = el.children ? encodeElements(el.children) : el.value;
    if (value.length > 0xffff) {
      throw new SecurityError(
        'PTFTP_ERR_TLV_LENGTH',
        `tag ${el.tag}: value of ${value.length} bytes does not fit the 16-bit length field`,
      );
    }
    const head = Buffer.alloc(3);
    head[0] = el.tag;
    head.writeUInt16BE(value.length, 1);
    parts.push(head, value);
  }
  return Buffer.concat(parts);
}

export interface DecodeOptions {
  /** Tags whose value is itself a list of elements. */
  readonly containers?: ReadonlySet<number>;
  /** Whether tag 13 is a bare padding byte (true in headers, false in records). */
  readonly barePadding?: boolean;
  /** Describes the region in error messages, e.g. "header" or "record #2". */
  readonly where: string;
  /** Error code when an element runs past `end` while `end` is inside the buffer. */
  readonly overrunCode?: 'PTFTP_ERR_TLV_LENGTH' | 'PTFTP_ERR_TLV_HEADER_LENGTH';
  /** Names tags in error messages. */
  readonly tagName?: (tag: number) => string;
}

/**
 * Decode the elements in `buf[start, end)`. Offsets in errors are absolute offsets in `buf`.
 * An element that runs past `end` is a length error; one that runs past the end of `buf`
 * is a truncation.
 */
export function decodeElements(buf: Buffer, start: number, end: number, opts: DecodeOptions): TlvElement[] {
  const out: TlvElement[] = [];
  const name = opts.tagName ?? ((t: number) => `tag ${t}`);
  let off = start;
  while (off < end) {
    const tag = buf[off]!;
    if (opts.barePadding && tag === PADDING_TAG) {
      out.push(paddingByte());
      off += 1;
      continue;
    }
    if (off + 3 > end) {
      const code =
        off + 3 > buf.length ? 'PTFTP_ERR_TLV_TRUNCATED' : (opts.overrunCode ?? 'PTFTP_ERR_TLV_LENGTH');
      throw new SecurityError(
        code,
        `${opts.where}: ${name(tag)} at offset ${off} has no room for its length field (region ends at ${end})`,
        { offset: off },
      );
    }
    const len = buf.readUInt16BE(off + 1);
    const valueEnd = off + 3 + len;
    if (valueEnd > end) {
      const code =
        valueEnd > buf.length ? 'PTFTP_ERR_TLV_TRUNCATED' : (opts.overrunCode ?? 'PTFTP_ERR_TLV_LENGTH');
      const limit = valueEnd > buf.length ? `the end of the data (${buf.length} bytes)` : `offset ${end}`;
      throw new SecurityError(
        code,
        `${opts.where}: ${name(tag)} at offset ${off} has length ${len}, which runs past ${limit}`,
        { offset: off },
      );
    }
    const value = buf.subarray(off + 3, valueEnd);
    if (opts.containers?.has(tag)) {
      const children = decodeElements(buf, off + 3, valueEnd, {
        ...opts,
        where: `${opts.where} ${name(tag)}`,
        overrunCode: 'PTFTP_ERR_TLV_LENGTH',
      });
      out.push({ tag, value: Buffer.from(value), children });
    } else {
      out.push({ tag, value: Buffer.from(value) });
    }
    off = valueEnd;
  }
  return out;
}

/** Depth-first search for the first element with `tag`. */
export function findElement(elements: readonly TlvElement[], tag: number): TlvElement | undefined {
  for (const el of elements) {
    if (el.tag === tag && !el.bare) return el;
    if (el.children) {
      const hit = findElement(el.children, tag);
      if (hit) return hit;
    }
  }
  return undefined;
}

/** A string value: UTF-8 with the trailing NUL that Cisco counts in the length. */
export function cString(text: string): Buffer {
  return Buffer.concat([Buffer.from(text, 'utf8'), Buffer.of(0)]);
}

/** Read a NUL-terminated string value; tolerate a missing NUL (seen in hand-made files). */
export function readCString(value: Buffer): string {
  const nul = value.indexOf(0);
  return value.subarray(0, nul === -1 ? value.length : nul).toString('utf8');
}

export function u8(n: number): Buffer {
  return Buffer.of(n & 0xff);
}

export function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** Check a fixed-size value and name the offending tag when it is wrong. */
export function expectLength(el: TlvElement, size: number, where: string, name: string): Buffer {
  if (el.value.length !== size) {
    throw new SecurityError(
      'PTFTP_ERR_TLV_LENGTH',
      `${where}: ${name} (tag ${el.tag}) has length ${el.value.length}, expected ${size}`,
    );
  }
  return el.value;
}

/** Big-endian bytes without leading zeros (at least one byte): how serials are compared. */
export function minimalBytes(bytes: Uint8Array): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return Buffer.from(bytes.subarray(i));
}

/** `70:CA:F6:...` as Cisco's dumps print serials. */
export function colonHex(bytes: Uint8Array): string {
  return Buffer.from(bytes)
    .toString('hex')
    .toUpperCase()
    .replace(/(..)(?!$)/g, '$1:');
}
