/**
 * `host:port` as users write it — `10.0.0.1:69`, `[2001:db8::1]:6969`, `10.0.0.1`, `::1`,
 * `tftp.example.com:69` — parsed and printed in one place for every package (listen
 * addresses, cluster addresses, peer proxies, CLI options, the admin endpoint), with one
 * encoding of the address family: `4 | 6`.
 */
import { isIP, SocketAddress } from 'node:net';
import { InvalidArgumentError } from './errors.js';

/** The TFTP well-known port (RFC 1350): where an upstream TFTP server listens unless told. */
export const TFTP_PORT = 69;

/** An IP address family. */
export type IpFamily = 4 | 6;

/** A parsed `host:port`. IPv6 hosts are kept without brackets, in RFC 5952 text. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
  /** 4 or 6 for an IP address; undefined for a host name (resolved later, by DNS). */
  readonly family: IpFamily | undefined;
}

/** What a caller accepts. Every field is off unless set. */
export interface HostPortOptions {
  /** The port when the text has none; without it a port is required. */
  readonly defaultPort?: number;
  /** Accept host names (`tftp.example.com`), not only IP addresses. */
  readonly names?: boolean;
  /** Accept an IPv6 zone (`fe80::1%eth0`). */
  readonly zone?: boolean;
  /** Accept port 0 (let the OS pick: listening sockets in tests). */
  readonly portZero?: boolean;
}

/** Why a text is not a `host:port`, as a message that quotes it. */
export interface HostPortProblem {
  readonly problem: string;
}

/**
 * The family of an IP address text (brackets and zone allowed), undefined for anything else.
 *
 * @example
 * ```ts
 * ipFamily('10.0.0.1'); // 4
 * ipFamily('[::1]');    // 6
 * ipFamily('tftp');     // undefined
 * ```
 */
export function ipFamily(host: string): IpFamily | undefined {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const v = isIP(bare);
  return v === 4 || v === 6 ? v : undefined;
}

/**
 * Parse a `host:port` text, returning why it is not one instead of throwing (configuration
 * validation lists every problem at once). IPv6 needs brackets when a port follows; a bare
 * IPv6 address takes the default port. An IPv4-mapped IPv6 address is its IPv4 address.
 *
 * @example
 * ```ts
 * tryParseHostPort('[2001:DB8::1]:6969');               // { host: '2001:db8::1', port: 6969, family: 6 }
 * tryParseHostPort('10.0.0.1', { defaultPort: 69 });    // { host: '10.0.0.1', port: 69, family: 4 }
 * tryParseHostPort('tftp:69');                          // { problem: '"tftp" is not an IP address' }
 * ```
 */
export function tryParseHostPort(text: string, options: HostPortOptions = {}): HostPort | HostPortProblem {
  const s = text.trim();
  if (s === '') return { problem: 'address is empty' };
  let host: string;
  let portText: string | undefined;
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) return { problem: `"${text}" has no closing ]` };
    host = s.slice(1, end);
    const rest = s.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) return { problem: `"${text}" is not host:port` };
    portText = rest === '' ? undefined : rest.slice(1);
    if (isIP(host) !== 6) return { problem: `"${host}" is not an IPv6 address` };
  } else if (isIP(s) === 6) {
    // A bare IPv6 address: its colons are not a port separator.
    host = s;
  } else {
    const colon = s.lastIndexOf(':');
    host = colon < 0 ? s : s.slice(0, colon);
    portText = colon < 0 ? undefined : s.slice(colon + 1);
  }
  if (host === '') return { problem: `"${text}" has no host` };
  let port: number;
  if (portText === undefined) {
    if (options.defaultPort === undefined) return { problem: `"${text}" has no port` };
    port = options.defaultPort;
  } else {
    if (!/^\d{1,5}$/.test(portText)) return { problem: `"${text}" has an invalid port` };
    port = Number(portText);
    if (port > 65535) return { problem: `"${text}" has a port above 65535` };
  }
  if (port === 0 && !options.portZero) return { problem: `"${text}" has port 0` };
  const family = ipFamily(host);
  if (family === undefined) {
    if (!options.names) return { problem: `"${host}" is not an IP address` };
    if (!/^[A-Za-z0-9.-]+$/.test(host)) return { problem: `"${host}" is not an IP address or host name` };
    return { host, port, family };
  }
  if (family === 4) return { host, port, family };
  if (host.includes('%') && !options.zone) return { problem: `"${host}" has a zone` };
  host = canonicalIpv6(host);
  // An IPv4-mapped address is the IPv4 address (a v6-only socket cannot bind it, and a peer
  // on a dual-stack socket is reported by its IPv4 address).
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  if (mapped) return { host: mapped[1]!, port, family: 4 };
  return { host, port, family: 6 };
}

/**
 * {@link tryParseHostPort}, throwing `InvalidArgumentError` (`PTFTP_ERR_INVALID_ARGUMENT`,
 * `field` as given) for a text that is not a `host:port`.
 *
 * @example
 * ```ts
 * parseHostPort('[::1]:6969'); // { host: '::1', port: 6969, family: 6 }
 * parseHostPort('::1:6969');   // throws: a bare IPv6 address takes no port
 * ```
 */
export function parseHostPort(text: string, options: HostPortOptions = {}, field = 'address'): HostPort {
  const parsed = tryParseHostPort(text, options);
  if ('problem' in parsed) throw new InvalidArgumentError(field, parsed.problem);
  return parsed;
}

/**
 * The canonical text of a `host:port`: brackets around IPv6, as {@link tryParseHostPort} reads it.
 *
 * @example
 * ```ts
 * formatHostPort({ host: '2001:db8::1', port: 69 }); // '[2001:db8::1]:69'
 * ```
 */
export function formatHostPort(hp: { readonly host: string; readonly port: number }): string {
  return hp.host.includes(':') ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

/** RFC 5952 text of an IPv6 address (lower case, longest zero run compressed), zone kept. */
function canonicalIpv6(host: string): string {
  const pct = host.indexOf('%');
  const bare = pct < 0 ? host : host.slice(0, pct);
  const zone = pct < 0 ? '' : host.slice(pct);
  return new SocketAddress({ address: bare, family: 'ipv6' }).address + zone;
}
