/**
 * The server's policy for configured addresses (listen, HTTP, admin, cluster and peer
 * addresses), on top of `@ptftp/protocol`'s one `host:port` module: host names and IPv6 zones
 * are accepted (callers that bind refuse names themselves), and port 0 too (tests listen on
 * ports the OS gives).
 */
import { formatHostPort, type HostPort, tryParseHostPort } from '@ptftp/protocol';

/**
 * Parse a configured `host:port` (`127.0.0.1:6969`, `[::1]:6969`, `127.0.0.1`, `::1`,
 * `tftp.example.com:69`); a missing port is `defaultPort`. Returns the problem as text instead
 * of throwing, so that config validation can list every problem.
 *
 * @example
 * ```ts
 * parseEndpoint('[::1]:6969', 69); // { host: '::1', port: 6969, family: 6 }
 * parseEndpoint('10.1.1.10', 69);  // { host: '10.1.1.10', port: 69, family: 4 }
 * ```
 */
export function parseEndpoint(text: string, defaultPort: number): HostPort | string {
  const hp = tryParseHostPort(text, { defaultPort, names: true, zone: true, portZero: true });
  return 'problem' in hp ? hp.problem : hp;
}

/** The canonical `host:port` / `[v6]:port` text (the protocol module's `formatHostPort`). */
export const formatEndpoint = formatHostPort;

/** A URL authority for an endpoint (`http://[::1]:6970`). */
export function endpointUrl(scheme: string, e: { host: string; port: number }): string {
  return `${scheme}://${formatHostPort(e)}`;
}
