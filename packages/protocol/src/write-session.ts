/**
 * The receiving side of one write transfer (WRQ): OACK or ACK 0, then DATA acknowledged per
 * window (RFC 7440 receiver; lockstep when windowsize is 1). Bytes go to the handler's sink in
 * order; the last ACK is sent only once the sink has committed the file.
 */
import { sequenceOf, wireBlock } from './block-numbers.js';
import {
  AbortedError,
  isPtftpError,
  ProtocolError,
  type PtftpError,
  TftpErrorCode,
  TftpRemoteError,
  TimeoutError,
  type WireError,
  wireErrorOf,
} from './errors.js';
import type { WriteSink } from './handler.js';
import { NetasciiDecoder } from './netascii.js';
import type { NegotiatedOptions } from './options.js';
import { encodeAck, encodeError, encodeOack, Opcode, type Packet } from './packet.js';
import type { SessionCounters, SessionObserver, SessionTiming } from './session-config.js';
import type { Transport } from './transport.js';

const WRITE_FAILED: WireError = { code: TftpErrorCode.NotDefined, message: 'write failed' };

type State = 'receiving' | 'committing' | 'dallying' | 'done';

/** One WRQ being received. */
export class WriteSession {
  private state: State = 'receiving';
  /** Highest block received in order. */
  private received = 0;
  /** Blocks received since the last ACK. */
  private sinceAck = 0;
  /** An ACK for a gap was sent; do not repeat it for every later block of the same window. */
  private gapAcked = false;
  private verified = false;
  private retriesUsed = 0;
  private lastProgress: number;
  private lastAck: Buffer;
  private readonly timer: NodeJS.Timeout;
  private deadline: NodeJS.Timeout | undefined;
  private readonly counters: SessionCounters = { bytes: 0, blocks: 0, retransmissions: 0 };
  private readonly decoder: NetasciiDecoder | undefined;
  private chain: Promise<void> = Promise.resolve();
  private pendingWrites = 0;
  /** ACK owed to the peer but held back while the sink is behind (backpressure). */
  private heldAck = false;
  private readonly maxPendingWrites: number;

  constructor(
    private readonly transport: Transport,
    private readonly sink: WriteSink,
    private readonly negotiated: NegotiatedOptions,
    netascii: boolean,
    private readonly timing: SessionTiming,
    private readonly observer: SessionObserver,
  ) {
    this.decoder = netascii ? new NetasciiDecoder() : undefined;
    this.maxPendingWrites = negotiated.windowsize * 2 + 8;
    this.lastProgress = performance.now();
    this.lastAck = Object.keys(negotiated.oack).length > 0 ? encodeOack(negotiated.oack) : encodeAck(0);
    this.timer = setTimeout(this.onTimer, timing.retransmitTimeoutMs);
  }

