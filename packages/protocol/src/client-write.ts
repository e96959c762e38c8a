/**
 * The upload state machine (WRQ): request, OACK or ACK 0, then lockstep DATA/ACK. DATA is
 * resent on timeout only, never on a duplicate ACK (Sorcerer's Apprentice, RFC 1123 §4.2.3.1).
 */
import { acceptOack, type ResolvedOptions, requestOptions } from './client-options.js';
import { ClientSession, remoteError } from './client-session.js';
import type { BlockSource } from './client-source.js';
import { AbortedError, type OptionNegotiationError, SizeMismatchError, TftpErrorCode } from './errors.js';
import {
  type AckPacket,
  type ErrorPacket,
  encodeError,
  encodeRequest,
  type OackPacket,
  Opcode,
  type Packet,
  type TftpOptions,
  writeDataHeader,
} from './packet.js';

export class WriteSession extends ClientSession {
  readonly promise: Promise<{ bytes: number }>;
  #resolve!: (v: { bytes: number }) => void;
  #reject!: (e: Error) => void;
  readonly #source: BlockSource;
  /** Size to check the source against (the caller's `size`), if any. */
  readonly #expectSize: number | undefined;
  #requested: TftpOptions;
  #started = false;
  #retriedWithoutOptions = false;
  #blksize = 512;
  #rollover: 0 | 1 = 0;
  /** Wire number of the DATA in flight (0 before the first). */
  #block = 0;
  #last: Buffer | undefined;
  #final = false;
  /** Waiting for the source: ACKs arriving meanwhile are duplicates. */
  #reading = false;
  #bytes = 0;

  constructor(
    target: { host: string; port: number },
    filename: string,
    o: ResolvedOptions,
    source: BlockSource,
    announce: number | undefined,
    expectSize: number | undefined,
  ) {
    super(target, filename, o);
    this.#source = source;
    this.#expectSize = expectSize;
    this.#requested = requestOptions(o, 'write', announce);
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** Send the WRQ. Call after open(). */
  start(): void {
    this.#sendWrq();
    this.touch();
  }

  protected onPacket(p: Packet, port: number): void {
    switch (p.opcode) {
      case Opcode.ACK:
        this.#onAck(p, port);
        return;
      case Opcode.OACK:
        this.#onOack(p, port);
        return;
      case Opcode.ERROR:
        this.#onError(p);
        return;
      default:
        return;
    }
  }

  protected retransmit(): void {
    if (!this.#started) this.#sendWrq();
    else if (this.#last && !this.#reading) this.send(this.#last);
  }

  protected describeSilence(): string {
    const n = this.o.retries + 1;
    const tries = n === 1 ? '1 try' : `${n} tries, ${this.o.retransmitTimeoutMs} ms apart`;
    if (!this.#started)
      return `no answer from ${this.host}:${this.port} to a write request for "${this.filename}" (${tries})`;
    return `${this.host}:${this.tid} stopped acknowledging "${this.filename}" after ${this.#bytes} bytes (${tries})`;
  }

  protected settle(err: Error | undefined): void {
    this.#source.close();
    if (err) this.#reject(err);
    else this.#resolve({ bytes: this.#bytes });
  }

  #sendWrq(): void {
    this.sendRequest(encodeRequest(Opcode.WRQ, this.filename, this.o.mode, this.#requested));
  }

  #begin(port: number, oack: TftpOptions, tsize: number | undefined): void {
    this.tid = port;
    this.#started = true;
    this.o.onNegotiated?.({
      blksize: this.#blksize,
      windowsize: 1,
      tsize,
      oack,
      remotePort: port,
      retriedWithoutOptions: this.#retriedWithoutOptions,
    });
    this.touch();
    void this.#sendNext();
  }

  #onOack(p: OackPacket, port: number): void {
    if (this.#started) return;
    this.tid = port;
    try {
      const g = acceptOack(this.#requested, p.options, 'write');
      this.#blksize = g.blksize;
      this.#rollover = g.rollover;
      this.#begin(port, p.options, g.tsize);
    } catch (err) {
      const e = err as OptionNegotiationError;
      this.fail(e, encodeError(TftpErrorCode.OptionNegotiation, e.message));
    }
  }

  #onAck(p: AckPacket, port: number): void {
    if (!this.#started) {
      // ACK 0 instead of an OACK: the server ignored our options (RFC 1350 rules apply).
      if (p.block === 0) this.#begin(port, {}, undefined);
      return;
    }
    if (this.#reading || p.block !== this.#block || this.#last === undefined) return;
    this.touch();
    this.o.onProgress?.(this.#bytes, this.#expectSize);
    if (this.#final) this.finish();
    else void this.#sendNext();
  }

  #onError(p: ErrorPacket): void {
    if (
      !this.#started &&
      p.errorCode === TftpErrorCode.OptionNegotiation &&
      !this.#retriedWithoutOptions &&
      Object.keys(this.#requested).length > 0
    ) {
      this.#retriedWithoutOptions = true;
      this.#requested = {};
      this.#sendWrq();
      this.touch();
      return;
    }
    this.fail(remoteError(this.filename, p));
  }

  async #sendNext(): Promise<void> {
    this.#reading = true;
    let chunk: Uint8Array;
    try {
      chunk = await this.#source.read(this.#blksize);
    } catch (err) {
      const e = new AbortedError(`reading the upload source failed: ${(err as Error).message}`, {
        cause: err,
      });
      this.fail(e, encodeError(TftpErrorCode.NotDefined, 'upload source failed'));
      return;
    }
    this.#reading = false;
    if (this.closed) return;
    const final = chunk.length < this.#blksize;
    const consumed = this.#source.consumed;
    if (
      this.#expectSize !== undefined &&
      (consumed > this.#expectSize || (final && consumed !== this.#expectSize))
    ) {
      // Refuse to complete the file rather than leave a wrong one behind on the server.
      this.fail(
        new SizeMismatchError(this.#expectSize, this.#source.consumed),
        encodeError(TftpErrorCode.NotDefined, 'upload size mismatch'),
      );
      return;
    }
    let next = (this.#block + 1) & 0xffff;
    if (next === 0 && this.#rollover === 1) next = 1;
    this.#block = next;
    this.#final = final;
    const packet = Buffer.allocUnsafe(4 + chunk.length);
    writeDataHeader(packet, next);
    packet.set(chunk, 4);
    this.#last = packet;
    this.#bytes += chunk.length;
    this.send(packet);
    this.touch();
  }
}
