/**
 * The remote half of a lookup: one search of the clusters for one name, shared by every request
 * for it. It waits for room in the fetch budget, asks the device's learned cluster first, then
 * the others by the configured strategy (search-strategies.ts); streams the winner's bytes into
 * a cache fill that requests read while it arrives; caches the file and learns the device's
 * cluster once it is complete (unless a flush or a reconfiguration came meanwhile); and
 * re-signs `.sgn` files when the proxy is configured to.
 */
import { createHash } from 'node:crypto';
import { AbortedError, bufferContent, type Content, FileNotFoundError } from '@ptftp/protocol';
import { readAll } from '@ptftp/protocol/internal';
import { deviceOf } from './affinity.js';
import type { Clusters, Topology } from './clusters.js';
import { UpstreamUnreachableError } from './errors.js';
import type { EmitResolverEvent } from './events.js';
import type { FetchBudget, FetchTicket } from './fetch-budget.js';
import { isResignable, type Signer, sgnBody } from './resign.js';
import type { ResolverCache } from './resolver-cache.js';
import type { Settings } from './resolver-settings.js';
import { type Attempt, type FoundAttempt, searchParallel, searchSequential } from './search-strategies.js';
import type { UpstreamReporter, UpstreamResult } from './upstream.js';
import { fetchIntoFill } from './upstream-fill.js';

/** Largest `.sgn` file re-signed (it is read whole): larger ones fail rather than fill memory. */
const MAX_RESIGN_BYTES = 16 * 1024 * 1024;
/** Remote files larger than this are served while they arrive; smaller ones once complete. */
const STREAM_ABOVE_BYTES = 256 * 1024;

/** A remote search's result, shared by every request for the name. */
export interface Fetched {
  /** The file (complete, or still arriving); the fetch holds a reference until `completion`. */
  content: Content;
  clusterId: string;
  address: string | undefined;
  /** Settles once the file is complete and cached (or failed); until then requests join it. */
  completion: Promise<void>;
}

/** What a {@link RemoteFetch} uses of the resolver it works for. */
export interface RemoteFetchHost {
  readonly cache: ResolverCache;
  readonly budget: FetchBudget;
  readonly clusters: Clusters;
  /** Aborted when the resolver closes: a fetch may outlive its search (the file streams on). */
  readonly closing: AbortSignal;
  /** The resolver was closed: nothing is cached any more. */
  closed(): boolean;
  /** Bumped by every flush: a lookup that started before it must not re-fill the cache. */
  flushes(): number;
  readonly emit: EmitResolverEvent;
}

/**
 * Searches the clusters for names, within the fetch budget.
 *
 * @example
 * ```ts
 * const remote = new RemoteFetch({ cache, budget, clusters, closing, closed, flushes, emit });
 * const fetched = await remote.fetch(name, false, clusters.topology, settings, signal);
 * const first = await fetched.content.read(0, 512); // while the rest still arrives
 * ```
 */
export class RemoteFetch {
  readonly #cache: ResolverCache;
  readonly #budget: FetchBudget;
  readonly #clusters: Clusters;
  readonly #closing: AbortSignal;
  readonly #host: RemoteFetchHost;
  readonly #emit: EmitResolverEvent;

  constructor(host: RemoteFetchHost) {
    this.#host = host;
    this.#cache = host.cache;
    this.#budget = host.budget;
    this.#clusters = host.clusters;
    this.#closing = host.closing;
    this.#emit = host.emit;
  }

