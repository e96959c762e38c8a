/**
 * The per-destination send budget of single-port and port-range mode.
 *
 * With a port per transfer, a blind attacker cannot guess the server's transfer port, so a
 * spoofed ACK never reaches a transfer. On the listening port (single-port mode) or a small
 * range, it can: each forged ACK from a victim's address would make the server send the victim
 * a whole window. Here every datagram sent to an address spends one credit; every datagram
 * received from that address earns `perReceived` credits; an address starts with `initial`
 * credits and holds at most `max`. A send without credit is skipped, as if the network had
 * lost it (the session's retransmission covers a real client). So an address that sends
 * nothing gets at most `initial` datagrams, and one that sends N gets at most
 * `initial + perReceived × N`: bytes out ÷ bytes in stays below
 * `perReceived × (blksize + 4) / 4` plus the first answer, whatever the window (with the
 * defaults and blksize 1428: 358× in UDP payload, 46× on the wire counting IP and UDP headers,
 * against 14,837× / 2,049× without the budget).
 */
import type { Transport } from './transport.js';

/** Credits of {@link SendBudget}. */
export interface SendBudgetOptions {
  /** Datagrams an address gets before it sent anything but its request (default 4). */
  initial?: number;
  /** Datagrams earned by each datagram received from the address (default 1: lockstep). */
  perReceived?: number;
  /** Most credits an address can hold (default 32). */
  max?: number;
  /** Most addresses tracked; the least recently seen is forgotten (default 65536). */
  maxTracked?: number;
}

/**
 * Default credits: one block per ACK (RFC 1350 lockstep, what phones do anyway), four datagrams
 * before the peer's first answer (the first OACK or DATA and its resends), a few resends banked.
 */
export const SEND_BUDGET_DEFAULTS = { initial: 4, perReceived: 1, max: 16 } as const;

/** Datagram credits per destination address. */
export class SendBudget {
  readonly #credits = new Map<string, number>();
  readonly initial: number;
  readonly perReceived: number;
  readonly max: number;
  readonly #maxTracked: number;

  constructor(opts: SendBudgetOptions = {}) {
    this.initial = opts.initial ?? SEND_BUDGET_DEFAULTS.initial;
    this.perReceived = opts.perReceived ?? SEND_BUDGET_DEFAULTS.perReceived;
    this.max = opts.max ?? SEND_BUDGET_DEFAULTS.max;
    this.#maxTracked = opts.maxTracked ?? 65536;
  }

  #get(address: string): number {
    const c = this.#credits.get(address);
    if (c !== undefined) {
      // Re-insert so that Map order is least-recently-seen first.
      this.#credits.delete(address);
      return c;
    }
    if (this.#credits.size >= this.#maxTracked) {
      const oldest = this.#credits.keys().next().value;
      if (oldest !== undefined) this.#credits.delete(oldest);
    }
    return this.initial;
  }

  /** A datagram (other than the request that opened a transfer) arrived from `address`. */
  received(address: string): void {
    this.#credits.set(address, Math.min(this.max, this.#get(address) + this.perReceived));
  }

  /** Spend one credit for a datagram to `address`; false when none is left (skip the send). */
  spend(address: string): boolean {
    const c = this.#get(address);
    if (c < 1) {
      this.#credits.set(address, c);
      return false;
    }
    this.#credits.set(address, c - 1);
    return true;
  }

  /** Credits `address` holds now. */
  creditOf(address: string): number {
    return this.#credits.get(address) ?? this.initial;
  }
}

/** A transport whose sends draw on a {@link SendBudget} for its peer's address. */
export class BudgetedTransport implements Transport {
  readonly localPort: number;
  /** Sends skipped for want of credit. */
  skipped = 0;

  constructor(
    private readonly inner: Transport,
    private readonly budget: SendBudget,
    private readonly peerAddress: string,
  ) {
    this.localPort = inner.localPort;
  }

  send(packet: Buffer | readonly Buffer[]): void {
    if (!this.budget.spend(this.peerAddress)) {
      this.skipped++;
      return;
    }
    this.inner.send(packet);
  }

  close(): void {
    this.inner.close();
  }
}
