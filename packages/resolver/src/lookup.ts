/**
 * The lookup order of one request (docs/packages/resolver.md, "Resolution flow"): the local
 * store; then, unless the request came from another proxy, the cache (a file, or a "not
 * found"); then the remote clusters, through one search shared by every request for the name
 * and bounded per requesting address (search-limit.ts).
 */
import { bufferContent, FileNotFoundError } from '@ptftp/protocol';
import type { Topology } from './clusters.js';
import { publishCacheLookup } from './diagnostics.js';
import { LoopRefusedError } from './errors.js';
import type { EmitResolverEvent } from './events.js';
import type { Fetched, RemoteFetch } from './remote-fetch.js';
import type { Resolution } from './resolution.js';
import type { ResolverCache } from './resolver-cache.js';
import type { Settings } from './resolver-settings.js';
import type { SearchLimiter } from './search-limit.js';
import type { SharedFetches } from './shared-fetch.js';
import type { Store } from './store.js';
import { normalizeIp } from './topology.js';

/** What the server knows about one request. */
export interface RequestContext {
  remoteAddress?: string;
  /**
   * The request came from another proxy (a ptftp upstream marks it: TFTP option
   * `ptftp-proxied 1`, HTTP header `X-Ptftp-Proxied: 1`). It is answered from the local store
   * only and never forwarded, so misconfigured proxies cannot loop.
   */
  proxied?: boolean;
  signal?: AbortSignal;
  transport?: 'tftp' | 'http';
}

/** What a {@link Lookup} uses of the resolver it works for. */
export interface LookupHost {
  readonly store: Store;
  readonly cache: ResolverCache;
  readonly shared: SharedFetches<Fetched>;
  readonly searchLimit: SearchLimiter;
  readonly remote: RemoteFetch;
  /** Events that have listeners: the hot path builds no payload nobody reads. */
  readonly listened: ReadonlySet<string>;
  readonly emit: EmitResolverEvent;
  /** Named in the `ptftp:resolver:cache-lookup` messages (the resolver). */
  readonly owner: object;
}

/**
 * Answers one canonical name in the lookup order.
 *
 * @example
 * ```ts
 * const lookup = new Lookup({ store, cache, shared, searchLimit, remote, listened, emit, owner: resolver });
 * const r = await lookup.resolve('SEP001122334455.cnf.xml', {}, settings, clusters.topology, performance.now());
 * ```
 */
export class Lookup {
  readonly #store: Store;
  readonly #cache: ResolverCache;
  readonly #shared: SharedFetches<Fetched>;
  readonly #searchLimit: SearchLimiter;
  readonly #remote: RemoteFetch;
  readonly #listened: ReadonlySet<string>;
  readonly #emit: EmitResolverEvent;
  readonly #owner: object;

  constructor(host: LookupHost) {
    this.#store = host.store;
    this.#cache = host.cache;
    this.#shared = host.shared;
    this.#searchLimit = host.searchLimit;
    this.#remote = host.remote;
    this.#listened = host.listened;
    this.#emit = host.emit;
    this.#owner = host.owner;
  }

  /**
   * `canonical` from the store, the cache or the clusters, with the settings and topology the
   * request started with; `started` is its `performance.now()`, for `durationMs`.
   */
  async resolve(
    canonical: string,
    ctx: RequestContext,
    settings: Settings,
    topology: Topology,
    started: number,
  ): Promise<Resolution> {
    const elapsed = () => performance.now() - started;

    const local = await this.#store.get(canonical, ctx.signal ? { signal: ctx.signal } : undefined);
    if (local) {
      if (this.#listened.has('resolved')) {
        const common = settings.common.matches(canonical);
        this.#emit('resolved', {
          name: canonical,
          source: 'local',
          bytes: local.size,
          durationMs: elapsed(),
          common,
        });
      }
      return {
        name: canonical,
        content: local.content ?? bufferContent(local.data ?? new Uint8Array(0), { version: local.version }),
        size: local.size,
        source: 'local',
        version: local.version,
      };
    }

    if (ctx.proxied || isPeer(ctx.remoteAddress, settings)) {
      this.#emit('loopRefused', { name: canonical, remoteAddress: ctx.remoteAddress });
      this.#emit('notFound', { name: canonical, reason: 'proxied' });
      throw new LoopRefusedError(canonical);
    }

    const hit = await this.#cache.get(canonical);
    publishCacheLookup({
      resolver: this.#owner,
      name: canonical,
      outcome: hit ? (hit.kind === 'file' ? 'hit' : 'negative') : 'miss',
    });
    if (hit?.kind === 'file') {
      const file = hit.file;
      if (this.#listened.has('cacheHit')) this.#emit('cacheHit', { name: canonical });
      if (this.#listened.has('resolved')) {
        this.#emit('resolved', {
          name: canonical,
          source: 'cache',
          clusterId: file.clusterId,
          address: file.address,
          bytes: file.size,
          durationMs: elapsed(),
          common: settings.common.matches(canonical),
        });
      }
      return {
        name: canonical,
        content: file.content,
        size: file.size,
        source: 'cache',
        clusterId: file.clusterId,
        address: file.address,
        version: file.version,
      };
    }
    if (hit?.kind === 'negative') {
      this.#emit('cacheHit', { name: canonical, negative: true });
      this.#emit('notFound', { name: canonical, reason: 'negative-cache' });
      throw new FileNotFoundError(canonical);
    }
    this.#emit('cacheMiss', { name: canonical });
    const common = settings.common.matches(canonical);

    if (this.#shared.has(canonical)) this.#emit('coalesced', { name: canonical });
    let fetched: Fetched;
    try {
      fetched = await this.#shared.run(
        canonical,
        (signal) =>
          this.#searchLimit.run(ctx.remoteAddress, signal, () =>
            this.#remote.fetch(canonical, common, topology, settings, signal),
          ),
        ctx.signal,
      );
    } catch (err) {
      if (err instanceof FileNotFoundError) {
        this.#emit('notFound', { name: canonical, reason: err.cause ? 'unreachable' : 'nowhere' });
      }
      throw err;
    }
    // One reference per request; the fetch keeps its own until the file is complete.
    const content = fetched.content.retain();
    this.#emit('resolved', {
      name: canonical,
      source: 'cluster',
      clusterId: fetched.clusterId,
      address: fetched.address,
      bytes: content.size ?? 0,
      durationMs: elapsed(),
      common,
    });
    return {
      name: canonical,
      content,
      size: content.size,
      source: 'cluster',
      clusterId: fetched.clusterId,
      ...(fetched.address !== undefined && { address: fetched.address }),
      version: content.version,
    };
  }
}

/** The request came from a configured peer proxy. */
function isPeer(remoteAddress: string | undefined, settings: Settings): boolean {
  if (remoteAddress === undefined || settings.peers.size === 0) return false;
  return settings.peers.has(normalizeIp(remoteAddress));
}