  get #closed(): boolean {
    return this.#host.closed();
  }

  get #flushes(): number {
    return this.#host.flushes();
  }

  /**
   * A remote search within the fetch budget: it waits for room (bounded), else the request
   * gets "server busy". The room is given back when the file is complete or the search failed.
   */
  async fetch(
    name: string,
    common: boolean,
    topology: Topology,
    settings: Settings,
    signal: AbortSignal,
  ): Promise<Fetched> {
    const ticket = await this.#budget.acquire(signal);
    try {
      return await this.#fetchRemote(name, common, topology, settings, signal, ticket);
    } catch (err) {
      ticket.done();
      throw err;
    }
  }

  /** The whole remote search for one name; shared by every concurrent request for it. */
  async #fetchRemote(
    name: string,
    common: boolean,
    topology: Topology,
    settings: Settings,
    signal: AbortSignal,
    ticket: FetchTicket,
  ): Promise<Fetched> {
    const flushes = this.#flushes;
    const failures: Array<{ address: string; error: unknown }> = [];
    const device = common ? undefined : deviceOf(name);
    let candidates = topology.order;
    let found: Attempt | undefined;

    const learned = device === undefined ? undefined : await this.#cache.affinity(device);
    if (
      device !== undefined &&
      learned !== undefined &&
      topology.upstreams.has(learned) &&
      candidates.includes(learned)
    ) {
      const first = await this.#ask(learned, name, topology, signal, ticket);
      if (first.kind === 'found') found = first;
      else {
        if (first.kind === 'unreachable') failures.push({ address: learned, error: first.error });
        // The phone may have moved: forget, then search everywhere else.
        await this.#cache.forgetAffinity(device);
        this.#emit('affinityMiss', { device, clusterId: learned });
        candidates = candidates.filter((id) => id !== learned);
      }
    }

    if (!found) {
      const ask = (id: string, s: AbortSignal) => this.#ask(id, name, topology, s, ticket);
      const result =
        settings.lookup === 'sequential'
          ? await searchSequential(candidates, signal, ask)
          : await searchParallel(candidates, settings.fanout, signal, ask);
      failures.push(...result.failures);
      found = result.found;
    }

    if (found?.kind !== 'found') {
      if (failures.length > 0) {
        // Some cluster could not be asked: "not found" is not certain. It is neither cached nor
        // said: a phone told "not found" may fall back to its default configuration, so the
        // answer is "unreachable" (front ends say "try again"), never ERROR 1.
        throw new UpstreamUnreachableError(
          failures.map((f) => f.address).join(','),
          failures,
          `no cluster had ${name}, and ${failures.length} could not be asked`,
        );
      }
      if (flushes === this.#flushes) this.#cache.setNegative(name);
      throw new FileNotFoundError(name);
    }

    const winner = found;
    // Not cached when an operator flushed meanwhile (the answer may be the stale state they
    // meant to drop) or the cluster left or changed in a reconfiguration.
    const cacheable = () =>
      !this.#closed &&
      flushes === this.#flushes &&
      this.#clusters.topology.upstreams.get(winner.clusterId) === topology.upstreams.get(winner.clusterId);
    const learn = async () => {
      if (device !== undefined) await this.#cache.learnAffinity(device, winner.clusterId);
    };
    if (settings.signer && isResignable(name)) {
      const signed = await this.#resign(winner, name, settings.signer);
      ticket.done();
      if (cacheable()) {
        await this.#cache.set(name, signed, device === undefined ? {} : { device });
        await learn();
      }
      return {
        content: signed.content,
        clusterId: winner.clusterId,
        address: signed.address,
        completion: Promise.resolve(),
      };
    }
    // The rest of the file arrives in the background; requests read it as it comes.
    const completion = winner.done
      .then(async (res) => {
        const store = cacheable();
        await winner.fill.finish(
          { clusterId: winner.clusterId, address: res.address },
          { store, ...(device !== undefined && { device }) },
        );
        if (store) await learn();
      })
      .catch((err: unknown) => {
        winner.fill.fail(err);
        if (!(err instanceof AbortedError))
          this.#emit('upstreamError', { clusterId: winner.clusterId, address: '', error: err });
      })
      .finally(() => ticket.done());
    // An upstream that answered with the whole file (it ignored the sink) has nothing left to
    // stream; a small file (a configuration, a trust list) is in within a few round trips: both
    // are complete and cached, with their version, before anyone is answered. A large one is
    // served while it arrives: the first phone's first DATA leaves with the upstream's first block.
    const size = winner.fill.content.size;
    if (winner.whole || (size !== undefined && size <= STREAM_ABOVE_BYTES)) await completion;
    return { content: winner.fill.content, clusterId: winner.clusterId, address: winner.address, completion };
  }

  /** Waits for the whole `.sgn` file and re-signs it; the result is a small file in memory. */
  async #resign(
    found: FoundAttempt,
    name: string,
    signer: Signer,
  ): Promise<{ content: Content; size: number; version: string; clusterId: string; address: string }> {
    let res: UpstreamResult;
    let original: Uint8Array;
    // Held while reading: the fill gives its own reference back when it ends.
    const held = found.fill.content.retain();
    try {
      res = await found.done;
      if ((found.fill.content.size ?? found.fill.written) > MAX_RESIGN_BYTES)
        throw new Error(`${name} is larger than ${MAX_RESIGN_BYTES} bytes: not re-signed`);
      await found.fill.finish({ clusterId: found.clusterId, address: res.address }, { store: false });
      original = await readAll(held);
    } catch (err) {
      found.fill.fail(err);
      throw err;
    } finally {
      held.release();
    }
    const data = await signer(await sgnBody(original), name);
    const version = createHash('sha256').update(data).digest('hex').slice(0, 16);
    return {
      content: bufferContent(data, { version }),
      size: data.byteLength,
      version,
      clusterId: found.clusterId,
      address: res.address,
    };
  }

  /**
   * One cluster, one name: found (the file has started to arrive), missing, or unreachable.
   * Rejects only when aborted.
   */
  async #ask(
    clusterId: string,
    name: string,
    topology: Topology,
    requestSignal: AbortSignal,
    ticket: FetchTicket,
  ): Promise<Attempt> {
    const upstream = topology.upstreams.get(clusterId)!;
    let reported = false;
    const reporter: UpstreamReporter = {
      error: (address, error) => {
        reported = true;
        this.#emit('upstreamError', { clusterId, address, error });
      },
      failover: (from, to) => this.#emit('failover', { clusterId, from, to }),
    };
    this.#emit('upstreamFetch', { name, clusterId });
    // In use until the upstream is through with the file, not only until it started.
    const idle = this.#clusters.use(upstream);
    // The fetch may outlive the search (the file streams on): closing the resolver ends it too.
    const signal = AbortSignal.any([requestSignal, this.#closing]);
    const fill = this.#cache.fill(name);
    let done: Promise<UpstreamResult> | undefined;
    try {
      const started = await fetchIntoFill(upstream, name, fill, { signal, reporter, ticket });
      done = started.done;
      return { kind: 'found', clusterId, fill, done, address: started.address, whole: started.whole };
    } catch (err) {
      fill.fail(err);
      if (signal.aborted) throw new AbortedError('fetch aborted', { cause: err });
      if (err instanceof FileNotFoundError) return { kind: 'missing', clusterId };
      if (!reported) {
        const address = err instanceof UpstreamUnreachableError ? (err.attempts.at(-1)?.address ?? '') : '';
        this.#emit('upstreamError', { clusterId, address, error: err });
      }
      return { kind: 'unreachable', clusterId, error: err };
    } finally {
      if (done) done.then(idle, idle);
      else idle();
    }
  }
}
