import { Leases } from '@ptftp/protocol';
import type { AdminEndpoint } from './admin.js';
import type { ProxyConfig } from './config-schema.js';
import { boundAddress, type Frontend, type Rebind, UNCHANGED } from './frontend.js';
import type { InheritedSocket } from './systemd.js';

/** How long an admin endpoint replaced by a reload keeps its requests (the reload's own among them). */
const RETIRED_GRACE_MS = 5000;

/**
 * The admin endpoint as a {@link Frontend}. A reload that moves it (or switches it on or off)
 * binds a fresh endpoint; the replaced one finishes its requests — the `POST /reload` that
 * asked for the move is one of them — and is then let go.
 */
export class AdminFrontend implements Frontend {
  readonly kind = 'admin';
  /** The endpoint serving now (tests reach its socket here). */
  private endpoint: AdminEndpoint;
  #config: ProxyConfig['admin'] | undefined;
  /** Replaced endpoints still closing: each is held until its close ends. */
  readonly #retiring = new Leases<AdminEndpoint>(() => {});

  constructor(
    private readonly make: () => AdminEndpoint,
    private readonly inherited: InheritedSocket | undefined,
  ) {
    this.endpoint = make();
  }

  async listen(config: ProxyConfig): Promise<void> {
    this.#config = config.admin;
    if (this.inherited) await this.endpoint.listen({ fd: this.inherited.fd });
    else if (config.admin.enabled) await this.endpoint.listen(config.admin.listen);
  }

  async rebind(next: ProxyConfig): Promise<Rebind> {
    const cur = this.#config;
    if (this.inherited || !cur || (cur.enabled === next.admin.enabled && cur.listen === next.admin.listen))
      return UNCHANGED;
    const fresh = this.make();
    if (next.admin.enabled) await fresh.listen(next.admin.listen);
    return {
      commit: () => {
        const old = this.endpoint;
        this.endpoint = fresh;
        this.#config = next.admin;
        this.#retiring.retain(old);
        this.#retiring.retire(old);
        void old.close(RETIRED_GRACE_MS).then(() => this.#retiring.release(old));
      },
      rollback: () => void fresh.close(0),
    };
  }

  get bound() {
    const a = this.endpoint.address;
    return a ? [boundAddress('http', a.address, a.port)] : [];
  }

  /** Admin requests are not transfers: they are not counted as sessions. */
  get active(): number {
    return 0;
  }

  /**
   * Close the endpoint at once (its requests are short and a scraper retries) and give those
   * still finishing a reload's move `graceMs` (the shorter grace wins).
   */
  async close(graceMs: number): Promise<void> {
    await Promise.allSettled([
      this.endpoint.close(0),
      ...this.#retiring.takeRetired().map((a) => a.close(graceMs)),
    ]);
  }
}
