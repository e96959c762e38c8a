import { TimeoutError } from '@ptftp/protocol';

/**
 * Which failures mean "the address is not there". Only silence (no answer in time, a refused
 * or unreachable connection) marks an address down: an address that answered, even with an
 * ERROR, a 5xx, a file over `maxBytes` or a size that does not match, is alive, and marking it
 * down would send every phone of the cluster elsewhere (or nowhere) for its back-off.
 */

const SILENT_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
]);

/**
 * True when `err` (or one of its causes) says the address did not answer.
 *
 * @example
 * ```ts
 * if (isSilence(err)) health.failed(address, err); else health.succeeded(address);
 * ```
 */
export function isSilence(err: unknown): boolean {
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    if (typeof e !== 'object') return false;
    const { code, name } = e as { code?: unknown; name?: unknown };
    // Ours by class; a DOMException "TimeoutError" (AbortSignal.timeout, fetch) by its name.
    if (e instanceof TimeoutError || name === 'TimeoutError') return true;
    if (typeof code === 'string' && SILENT_ERRNOS.has(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
