/**
 * The primary of `ptftp serve --workers N` (node:cluster): forks the workers, starts a dead one
 * again with a back-off, forwards reloads and the drain, and answers the admin endpoint for the
 * whole server by asking every worker over the cluster channel and summing their answers.
 */
import cluster, { type Worker } from 'node:cluster';
import { EventEmitter } from 'node:events';
import { AggregatorRegistry, Counter, Gauge, Registry } from 'prom-client';
import type { AdminTarget } from './admin.js';
import type { FailureSite } from './contain.js';
import { toError } from './contain.js';
import { StateError } from './errors.js';
import type { FlushSelector, ProxyAddresses, ProxyStatus } from './proxy-types.js';
import type { ReloadResult } from './reload.js';
import { type ClusterStatus, sumStatuses, type WorkerStatus } from './status-sum.js';
import { type FromWorker, fromWire, isFromWorker, type ToWorker, type WorkerOp } from './worker-protocol.js';

/** The environment variable that tells a forked process which worker slot (1..N) it fills. */
export const WORKER_SLOT_ENV = 'PTFTP_WORKER_SLOT';

export interface WorkerPoolOptions {
  /** Worker processes (≥ 2; one worker is a plain ProxyServer without cluster). */
  readonly count: number;
  /** First delay before a dead worker is started again (default 100 ms); doubles per quick death. */
  readonly restartDelayMs?: number;
  /** Longest delay between restarts (default 10 s). */
  readonly maxRestartDelayMs?: number;
  /** A worker that ran this long before dying is restarted after the first delay again (default 30 s). */
  readonly stableMs?: number;
  /** How long a worker may take to answer the primary (default 5 s). */
  readonly requestTimeoutMs?: number;
}

/** Events of {@link WorkerPool}; the CLI logs them. */
export type WorkerPoolEvents = {
  workerExit: [
    info: {
      slot: number;
      pid: number | undefined;
      code: number | null;
      signal: string | null;
      restartInMs: number;
    },
  ];
  workerStarted: [info: { slot: number; pid: number | undefined; restarts: number }];
  unexpectedError: [info: { where: FailureSite; error: Error; detail?: string | undefined }];
};

interface Slot {
  readonly slot: number;
  worker: Worker | undefined;
  ready: boolean;
  restarts: number;
  /** Deaths in a row, each within `stableMs` of its start: the exponent of the back-off. */
  quickDeaths: number;
  startedAt: number;
  timer: NodeJS.Timeout | undefined;
}

interface Pending {
  readonly worker: Worker;
  resolve(value: unknown): void;
  reject(err: Error): void;
  readonly timer: NodeJS.Timeout;
}

/**
 * N workers as one server. Only usable in the cluster primary: `start()` forks the current
 * script (`process.argv`) with {@link WORKER_SLOT_ENV} set, and each worker runs a ProxyServer
 * and calls {@link serveWorkerEndpoint}.
 *
 * @example
 * ```ts
 * if (cluster.isPrimary) {
 *   const pool = new WorkerPool({ count: 2 });
 *   await pool.start();
 *   await new AdminEndpoint(pool).listen('127.0.0.1:9469');
 *   process.once('SIGTERM', () => void pool.close(5000));
 * } else {
 *   const server = createProxyServer(config);
 *   await server.start();
 *   serveWorkerEndpoint(server, { onStop: (graceMs) => void server.close({ graceMs }).then(() => process.exit(0)) });
 * }
 * ```
 */
export class WorkerPool extends EventEmitter<WorkerPoolEvents> implements AdminTarget {
  /** The workers' metrics summed (prom-client's aggregation), with the primary's own. */
  readonly metrics: AdminTarget['metrics'];
  private readonly slots: Slot[];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private state: 'idle' | 'running' | 'closing' | 'closed' = 'idle';
  private addrs: ProxyAddresses = { tftp: [], http: [] };
  private readonly reloads = { applied: 0, rejected: 0, lastError: undefined as string | undefined };
  private readonly own = new Registry();
  private readonly restartCounter: Counter<'slot'>;
  private readonly unexpected: Counter<'where'>;
  private readonly o: Required<WorkerPoolOptions>;
  /** While starting: fails the start when a worker dies before it listens. */
  private failStart: ((err: Error) => void) | undefined;

