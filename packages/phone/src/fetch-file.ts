/**
 * One file as a phone fetches it: HTTP on the TFTP server's port 6970 first (for models that
 * do), TFTP when HTTP is refused or does not have the file. A file is either kept (small
 * files the phone parses) or only hashed while it streams (firmware), so a storm of a
 * thousand phones never holds a thousand images.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { Readable } from 'node:stream';
import {
  FileNotFoundError,
  isPtftpError,
  PtftpError,
  type TftpTransferOptions,
  tftpGet,
  tftpGetStream,
} from '@ptftp/protocol';

/** Where a server listens. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export type Transport = 'http' | 'tftp';

/** One request on one transport and what the server answered. */
export interface FetchAttempt {
  readonly name: string;
  readonly transport: Transport;
  /** `200`, `404`, `ERROR 1 (file not found)`, `PTFTP_ERR_TIMEOUT`, `ECONNREFUSED`, ... */
  readonly answer: string;
  readonly ms: number;
}

/** The outcome of fetching one file over every transport tried. */
export interface FetchedFile {
  readonly name: string;
  readonly status: 'ok' | 'not-found' | 'failed';
  /** The transport that delivered it (or the last one asked). */
  readonly transport: Transport;
  /** The last answer (the one that decided). */
  readonly answer: string;
  readonly attempts: readonly FetchAttempt[];
  readonly size: number;
  /** SHA-256 of the bytes, hex ('' when not fetched). */
  readonly sha256: string;
  /** The bytes, in `keep` mode only. */
  readonly data: Buffer | undefined;
  readonly ms: number;
}

/** How the phone reaches its server, and how patient it is. */
export interface FetchSettings {
  readonly tftp: Endpoint;
  /** HTTP endpoint tried first; undefined for TFTP only. */
  readonly http: Endpoint | undefined;
  readonly tftpOptions: TftpTransferOptions;
  /** HTTP request timeout (ms) before falling back to TFTP. */
  readonly httpTimeoutMs: number;
  /** Largest file kept in memory (configuration, trust lists, `.loads`). */
  readonly maxKeptBytes: number;
  readonly signal: AbortSignal | undefined;
}

/** Bytes read: kept whole, or only counted and hashed. */
interface Body {
  size: number;
  sha256: string;
  data: Buffer | undefined;
}

class TooLargeError extends PtftpError {
  override readonly code = 'PTFTP_ERR_LIMIT' as const;
}

async function readBody(stream: AsyncIterable<Buffer>, keep: boolean, max: number): Promise<Body> {
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    hash.update(chunk);
    if (keep) {
      if (size > max) throw new TooLargeError('PTFTP_ERR_LIMIT', `larger than ${max} bytes`);
      chunks.push(chunk);
    }
  }
  return { size, sha256: hash.digest('hex'), data: keep ? Buffer.concat(chunks, size) : undefined };
}

type Answer = { ok: true; body: Body; answer: string } | { ok: false; notFound: boolean; answer: string };

function viaHttp(ep: Endpoint, name: string, keep: boolean, s: FetchSettings): Promise<Answer> {
  return new Promise((resolve) => {
    const host = ep.host.includes(':') ? `[${ep.host}]` : ep.host;
    const path = `/${name.split('/').map(encodeURIComponent).join('/')}`;
    const req = http.get(
      { host: ep.host, port: ep.port, path, timeout: s.httpTimeoutMs, signal: s.signal, agent: false },
      (res) => {
        const status = String(res.statusCode ?? 0);
        if (res.statusCode !== 200) {
          res.resume();
          resolve({ ok: false, notFound: res.statusCode === 404, answer: status });
          return;
        }
        readBody(res as Readable & AsyncIterable<Buffer>, keep, s.maxKeptBytes).then(
          (body) => resolve({ ok: true, body, answer: status }),
          (err: Error & { code?: string }) =>
            resolve({ ok: false, notFound: false, answer: err.code ?? err.message }),
        );
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (err: Error & { code?: string }) =>
      resolve({ ok: false, notFound: false, answer: err.code ?? `${host}: ${err.message}` }),
    );
  });
}

async function viaTftp(ep: Endpoint, name: string, keep: boolean, s: FetchSettings): Promise<Answer> {
  const opts: TftpTransferOptions = { ...s.tftpOptions, signal: s.signal };
  try {
    if (keep) {
      const data = await tftpGet(ep, name, { ...opts, maxBytes: s.maxKeptBytes });
      const sha256 = createHash('sha256').update(data).digest('hex');
      return { ok: true, body: { size: data.length, sha256, data }, answer: 'OK' };
    }
    const { stream } = await tftpGetStream(ep, name, opts);
    return { ok: true, body: await readBody(stream as AsyncIterable<Buffer>, false, 0), answer: 'OK' };
  } catch (err) {
    if (err instanceof FileNotFoundError)
      return { ok: false, notFound: true, answer: 'ERROR 1 (file not found)' };
    if (isPtftpError(err)) return { ok: false, notFound: false, answer: `${err.code}: ${err.message}` };
    throw err;
  }
}

/**
 * Fetch `name` as the phone would: HTTP first when `settings.http` is set, TFTP when HTTP
 * answers anything but 200 or cannot be reached. `keep` keeps the bytes; otherwise they are
 * only hashed and counted as they stream. Never throws for a server's answer: the result says
 * `not-found` (every transport said so) or `failed` (timeouts, refusals, errors).
 *
 * @example
 * ```ts
 * const f = await fetchFile('SEP001122334455.cnf.xml', true, settings, (a) => console.log(a));
 * if (f.status === 'ok') parse(f.data!);
 * ```
 */
export async function fetchFile(
  name: string,
  keep: boolean,
  settings: FetchSettings,
  onAttempt?: (a: FetchAttempt) => void,
): Promise<FetchedFile> {
  const started = performance.now();
  const attempts: FetchAttempt[] = [];
  const ask = async (transport: Transport, fn: () => Promise<Answer>): Promise<Answer> => {
    const t0 = performance.now();
    const a = await fn();
    const attempt = { name, transport, answer: a.answer, ms: performance.now() - t0 };
    attempts.push(attempt);
    onAttempt?.(attempt);
    return a;
  };
  const done = (transport: Transport, a: Answer): FetchedFile => ({
    name,
    status: a.ok ? 'ok' : a.notFound ? 'not-found' : 'failed',
    transport,
    answer: a.answer,
    attempts,
    size: a.ok ? a.body.size : 0,
    sha256: a.ok ? a.body.sha256 : '',
    data: a.ok ? a.body.data : undefined,
    ms: performance.now() - started,
  });
  let httpAnswer: Answer | undefined;
  if (settings.http) {
    const ep = settings.http;
    httpAnswer = await ask('http', () => viaHttp(ep, name, keep, settings));
    if (httpAnswer.ok) return done('http', httpAnswer);
  }
  const tftpAnswer = await ask('tftp', () => viaTftp(settings.tftp, name, keep, settings));
  // A file that HTTP had but TFTP did not deliver is reported by TFTP's answer: it decided.
  return done('tftp', tftpAnswer);
}
