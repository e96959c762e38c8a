/**
 * The sending side of one read transfer (RRQ): OACK, then DATA in windows of `windowsize`
 * blocks (RFC 7440; lockstep when 1), driven by ACKs and one timer. It works on typed packets
 * only; bytes come from a BlockSource and leave through a Transport.
 *
 * The per-block path is kept to the send itself: an ACK arrives as a number (no packet
 * object), progress is a timestamp (the timer is not re-armed per block: when it fires early
 * it sleeps for the time left), and DATA headers are written into reused slots.
 */
import { sequenceOf, wireBlock } from './block-numbers.js';
import type { BlockSource } from './block-source.js';
import {
  AbortedError,
  ProtocolError,
  type PtftpError,
  TftpRemoteError,
  TimeoutError,
  wireErrorOf,
} from './errors.js';
import type { NegotiatedOptions } from './options.js';
import { encodeError, encodeOack, Opcode, type Packet, writeDataHeader } from './packet.js';
import type { SessionCounters, SessionObserver, SessionTiming } from './session-config.js';
import type { Transport } from './transport.js';

type State = 'oack' | 'data' | 'done';

/** One RRQ being served. */
export class ReadSession {
  private state: State = 'data';
  /** Highest block the peer acknowledged. */
  private acked = 0;
  /** Highest block sent at least once. */
  private sent = 0;
  /** Next block to send in the current window (ahead of `sent` only while the source is slow). */
  private next = 1;
  private verified = false;
  private retriesUsed = 0;
  /** Request bytes the peer sent so far, and OACK bytes sent to it before its first ACK. */
  private requestBytes = 0;
  private unverifiedBytes = 0;
  private lastProgress = 0;
  private readonly startedAt: number;
  private timer: NodeJS.Timeout;
  /** When the timer was last armed. */
  private timerArmedAt = 0;
  private deadline: NodeJS.Timeout | undefined;
  /** One 4-byte DATA header per window slot, reused: a header is rewritten only after its block was acknowledged. */
  private readonly headers: Buffer[];
  private readonly oackPacket: Buffer | undefined;
  private readonly counters: SessionCounters = { bytes: 0, blocks: 0, retransmissions: 0 };
  private readonly window: number;
  private readonly rollover: 0 | 1;

  constructor(
    private readonly transport: Transport,
    private readonly source: BlockSource,
    negotiated: NegotiatedOptions,
    private readonly timing: SessionTiming,
    private readonly observer: SessionObserver,
  ) {
    this.window = negotiated.windowsize;
    this.rollover = negotiated.rollover;
    // allocUnsafe draws small slabs from the shared pool: no backing store per session.
    const slab = Buffer.allocUnsafe(4 * this.window);
    this.headers = [];
    for (let i = 0; i < this.window; i++) this.headers.push(slab.subarray(i * 4, i * 4 + 4));
    this.oackPacket = Object.keys(negotiated.oack).length > 0 ? encodeOack(negotiated.oack) : undefined;
    this.startedAt = performance.now();
    this.lastProgress = this.startedAt;
    this.timer = this.arm(timing.retransmitTimeoutMs);
    source.onReady = this.onSourceReady;
  }

  /**
   * The peer has sent `total` bytes of request so far (repeats included). Before its first ACK,
   * OACK resends stay within `maxAmplification` times that (RFC 2347 reflection bound).
   */
  allowRequestBytes(total: number): void {
    this.requestBytes = total;
  }

  /** Send the OACK, or the first block when no option was granted. */
  start(): void {
    if (this.timing.transferDeadlineMs !== undefined) {
      this.deadline = setTimeout(
        () =>
          this.fail(
            new TimeoutError(`transfer deadline of ${this.timing.transferDeadlineMs} ms passed`),
            true,
          ),
        this.timing.transferDeadlineMs,
      );
    }
    if (this.oackPacket) {
      this.state = 'oack';
      this.unverifiedBytes += this.oackPacket.length;
      this.transport.send(this.oackPacket);
    } else {
      this.sendWindow();
    }
  }

  /** Dispatch one packet from the peer. */
  handle(packet: Packet): void {
    if (this.state === 'done') return;
    switch (packet.opcode) {
      case Opcode.ACK:
        this.ack(packet.block);
        return;
      case Opcode.ERROR:
        // The peer gave up (or refused the OACK with ERROR 8): end quietly, no ERROR back.
        this.fail(new TftpRemoteError(packet.errorCode, packet.message), false);
        return;
      case Opcode.RRQ:
        // A retransmitted RRQ (single-port mode): the timer already resends what is due.
        return;
      default:
        this.fail(new ProtocolError(`unexpected opcode ${packet.opcode} in a read transfer`), true);
    }
  }

  /** End the transfer from outside (server close, socket error). */
  abort(err: PtftpError, notifyPeer: boolean): void {
    if (this.state === 'done') return;
    this.fail(err, notifyPeer);
  }

  /**
   * The peer sent a new request from the same port: it has moved on. If every block went out,
   * only the last ACK was lost, so the transfer counts as complete; otherwise it ends quietly.
   */
  supersede(): void {
    if (this.state === 'done') return;
    if (this.state === 'data' && this.sent === this.source.lastBlock) this.finish();
    else this.fail(new AbortedError('the client sent a new request'), false);
  }

