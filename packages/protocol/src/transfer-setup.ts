/**
 * From an admitted request to a session ready to start: the handler call (with its lazily made
 * AbortSignal), the content it returned made into blocks, the option negotiation, and a
 * release of whatever the handler handed over on every way out before the session owns it.
 */
import { prepareContent, toBlockSource } from './block-source.js';
import { isContent } from './content.js';
import { ClosedError } from './errors.js';
import type { TransferInfo } from './events.js';
import type { LocalInfo, ReadHandler, ReadRequest, WriteHandler, WriteRequest } from './handler.js';
import { type NegotiatedOptions, negotiateOptions } from './options.js';
import { Opcode, type RequestPacket } from './packet.js';
import { ReadSession } from './read-session.js';
import { type ResolvedOptions, type TftpServerOptions, timingFor } from './server-options.js';
import type { SessionObserver } from './session-config.js';
import { recordSignal, type SessionRecord } from './session-table.js';
import { observerFor, refuseRecord, type TransferHost } from './transfer-end.js';
import { openTransport } from './transfer-socket.js';
import type { Transport } from './transport.js';
import { WriteSession } from './write-session.js';

const ignore = (): void => {};

/** Give back what a read handler handed over: destroy its stream, release its content. */
export function releaseResult(result: unknown): void {
  const stream = (result as { stream?: { destroy?: () => void } } | null)?.stream;
  if (typeof stream?.destroy === 'function') stream.destroy();
  const content = (result as { content?: unknown } | null)?.content;
  if (isContent(content)) content.release();
}

/** A transfer whose handler answered and whose options are negotiated. */
export interface PreparedTransfer {
  readonly negotiated: NegotiatedOptions;
  /** Make the session over its transport (it owns what the handler handed over from then on). */
  readonly start: (transport: Transport, observer: SessionObserver) => ReadSession | WriteSession;
  /** Release what the handler handed over, when no session will (idempotent). */
  readonly dispose: () => void;
}

/**
 * Ask the handler and negotiate. Resolves undefined when the transfer is over already: the
 * handler refused (`refuse` has answered it) or the request was abandoned while it waited (what
 * the handler gave is released). Throws when the result is unusable or negotiation fails,
 * after releasing the result. Sets `record.context` as soon as the handler returned.
 */
export async function prepareTransfer(
  record: SessionRecord,
  req: RequestPacket,
  config: ResolvedOptions,
  opts: TftpServerOptions,
  refuse: (err: unknown, what: string) => void,
): Promise<PreparedTransfer | undefined> {
  const { remote, listener } = record;
  const local: LocalInfo = { address: listener.bound.address, port: listener.bound.port };
  const mode = req.mode as 'octet' | 'netascii';
  const netascii = mode === 'netascii';
  const policy = opts.optionPolicy?.(remote, req.options);
  // The request a handler sees; `signal` is a getter so that its AbortController is made only
  // for handlers that read it.
  const transferRequest = <T extends object>(extra: T) => ({
    filename: req.filename,
    mode,
    options: req.options,
    remote,
    local,
    ...extra,
    get signal() {
      return recordSignal(record);
    },
  });
  let start: PreparedTransfer['start'];
  let negotiated: NegotiatedOptions;
  let dispose: () => void = ignore;
  if (req.opcode === Opcode.RRQ) {
    let result: Awaited<ReturnType<ReadHandler>>;
    try {
      result = await opts.handler(transferRequest({}) satisfies ReadRequest);
    } catch (err) {
      refuse(err, 'read handler');
      return undefined;
    }
    record.context = contextOf(result);
    // A stream or content handle the handler gave is ours to release exactly once on every
    // way out below (it may hold a file descriptor that nothing else would close); once the
    // session runs, its block source releases it.
    const handed = result;
    dispose = () => {
      dispose = ignore;
      releaseResult(handed);
    };
    if (record.ended) {
      dispose();
      return undefined;
    }
    let content: ReturnType<typeof prepareContent>;
    try {
      content = prepareContent(result, netascii);
      if (content.kind === 'content' && content.size === undefined && !netascii && 'tsize' in req.options) {
        // Content still arriving: tsize is answered once the upstream has said its size.
        content = { ...content, size: await content.content.whenSized(recordSignal(record)) };
        if (record.ended) {
          dispose();
          return undefined;
        }
      }
      negotiated = negotiateOptions(req.options, {
        direction: 'read',
        size: content.size,
        limits: config.limits,
        policy,
        defaultRollover: config.rollover,
      });
    } catch (err) {
      dispose();
      throw err;
    }
    const n = negotiated;
    const prepared = content;
    start = (transport, observer) =>
      new ReadSession(
        transport,
        toBlockSource(prepared, n.blksize, n.windowsize, netascii),
        n,
        timingFor(config, n),
        observer,
      );
  } else {
    negotiated = negotiateOptions(req.options, {
      direction: 'write',
      limits: config.limits,
      policy,
      defaultRollover: config.rollover,
    });
    const writeReq: WriteRequest = transferRequest({ size: negotiated.tsize });
    let sink: Awaited<ReturnType<WriteHandler>>;
    try {
      sink = await opts.writeHandler!(writeReq);
    } catch (err) {
      refuse(err, 'write handler');
      return undefined;
    }
    record.context = contextOf(sink);
    const accepted = sink;
    dispose = () => accepted.abort?.(new ClosedError('server closed'));
    if (record.ended) {
      dispose();
      return undefined;
    }
    const n = negotiated;
    start = (transport, observer) =>
      new WriteSession(transport, sink, n, netascii, timingFor(config, n), observer);
  }
  return { negotiated, start, dispose: () => dispose() };
}

/**
 * Run an admitted request: ask its handler, open its transport, start its session. A throw
 * (an unusable result, a failed negotiation, no transfer socket) is the caller's to refuse.
 */
export async function runTransfer(
  host: TransferHost,
  record: SessionRecord,
  req: RequestPacket,
): Promise<void> {
  // The settings in force when the request was admitted: a configure() during the handler's
  // await must not change what this transfer negotiates.
  const refuse = (err: unknown, what: string) => refuseRecord(host, record, err, what);
  const prepared = await prepareTransfer(record, req, host.config, host.opts, refuse);
  if (prepared === undefined) return;
  const { negotiated, dispose } = prepared;
  record.granted = negotiated.oack;
  let transport: Transport;
  try {
    transport = await openTransport(record, host);
  } catch (err) {
    dispose();
    throw err;
  }
  if (record.ended) {
    dispose();
    return;
  }
  record.transport = transport;
  host.sockets.closeIfDrained(record.listener);
  const session = prepared.start(transport, observerFor(host, record));
  if (session instanceof ReadSession) session.allowRequestBytes(record.requestBytes);
  record.session = session;
  host.emit('transferStart', {
    filename: req.filename,
    mode: req.mode as 'octet' | 'netascii',
    remote: record.remote,
    direction: req.opcode === Opcode.RRQ ? 'read' : 'write',
    options: negotiated.oack,
    blksize: negotiated.blksize,
    windowsize: negotiated.windowsize,
    ...(record.context !== undefined && { context: record.context }),
  } satisfies TransferInfo);
  session.start();
}

/** The `context` a handler's result carries, if it is an object that has one. */
function contextOf(result: unknown): unknown {
  return typeof result === 'object' && result !== null && !(result instanceof Uint8Array)
    ? (result as { context?: unknown }).context
    : undefined;
}
