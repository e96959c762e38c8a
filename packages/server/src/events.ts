import { AccessViolationError, type Content, FileNotFoundError } from '@ptftp/protocol';
import type { FailureSite } from './contain.js';
import type { ServedSource, Transport } from './metrics.js';

/**
 * Who asked the proxy for what, over TFTP or HTTP. Not `@ptftp/protocol`'s `RequestInfo` (one
 * parsed RRQ/WRQ with its options), hence the distinct name.
 */
export interface ProxyRequestInfo {
  readonly transport: Transport;
  readonly name: string;
  readonly remote: { readonly address: string; readonly port: number };
}

/** A file that reached an endpoint, and where the proxy found it. */
export interface ServedInfo extends ProxyRequestInfo {
  readonly source: ServedSource;
  /** The remote cluster and the TFTP address that answered, when `source` is `cluster` or `cache`. */
  readonly clusterId?: string | undefined;
  readonly address?: string | undefined;
  /** Bytes sent (for an HTTP Range request, the range's length; 0 for HEAD). */
  readonly bytes: number;
  readonly durationMs: number;
  /** HTTP status sent (200, 206, or 304 for a conditional request: `bytes` is then 0); absent for TFTP. */
  readonly status?: number;
}

/** A request that ended without the file: not found, refused, or failed in transfer. */
export interface FailedInfo extends ProxyRequestInfo {
  readonly error: Error;
  /** `not_found`, `denied` (access violation) or `error`. */
  readonly result: 'not_found' | 'denied' | 'error';
}

/**
 * What a resolution carries back to a front end (a subset of the resolver's `Resolution`).
 * `content` carries one reference: the front end releases it when its transfer ends.
 */
export interface ResolvedFile {
  readonly name: string;
  readonly content: Content;
  /** Undefined while a remote file still arriving has not said its size. */
  readonly size: number | undefined;
  readonly source: ServedSource;
  readonly clusterId?: string | undefined;
  readonly address?: string | undefined;
  readonly version?: string | undefined;
  /** Epoch ms of the file's last change, when its source knows it (HTTP `Last-Modified`). */
  readonly modifiedAt?: number | undefined;
}

/** What the front ends need from the composed server. */
export interface FrontendHooks {
  resolve(
    name: string,
    ctx: { remoteAddress: string; proxied: boolean; signal: AbortSignal; transport: Transport },
  ): Promise<ResolvedFile>;
  served(info: ServedInfo): void;
  failed(info: FailedInfo): void;
  /** A failure that escaped a request's own handling: counted and reported, never thrown. */
  unexpected(where: FailureSite, error: Error): void;
}

/**
 * Classify an error for metrics, logs and the HTTP status, by class: an error that merely
 * carries a `PTFTP_ERR_NOT_FOUND` code (anyone can write one) is an internal error.
 */
export function failureKind(err: unknown): FailedInfo['result'] {
  if (err instanceof FileNotFoundError) return 'not_found';
  if (err instanceof AccessViolationError) return 'denied';
  return 'error';
}
