/**
 * The TFTP client: download into a Buffer or a stream, upload a Buffer or a stream, over
 * IPv4 or IPv6, with RFC 2347/2348/2349/7440 options.
 *
 * Every failure rejects with a typed error, and a transfer that did not complete never
 * resolves with partial data:
 * - the server answered "no such file" (ERROR 1): {@link FileNotFoundError}, `PTFTP_ERR_NOT_FOUND`
 * - nobody answered within the retries, the deadline passed, or the network refused:
 *   {@link TimeoutError}, `PTFTP_ERR_TIMEOUT` (this is "unreachable")
 * - ERROR 2: {@link AccessViolationError}; any other ERROR: {@link TftpRemoteError}
 * - the signal fired: {@link AbortedError}; bad options in an OACK: {@link OptionNegotiationError}
 * - more than `maxBytes`: {@link LimitError}; not the announced tsize: {@link SizeMismatchError}
 */
import type { Readable } from 'node:stream';
import { FileSink, type TftpFileResult } from './client-file-sink.js';
import {
  checkFilename,
  resolveOptions,
  resolveTarget,
  type TftpPutOptions,
  type TftpPutSource,
  type TftpTarget,
  type TftpTransferOptions,
} from './client-options.js';
import { ReadSession } from './client-read.js';
import { BufferSink, StreamSink, type TftpDownloadStream } from './client-sink.js';
import { type BlockSource, BufferSource, StreamSource } from './client-source.js';
import { WriteSession } from './client-write.js';
import { InvalidArgumentError } from './errors.js';

export type { TftpFileResult } from './client-file-sink.js';
export type {
  TftpNegotiated,
  TftpPutOptions,
  TftpPutSource,
  TftpTarget,
  TftpTransferOptions,
} from './client-options.js';
export type { TftpDownloadStream } from './client-sink.js';
// What a client's caller narrows on, so that `@ptftp/protocol/client` alone is enough.
export {
  AbortedError,
  AccessViolationError,
  FileNotFoundError,
  InvalidArgumentError,
  isPtftpError,
  LimitError,
  OptionNegotiationError,
  ProtocolError,
  PtftpError,
  SizeMismatchError,
  TftpRemoteError,
  TimeoutError,
} from './errors.js';
export { parseTftpUrl, type TftpUrl } from './tftp-url.js';

/**
 * Download `filename` into one Buffer. Rejects (never resolves with part of the file) when the
 * transfer does not complete.
 *
 * @example
 * ```ts
 * import { tftpGet, FileNotFoundError } from '@ptftp/protocol';
 * try {
 *   const xml = await tftpGet({ host: '10.0.0.5' }, 'SEP001122334455.cnf.xml', { blksize: 1468 });
 * } catch (err) {
 *   if (err instanceof FileNotFoundError) console.log('no such file');
 *   else throw err;
 * }
 * ```
 */
export async function tftpGet(
  target: TftpTarget,
  filename: string,
  opts?: TftpTransferOptions,
): Promise<Buffer> {
  const o = resolveOptions(opts);
  const t = resolveTarget(target);
  checkFilename(filename);
  const sink = new BufferSink(o.maxBytes, o.mode === 'octet');
  const session = new ReadSession(t, filename, o, sink);
  await session.open();
  session.start();
  return sink.promise;
}

/**
 * Download `filename` as a stream. Resolves when the server has answered (so "not found"
 * rejects here), with the announced size when the server granted tsize in octet mode. The
 * stream ends only after the last block; a cut transfer destroys it with the typed error.
 * A slow reader holds back the ACKs, which slows the server down (no unbounded buffering).
 *
 * @example
 * ```ts
 * import { createWriteStream } from 'node:fs';
 * import { pipeline } from 'node:stream/promises';
 * const { size, stream } = await tftpGetStream({ host: '::1', port: 6969 }, 'big.bin', { windowsize: 16 });
 * await pipeline(stream, createWriteStream('big.bin'));
 * ```
 */
export async function tftpGetStream(
  target: TftpTarget,
  filename: string,
  opts?: TftpTransferOptions,
): Promise<TftpDownloadStream> {
  const o = resolveOptions(opts);
  const t = resolveTarget(target);
  checkFilename(filename);
  const sink = new StreamSink(o.mode === 'octet');
  const session = new ReadSession(t, filename, o, sink);
  await session.open();
  session.start();
  return sink.started;
}

/** Options of {@link tftpGetFile}: a transfer's, and how the file is opened. */
export type TftpGetFileOptions = TftpTransferOptions & {
  /** As for `fs.open`: `'w'` (default) replaces an existing file, `'wx'` refuses one. */
  flags?: 'w' | 'wx';
};

