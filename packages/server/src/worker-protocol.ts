/**
 * The messages between the primary of `ptftp serve --workers N` and its workers (node:cluster
 * IPC). Each is tagged `ptftp` so they never mix with other libraries' messages on the channel.
 */
import { ConfigError, StateError } from './errors.js';
import type { FlushSelector, ProxyAddresses } from './proxy-types.js';

/** What the primary may ask a worker; each request gets exactly one reply. */
export type WorkerOp =
  | { op: 'status' }
  | { op: 'metrics' }
  | { op: 'flush'; selector: FlushSelector }
  | { op: 'reload' }
  | { op: 'discovery' };

/** Primary → worker. `stop`: drain (transfers in progress get `graceMs`), then exit 0. */
export type ToWorker = ({ ptftp: 'request'; id: number } & WorkerOp) | { ptftp: 'stop'; graceMs: number };

/** A failure as it crosses the channel: enough to rebuild the errors the admin endpoint maps. */
export interface WireError {
  name: string;
  message: string;
  code?: string | undefined;
  issues?: { path: string; message: string }[] | undefined;
}

/** Worker → primary. */
export type FromWorker =
  | { ptftp: 'ready'; addresses: ProxyAddresses }
  | { ptftp: 'reply'; id: number; ok: true; value: unknown }
  | { ptftp: 'reply'; id: number; ok: false; error: WireError };

export function isToWorker(m: unknown): m is ToWorker {
  return (
    typeof m === 'object' &&
    m !== null &&
    ((m as { ptftp?: unknown }).ptftp === 'request' || (m as { ptftp?: unknown }).ptftp === 'stop')
  );
}

export function isFromWorker(m: unknown): m is FromWorker {
  const tag = typeof m === 'object' && m !== null ? (m as { ptftp?: unknown }).ptftp : undefined;
  return tag === 'ready' || tag === 'reply';
}

export function toWire(err: unknown): WireError {
  const e = err instanceof Error ? err : new Error(String(err));
  return {
    name: e.name,
    message: e.message,
    code: (e as { code?: string }).code,
    ...(e instanceof ConfigError && { issues: e.issues.map((i) => ({ path: i.path, message: i.message })) }),
  };
}

/** The worker's error again, as the class the admin endpoint answers 422 or 409 for. */
export function fromWire(w: WireError): Error {
  if (w.issues) return new ConfigError(w.issues);
  if (w.code === 'PTFTP_ERR_STATE') return new StateError(w.message);
  const e = new Error(w.message) as Error & { code?: string };
  if (w.code !== undefined) e.code = w.code;
  return e;
}
