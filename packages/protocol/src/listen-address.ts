/**
 * Listening addresses as users write them: "127.0.0.1:6969", "[::1]:6969", "[::]:69" (dual
 * stack), "0.0.0.0:69", or an object.
 */
import { isIP } from 'node:net';
import { InvalidArgumentError } from './errors.js';

/** A parsed listening address. */
export interface ListenSpec {
  readonly address: string;
  readonly port: number;
  readonly family: 'IPv4' | 'IPv6';
}

/**
 * Parse one listening address. IPv6 addresses need brackets when a port follows.
 *
 * @example
 * ```ts
 * parseListenAddress('[::]:69'); // { address: '::', port: 69, family: 'IPv6' }
 * ```
 */
export function parseListenAddress(input: string | { address: string; port: number }): ListenSpec {
  let address: string;
  let port: number;
  if (typeof input === 'string') {
    const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(input) ?? /^([^:[\]]+):(\d{1,5})$/.exec(input);
    if (!m) throw new InvalidArgumentError('address', `"${input}" is not host:port or [v6]:port`);
    address = m[1]!;
    port = Number(m[2]);
  } else {
    address = input.address;
    port = input.port;
  }
  const version = isIP(address);
  if (version === 0) throw new InvalidArgumentError('address', `"${address}" is not an IP address`);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError('port', `${port} is not a port number (0..65535)`);
  return { address, port, family: version === 4 ? 'IPv4' : 'IPv6' };
}
