/**
 * Replies to stray packets (an ACK, DATA or OACK that belongs to no transfer) are rationed: a
 * spoofed stream of them must not make the server answer one for one, which would turn it into
 * a reflector. tftpd-hpa answers none; here a few still go out, so a real client that lost its
 * transfer learns why instead of waiting out its timeout.
 */
import { SourceRateLimiter } from './rate-limit.js';

/** Default ration: one reply per source per second, 20 per second in all. */
export const STRAY_REPLIES_PER_SOURCE_PER_SECOND = 1;
export const STRAY_REPLIES_PER_SECOND = 20;

/** Decides whether a stray packet gets its ERROR 5 reply. */
export class StrayReplyLimiter {
  readonly #perSource: SourceRateLimiter;
  readonly #total: SourceRateLimiter;

  /**
   * @param perSource - replies per second to one address (0: none at all)
   * @param total - replies per second to all addresses together
   * @param now - clock in ms (replaceable in tests)
   */
  constructor(
    perSource = STRAY_REPLIES_PER_SOURCE_PER_SECOND,
    total = STRAY_REPLIES_PER_SECOND,
    now: () => number = () => performance.now(),
  ) {
    this.#perSource = new SourceRateLimiter(perSource, Math.max(1, perSource), 4096, now);
    this.#total = new SourceRateLimiter(total, Math.max(1, total), 1, now);
  }

  /** True when a reply to `address` fits the ration (and uses it up). */
  allow(address: string): boolean {
    return this.#perSource.take(address) && this.#total.take('*');
  }
}
