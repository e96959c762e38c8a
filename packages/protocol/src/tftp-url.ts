/**
 * `tftp://` URLs (RFC 3617 without the `;mode=` suffix): the way the CLI and configuration
 * files name a file on a TFTP server.
 */
import { InvalidArgumentError } from './errors.js';

/** A parsed `tftp://` URL. `host` is an IPv6 literal without brackets when the URL has one. */
export interface TftpUrl {
  host: string;
  port: number;
  filename: string;
}

/**
 * Parse `tftp://host[:port]/name`. The port defaults to 69; an IPv6 host is written in
 * brackets (`tftp://[::1]:6969/dir/name`) and returned without them; the file name is the
 * percent-decoded path after the first `/`, and may contain further `/`.
 *
 * Throws {@link InvalidArgumentError} (field `url`) for anything else.
 *
 * @example
 * ```ts
 * parseTftpUrl('tftp://[::1]:6969/dir/SEP001122334455.cnf.xml');
 * // { host: '::1', port: 6969, filename: 'dir/SEP001122334455.cnf.xml' }
 * ```
 */
export function parseTftpUrl(url: string): TftpUrl {
  const shown = JSON.stringify(url.length > 200 ? `${url.slice(0, 200)}...` : url);
  const bad = (why: string) => new InvalidArgumentError('url', `${why} in ${shown}`);
  if (!/^tftp:\/\//i.test(url)) throw bad('expected tftp://host[:port]/file');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw bad('not a valid URL');
  }
  if (parsed.username || parsed.password) throw bad('user information is not allowed');
  // '?' and '#' would silently cut the file name; they must be written %3F and %23.
  if (/[?#]/.test(url)) throw bad('"?" and "#" must be percent-encoded');
  let host = parsed.hostname;
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (!host) throw bad('missing host');
  let port = 69;
  if (parsed.port) {
    port = Number(parsed.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad(`port ${parsed.port} out of range`);
  }
  let filename: string;
  try {
    filename = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  } catch {
    throw bad('bad percent-encoding in the file name');
  }
  if (!filename) throw bad('missing file name');
  if (filename.includes('\0')) throw bad('NUL in the file name');
  return { host, port, filename };
}
