/**
 * The events a `TftpServer` emits. Building their payloads costs one object per transfer, never
 * one per packet; nothing is logged from inside the library.
 */
import { EventEmitter } from 'node:events';
import type * as TypedEmitterModule from 'typed-emitter';
import type { MalformedPacketError, PtftpError } from './errors.js';
import type { RemoteInfo } from './handler.js';
import type { TftpOptions } from './packet.js';

/** One bound listening socket. */
export interface ListeningAddress {
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
}

/** A request as it arrived, before any limit or handler decided about it. */
export interface RequestInfo {
  readonly filename: string;
  readonly mode: string;
  readonly options: Readonly<TftpOptions>;
  readonly remote: RemoteInfo;
  readonly opcode: 'RRQ' | 'WRQ';
}

/** A transfer that the handler accepted, with the options the server granted. */
export interface TransferInfo<C = unknown> {
  readonly filename: string;
  readonly mode: 'octet' | 'netascii';
  readonly remote: RemoteInfo;
  readonly direction: 'read' | 'write';
  /** The options granted in the OACK (empty when none was sent). */
  readonly options: Readonly<TftpOptions>;
  readonly blksize: number;
  readonly windowsize: number;
  /** The `context` of the handler's result, if it gave one. */
  readonly context?: C | undefined;
}

/** Counters of a finished transfer. */
export interface TransferStats<C = unknown> {
  readonly filename: string;
  readonly remote: RemoteInfo;
  readonly direction: 'read' | 'write';
  /** Payload bytes on the wire (netascii counted as sent). */
  readonly bytes: number;
  /** DATA blocks sent or received, not counting retransmissions. */
  readonly blocks: number;
  readonly durationMs: number;
  /** Packets sent again after a timeout (DATA, OACK or ACK). */
  readonly retransmissions: number;
  readonly options: Readonly<TftpOptions>;
  /** The `context` of the handler's result, if it gave one. */
  readonly context?: C | undefined;
}

/**
 * The request of a failed transfer. `context` is the handler's, when the handler had returned
 * before the transfer failed; a refusal by the handler itself (a throw) has none.
 */
export interface TransferErrorInfo<C = unknown> extends RequestInfo {
  readonly context?: C | undefined;
}

/** Event map of `TftpServer` (typed-emitter; a type alias, as the emitter needs an index signature). */
export type TftpServerEvents<C = unknown> = {
  listening: (address: ListeningAddress) => void;
  request: (info: RequestInfo) => void;
  transferStart: (info: TransferInfo<C>) => void;
  transferComplete: (stats: TransferStats<C>) => void;
  /** A transfer failed: refused by the handler, timed out, aborted, or ended by the peer. */
  transferError: (err: PtftpError, info: TransferErrorInfo<C>) => void;
  /** A request refused by a limit: answered with ERROR, or dropped silently by the rate limit. */
  requestRefused: (err: PtftpError, info: RequestInfo) => void;
  malformedPacket: (err: MalformedPacketError, remote: RemoteInfo) => void;
  close: () => void;
};

/** Node's EventEmitter typed by an event map (the server's depends on its context type). */
export const TypedEmitter = EventEmitter as new <
  E extends TypedEmitterModule.EventMap,
>() => TypedEmitterModule.default<E>;
