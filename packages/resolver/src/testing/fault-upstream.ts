/**
 * An in-memory upstream that misbehaves on demand: slow, dead, answering with errors,
 * cutting a transfer in the middle, or returning a different size than it holds. For testing
 * what a resolver (or any consumer of {@link Upstream}) does when a remote cluster fails.
 */
import { AbortedError, FileNotFoundError, TftpRemoteError, TimeoutError } from '@ptftp/protocol';
import { UpstreamUnreachableError } from '../errors.js';
import type { Upstream, UpstreamFetchOptions, UpstreamResult } from '../upstream.js';

/**
 * How the upstream misbehaves:
 * - `none`: answers correctly, at once;
 * - `slow`: answers correctly after `delayMs` (default 2000 ms);
 * - `dead`: never answers; rejects with `UpstreamUnreachableError` after `delayMs`
 *   (default 1000 ms, the time a real upstream would spend timing out), or earlier on abort;
 * - `error`: rejects at once with `error` (default: an `UpstreamUnreachableError` saying the
 *   server failed);
 * - `cut`: starts the transfer and loses it after `delayMs`: rejects with
 *   `UpstreamUnreachableError` whose cause names the bytes received, as a correct upstream
 *   does when a transfer is cut;
 * - `size-mismatch`: resolves with `sizeDelta` bytes more (or fewer) than the file holds: a
 *   broken upstream that breaks the "never a partial file" rule, to test that a consumer or a
 *   compliance suite notices.
 */
export type UpstreamFault = 'none' | 'slow' | 'dead' | 'error' | 'cut' | 'size-mismatch';

export interface FaultUpstreamOptions {
  /** The upstream's ID (a cluster ID). */
  id: string;
  /** The files it holds. Names not here get `FileNotFoundError` (unless the fault fires first). */
  files: ReadonlyMap<string, Uint8Array> | Readonly<Record<string, Uint8Array | string>>;
  /** The fault, or a function choosing one per fetch (`attempt` counts this upstream's fetches from 0). */
  fault?: UpstreamFault | ((name: string, attempt: number) => UpstreamFault);
  /** Delay of `slow`, `dead` and `cut` (`none`, `error` and `size-mismatch` answer at once). */
  delayMs?: number;
  /** The error thrown by `error`. */
  error?: Error;
  /** Bytes added (positive) or removed (negative) by `size-mismatch`. Default -1. */
  sizeDelta?: number;
  /** The address reported in results and errors. Default `fault://<id>`. */
  address?: string;
  /** Keep every fetched name in `calls` (default true); turn off for memory measurements. */
  recordCalls?: boolean;
}

/** A {@link Upstream} with counters for assertions. */
export interface FaultUpstream extends Upstream {
  /** Every fetch so far, in call order (empty when `recordCalls` is false). */
  readonly calls: readonly string[];
  /** Fetches so far. */
  readonly callCount: number;
  /** Fetches running now. */
  readonly inFlight: number;
  /** Most fetches that ran at once. */
  readonly maxInFlight: number;
  /** Fetches that resolved with data. */
  readonly served: number;
  /** Change the fault from now on (fetches already running keep theirs). */
  setFault(fault: NonNullable<FaultUpstreamOptions['fault']>): void;
}

const DEFAULT_DELAY: Record<UpstreamFault, number> = {
  none: 0,
  slow: 2000,
  dead: 1000,
  error: 0,
  cut: 50,
  'size-mismatch': 0,
};

function toBytes(v: Uint8Array | string): Uint8Array {
  return typeof v === 'string' ? Buffer.from(v) : v;
}

/** Wait `ms`, or reject with `AbortedError` as soon as `signal` fires; leaves no timer behind. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted)
    return Promise.reject(new AbortedError('upstream fetch aborted', { cause: signal.reason }));
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError('upstream fetch aborted', { cause: signal.reason }));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Create an upstream that fails the way `fault` says.
 *
 * @example
 * ```ts
 * const dead = createFaultUpstream({ id: 'cluster-b', files: {}, fault: 'dead', delayMs: 200 });
 * const flaky = createFaultUpstream({
 *   id: 'cluster-c',
 *   files: { 'SEP001122334455.cnf.xml': '<device/>' },
 *   fault: (_name, attempt) => (attempt === 0 ? 'cut' : 'none'),
 * });
 * const resolver = new Resolver(init, { store, upstreamFactory: (c) => (c.id === 'cluster-b' ? dead : flaky) });
 * ```
 */
export function createFaultUpstream(opts: FaultUpstreamOptions): FaultUpstream {
  const files = new Map<string, Uint8Array>();
  if (opts.files instanceof Map) for (const [k, v] of opts.files) files.set(k, v);
  else for (const [k, v] of Object.entries(opts.files)) files.set(k, toBytes(v as Uint8Array | string));
  const address = opts.address ?? `fault://${opts.id}`;
  let fault = opts.fault ?? 'none';
  const calls: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let served = 0;
  let callCount = 0;
  const unreachable = (why: Error) => new UpstreamUnreachableError(opts.id, [{ address, error: why }]);

  const run = async (name: string, kind: UpstreamFault, signal: AbortSignal): Promise<UpstreamResult> => {
    const delay =
      kind === 'slow' || kind === 'dead' || kind === 'cut' ? (opts.delayMs ?? DEFAULT_DELAY[kind]) : 0;
    switch (kind) {
      case 'dead':
        await sleep(delay, signal);
        throw unreachable(new TimeoutError(`${address}: no answer`));
      case 'error':
        throw opts.error ?? unreachable(new TftpRemoteError(0, `${address}: server error`));
      default:
        break;
    }
    await sleep(delay, signal);
    const data = files.get(name);
    if (!data) throw new FileNotFoundError(name);
    if (kind === 'cut') {
      const got = Math.floor(data.length / 2);
      throw unreachable(new TimeoutError(`${address}: transfer cut after ${got} bytes`));
    }
    if (kind === 'size-mismatch') {
      const delta = opts.sizeDelta ?? -1;
      const wrong =
        delta < 0
          ? data.subarray(0, Math.max(0, data.length + delta))
          : Buffer.concat([data, Buffer.alloc(delta, 0x20)]);
      return { data: wrong, address };
    }
    return { data, address };
  };

  return {
    id: opts.id,
    get calls() {
      return calls;
    },
    get callCount() {
      return callCount;
    },
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    get served() {
      return served;
    },
    setFault(next) {
      fault = next;
    },
    async fetch(name: string, { signal }: UpstreamFetchOptions): Promise<UpstreamResult> {
      const attempt = callCount++;
      if (opts.recordCalls !== false) calls.push(name);
      const kind = typeof fault === 'function' ? fault(name, attempt) : fault;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        const result = await run(name, kind, signal);
        served++;
        return result;
      } finally {
        inFlight--;
      }
    },
    status() {
      return [{ address, healthy: fault === 'none' || fault === 'slow', failures: 0 }];
    },
    close() {},
  };
}