  constructor(options: WorkerPoolOptions) {
    super();
    this.o = {
      restartDelayMs: 100,
      maxRestartDelayMs: 10_000,
      stableMs: 30_000,
      requestTimeoutMs: 5000,
      ...options,
    };
    this.slots = Array.from({ length: options.count }, (_, i) => ({
      slot: i + 1,
      worker: undefined,
      ready: false,
      restarts: 0,
      quickDeaths: 0,
      startedAt: 0,
      timer: undefined,
    }));
    const registers = [this.own];
    this.restartCounter = new Counter({
      name: 'ptftp_worker_restarts_total',
      help: 'Workers started again after they died, by slot',
      labelNames: ['slot'],
      registers,
    });
    // Same name as the workers' counter: the primary's own failures add to theirs.
    this.unexpected = new Counter({
      name: 'ptftp_unexpected_errors_total',
      help: 'Failures that escaped the code meant to handle them (the server kept serving), by where',
      labelNames: ['where'],
      registers,
    });
    const slots = this.slots;
    new Gauge({
      name: 'ptftp_workers',
      help: 'Worker processes serving now (ptftp serve --workers N)',
      registers,
      collect() {
        this.set(slots.filter((s) => s.ready).length);
      },
    });
    this.metrics = {
      registry: { metrics: () => this.metricsText(), contentType: this.own.contentType },
    };
  }

  /** The sockets the workers share (as the first worker reported them). */
  get addresses(): ProxyAddresses {
    return this.addrs;
  }

  /** Fork every worker; resolves when all listen, rejects (and stops them) if one dies first. */
  async start(): Promise<ProxyAddresses> {
    if (this.state !== 'idle') throw new StateError(`cannot start a pool that is ${this.state}`);
    this.state = 'running';
    const failed = new Promise<never>((_, reject) => {
      this.failStart = reject;
    });
    try {
      await Promise.race([Promise.all(this.slots.map((s) => this.fork(s))), failed]);
    } catch (err) {
      await this.close(0);
      throw err;
    } finally {
      this.failStart = undefined;
    }
    return this.addrs;
  }

  /** Resolves when the slot's new worker reports its addresses. */
  private fork(slot: Slot): Promise<void> {
    return new Promise((resolve) => {
      slot.timer = undefined;
      slot.ready = false;
      slot.startedAt = Date.now();
      const worker = cluster.fork({ [WORKER_SLOT_ENV]: String(slot.slot) });
      slot.worker = worker;
      worker.on('message', (m: unknown) => {
        if (!isFromWorker(m)) return;
        if (m.ptftp === 'ready') {
          slot.ready = true;
          if (slot.slot === 1 || this.addrs.tftp.length === 0) this.addrs = m.addresses;
          if (slot.restarts > 0)
            this.emit('workerStarted', { slot: slot.slot, pid: worker.process.pid, restarts: slot.restarts });
          resolve();
        } else this.settle(m);
      });
      // A failed send or a channel error is this worker's problem, reported, never the primary's end.
      worker.on('error', (err) => this.reportUnexpected('process', err, `worker ${slot.slot}`));
      worker.once('exit', (code, signal) => this.exited(slot, worker, code, signal));
    });
  }

  private exited(slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    for (const [id, p] of this.pending)
      if (p.worker === worker) {
        this.pending.delete(id);
        clearTimeout(p.timer);
        p.reject(new Error(`worker ${slot.slot} exited before it answered`));
      }
    if (slot.worker !== worker) return;
    slot.worker = undefined;
    const wasReady = slot.ready;
    slot.ready = false;
    if (this.state !== 'running') return;
    if (!wasReady && this.failStart) {
      this.failStart(
        new StateError(`worker ${slot.slot} exited (${signal ?? `code ${code}`}) before it was listening`),
      );
      return;
    }
    // Back-off: a worker that keeps dying at once (a bad disk, a bug on every request) must
    // not become a fork loop; one that ran a while is replaced quickly.
    if (Date.now() - slot.startedAt >= this.o.stableMs) slot.quickDeaths = 0;
    const delay = Math.min(this.o.restartDelayMs * 2 ** slot.quickDeaths, this.o.maxRestartDelayMs);
    slot.quickDeaths++;
    slot.restarts++;
    this.restartCounter.inc({ slot: String(slot.slot) });
    this.emit('workerExit', { slot: slot.slot, pid: worker.process.pid, code, signal, restartInMs: delay });
    slot.timer = setTimeout(() => {
      if (this.state === 'running') void this.fork(slot);
    }, delay);
  }

