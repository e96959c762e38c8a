import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';

// Compare-and-act on the lease's token, so a replica never renews or frees a lease that
// expired and was taken by another one meanwhile.
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/** Grace before a lease whose fills all failed is freed: the resolver may still record "not found". */
const RELEASE_GRACE_MS = 100;

interface Held {
  readonly token: string;
  /** Fills running under this lease (the resolver may ask several clusters at once). */
  fills: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Fleet-wide single flight: the replica that takes a name's lease (`SET NX PX`) fetches it from
 * the cluster; the others wait for what it publishes. The lease is renewed every third of its
 * lifetime while a fill runs, so a replica that dies mid-fetch loses it within `leaseMs` and
 * another one takes over.
 */
export class FleetLeases {
  readonly #held = new Map<string, Held>();
  readonly #id = randomBytes(6).toString('hex');
  #seq = 0;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly leaseMs: number,
    private readonly onReleased: (name: string) => void,
  ) {}

  /** True when this replica holds `name`'s lease. */
  holds(name: string): boolean {
    return this.#held.has(name);
  }

  get size(): number {
    return this.#held.size;
  }

  /** Takes `name`'s lease when free; true when this replica now fetches it. */
  async acquire(name: string): Promise<boolean> {
    if (this.#held.has(name)) return true;
    const token = `${this.#id}:${++this.#seq}`;
    const ok = await this.redis.set(this.keys.lease(name), token, 'PX', this.leaseMs, 'NX');
    if (ok !== 'OK') return false;
    if (this.#held.has(name)) return true; // taken twice in the same turn: keep the first
    // Until a fill starts, the lease lives only its first lifetime (the request may end here).
    const held: Held = { token, fills: 0, timer: undefined };
    held.timer = setTimeout(() => this.#forget(name, held), this.leaseMs).unref();
    this.#held.set(name, held);
    return true;
  }

  /** A fill of `name` starts: keep the lease alive while it runs. */
  fillStarted(name: string): void {
    const held = this.#held.get(name);
    if (!held) return;
    held.fills++;
    if (held.fills === 1) {
      clearTimeout(held.timer);
      held.timer = setInterval(
        () => {
          this.redis.eval(RENEW, 1, this.keys.lease(name), held.token, this.leaseMs).catch(() => {});
        },
        Math.max(10, Math.floor(this.leaseMs / 3)),
      ).unref();
    }
  }

  /** A fill ended; with `outcome` the name is settled (published), otherwise freed after a grace. */
  fillEnded(name: string, settled: boolean): void {
    const held = this.#held.get(name);
    if (!held) return;
    held.fills = Math.max(0, held.fills - 1);
    if (settled) return void this.release(name);
    if (held.fills > 0) return;
    clearInterval(held.timer);
    held.timer = setTimeout(() => this.release(name), RELEASE_GRACE_MS).unref();
  }

  /** Frees `name`'s lease now (published, or nothing more will come). */
  release(name: string): void {
    const held = this.#held.get(name);
    if (!held) return;
    this.#forget(name, held);
    this.redis
      .eval(RELEASE, 1, this.keys.lease(name), held.token)
      .then(() => this.onReleased(name))
      .catch(() => {});
  }

  /** Stops renewing everything (on close); the leases expire on their own. */
  clear(): void {
    for (const [name, held] of [...this.#held]) this.#forget(name, held);
  }

  #forget(name: string, held: Held): void {
    clearTimeout(held.timer);
    clearInterval(held.timer);
    if (this.#held.get(name) === held) this.#held.delete(name);
  }
}