  /** Answer the WRQ: OACK when options were granted, ACK 0 otherwise. */
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
    this.transport.send(this.lastAck);
  }

  handle(packet: Packet): void {
    if (this.state === 'done') return;
    switch (packet.opcode) {
      case Opcode.DATA:
        this.onData(packet.block, packet.data);
        return;
      case Opcode.ERROR:
        this.fail(new TftpRemoteError(packet.errorCode, packet.message), false);
        return;
      case Opcode.WRQ:
        return;
      default:
        this.fail(new ProtocolError(`unexpected opcode ${packet.opcode} in a write transfer`), true);
    }
  }

  abort(err: PtftpError, notifyPeer: boolean): void {
    if (this.state === 'done') return;
    this.fail(err, notifyPeer);
  }

  /** The peer sent a new request from the same port: a finished upload just stops dallying. */
  supersede(): void {
    this.fail(new AbortedError('the client sent a new request'), false);
  }

  private onData(block: number, data: Uint8Array): void {
    const rollover = this.negotiated.rollover;
    if (this.state !== 'receiving') {
      // Our last ACK was lost and the peer resends its last block: acknowledge it again.
      if (this.state === 'dallying' && block === wireBlock(this.received, rollover))
        this.transport.send(this.lastAck);
      return;
    }
    const { blksize, windowsize } = this.negotiated;
    if (data.length > blksize) {
      this.fail(
        new ProtocolError(`DATA block ${block} carries ${data.length} bytes, over blksize ${blksize}`),
        true,
      );
      return;
    }
    const n = sequenceOf(block, this.received, this.received + windowsize, rollover);
    if (n === undefined) {
      // A duplicate of the block we acknowledged last: our ACK was lost, send it again.
      if (block === wireBlock(this.received, rollover) && this.sinceAck === 0)
        this.transport.send(this.lastAck);
      return;
    }
    if (n !== this.received + 1) {
      // RFC 7440: a gap; acknowledge the last block received in order, once per window.
      if (!this.gapAcked) {
        this.gapAcked = true;
        this.sendAck();
      }
      return;
    }
    this.received = n;
    this.sinceAck++;
    this.gapAcked = false;
    this.verified = true;
    this.retriesUsed = 0;
    this.lastProgress = performance.now();
    this.timer.refresh();
    this.counters.blocks++;
    this.counters.bytes += data.length;
    this.write(this.decoder ? this.decoder.write(data) : data);
    // A sink that failed synchronously has ended the session already.
    if (this.state !== 'receiving') return;
    if (data.length < blksize) {
      this.commit();
    } else if (this.sinceAck >= windowsize) {
      this.sendAck();
    }
  }

  private sendAck(): void {
    this.sinceAck = 0;
    if (this.pendingWrites > this.maxPendingWrites) {
      this.heldAck = true;
      return;
    }
    this.lastAck = encodeAck(wireBlock(this.received, this.negotiated.rollover));
    this.transport.send(this.lastAck);
  }

  private write(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.pendingWrites === 0) {
      let result: void | Promise<void>;
      try {
        result = this.sink.write(chunk);
      } catch (err) {
        this.onWriteFailed(err);
        return;
      }
      if (result === undefined || typeof result.then !== 'function') return;
      this.pendingWrites++;
      this.chain = result.then(this.onWritten, this.onWriteFailed);
      return;
    }
    this.pendingWrites++;
    this.chain = this.chain
      .then(() => (this.state === 'done' ? undefined : this.sink.write(chunk)))
      .then(this.onWritten, this.onWriteFailed);
  }

  private readonly onWritten = (): void => {
    this.pendingWrites--;
    if (this.heldAck && this.pendingWrites <= this.maxPendingWrites / 2 && this.state === 'receiving') {
      this.heldAck = false;
      this.sendAck();
    }
  };

  private readonly onWriteFailed = (err: unknown): void => {
    this.pendingWrites--;
    if (this.state === 'done') return;
    // A plain Error's text is for the log (its `cause`); the peer reads "write failed".
    const error = isPtftpError(err) ? err : new AbortedError('write failed', { cause: err });
    this.fail(error, true);
  };

  private commit(): void {
    this.state = 'committing';
    const tail = this.decoder?.end();
    if (tail && tail.length > 0) this.write(tail);
    this.chain
      .then(() => (this.state === 'committing' ? this.sink.end() : undefined))
      .then(
        () => {
          if (this.state !== 'committing') return;
          this.heldAck = false;
          this.lastAck = encodeAck(wireBlock(this.received, this.negotiated.rollover));
          this.transport.send(this.lastAck);
          this.state = 'dallying';
          clearTimeout(this.timer);
          if (this.deadline) clearTimeout(this.deadline);
          this.observer.complete(this.counters);
          // Dally one retransmit period so a lost last ACK can be answered again (RFC 1350 §6).
          setTimeout(this.endDally, this.timing.retransmitTimeoutMs).unref();
        },
        (err: unknown) => this.onWriteFailed(err),
      );
  }

  private readonly endDally = (): void => {
    if (this.state !== 'dallying') return;
    this.stop();
    this.observer.released();
  };

  private readonly onTimer = (): void => {
    if (this.state !== 'receiving') {
      if (this.state === 'committing') this.timer.refresh();
      return;
    }
    if (performance.now() - this.lastProgress >= this.timing.inactivityTimeoutMs) {
      this.fail(new TimeoutError(`no progress for ${this.timing.inactivityTimeoutMs} ms`), this.verified);
      return;
    }
    const budget = this.verified ? this.timing.retries : this.timing.firstAckRetries;
    if (this.retriesUsed >= budget) {
      this.fail(new TimeoutError(`no DATA after ${this.retriesUsed} retransmissions`), this.verified);
      return;
    }
    this.retriesUsed++;
    this.counters.retransmissions++;
    // RFC 7440 receiver timeout: resend the last ACK (or the OACK) so the sender resumes.
    this.sinceAck = 0;
    this.transport.send(this.lastAck);
    this.timer.refresh();
  };

  private fail(err: PtftpError, notifyPeer: boolean): void {
    if (this.state === 'done') return;
    const wasDallying = this.state === 'dallying';
    this.stop();
    if (!wasDallying) {
      if (notifyPeer) {
        // Only an error that opted in (`wire`) speaks for itself: any other is ERROR 0 "write failed".
        const wire = wireErrorOf(err, WRITE_FAILED);
        this.transport.send(encodeError(wire.code, wire.message));
      }
      try {
        this.sink.abort?.(err);
      } catch {
        // The sink's cleanup failing must not hide the transfer's own error.
      }
      this.observer.fail(err, this.counters);
    }
    this.observer.released();
  }

  private stop(): void {
    this.state = 'done';
    clearTimeout(this.timer);
    if (this.deadline) clearTimeout(this.deadline);
  }
}