  /** The peer acknowledged the 16-bit block number `block` (ACK 0 confirms an OACK). */
  ack(block: number): void {
    if (this.state === 'done') return;
    if (this.state === 'oack') {
      // RFC 2347: after an OACK the client confirms with ACK 0; anything else is stale.
      if (block !== 0) return;
      this.state = 'data';
      this.progress();
      this.sendWindow();
      return;
    }
    const n = sequenceOf(block, this.acked, this.sent, this.rollover);
    // A duplicate or stale ACK changes nothing: resending on it is the Sorcerer's Apprentice bug.
    if (n === undefined) return;
    this.acked = n;
    this.source.release(n);
    this.progress();
    if (n === this.source.lastBlock) {
      this.finish();
      return;
    }
    // RFC 7440: an ACK inside the window means the blocks after it were lost; the window moves there.
    if (n < this.sent || this.next <= n) this.next = n + 1;
    this.sendWindow();
  }

  private progress(): void {
    this.verified = true;
    this.retriesUsed = 0;
    // No timer re-arm per block: the timer compares against this when it fires.
    this.lastProgress = performance.now();
  }

  private arm(ms: number): NodeJS.Timeout {
    this.timerArmedAt = performance.now();
    return setTimeout(this.onTimer, ms);
  }

  private sendWindow(): void {
    const end = this.acked + this.window;
    while (this.next <= end) {
      const n = this.next;
      const payload = this.source.block(n);
      if (payload === undefined) {
        if (this.source.error) this.fail(this.source.error, true);
        return;
      }
      const header = this.headers[n % this.window]!;
      writeDataHeader(header, wireBlock(n, this.rollover));
      this.transport.send([header, payload]);
      if (n > this.sent) {
        this.sent = n;
        this.counters.blocks++;
        this.counters.bytes += payload.length;
      }
      this.next = n + 1;
      if (n === this.source.lastBlock) return;
    }
  }

  private readonly onSourceReady = (): void => {
    if (this.state !== 'data') return;
    if (this.source.error && this.source.block(this.next) === undefined) {
      this.fail(this.source.error, true);
      return;
    }
    this.sendWindow();
  };

  private readonly onTimer = (): void => {
    if (this.state === 'done') return;
    const now = performance.now();
    // Progress since the timer was armed: the retransmission timeout counts from that progress.
    if (this.lastProgress > this.timerArmedAt) {
      const left = this.lastProgress + this.timing.retransmitTimeoutMs - now;
      if (left > 1) {
        this.timer = this.arm(left);
        return;
      }
    }
    if (now - this.lastProgress >= this.timing.inactivityTimeoutMs) {
      this.fail(new TimeoutError(`no progress for ${this.timing.inactivityTimeoutMs} ms`), this.verified);
      return;
    }
    if (this.state === 'data' && this.sent === this.acked) {
      // Waiting for the source, not for the peer: nothing to resend, no retry used.
      this.timer = this.arm(this.timing.retransmitTimeoutMs);
      return;
    }
    const budget = this.verified ? this.timing.retries : this.timing.firstAckRetries;
    if (this.retriesUsed >= budget) {
      // An unverified peer may be a spoofed victim: it gets nothing more, not even an ERROR.
      this.fail(new TimeoutError(`no ACK after ${this.retriesUsed} retransmissions`), this.verified);
      return;
    }
    if (
      this.state === 'oack' &&
      this.unverifiedBytes + this.oackPacket!.length > this.requestBytes * this.timing.maxAmplification
    ) {
      // Another OACK would send a possibly spoofed source more than it sent us: stay silent.
      this.fail(new TimeoutError(`no ACK to the OACK within the reflection allowance`), false);
      return;
    }
    this.retriesUsed++;
    this.counters.retransmissions++;
    if (this.state === 'oack') {
      this.unverifiedBytes += this.oackPacket!.length;
      this.transport.send(this.oackPacket!);
    } else {
      // RFC 7440: on timeout, resend the window from the first unacknowledged block.
      this.next = this.acked + 1;
      this.sendWindow();
    }
    this.timer = this.arm(this.timing.retransmitTimeoutMs);
  };

  private finish(): void {
    this.stop();
    this.observer.complete(this.counters);
    this.observer.released();
  }

  private fail(err: PtftpError, notifyPeer: boolean): void {
    this.stop();
    if (notifyPeer) {
      // Only an error that opted in (`wire`) speaks for itself; any other is ERROR 0 "internal error".
      const wire = wireErrorOf(err);
      this.transport.send(encodeError(wire.code, wire.message));
    }
    this.observer.fail(err, this.counters);
    this.observer.released();
  }

  private stop(): void {
    this.state = 'done';
    clearTimeout(this.timer);
    if (this.deadline) clearTimeout(this.deadline);
    this.source.onReady = undefined;
    this.source.close();
  }

  /** Milliseconds since the session was created. */
  elapsedMs(): number {
    return performance.now() - this.startedAt;
  }
}
