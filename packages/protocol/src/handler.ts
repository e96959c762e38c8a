/**
 * What a server asks of the application: a read handler that produces a file's bytes, and an
 * optional write handler that stores an upload. The server owns the protocol; handlers own data.
 */
import type { Readable } from 'node:stream';
import type { Content } from './content.js';
import type { TftpOptions } from './packet.js';

/** The peer of a transfer. IPv4 clients on a dual-stack socket are reported as IPv4. */
export interface RemoteInfo {
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
}

/** The listening address that received a request. */
export interface LocalInfo {
  address: string;
  port: number;
}

/** What a read or a write request tells its handler. */
export interface TransferRequest {
  /** The file name exactly as requested (the handler validates it: see `resolveSafePath`). */
  readonly filename: string;
  readonly mode: 'octet' | 'netascii';
  /** Options as requested by the client (names lower-cased). */
  readonly options: Readonly<TftpOptions>;
  readonly remote: RemoteInfo;
  readonly local: LocalInfo;
  /** Aborted when the transfer ends early or the server closes. */
  readonly signal: AbortSignal;
}

/** A read request (RRQ) as the handler sees it. */
export interface ReadRequest extends TransferRequest {}

/**
 * A file's content: bytes (shared, never copied by the server), a {@link Content} handle read
 * by offset, or a stream with an optional size. A size lets the server answer `tsize`; a
 * stream that ends at another size fails the transfer with {@link SizeMismatchError}.
 *
 * A `content` handle carries one reference for the server, which calls `release()` exactly
 * once however the transfer ends (complete, error, abort, server close, or a request already
 * abandoned when the handler resolved). When the client asked for `tsize` and the size is not
 * known yet (content still arriving), the OACK waits for `whenSized()`.
 *
 * @example
 * ```ts
 * const handler: ReadHandler = () => ({ content: bufferContent(Buffer.from('hello')) });
 * ```
 */
export type ReadResult =
  | Uint8Array
  | { data: Uint8Array }
  | { content: Content }
  | { stream: Readable; size?: number | undefined };

/**
 * Produce the content of a requested file. Throw `FileNotFoundError` (ERROR 1),
 * `AccessViolationError` (ERROR 2) or any `PtftpError` (its `tftpCode`, its message on the
 * wire); any other error is answered with ERROR 0 and a generic message.
 */
export type ReadHandler = (req: ReadRequest) => ReadResult | Promise<ReadResult>;

/** A write request (WRQ) as the handler sees it. */
export interface WriteRequest extends TransferRequest {
  /** The size the client announced with `tsize`, if it did. */
  readonly size?: number | undefined;
}

/**
 * Where an upload goes. `write` gets the file's bytes in order (netascii already decoded);
 * `end` commits the file and the last ACK is sent only after it resolves; `abort` is called
 * when the transfer fails, so a partial file can be discarded.
 */
export interface WriteSink {
  write(chunk: Uint8Array): void | Promise<void>;
  end(): void | Promise<void>;
  abort?(err: Error): void;
}

/** Accept an upload by returning a sink, or refuse it by throwing (same mapping as reads). */
export type WriteHandler = (req: WriteRequest) => WriteSink | Promise<WriteSink>;
