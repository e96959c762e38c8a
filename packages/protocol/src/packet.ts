/**
 * The TFTP wire codec: pure functions from bytes to typed packets and back.
 * Session code never touches bytes except through this file.
 */
import { MalformedPacketError } from './errors.js';

export const Opcode = {
  RRQ: 1,
  WRQ: 2,
  DATA: 3,
  ACK: 4,
  ERROR: 5,
  OACK: 6,
} as const;
export type Opcode = (typeof Opcode)[keyof typeof Opcode];

/** Transfer modes of RFC 1350. `mail` is obsolete: it decodes, and servers refuse it. */
export type TransferMode = 'octet' | 'netascii' | 'mail';

/** Options as sent on the wire: names lower-cased, values as strings, in the order received. */
export type TftpOptions = Record<string, string>;

export interface RequestPacket {
  readonly opcode: typeof Opcode.RRQ | typeof Opcode.WRQ;
  readonly filename: string;
  readonly mode: TransferMode;
  readonly options: TftpOptions;
}
export interface DataPacket {
  readonly opcode: typeof Opcode.DATA;
  readonly block: number;
  /** A view into the decoded datagram, not a copy. */
  readonly data: Uint8Array;
}
export interface AckPacket {
  readonly opcode: typeof Opcode.ACK;
  readonly block: number;
}
export interface ErrorPacket {
  readonly opcode: typeof Opcode.ERROR;
  readonly errorCode: number;
  readonly message: string;
}
export interface OackPacket {
  readonly opcode: typeof Opcode.OACK;
  readonly options: TftpOptions;
}
export type Packet = RequestPacket | DataPacket | AckPacket | ErrorPacket | OackPacket;

/** Bounds every decoder enforces; each length on the wire is checked against them. */
export const PacketLimits = {
  /** Longest file name accepted in a request, in bytes. */
  maxFilenameBytes: 255,
  /** Longest option name, in bytes. */
  maxOptionNameBytes: 64,
  /** Longest option value, in bytes. */
  maxOptionValueBytes: 255,
  /** Most options in one request or OACK. */
  maxOptions: 32,
  /** Longest ERROR message kept, in bytes (longer ones are cut, not refused). */
  maxErrorMessageBytes: 512,
  /** Largest DATA payload (RFC 2348 blksize ceiling). */
  maxBlockSize: 65464,
} as const;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function readString(buf: Uint8Array, start: number, max: number, field: string): [string, number] {
  const end = buf.indexOf(0, start);
  if (end < 0) throw new MalformedPacketError(field, 'not NUL-terminated');
  if (end - start > max) throw new MalformedPacketError(field, `longer than ${max} bytes`);
  let text: string;
  try {
    text = utf8.decode(buf.subarray(start, end));
  } catch {
    throw new MalformedPacketError(field, 'not valid UTF-8');
  }
  return [text, end + 1];
}

function readOptions(buf: Uint8Array, offset: number, field: string): TftpOptions {
  const options: TftpOptions = {};
  let count = 0;
  while (offset < buf.length) {
    const [rawName, afterName] = readString(buf, offset, PacketLimits.maxOptionNameBytes, `${field}.name`);
    if (rawName.length === 0) {
      // Some clients pad requests with NULs after the last option; tolerate padding only.
      if (buf.subarray(offset).every((b) => b === 0)) break;
      throw new MalformedPacketError(`${field}.name`, 'empty option name');
    }
    const name = rawName.toLowerCase();
    if (afterName >= buf.length) throw new MalformedPacketError(`${field}.${name}`, 'option has no value');
    const [value, afterValue] = readString(
      buf,
      afterName,
      PacketLimits.maxOptionValueBytes,
      `${field}.${name}`,
    );
    if (Object.hasOwn(options, name)) throw new MalformedPacketError(`${field}.${name}`, 'duplicate option');
    if (++count > PacketLimits.maxOptions)
      throw new MalformedPacketError(field, `more than ${PacketLimits.maxOptions} options`);
    options[name] = value;
    offset = afterValue;
  }
  return options;
}

function parseMode(raw: string): TransferMode {
  const mode = raw.toLowerCase();
  if (mode === 'octet' || mode === 'netascii' || mode === 'mail') return mode;
  throw new MalformedPacketError('mode', `unknown transfer mode "${raw.slice(0, 32)}"`);
}

/**
 * Decode one datagram. Throws {@link MalformedPacketError} (and nothing else) on bad input.
 *
 * @example
 * ```ts
 * const p = decodePacket(datagram);
 * if (p.opcode === Opcode.ACK) console.log(p.block);
 * ```
 */
