/**
 * Addresses of upstream servers and peer proxies, as the topology rules take them: an IP
 * address (no host name: the proxy compares source addresses, and a name would make that
 * depend on DNS), no zone, an optional port (RFC 1350's 69 for TFTP, 6970 for Cisco's HTTP).
 * The parsing itself is `@ptftp/protocol`'s one `host:port` module.
 */
import { type HostPort, TFTP_PORT, tryParseHostPort } from '@ptftp/protocol';

/** The port of an upstream TFTP address written without one: RFC 1350's well-known port. */
export const DEFAULT_UPSTREAM_TFTP_PORT = TFTP_PORT;
/** The port of an upstream HTTP address written without one: Cisco's TFTP-over-HTTP port. */
export const DEFAULT_UPSTREAM_HTTP_PORT = 6970;

/**
 * An upstream `host[:port]`, or undefined when it is not an IP address with a port 1-65535.
 *
 * @example
 * ```ts
 * upstreamHostPort('[2001:db8::1]:6969'); // { host: '2001:db8::1', port: 6969, family: 6 }
 * upstreamHostPort('10.0.0.1');           // { host: '10.0.0.1', port: 69, family: 4 }
 * ```
 */
export function upstreamHostPort(
  text: string,
  defaultPort = DEFAULT_UPSTREAM_TFTP_PORT,
): HostPort | undefined {
  const hp = tryParseHostPort(text, { defaultPort });
  return 'problem' in hp ? undefined : hp;
}
