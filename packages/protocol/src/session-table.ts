/**
 * The server's table of transfers: every admitted request from its admission to its release,
 * indexed by the listening socket and peer address and port it came from (single-port mode
 * demultiplexes by it, duplicates are found by it), with a count per source address for the
 * per-source limit. A transfer's AbortSignal lives on its record too.
 */
import type dgram from 'node:dgram';
import type { RequestInfo } from './events.js';
import type { RemoteInfo } from './handler.js';
import type { RequestPacket, TftpOptions } from './packet.js';
import type { ReadSession } from './read-session.js';
import type { Listener } from './server-listeners.js';
import type { Transport } from './transport.js';
import type { WriteSession } from './write-session.js';

/** One admitted request and, once its handler answered, its transfer. */
export interface SessionRecord {
  readonly listener: Listener;
  readonly wireAddress: string;
  readonly wirePort: number;
  readonly remote: RemoteInfo;
  readonly info: RequestInfo;
  readonly opcode: RequestPacket['opcode'];
  /** Created when the handler first reads `signal`: an AbortSignal costs about 1 KiB. */
  controller: AbortController | undefined;
  /** Why the transfer ended early, kept for a `signal` read after the fact. */
  abortReason: unknown;
  readonly startedAt: number;
  session: ReadSession | WriteSession | undefined;
  socket: dgram.Socket | undefined;
  transport: Transport | undefined;
  localPort: number;
  granted: TftpOptions;
  ended: boolean;
  /** Bytes of this request the peer sent, repeats included: its reflection allowance. */
  requestBytes: number;
  /** The handler result's `context`, once the handler returned; given back on the events. */
  context: unknown;
}

/** A record for a request just admitted on `listener` from `rinfo`. */
export function newRecord(
  listener: Listener,
  rinfo: dgram.RemoteInfo,
  remote: RemoteInfo,
  info: RequestInfo,
  opcode: RequestPacket['opcode'],
): SessionRecord {
  return {
    listener,
    wireAddress: rinfo.address,
    wirePort: rinfo.port,
    remote,
    info,
    opcode,
    controller: undefined,
    abortReason: undefined,
    startedAt: performance.now(),
    session: undefined,
    socket: undefined,
    transport: undefined,
    localPort: 0,
    granted: {},
    ended: false,
    requestBytes: rinfo.size,
    context: undefined,
  };
}

/** The signal a handler sees: made on first use, already aborted if the transfer ended first. */
export function recordSignal(record: SessionRecord): AbortSignal {
  if (record.controller === undefined) {
    record.controller = new AbortController();
    if (record.abortReason !== undefined) record.controller.abort(record.abortReason);
  }
  return record.controller.signal;
}

export function abortRecordSignal(record: SessionRecord, reason: unknown): void {
  record.abortReason ??= reason;
  record.controller?.abort(reason);
}

/** The running transfers, by listening socket, peer address and port, and count per source. */
export class SessionTable {
  private readonly records = new Set<SessionRecord>();
  private readonly perSource = new Map<string, number>();
  private drainWaiters: Array<() => void> = [];

  /** Transfers running (including a write's short dally after its last ACK). */
  get size(): number {
    return this.records.size;
  }

  /** Transfers running for one source address. */
  fromSource(address: string): number {
    return this.perSource.get(address) ?? 0;
  }

  /** The transfer started on `listener` by this peer address and port, if one runs. */
  lookup(listener: Listener, address: string, port: number): SessionRecord | undefined {
    return listener.sessions.get(address)?.get(port);
  }

  /** Every record, as a copy (aborting one removes it). */
  snapshot(): SessionRecord[] {
    return [...this.records];
  }

  /**
   * Whether `listener` must stay open for its transfers: in single-port mode while any runs on
   * it; with a port per transfer while one still waits for its own socket (a refusal or ERROR
   * for it goes out from the listening socket).
   */
  holds(listener: Listener, single: boolean): boolean {
    for (const ports of listener.sessions.values())
      for (const record of ports.values()) if (single || record.transport === undefined) return true;
    return false;
  }

  add(record: SessionRecord): void {
    this.records.add(record);
    const byAddress = record.listener.sessions;
    let ports = byAddress.get(record.wireAddress);
    if (ports === undefined) {
      ports = new Map();
      byAddress.set(record.wireAddress, ports);
    }
    ports.set(record.wirePort, record);
    this.perSource.set(record.remote.address, (this.perSource.get(record.remote.address) ?? 0) + 1);
  }

  /** Mark `record` ended and drop it from every index; false when it had ended already. */
  delete(record: SessionRecord): boolean {
    if (record.ended) return false;
    record.ended = true;
    this.records.delete(record);
    const ports = record.listener.sessions.get(record.wireAddress);
    if (ports?.get(record.wirePort) === record) {
      ports.delete(record.wirePort);
      if (ports.size === 0) record.listener.sessions.delete(record.wireAddress);
    }
    const count = (this.perSource.get(record.remote.address) ?? 1) - 1;
    if (count <= 0) this.perSource.delete(record.remote.address);
    else this.perSource.set(record.remote.address, count);
    return true;
  }

  /** Wake whoever waits in `drained()` once the table is empty. */
  notifyIfEmpty(): void {
    if (this.records.size === 0 && this.drainWaiters.length > 0) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Resolves when the table is empty or after `graceMs`, whichever comes first. */
  async drained(graceMs: number): Promise<void> {
    if (this.records.size > 0 && graceMs > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, graceMs);
        this.drainWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}