/**
 * Download `filename` into the file at `path`, written in 1 MiB sequential writes while the
 * transfer runs (the cheapest way to disk: no stream in between). The file is created before
 * the request goes out, so a path that cannot be written fails without asking the server.
 * When the transfer does not complete, the file is removed: it never holds part of a download.
 * Resolves when the last byte is on its way to the disk (written, the descriptor closed).
 *
 * @example
 * ```ts
 * import { tftpGetFile } from '@ptftp/protocol/client';
 * const { bytes, negotiated } = await tftpGetFile({ host: '10.0.0.5' }, 'fw.bin', '/tmp/fw.bin', {
 *   blksize: 1468,
 *   windowsize: 16,
 * });
 * console.log(`${bytes} bytes at blksize ${negotiated.blksize}`);
 * ```
 */
export async function tftpGetFile(
  target: TftpTarget,
  filename: string,
  path: string,
  opts?: TftpGetFileOptions,
): Promise<TftpFileResult> {
  const o = resolveOptions(opts);
  const t = resolveTarget(target);
  checkFilename(filename);
  const flags = opts?.flags ?? 'w';
  if (flags !== 'w' && flags !== 'wx')
    throw new InvalidArgumentError('flags', `${String(flags)} is not 'w' or 'wx'`);
  const sink = new FileSink(path, flags);
  await sink.open();
  const session = new ReadSession(t, filename, o, sink);
  try {
    await session.open();
  } catch (err) {
    sink.fail(err as Error);
    await sink.promise.catch(() => {});
    throw err;
  }
  session.start();
  return sink.promise;
}

/**
 * Upload `data` (bytes or a stream) as `filename`. For a stream, pass `size` to announce
 * tsize; the upload then fails with SizeMismatchError (and an ERROR to the server instead of
 * the last block) if the stream is longer or shorter.
 *
 * @example
 * ```ts
 * import { createReadStream, statSync } from 'node:fs';
 * const { size } = statSync('fw.bin');
 * await tftpPut({ host: '127.0.0.1', port: 6969 }, 'fw.bin', createReadStream('fw.bin'), { size, blksize: 1428 });
 * ```
 */
export async function tftpPut(
  target: TftpTarget,
  filename: string,
  data: TftpPutSource,
  opts?: TftpPutOptions,
): Promise<{ bytes: number }> {
  const o = resolveOptions(opts);
  const t = resolveTarget(target);
  checkFilename(filename);
  const size = opts?.size;
  if (size !== undefined && (!Number.isSafeInteger(size) || size < 0))
    throw new InvalidArgumentError('size', `${String(size)} is not a non-negative integer`);
  let source: BlockSource;
  let announce: number | undefined;
  let expect: number | undefined;
  if (data instanceof Uint8Array) {
    if (size !== undefined && size !== data.length)
      throw new InvalidArgumentError('size', `${size} differs from the data length ${data.length}`);
    const s = new BufferSource(data, o.mode === 'netascii');
    announce = s.wireLength;
    source = s;
  } else if (data && typeof (data as Readable)[Symbol.asyncIterator] === 'function') {
    source = new StreamSource(data as Readable, o.mode === 'netascii');
    expect = size;
    // In netascii the wire size of a stream is unknown in advance: announce nothing.
    announce = o.mode === 'octet' ? size : undefined;
  } else {
    throw new InvalidArgumentError('data', 'expected a Uint8Array or a Readable stream');
  }
  const session = new WriteSession(t, filename, o, source, announce, expect);
  try {
    await session.open();
  } catch (err) {
    source.close();
    throw err;
  }
  session.start();
  return session.promise;
}

/**
 * A client bound to one server, with default options for every transfer; per-call options
 * override them.
 *
 * @example
 * ```ts
 * const client = new TftpClient({ host: '127.0.0.1', port: 6969 }, { blksize: 1468, retries: 3 });
 * const cfg = await client.get('SEP001122334455.cnf.xml');
 * await client.put('upload.bin', cfg);
 * ```
 */
export class TftpClient {
  readonly target: Readonly<TftpTarget>;
  readonly defaults: Readonly<TftpTransferOptions>;

  constructor(target: TftpTarget, defaults: TftpTransferOptions = {}) {
    // Fail early on a bad target or defaults, not at the first transfer.
    resolveTarget(target);
    resolveOptions(defaults);
    this.target = { ...target };
    this.defaults = { ...defaults };
  }

  /** Download into a Buffer; see {@link tftpGet}. */
  get(filename: string, opts?: TftpTransferOptions): Promise<Buffer> {
    return tftpGet(this.target, filename, { ...this.defaults, ...opts });
  }

  /** Download as a stream; see {@link tftpGetStream}. */
  getStream(filename: string, opts?: TftpTransferOptions): Promise<TftpDownloadStream> {
    return tftpGetStream(this.target, filename, { ...this.defaults, ...opts });
  }

  /** Download into a file; see {@link tftpGetFile}. */
  getFile(filename: string, path: string, opts?: TftpGetFileOptions): Promise<TftpFileResult> {
    return tftpGetFile(this.target, filename, path, { ...this.defaults, ...opts });
  }

  /** Upload; see {@link tftpPut}. */
  put(filename: string, data: TftpPutSource, opts?: TftpPutOptions): Promise<{ bytes: number }> {
    return tftpPut(this.target, filename, data, { ...this.defaults, ...opts });
  }
}
