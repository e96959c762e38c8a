import { statSync } from 'node:fs';
import { analyze, type Finding } from '@ptftp/dhcp-options';
import { TFTP_PORT } from '@ptftp/protocol';
import {
  DEFAULT_BUDGET_WAIT_MS,
  DEFAULT_CACHE_DISK_MAX_BYTES,
  DEFAULT_CACHE_MAX_BYTES,
  DEFAULT_MAX_FETCHES,
  DEFAULT_MAX_INFLIGHT_BYTES,
  defaultCacheDir,
  MEMORY_FILE_FRACTION,
} from '@ptftp/resolver';
import { parseEndpoint } from './address.js';
import { DEFAULT_ADMIN_PORT, type ProxyConfig } from './config-schema.js';

/** One piece of advice about a valid configuration. `path` locates it in the file when it can. */
export interface ConfigFinding {
  readonly severity: 'error' | 'warning' | 'info';
  readonly code: string;
  readonly message: string;
  readonly fix: string;
  readonly path?: string | undefined;
}

const WILDCARDS = new Set(['0.0.0.0', '::']);
const isLoopback = (host: string) => host === '::1' || host.startsWith('127.');

const mib = (n: number) => `${Math.round(n / 1048576)} MiB`;

/** What the cache and the fetch budget in effect mean for a boot storm (`config check` explains it). */
function cacheFinding(cache: ProxyConfig['cache']): ConfigFinding {
  const dir = cache.dir === undefined ? defaultCacheDir() : cache.dir;
  const memory = cache.maxBytes ?? DEFAULT_CACHE_MAX_BYTES;
  const where =
    dir === ''
      ? `in memory only (cache.maxBytes ${mib(memory)}; a file over ${mib(memory / MEMORY_FILE_FRACTION)} is served but not kept)`
      : `on disk in ${dir} (cache.diskMaxBytes ${mib(cache.diskMaxBytes ?? DEFAULT_CACHE_DISK_MAX_BYTES)}), the hot ones also in memory (cache.maxBytes ${mib(memory)})`;
  return {
    severity: 'info',
    code: 'PTFTP_CONFIG_CACHE_BUDGET',
    message:
      `Files from remote clusters are streamed to phones while they arrive and kept ${where}. ` +
      `At most ${cache.maxFetches ?? DEFAULT_MAX_FETCHES} fetches (cache.maxFetches) and ${mib(cache.maxInflightBytes ?? DEFAULT_MAX_INFLIGHT_BYTES)} (cache.maxInflightBytes) are in flight at once; ` +
      `a request beyond that waits ${cache.budgetWaitMs ?? DEFAULT_BUDGET_WAIT_MS} ms (cache.budgetWaitMs), then gets TFTP ERROR 0 "server busy" (HTTP 503) and retries.`,
    fix: 'Raise the budgets for large boot storms of distinct files; put cache.dir on a local disk with room for the firmware images.',
    path: 'cache',
  };
}

/**
 * Review a valid configuration for what breaks phones without breaking the file: the
 * dual-stack trap (an endpoint that learned an IPv6 TFTP address reaches a proxy that listens
 * on IPv4 only, never gets its files and never registers), DHCP pointing at an address the
 * proxy does not listen on, and the DHCP advice of `@ptftp/dhcp-options` for the `dhcp` section.
 * Most severe first.
 *
 * @example
 * ```ts
 * const findings = reviewConfig(await loadConfig('ptftp.config.json'));
 * if (findings.some((f) => f.severity === 'error')) process.exitCode = 1;
 * ```
 */
