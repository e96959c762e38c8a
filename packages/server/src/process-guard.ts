import { toError } from './contain.js';

/** How a failure reached the process: a promise nobody awaited, or an exception nobody caught. */
export type ProcessFailureKind = 'unhandledRejection' | 'uncaughtException';

/**
 * The process-level policy of a long-running proxy: an unhandled rejection or an uncaught
 * exception is reported (to be logged and counted) and the process keeps serving, instead of
 * Node's default of exiting. Every request path already contains its own failures, so what
 * arrives here is a bug confined to one request or one timer callback; exiting would end every
 * phone's transfer, the TFTP and HTTP listeners and the cache with it, and a request that
 * triggers the bug could be sent again at once. Returns a function that removes the handlers.
 *
 * `report` must not throw; if it does, its error is dropped.
 *
 * @example
 * ```ts
 * import { createProxyServer, guardProcess } from '@ptftp/server';
 *
 * const server = createProxyServer(config);
 * const unguard = guardProcess((error, kind) => server.reportUnexpected('process', error, kind));
 * await server.start();
 * ```
 */
export function guardProcess(
  report: (error: Error, kind: ProcessFailureKind) => void,
  target: Pick<NodeJS.Process, 'on' | 'off'> = process,
): () => void {
  const call = (value: unknown, kind: ProcessFailureKind) => {
    try {
      report(toError(value), kind);
    } catch {
      // A reporter that fails (a full disk under the logger) must not turn into the next failure.
    }
  };
  const onRejection = (reason: unknown) => call(reason, 'unhandledRejection');
  const onException = (err: unknown) => call(err, 'uncaughtException');
  target.on('unhandledRejection', onRejection);
  target.on('uncaughtException', onException);
  return () => {
    target.off('unhandledRejection', onRejection);
    target.off('uncaughtException', onException);
  };
}
