/**
 * The download state machine (RRQ): request, option negotiation, in-order DATA with RFC 7440
 * windows, block-number rollover, and the timeout-only retransmission of ACKs.
 */
import { acceptOack, type ResolvedOptions, requestOptions } from './client-options.js';
import { ClientSession, remoteError } from './client-session.js';
import type { ReadSink } from './client-sink.js';
import {
  LimitError,
  type OptionNegotiationError,
  ProtocolError,
  SizeMismatchError,
  TftpErrorCode,
} from './errors.js';
import { NetasciiDecoder } from './netascii.js';
import {
  type DataPacket,
  type ErrorPacket,
  encodeAck,
  encodeError,
  encodeRequest,
  type OackPacket,
  Opcode,
  type Packet,
  type TftpOptions,
} from './packet.js';

export class ReadSession extends ClientSession {
  readonly #sink: ReadSink;
  #requested: TftpOptions;
  #started = false;
  #retriedWithoutOptions = false;
  #blksize = 512;
  #windowsize = 1;
  #tsize: number | undefined;
  #rollover: 0 | 1 = 0;
  /** Wire number of the block we wait for. */
  #expected = 1;
  /** Wire number of the last block we acknowledged. */
  #lastAck = 0;
  /** In-order blocks since the last ACK (RFC 7440: ACK once per window). */
  #inWindow = 0;
  /**
   * `#expected` at the time we last answered an out-of-order or duplicate DATA. One answer
   * per position: more would be an ACK storm (the receiver half of Sorcerer's Apprentice).
   */
  #answeredAt = -1;
  /** The sink asked us to slow down; the ACK that ends the window waits in #held. */
  #paused = false;
  #held = false;
  #wireBytes = 0;
  #bytes = 0;
  readonly #decoder: NetasciiDecoder | undefined;

  constructor(target: { host: string; port: number }, filename: string, o: ResolvedOptions, sink: ReadSink) {
    super(target, filename, o);
    this.#sink = sink;
    this.#requested = requestOptions(o, 'read', undefined);
    this.#decoder = o.mode === 'netascii' ? new NetasciiDecoder() : undefined;
    sink.onResume = this.#onResume;
    sink.onCancel = this.#onCancel;
  }

  /** Send the RRQ. Call after open(). */
  start(): void {
    this.#sendRrq();
    this.touch();
  }

  protected onPacket(p: Packet, port: number): void {
    switch (p.opcode) {
      case Opcode.DATA:
        this.#onData(p, port);
        return;
      case Opcode.OACK:
        this.#onOack(p, port);
        return;
      case Opcode.ERROR:
        this.#onError(p);
        return;
      default:
        // ACK/RRQ/WRQ have no meaning for a reader; a late or confused packet, not fatal.
        return;
    }
  }