export function reviewConfig(config: ProxyConfig): ConfigFinding[] {
  const out: ConfigFinding[] = [];
  const listen = config.listen.map((a) => parseEndpoint(a, TFTP_PORT)).filter((e) => typeof e !== 'string');
  const listensV4 = listen.some((e) => e.family === 4);
  const listensV6 = listen.some((e) => e.family === 6);
  // A socket on `::` also takes IPv4 on Linux unless ipv6Only: only count it as v4 when explicit.
  const listenHosts = new Set(listen.map((e) => e.host));
  const wildcard = listen.some((e) => WILDCARDS.has(e.host));
  const dhcp = config.dhcp;
  const endpoints = dhcp?.endpoints;
  const store = storeFinding(config.store?.root);
  if (store) out.push(store);

  if (endpoints?.ipv6 && !listensV6) {
    out.push({
      severity: 'error',
      code: 'PTFTP_CONFIG_IPV6_ENDPOINTS_IPV4_LISTEN',
      message:
        'Endpoints use IPv6 but the proxy listens on IPv4 only: IPv6 phones never get their files and never register.',
      fix: 'Add an IPv6 address to "listen" (e.g. "[2001:db8::10]:69" or "[::]:69").',
      path: 'listen',
    });
  }
  if (endpoints?.ipv4 && !listensV4) {
    out.push({
      severity: 'error',
      code: 'PTFTP_CONFIG_IPV4_ENDPOINTS_IPV6_LISTEN',
      message: 'Endpoints use IPv4 but the proxy listens on IPv6 only.',
      fix: 'Add an IPv4 address to "listen" (e.g. "10.1.1.10:69" or "0.0.0.0:69").',
      path: 'listen',
    });
  }
  if ((dhcp?.v6?.length ?? 0) > 0 && !listensV6) {
    out.push({
      severity: 'error',
      code: 'PTFTP_CONFIG_IPV6_TFTP_IPV4_LISTEN',
      message: `DHCPv6 gives phones IPv6 TFTP addresses (${dhcp?.v6?.join(', ')}) but the proxy listens on IPv4 only.`,
      fix: 'Add those IPv6 addresses to "listen", or remove them from dhcp.v6.',
      path: 'dhcp.v6',
    });
  }
  if (listensV6 && dhcp && (dhcp.v6?.length ?? 0) === 0 && endpoints?.ipv6 !== false) {
    out.push({
      severity: 'warning',
      code: 'PTFTP_CONFIG_IPV6_LISTEN_NO_DHCPV6',
      message:
        'The proxy listens on IPv6 but DHCPv6 gives phones no IPv6 TFTP address (sub-option 1): IPv6-only phones cannot find it.',
      fix: 'Add the IPv6 listen addresses to dhcp.v6, or set dhcp.endpoints.ipv6 to false if no phone uses IPv6.',
      path: 'dhcp.v6',
    });
  }
  if (!wildcard) {
    for (const [family, list] of [
      ['v4', dhcp?.v4 ?? []],
      ['v6', dhcp?.v6 ?? []],
    ] as const) {
      list.forEach((addr, i) => {
        const ep = parseEndpoint(addr, TFTP_PORT);
        if (typeof ep !== 'string' && ep.family !== undefined && !listenHosts.has(ep.host)) {
          out.push({
            severity: 'warning',
            code: 'PTFTP_CONFIG_DHCP_ADDRESS_NOT_LISTENED',
            message: `DHCP points phones at ${ep.host}, which is not one of the proxy's listen addresses.`,
            fix: `Add ${ep.host} to "listen" (or check that another proxy serves it).`,
            path: `dhcp.${family}[${i}]`,
          });
        }
      });
    }
  }
  const admin = parseEndpoint(config.admin.listen, DEFAULT_ADMIN_PORT);
  if (config.admin.enabled && typeof admin !== 'string' && !isLoopback(admin.host)) {
    out.push({
      severity: 'warning',
      code: 'PTFTP_CONFIG_ADMIN_NOT_LOOPBACK',
      message: `The admin endpoint listens on ${config.admin.listen}: it has no authentication, and anyone who reaches it can flush the cache or reload.`,
      fix: 'Bind admin.listen to 127.0.0.1 or ::1 and reach it through SSH or an authenticating reverse proxy.',
      path: 'admin.listen',
    });
  }
  const ports = config.limits.ports;
  const exposed = listen.filter((e) => !isLoopback(e.host));
  if (ports !== undefined && ports !== 'per-transfer' && exposed.length > 0) {
    const mode = ports === 'single' ? 'single-port mode' : `a port range (${ports.from}-${ports.to})`;
    out.push({
      severity: 'warning',
      code: 'PTFTP_CONFIG_SHARED_TRANSFER_PORT_EXPOSED',
      message: `Transfers use ${mode} on ${exposed.map((e) => e.host).join(', ')}: the transfer port is known or guessable, so forged ACKs can reach a transfer and make the proxy send file data to a victim (a reflector). A per-destination send budget caps it (one datagram per datagram received), but a port per transfer closes it.`,
      fix: 'Remove "limits.ports" (a port per transfer, the default) and open the firewall for UDP from port 69 related traffic (conntrack tftp helper), or keep this mode only on loopback or a trusted network.',
      path: 'limits.ports',
    });
  }
  if (dhcp) {
    const plan = {
      ...(dhcp.v4 && { v4: dhcp.v4 }),
      ...(dhcp.v6 && { v6: dhcp.v6 }),
      ...(dhcp.endpoints && { endpoints: dhcp.endpoints }),
    };
    for (const f of analyze(plan) as Finding[]) {
      out.push({
        severity: f.severity,
        code: f.code,
        message: f.message,
        fix: f.fix,
        path: f.field ? `dhcp.${f.field}` : 'dhcp',
      });
    }
  } else {
    out.push({
      severity: 'info',
      code: 'PTFTP_CONFIG_NO_DHCP_SECTION',
      message: 'No "dhcp" section: the DHCP and dual-stack advice is skipped.',
      fix: 'Add "dhcp": { "v4": [option 150 addresses], "v6": [DHCPv6 addresses], "endpoints": { "ipv4": true, "ipv6": true } }.',
    });
  }
  if (config.clusters.length > 0 || config.discovery) out.push(cacheFinding(config.cache));
  const rank = { error: 0, warning: 1, info: 2 } as const;
  return out.sort((a, b) => rank[a.severity] - rank[b.severity]);
}

/**
 * A store folder that does not exist (or is a file) is valid JSON but serves nothing: every
 * phone would get "file not found" forever, so the review calls it an error.
 */
function storeFinding(root: string | undefined): ConfigFinding | undefined {
  if (root === undefined) return undefined;
  let isFolder: boolean;
  try {
    isFolder = statSync(root).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      severity: 'error',
      code: 'PTFTP_CONFIG_STORE_MISSING',
      message: `store.root ${root} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`}: every request would get "file not found".`,
      fix: 'Create the folder, or point store.root at the folder holding the phone files.',
      path: 'store.root',
    };
  }
  if (isFolder) return undefined;
  return {
    severity: 'error',
    code: 'PTFTP_CONFIG_STORE_NOT_FOLDER',
    message: `store.root ${root} is a file, not a folder.`,
    fix: 'Point store.root at the folder holding the phone files.',
    path: 'store.root',
  };
}
