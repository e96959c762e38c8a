/**
 * Timing and retry settings that every session runs with, resolved from the server options
 * and the client's `timeout` option.
 */
export interface SessionTiming {
  /** Wait for an answer before sending again. */
  readonly retransmitTimeoutMs: number;
  /** Retransmissions in a row without progress before the transfer fails. */
  readonly retries: number;
  /** Retransmissions before the peer's first answer (bounds what a spoofed source gets). */
  readonly firstAckRetries: number;
  /**
   * Bytes an OACK and its resends may total before the peer's first ACK, per byte of request
   * received (RFC 2347 reflection bound); the first OACK always goes out.
   */
  readonly maxAmplification: number;
  /** Time without progress after which the transfer fails, whatever the retransmit settings. */
  readonly inactivityTimeoutMs: number;
  /** Whole-transfer deadline, or undefined for none. */
  readonly transferDeadlineMs: number | undefined;
}

/** How a session reports its end to the server. */
export interface SessionObserver {
  complete(counters: SessionCounters): void;
  fail(err: import('./errors.js').PtftpError, counters: SessionCounters): void;
  /** The session no longer needs its transport (after a write's dally period). */
  released(): void;
}

/** Counters a session keeps for the `transferComplete` event. */
export interface SessionCounters {
  bytes: number;
  blocks: number;
  retransmissions: number;
}
