import { isDeepStrictEqual } from 'node:util';
import type { ProxyConfig } from './config-schema.js';
import { boundAddress, type Frontend, type Rebind, UNCHANGED } from './frontend.js';
import type { HttpFrontend } from './http-frontend.js';
import type { InheritedSocket } from './systemd.js';
import type { TftpFrontend } from './tftp-frontend.js';

/**
 * The TFTP front end as a {@link Frontend}: `listen` and its limits from the configuration, or
 * the UDP sockets inherited from systemd (never rebound; their limits still follow reloads).
 */
export function tftpFrontend(
  tftp: TftpFrontend,
  inherited: readonly InheritedSocket[],
): Frontend & { readonly inner: TftpFrontend } {
  let limits: ProxyConfig['limits'] | undefined;
  return {
    kind: 'tftp',
    inner: tftp,
    async listen(config) {
      tftp.configure(config.limits);
      limits = config.limits;
      const udp = inherited.map((s) => ({ fd: s.fd, family: s.family }));
      await tftp.listen(udp.length > 0 ? udp : config.listen);
    },
    async rebind(next) {
      const sockets = inherited.length > 0 ? UNCHANGED : await tftp.rebind(next.listen);
      return {
        commit() {
          sockets.commit();
          // New limits apply to transfers that start from now on.
          if (!isDeepStrictEqual(limits, next.limits)) tftp.configure(next.limits);
          limits = next.limits;
        },
        rollback: () => sockets.rollback(),
      };
    },
    get bound() {
      return tftp.bound.map((b) => boundAddress('tftp', b.address, b.port));
    },
    get active() {
      return tftp.activeSessions;
    },
    close: (graceMs) => tftp.close(graceMs),
  };
}

/**
 * An HTTP front end as a {@link Frontend}: `http.listen` and `http`'s limits, or the TCP
 * sockets inherited from systemd. `scheme` names its addresses (`https` for a front end made
 * with a TLS server factory).
 */
export function httpFrontend(
  http: HttpFrontend,
  inherited: readonly InheritedSocket[],
  scheme: 'http' | 'https' = 'http',
): Frontend & { readonly inner: HttpFrontend } {
  return {
    kind: 'http',
    inner: http,
    async listen(config) {
      if (!config.http.enabled) return;
      const tcp = inherited.map((s) => ({ fd: s.fd }));
      await http.listen(tcp.length > 0 ? tcp : config.http.listen, config.http);
    },
    rebind(next): Promise<Rebind> {
      // Inherited sockets stay; their limits still follow the configuration.
      const list = inherited.length > 0 || !next.http.enabled ? [] : next.http.listen;
      return http.rebind(list, next.http);
    },
    get bound() {
      return http.bound.map((b) => boundAddress(scheme, b.address, b.port));
    },
    get active() {
      return http.activeRequests;
    },
    close: (graceMs) => http.close(graceMs),
  };
}
