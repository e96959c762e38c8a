/**
 * The worker's side of `ptftp serve --workers N`: answers the primary's requests (status,
 * metrics, flush, reload, discovery) from this process's ProxyServer, and tells it when to stop.
 */
import type { ProxyServer } from './proxy-server.js';
import { type FromWorker, isToWorker, type ToWorker, toWire } from './worker-protocol.js';

/** What the worker's own loop does with a `stop` from the primary. */
export interface WorkerEndpointOptions {
  /** Drain and exit: transfers in progress get `graceMs`. */
  onStop(graceMs: number): void;
}

async function answer(server: ProxyServer, m: ToWorker & { ptftp: 'request' }): Promise<unknown> {
  switch (m.op) {
    case 'status':
      return server.status();
    case 'metrics':
      // prom-client's JSON form, which AggregatorRegistry.aggregate sums in the primary.
      return server.metrics.registry.getMetricsAsJSON();
    case 'flush':
      return server.flush(m.selector);
    case 'reload':
      return server.reload();
    case 'discovery':
      return server.refreshDiscovery();
  }
}

/**
 * Serve the primary's requests over the cluster channel and announce the bound addresses.
 * Returns a function that stops listening. Outside a cluster worker (no IPC channel) it does
 * nothing.
 *
 * @example
 * ```ts
 * await server.start();
 * const dispose = serveWorkerEndpoint(server, { onStop: (graceMs) => void server.close({ graceMs }) });
 * ```
 */
export function serveWorkerEndpoint(server: ProxyServer, options: WorkerEndpointOptions): () => void {
  if (!process.send) return () => {};
  const send = (m: FromWorker) => {
    // A primary that is gone cannot be told; the worker exits when its channel closes.
    if (process.connected) process.send?.(m);
  };
  const onMessage = (m: unknown) => {
    if (!isToWorker(m)) return;
    if (m.ptftp === 'stop') {
      options.onStop(m.graceMs);
      return;
    }
    answer(server, m).then(
      (value) => send({ ptftp: 'reply', id: m.id, ok: true, value }),
      (err: unknown) => send({ ptftp: 'reply', id: m.id, ok: false, error: toWire(err) }),
    );
  };
  process.on('message', onMessage);
  send({ ptftp: 'ready', addresses: server.addresses });
  return () => process.off('message', onMessage);
}
