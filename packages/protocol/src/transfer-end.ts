/**
 * How a transfer ends, whichever way: its session's observer (complete, fail, released), a
 * refusal before its session runs (ERROR from the listening socket), an abort at server close,
 * and its removal from the table with the release of its socket. The events say so here,
 * carrying the handler's `context` back.
 */
import { AbortedError, isPtftpError, type PtftpError, wireErrorOf } from './errors.js';
import type { TftpServerEvents, TransferErrorInfo, TransferStats } from './events.js';
import { encodeError } from './packet.js';
import type { ListenerSet } from './server-listeners.js';
import type { TftpServerOptions } from './server-options.js';
import type { SessionCounters, SessionObserver } from './session-config.js';
import { abortRecordSignal, type SessionRecord, type SessionTable } from './session-table.js';
import type { TransferSocketDeps } from './transfer-socket.js';
import { sendQuietly } from './transport.js';

/** Emit one of the server's events (the context type erased: records hold it as unknown). */
export type ServerEmit = <E extends keyof TftpServerEvents>(
  event: E,
  ...args: Parameters<TftpServerEvents[E]>
) => void;

/** What the transfer rooms use of their server; its settings are read when used. */
export interface TransferHost extends TransferSocketDeps {
  readonly opts: TftpServerOptions;
  readonly table: SessionTable;
  readonly sockets: ListenerSet;
  readonly emit: ServerEmit;
}

/** The ERROR a refused request gets: a PtftpError speaks for itself, anything else stays generic. */
export function toWireError(
  err: unknown,
  what: string,
): { error: PtftpError; code: number; message: string } {
  if (isPtftpError(err)) return { error: err as PtftpError, ...wireErrorOf(err) };
  return { error: new AbortedError(`${what} failed`, { cause: err }), code: 0, message: 'internal error' };
}

/** The request info of a failed transfer: with the handler's context, when there is one. */
export function errorInfo(record: SessionRecord): TransferErrorInfo {
  return record.context === undefined ? record.info : { ...record.info, context: record.context };
}

/** The counters of a completed transfer. */
function completeStats(record: SessionRecord, c: SessionCounters): TransferStats {
  return {
    filename: record.info.filename,
    remote: record.remote,
    direction: record.info.opcode === 'RRQ' ? 'read' : 'write',
    bytes: c.bytes,
    blocks: c.blocks,
    durationMs: performance.now() - record.startedAt,
    retransmissions: c.retransmissions,
    options: record.granted,
    ...(record.context !== undefined && { context: record.context }),
  };
}

/** How `record`'s session reports its end. */
export function observerFor(host: TransferHost, record: SessionRecord): SessionObserver {
  return {
    complete: (c: SessionCounters) => {
      host.emit('transferComplete', completeStats(record, c));
    },
    fail: (err: PtftpError) => {
      abortRecordSignal(record, err);
      host.emit('transferError', err, errorInfo(record));
    },
    released: () => removeRecord(host, record),
  };
}

/** The request dies before its session runs: ERROR from the listening socket, then cleanup. */
export function refuseRecord(host: TransferHost, record: SessionRecord, err: unknown, what: string): void {
  if (record.ended) return;
  const wire = toWireError(err, what);
  sendQuietly(
    record.listener.socket,
    encodeError(wire.code, wire.message),
    record.wirePort,
    record.wireAddress,
  );
  abortRecordSignal(record, wire.error);
  host.emit('transferError', wire.error, errorInfo(record));
  removeRecord(host, record);
}

/** End a transfer now (server close): its peer gets ERROR 0 once its session runs. */
export function abortRecord(host: TransferHost, record: SessionRecord, err: PtftpError): void {
  if (record.session) {
    record.session.abort(err, true);
    return;
  }
  abortRecordSignal(record, err);
  host.emit('transferError', err, errorInfo(record));
  removeRecord(host, record);
}

/** Drop `record` from the table and give back its socket (once, however it ended). */
export function removeRecord(host: TransferHost, record: SessionRecord): void {
  if (!host.table.delete(record)) return;
  host.sockets.closeIfDrained(record.listener);
  if (record.socket) {
    if (host.config.range) host.pool.release(record.localPort);
    record.socket.close();
  }
  host.table.notifyIfEmpty();
}
