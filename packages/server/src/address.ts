import { isIP, SocketAddress } from 'node:net';

/** A parsed `host:port` endpoint. IPv6 hosts are kept without brackets. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly family: 4 | 6 | 0;
}

/**
 * Parse `127.0.0.1:6969`, `[::1]:6969`, `127.0.0.1`, `::1` or `tftp.example.com:69`.
 * A missing port means `defaultPort` (69 for TFTP, as Cisco's option 150 implies).
 * Returns a message instead of throwing so that config validation can list every problem.
 *
 * @example
 * ```ts
 * parseEndpoint('[::1]:6969', 69); // { host: '::1', port: 6969, family: 6 }
 * parseEndpoint('10.1.1.10', 69);  // { host: '10.1.1.10', port: 69, family: 4 }
 * ```
 */
export function parseEndpoint(text: string, defaultPort: number): Endpoint | string {
  const s = text.trim();
  if (s === '') return 'address is empty';
  let host: string;
  let portText: string | undefined;
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) return `"${text}" has no closing ]`;
    host = s.slice(1, end);
    const rest = s.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) return `"${text}" is not host:port`;
    portText = rest === '' ? undefined : rest.slice(1);
    if (isIP(host) !== 6) return `"${host}" is not an IPv6 address`;
  } else if (isIP(s) === 6) {
    // A bare IPv6 address: its colons are not a port separator.
    host = s;
  } else {
    const colon = s.lastIndexOf(':');
    host = colon < 0 ? s : s.slice(0, colon);
    portText = colon < 0 ? undefined : s.slice(colon + 1);
  }
  let port = defaultPort;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) return `"${text}" has an invalid port`;
    port = Number(portText);
    if (port > 65535) return `"${text}" has a port above 65535`;
  }
  if (host === '') return `"${text}" has no host`;
  const family = isIP(host);
  if (family === 0 && !/^[A-Za-z0-9.-]+$/.test(host)) return `"${host}" is not an IP address or host name`;
  // One text per address ("[0::1]" and "[::1]" are the same socket), zone kept.
  if (family === 6) {
    host = canonicalIpv6(host);
    // An IPv4-mapped address is the IPv4 address (a v6-only socket cannot bind it).
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
    if (mapped) return { host: mapped[1]!, port, family: 4 };
  }
  return { host, port, family: family as 4 | 6 | 0 };
}

/** RFC 5952 text of an IPv6 address (lower case, longest zero run compressed), zone kept. */
function canonicalIpv6(host: string): string {
  const pct = host.indexOf('%');
  const bare = pct < 0 ? host : host.slice(0, pct);
  const zone = pct < 0 ? '' : host.slice(pct);
  return new SocketAddress({ address: bare, family: 'ipv6' }).address + zone;
}

/** Format an endpoint back to the canonical `host:port` / `[v6]:port` text. */
export function formatEndpoint(e: { host: string; port: number }): string {
  return e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

/** A URL authority for an endpoint (`http://[::1]:6970`). */
export function endpointUrl(scheme: string, e: { host: string; port: number }): string {
  return `${scheme}://${formatEndpoint(e)}`;
}