  private settle(m: FromWorker & { ptftp: 'reply' }): void {
    const p = this.pending.get(m.id);
    if (!p) return; // answered after its time-out
    this.pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.ok) p.resolve(m.value);
    else p.reject(fromWire(m.error));
  }

  /** Ask one worker; rejects when it does not answer within `requestTimeoutMs` or dies first. */
  private ask<T>(worker: Worker, op: WorkerOp): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new Error(`worker ${worker.id} did not answer "${op.op}" within ${this.o.requestTimeoutMs} ms`),
        );
      }, this.o.requestTimeoutMs);
      this.pending.set(id, { worker, resolve: resolve as (v: unknown) => void, reject, timer });
      const message: ToWorker = { ptftp: 'request', id, ...op };
      try {
        worker.send(message);
      } catch (err) {
        this.pending.delete(id);
        clearTimeout(timer);
        reject(toError(err));
      }
    });
  }

  private live(): { slot: Slot; worker: Worker }[] {
    return this.slots
      .filter((s) => s.ready && s.worker?.isConnected())
      .map((s) => ({ slot: s, worker: s.worker as Worker }));
  }

  /** Ask every serving worker; StateError when none is serving. */
  private async askAll<T>(op: WorkerOp): Promise<T[]> {
    const live = this.live();
    if (live.length === 0) throw new StateError('no worker is serving');
    return Promise.all(live.map(({ worker }) => this.ask<T>(worker, op)));
  }

  /** The whole server: the workers' statuses summed, and each worker on its own. */
  async status(): Promise<ClusterStatus> {
    const answers = await Promise.all(
      this.slots.map(async (s) => {
        const worker = s.ready ? s.worker : undefined;
        if (!worker) return { slot: s, status: undefined };
        const status = await this.ask<ProxyStatus>(worker, { op: 'status' }).catch(() => undefined);
        return { slot: s, status };
      }),
    );
    const workers: WorkerStatus[] = answers.map(({ slot, status }) => ({
      slot: slot.slot,
      pid: slot.worker?.process.pid,
      state: status ? 'running' : slot.ready ? 'silent' : slot.restarts > 0 ? 'restarting' : 'starting',
      restarts: slot.restarts,
      activeSessions: status?.activeSessions,
    }));
    const statuses = answers.map((a) => a.status).filter((s): s is ProxyStatus => s !== undefined);
    const whole = sumStatuses(statuses, { ...this.reloads }, workers);
    return this.state === 'running' ? whole : { ...whole, state: this.state };
  }

  private async metricsText(): Promise<string> {
    const answers = await Promise.all(
      this.live().map(({ worker }) => this.ask<object[]>(worker, { op: 'metrics' }).catch(() => undefined)),
    );
    const all = answers.filter((a): a is object[] => a !== undefined);
    all.push(await this.own.getMetricsAsJSON());
    return AggregatorRegistry.aggregate(all).metrics();
  }

  /** Flush in every worker (each has its own cache tiers); the counts add up. */
  async flush(selector: FlushSelector = {}): Promise<number> {
    const counts = await this.askAll<number>({ op: 'flush', selector });
    return counts.reduce((a, b) => a + b, 0);
  }

  /**
   * Every worker re-reads its configuration source (SIGHUP and `POST /reload` come here).
   * Refused if any worker refuses; the workers that accepted keep the new configuration.
   */
  async reload(): Promise<ReloadResult> {
    try {
      const results = await this.askAll<ReloadResult>({ op: 'reload' });
      this.reloads.applied++;
      return results[0] as ReloadResult;
    } catch (err) {
      this.reloads.rejected++;
      this.reloads.lastError = toError(err).message;
      throw err;
    }
  }

  async refreshDiscovery(): Promise<unknown> {
    const results = await this.askAll<unknown>({ op: 'discovery' });
    return results[0];
  }

  reportUnexpected(where: FailureSite, error: unknown, detail?: string): void {
    try {
      this.unexpected.inc({ where });
      this.emit('unexpectedError', { where, error: toError(error), detail });
    } catch {
      // The last line of defence: nothing escapes from here.
    }
  }

  /**
   * Drain: every worker stops accepting, its transfers get `graceMs`, then it exits; one still
   * there `graceMs` + 5 s later is killed. No worker is restarted from here on.
   */
  async close(graceMs = 5000): Promise<void> {
    if (this.state === 'closed' || this.state === 'closing') return;
    this.state = 'closing';
    const exits: Promise<void>[] = [];
    for (const s of this.slots) {
      clearTimeout(s.timer);
      const worker = s.worker;
      if (!worker || worker.isDead()) continue;
      exits.push(
        new Promise<void>((resolve) => {
          const kill = setTimeout(() => worker.process.kill('SIGKILL'), graceMs + 5000);
          worker.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          try {
            if (worker.isConnected()) worker.send({ ptftp: 'stop', graceMs } satisfies ToWorker);
            else worker.process.kill('SIGTERM');
          } catch {
            worker.process.kill('SIGTERM');
          }
        }),
      );
    }
    await Promise.all(exits);
    this.state = 'closed';
  }
}
