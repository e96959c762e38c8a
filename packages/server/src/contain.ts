import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Where a failure escaped the code meant to handle it: one request's path (`tftp`, `http`,
 * `admin`; a reload's failures are its own rejection and `reloadRejected`), an event listener
 * of the embedding application, or the process itself (an unhandled rejection or uncaught
 * exception anywhere).
 */
export type FailureSite = 'tftp' | 'http' | 'admin' | 'listener' | 'process';

/** Any thrown value as an Error (a rejection may carry a string, `undefined`, anything). */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  try {
    return new Error(typeof value === 'string' ? value : `non-error value thrown: ${String(value)}`);
  } catch {
    // An object whose toString throws: the thrower's last trick.
    return new Error('non-error value thrown');
  }
}

/**
 * Wrap an async HTTP request handler for `http.createServer`: whatever it throws or rejects
 * with stays with its request. The client gets a 500 (or its connection is cut when the answer
 * had started) and `report` hears of it; nothing reaches the process's unhandled-rejection
 * path, where Node's default is to exit and take every transfer down with it.
 */
export function containRequests(
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  report: (error: Error) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    let run: Promise<void>;
    try {
      run = handler(req, res);
    } catch (err) {
      run = Promise.reject(err);
    }
    run.catch((err: unknown) => {
      try {
        if (!res.headersSent && !res.destroyed) {
          const text = 'internal error\n';
          res
            .writeHead(500, {
              'Content-Type': 'text/plain',
              'Content-Length': text.length,
              Connection: 'close',
            })
            .end(text);
        } else res.destroy();
      } catch {
        res.destroy();
      }
      try {
        report(toError(err));
      } catch {
        // The reporter is the last line: its own failure must not escape either.
      }
    });
  };
}

/**
 * Wrap a callback that another library calls (a socket or server event): a throw is reported
 * instead of unwinding into the caller, whose own state it could leave half-updated.
 */
export function contained<A extends unknown[]>(
  fn: (...args: A) => void,
  report: (error: Error) => void,
): (...args: A) => void {
  return (...args) => {
    try {
      fn(...args);
    } catch (err) {
      try {
        report(toError(err));
      } catch {
        // As above: the reporter's own failure stays here.
      }
    }
  };
}