export function decodePacket(buf: Uint8Array): Packet {
  if (buf.length < 2) throw new MalformedPacketError('opcode', 'datagram shorter than 2 bytes');
  const opcode = (buf[0]! << 8) | buf[1]!;
  switch (opcode) {
    case Opcode.RRQ:
    case Opcode.WRQ: {
      const [filename, afterName] = readString(buf, 2, PacketLimits.maxFilenameBytes, 'filename');
      if (filename.length === 0) throw new MalformedPacketError('filename', 'empty file name');
      const [rawMode, afterMode] = readString(buf, afterName, 16, 'mode');
      const mode = parseMode(rawMode);
      const options = readOptions(buf, afterMode, 'options');
      return { opcode, filename, mode, options };
    }
    case Opcode.DATA: {
      if (buf.length < 4) throw new MalformedPacketError('block', 'DATA shorter than 4 bytes');
      if (buf.length - 4 > PacketLimits.maxBlockSize)
        throw new MalformedPacketError('data', `payload over ${PacketLimits.maxBlockSize} bytes`);
      return { opcode, block: (buf[2]! << 8) | buf[3]!, data: buf.subarray(4) };
    }
    case Opcode.ACK: {
      if (buf.length < 4) throw new MalformedPacketError('block', 'ACK shorter than 4 bytes');
      return { opcode, block: (buf[2]! << 8) | buf[3]! };
    }
    case Opcode.ERROR: {
      if (buf.length < 4) throw new MalformedPacketError('errorCode', 'ERROR shorter than 4 bytes');
      const errorCode = (buf[2]! << 8) | buf[3]!;
      // Many stacks omit the final NUL of the message: accept it, and cut overlong text.
      let end = buf.indexOf(0, 4);
      if (end < 0) end = buf.length;
      end = Math.min(end, 4 + PacketLimits.maxErrorMessageBytes);
      const message = Buffer.from(buf.buffer, buf.byteOffset + 4, end - 4).toString('utf8');
      return { opcode, errorCode, message };
    }
    case Opcode.OACK:
      return { opcode, options: readOptions(buf, 2, 'options') };
    default:
      throw new MalformedPacketError('opcode', `unknown opcode ${opcode}`);
  }
}

function stringsLength(parts: readonly string[]): number {
  let n = 0;
  for (const p of parts) n += Buffer.byteLength(p) + 1;
  return n;
}

function writeStrings(buf: Buffer, offset: number, parts: readonly string[]): number {
  for (const p of parts) {
    offset += buf.write(p, offset);
    buf[offset++] = 0;
  }
  return offset;
}

function optionParts(options: TftpOptions): string[] {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(options)) parts.push(k, v);
  return parts;
}

/** Encode an RRQ or WRQ. */
export function encodeRequest(
  opcode: typeof Opcode.RRQ | typeof Opcode.WRQ,
  filename: string,
  mode: TransferMode = 'octet',
  options: TftpOptions = {},
): Buffer {
  const parts = [filename, mode, ...optionParts(options)];
  const buf = Buffer.allocUnsafe(2 + stringsLength(parts));
  buf.writeUInt16BE(opcode, 0);
  writeStrings(buf, 2, parts);
  return buf;
}

/** Encode a DATA packet (copies `data`). Hot paths use {@link writeDataHeader} instead. */
export function encodeData(block: number, data: Uint8Array): Buffer {
  const buf = Buffer.allocUnsafe(4 + data.length);
  writeDataHeader(buf, block);
  buf.set(data, 4);
  return buf;
}

/** Write the 4-byte DATA header into `buf` in place (payload at offset 4). */
export function writeDataHeader(buf: Uint8Array, block: number): void {
  buf[0] = 0;
  buf[1] = Opcode.DATA;
  buf[2] = (block >>> 8) & 0xff;
  buf[3] = block & 0xff;
}

/** Encode an ACK. */
export function encodeAck(block: number): Buffer {
  const buf = Buffer.allocUnsafe(4);
  buf[0] = 0;
  buf[1] = Opcode.ACK;
  buf[2] = (block >>> 8) & 0xff;
  buf[3] = block & 0xff;
  return buf;
}

/** Encode an ERROR packet; the message is cut to the decoder's limit. */
export function encodeError(errorCode: number, message: string): Buffer {
  let text = Buffer.from(message, 'utf8');
  if (text.length > PacketLimits.maxErrorMessageBytes)
    text = text.subarray(0, PacketLimits.maxErrorMessageBytes);
  const buf = Buffer.allocUnsafe(5 + text.length);
  buf.writeUInt16BE(Opcode.ERROR, 0);
  buf.writeUInt16BE(errorCode & 0xffff, 2);
  buf.set(text, 4);
  buf[4 + text.length] = 0;
  return buf;
}

/** Encode an OACK. */
export function encodeOack(options: TftpOptions): Buffer {
  const parts = optionParts(options);
  const buf = Buffer.allocUnsafe(2 + stringsLength(parts));
  buf.writeUInt16BE(Opcode.OACK, 0);
  writeStrings(buf, 2, parts);
  return buf;
}

/** Encode any packet. */
export function encodePacket(packet: Packet): Buffer {
  switch (packet.opcode) {
    case Opcode.RRQ:
    case Opcode.WRQ:
      return encodeRequest(packet.opcode, packet.filename, packet.mode, packet.options);
    case Opcode.DATA:
      return encodeData(packet.block, packet.data);
    case Opcode.ACK:
      return encodeAck(packet.block);
    case Opcode.ERROR:
      return encodeError(packet.errorCode, packet.message);
    case Opcode.OACK:
      return encodeOack(packet.options);
  }
}