  protected retransmit(): void {
    if (!this.#started) this.#sendRrq();
    else this.send(encodeAck(this.#lastAck));
  }

  protected describeSilence(): string {
    const n = this.o.retries + 1;
    const tries = n === 1 ? '1 try' : `${n} tries, ${this.o.retransmitTimeoutMs} ms apart`;
    if (!this.#started)
      return `no answer from ${this.host}:${this.port} to a read request for "${this.filename}" (${tries})`;
    return `${this.host}:${this.tid} stopped sending "${this.filename}" after ${this.#bytes} bytes (${tries})`;
  }

  protected settle(err: Error | undefined): void {
    if (err) this.#sink.fail(err);
    else this.#sink.end();
  }

  #sendRrq(): void {
    this.sendRequest(encodeRequest(Opcode.RRQ, this.filename, this.o.mode, this.#requested));
  }

  #begin(port: number, oack: TftpOptions): void {
    this.tid = port;
    this.#started = true;
    if (this.o.maxBytes !== undefined && this.#tsize !== undefined && this.o.mode === 'octet') {
      if (this.#tsize > this.o.maxBytes) {
        this.#failLimit(this.#tsize);
        return;
      }
    }
    const info = {
      blksize: this.#blksize,
      windowsize: this.#windowsize,
      tsize: this.#tsize,
      oack,
      remotePort: port,
      retriedWithoutOptions: this.#retriedWithoutOptions,
    };
    this.#sink.start(info);
    this.o.onNegotiated?.(info);
  }

  #onOack(p: OackPacket, port: number): void {
    if (this.#started) {
      // Our ACK 0 was lost and the server repeats its OACK: answer once, like a duplicate DATA.
      if (this.#expected === 1 && this.#lastAck === 0 && this.#answeredAt !== 1) {
        this.#answeredAt = 1;
        this.send(encodeAck(0));
      }
      return;
    }
    this.tid = port;
    try {
      const g = acceptOack(this.#requested, p.options, 'read');
      this.#blksize = g.blksize;
      this.#windowsize = g.windowsize;
      this.#tsize = g.tsize;
      this.#rollover = g.rollover;
    } catch (err) {
      const e = err as OptionNegotiationError;
      this.fail(e, encodeError(TftpErrorCode.OptionNegotiation, e.message));
      return;
    }
    this.#begin(port, p.options);
    if (this.closed) return;
    this.#lastAck = 0;
    this.send(encodeAck(0));
    this.touch();
  }

  #onError(p: ErrorPacket): void {
    if (
      !this.#started &&
      p.errorCode === TftpErrorCode.OptionNegotiation &&
      !this.#retriedWithoutOptions &&
      Object.keys(this.#requested).length > 0
    ) {
      // RFC 2347: a server may refuse options with ERROR 8; ask once more the RFC 1350 way.
      this.#retriedWithoutOptions = true;
      this.#requested = {};
      this.#sendRrq();
      this.touch();
      return;
    }
    this.fail(remoteError(this.filename, p));
  }

  #onData(p: DataPacket, port: number): void {
    if (!this.#started) {
      // No OACK: the server ignored our options (RFC 2347 allows it) and uses RFC 1350 rules.
      if (p.block !== 1) return;
      this.#begin(port, {});
      if (this.closed) return;
    }
    if (p.block === this.#expected) {
      this.#accept(p);
      return;
    }
    if (this.#held || this.#answeredAt === this.#expected) return;
    // A gap (RFC 7440) or a repeat of blocks we already have: tell the sender where we are,
    // once, so it restarts from the first block we miss.
    this.#answeredAt = this.#expected;
    this.#ackInOrder();
  }

  #accept(p: DataPacket): void {
    const n = p.data.length;
    if (n > this.#blksize) {
      const e = new ProtocolError(`DATA ${p.block} carries ${n} bytes, over the block size ${this.#blksize}`);
      this.fail(e, encodeError(TftpErrorCode.IllegalOperation, e.message));
      return;
    }
    this.#wireBytes += n;
    const chunk = this.#decoder ? this.#decoder.write(p.data) : p.data;
    this.#bytes += chunk.length;
    if (this.o.maxBytes !== undefined && this.#bytes > this.o.maxBytes) {
      this.#failLimit(this.#bytes);
      return;
    }
    if (chunk.length > 0 && !this.#sink.write(chunk)) this.#paused = true;
    const block = p.block;
    let next = (block + 1) & 0xffff;
    if (next === 0 && this.#rollover === 1) next = 1;
    this.#expected = next;
    this.#answeredAt = -1;
    this.#inWindow++;
    this.touch();
    this.o.onProgress?.(this.#bytes, this.#tsize);
    if (n < this.#blksize) {
      this.#complete(block);
      return;
    }
    if (this.#inWindow >= this.#windowsize) {
      if (this.#paused) {
        this.#held = true;
        this.pauseTimer();
        return;
      }
      this.#inWindow = 0;
      this.#lastAck = block;
      this.send(encodeAck(block));
    }
  }

  /** The short block arrived: flush, check the size, ACK it and close. */
  #complete(block: number): void {
    if (this.#decoder) {
      const tail = this.#decoder.end();
      if (tail.length > 0) {
        this.#bytes += tail.length;
        this.#sink.write(tail);
      }
    }
    const ack = encodeAck(block);
    // tsize counts the file's octets; in netascii mode servers disagree on what it counts.
    if (this.o.mode === 'octet' && this.#tsize !== undefined && this.#wireBytes !== this.#tsize) {
      // The ACK still goes out so the server ends cleanly; the caller gets the error.
      this.fail(new SizeMismatchError(this.#tsize, this.#wireBytes), ack);
      return;
    }
    this.finish(ack);
  }

  /** ACK the last block received in order, and start a new window after it. */
  #ackInOrder(): void {
    let last = (this.#expected - 1) & 0xffff;
    if (this.#expected === 1 && this.#rollover === 1 && this.#wireBytes > 0) last = 65535;
    this.#lastAck = last;
    this.#inWindow = 0;
    this.send(encodeAck(last));
  }

  #failLimit(bytes: number): void {
    const e = new LimitError(
      'maxBytes',
      `download of "${this.filename}" reaches ${bytes} bytes, over ${this.o.maxBytes}`,
    );
    this.fail(e, encodeError(TftpErrorCode.DiskFull, 'file exceeds the allowed size'));
  }

  #onResume = (): void => {
    this.#paused = false;
    if (!this.#held || this.closed) return;
    this.#held = false;
    this.#ackInOrder();
    this.touch();
  };

  #onCancel = (): void => {
    this.cancel('download cancelled by the reader');
  };
}
