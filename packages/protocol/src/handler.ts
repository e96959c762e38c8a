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
 * Any object form may carry a `context`: the server keeps it with the transfer and hands it
 * back on the transfer's `transferStart`, `transferComplete` and `transferError` events, so
 * what the handler knew (which source answered, when it started) needs no side table.
 *
 * @example
 * ```ts
 * const handler: ReadHandler<{ source: string }> = () => ({
 *   content: bufferContent(Buffer.from('hello')),
 *   context: { source: 'memory' },
 * });
 * server.on('transferComplete', (stats) => console.log(stats.context?.source, stats.bytes));
 * ```
 */
export type ReadResult<C = unknown> =
  | Uint8Array
  | (({ data: Uint8Array } | { content: Content } | { stream: Readable; size?: number | undefined }) &
      HandlerContext<C>);

/** What a handler's result may carry back to the transfer's events. */
export interface HandlerContext<C = unknown> {
  /** Returned on this transfer's `transferStart`, `transferComplete` and `transferError` events. */
  readonly context?: C | undefined;
}

/**
 * Produce the content of a requested file. Throw `FileNotFoundError` (ERROR 1),
 * `AccessViolationError` (ERROR 2) or any `PtftpError` (its `tftpCode`, its message on the
 * wire); any other error is answered with ERROR 0 and a generic message.
 */
export type ReadHandler<C = unknown> = (req: ReadRequest) => ReadResult<C> | Promise<ReadResult<C>>;

/** A write request (WRQ) as the handler sees it. */
export interface WriteRequest extends TransferRequest {
  /** The size the client announced with `tsize`, if it did. */
  readonly size?: number | undefined;
}

/**
 * Where an upload goes. `write` gets the file's bytes in order (netascii already decoded);
 * `end` commits the file and the last ACK is sent only after it resolves; `abort` is called
 * when the transfer fails, so a partial file can be discarded. A `context` comes back on the
 * transfer's events, as a read result's does.
 */
export interface WriteSink<C = unknown> extends HandlerContext<C> {
  write(chunk: Uint8Array): void | Promise<void>;
  end(): void | Promise<void>;
  abort?(err: Error): void;
}

/** Accept an upload by returning a sink, or refuse it by throwing (same mapping as reads). */
export type WriteHandler<C = unknown> = (req: WriteRequest) => WriteSink<C> | Promise<WriteSink<C>>;
