/**
 * Whether a request starts a transfer, as pure decisions over what the server knows when it
 * arrives: no socket, no clock, no table is touched here, so every rule is testable with plain
 * values. The server gathers the facts (its token buckets and table), then acts on the answer.
 */
import {
  AccessViolationError,
  ClosedError,
  LimitError,
  type MalformedPacketError,
  ProtocolError,
  type PtftpError,
  TftpErrorCode,
} from './errors.js';
import { Opcode, type Packet, type RequestPacket } from './packet.js';

/** What admission looks at for a new request. */
export interface AdmissionInput {
  readonly opcode: 'RRQ' | 'WRQ';
  readonly mode: string;
  /** The file asked for (named in a refusal). */
  readonly filename?: string;
  /** The source address (IPv4 peers of a dual-stack socket as IPv4). */
  readonly source: string;
  /** The server is closing. */
  readonly closing: boolean;
  /** The source's token bucket gave a token for this request (per-source request rate). */
  readonly withinRate: boolean;
  /** A write handler is configured. */
  readonly writable: boolean;
  /** Transfers running, all sources, and their ceiling. */
  readonly sessions: number;
  readonly maxSessions: number;
  /** Transfers running for this source, and their ceiling. */
  readonly fromSource: number;
  readonly maxSessionsPerSource: number;
}

/**
 * Admitted, or refused with the error that says why. `answer` tells whether the refusal goes
 * on the wire as an ERROR; a request over its rate gets silence, so that a spoofed flood
 * cannot turn the server into a reflector.
 */
export type Admission =
  | { readonly admit: true }
  | { readonly admit: false; readonly error: PtftpError; readonly answer: boolean };

const ADMIT: Admission = { admit: true };

/**
 * Admit a request or refuse it, checking in order: closing, the source's request rate, the
 * mode, a write without a write handler, the server's transfer ceiling, the source's.
 *
 * @example
 * ```ts
 * const a = admitRequest({ opcode: 'RRQ', mode: 'octet', source: '192.0.2.1', closing: false,
 *   withinRate: true, writable: false, sessions: 2048, maxSessions: 2048, fromSource: 0,
 *   maxSessionsPerSource: 128 });
 * // { admit: false, answer: true, error: LimitError('maxSessions', 'server busy: ...') }
 * ```
 */
export function admitRequest(input: AdmissionInput): Admission {
  const refuse = (error: PtftpError, answer = true): Admission => ({ admit: false, error, answer });
  if (input.closing) return refuse(new ClosedError('server is shutting down'));
  if (!input.withinRate)
    // Silence, not an ERROR: a spoofed flood must not turn this server into a reflector.
    return refuse(
      new LimitError('newSessionsPerSecondPerSource', `${input.source} is over its request rate`),
      false,
    );
  if (input.mode === 'mail')
    return refuse(new ProtocolError('mode "mail" is not supported', TftpErrorCode.IllegalOperation));
  if (input.opcode === 'WRQ' && !input.writable)
    return refuse(new AccessViolationError(input.filename ?? '', 'write requests are not accepted'));
  if (input.sessions >= input.maxSessions)
    return refuse(new LimitError('maxSessions', `server busy: ${input.maxSessions} transfers running`));
  if (input.fromSource >= input.maxSessionsPerSource)
    return refuse(
      new LimitError(
        'maxSessionsPerSource',
        `${input.fromSource} transfers already running for ${input.source}`,
      ),
    );
  return ADMIT;
}

/**
 * The ERROR code for a request the codec could not parse: refused, not ignored. A name or mode
 * we cannot read is an access violation (a NUL inside a name shows up as a bad mode); the
 * rest is an illegal operation.
 */
export function malformedRequestCode(err: MalformedPacketError): TftpErrorCode {
  return err.field === 'filename' || err.field === 'mode'
    ? TftpErrorCode.AccessViolation
    : TftpErrorCode.IllegalOperation;
}

/** A datagram's first two bytes name a request (RRQ or WRQ). */
export function isRequestOpcode(msg: Buffer): boolean {
  return msg.length >= 2 && msg[0] === 0 && (msg[1] === Opcode.RRQ || msg[1] === Opcode.WRQ);
}

/**
 * What a packet on the listening socket means when its address and port already have a
 * transfer there:
 * - `repeat`: the same request again (a lost OACK or DATA 1): it raises the reflection
 *   allowance; no second transfer starts.
 * - `transfer`: a packet of the running transfer (single-port mode delivers it there).
 * - `drop-waiting`: another file, while the first request still waits for its handler: the
 *   client gave up on it, so it is dropped unanswered (its answer would reach the client as
 *   the first DATA of the file it asks for now). Then the new request is admitted.
 * - `supersede`: another file in single-port mode, where transfers are told apart by the
 *   peer's port only: the new request replaces the running transfer.
 * - `alongside`: another file with a port per transfer: both run (the old one ends on its
 *   own, or on the client's ERROR 5), so a forged request cannot cut a transfer short.
 */
export type KnownPeerAction = 'repeat' | 'transfer' | 'drop-waiting' | 'supersede' | 'alongside';

/**
 * Classify a decoded packet from a peer that has a transfer on this listening socket: the one
 * for `filename` by `opcode`, `started` once its handler answered and its session runs.
 */
export function knownPeerAction(
  packet: Packet,
  filename: string,
  opcode: RequestPacket['opcode'],
  started: boolean,
  single: boolean,
): KnownPeerAction {
  const isRequest = packet.opcode === Opcode.RRQ || packet.opcode === Opcode.WRQ;
  if (!isRequest) return 'transfer';
  if (packet.filename === filename && packet.opcode === opcode) return 'repeat';
  if (!started) return 'drop-waiting';
  return single ? 'supersede' : 'alongside';
}
