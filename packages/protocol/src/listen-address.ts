/**
 * Listening addresses as users write them: "127.0.0.1:6969", "[::1]:6969", "[::]:69" (dual
 * stack), "0.0.0.0:69", an object, or an inherited socket's descriptor.
 */
import { isIP } from 'node:net';
import { InvalidArgumentError } from './errors.js';
import { parseHostPort } from './host-port.js';

/** A parsed listening address. */
export interface ListenSpec {
  readonly address: string;
  readonly port: number;
  readonly family: 'IPv4' | 'IPv6';
  /** An already bound UDP socket handed over by the parent (systemd socket activation). */
  readonly fd?: number;
}

/**
 * A UDP socket the process inherited, already bound (systemd's `ListenDatagram=`, or any
 * parent that passes descriptors). `family` must be the socket's own address family.
 */
export interface InheritedListenSocket {
  readonly fd: number;
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
export function parseListenAddress(
  input: string | { address: string; port: number } | InheritedListenSocket,
): ListenSpec {
  if (typeof input === 'object' && input !== null && 'fd' in input) {
    if (!Number.isInteger(input.fd) || input.fd < 0)
      throw new InvalidArgumentError('fd', `${String(input.fd)} is not a file descriptor`);
    if (input.family !== 'IPv4' && input.family !== 'IPv6')
      throw new InvalidArgumentError('family', `${String(input.family)} is not 'IPv4' or 'IPv6'`);
    return { address: '', port: 0, family: input.family, fd: input.fd };
  }
  let address: string;
  let port: number;
  if (typeof input === 'string') {
    ({ host: address, port } = parseHostPort(input, { portZero: true, zone: true }));
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
