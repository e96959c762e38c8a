import { formatEndpoint } from './address.js';
import type { ProxyConfig } from './config-schema.js';
import { ListenError } from './errors.js';
import type { InheritedSocket } from './systemd.js';

/** The configuration with the addresses of inherited sockets in place of the configured ones. */
export function withInherited(
  config: ProxyConfig,
  inherited: readonly InheritedSocket[] | undefined,
): ProxyConfig {
  if (!inherited || inherited.length === 0) return config;
  const addr = (s: InheritedSocket) => formatEndpoint({ host: s.address, port: s.port });
  const { udp, http, admin } = splitInherited(inherited);
  // A socket systemd was told to pass is meant to be served: it switches its front end on.
  return {
    ...config,
    ...(udp.length > 0 && { listen: udp.map(addr) }),
    ...(http.length > 0 && { http: { ...config.http, enabled: true, listen: http.map(addr) } }),
    ...(admin && { admin: { ...config.admin, enabled: true, listen: addr(admin) } }),
  };
}

/**
 * Which front end each inherited socket serves: UDP ones TFTP; a TCP one named `admin`
 * (`FileDescriptorName=admin`) the admin endpoint; every other TCP one HTTP.
 */
export function splitInherited(inherited: readonly InheritedSocket[]): {
  udp: InheritedSocket[];
  http: InheritedSocket[];
  admin: InheritedSocket | undefined;
} {
  const udp = inherited.filter((s) => s.protocol === 'udp');
  const tcp = inherited.filter((s) => s.protocol === 'tcp');
  const admins = tcp.filter((s) => s.name === 'admin');
  if (admins.length > 1)
    throw new ListenError(
      admins.map((s) => `systemd fd ${s.fd}`).join(', '),
      new Error('more than one socket named "admin": the admin endpoint takes one'),
    );
  return { udp, http: tcp.filter((s) => s.name !== 'admin'), admin: admins[0] };
}
