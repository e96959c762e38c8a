import { networkInterfaces } from 'node:os';
import { formatHostPort } from '@ptftp/protocol';
import ipaddr from 'ipaddr.js';
import { DEFAULT_UPSTREAM_HTTP_PORT, upstreamHostPort } from './upstream-address.js';

/**
 * One remote cluster: a set of TFTP servers (and optionally their HTTP port 6970) that hold
 * the configuration files of the phones registered there.
 */
export interface ClusterConfig {
  /** At most 50 characters: letters, digits, `.` and `-`. */
  id: string;
  /** The TFTP server FQDN (at most 50 characters: letters, digits, `.`, `-`, `*`, space). */
  fqdn?: string;
  /** At most 128 characters, none of `" < > \ - & %`. */
  description?: string;
  /** 1 to 3 TFTP addresses: `"10.0.0.1"`, `"10.0.0.1:69"`, `"[2001:db8::1]:6969"`; no port = 69. */
  tftp: string[];
  /** TFTP enabled (default true). A disabled cluster is kept in the topology but never asked. */
  enabled?: boolean;
  /** "Cluster is secure" (default false): its files are signed and must stay byte-identical. */
  secure?: boolean;
  /** IDs this remote peers with; omitted = it points back to the primary only. */
  peers?: string[];
  /** HTTP bases (`"http://10.0.0.1:6970"` or `"10.0.0.1"`, port 6970 implied). */
  http?: string[];
}

/** One broken rule. */
export interface TopologyViolation {
  /** Where, e.g. `"clusters[2].tftp[3]"`. */
  path: string;
  /** The cluster ID of the entry, when it has one. */
  entry?: string;
  /** A stable code, e.g. `"max-tftp-addresses"`; see {@link TopologyRule}. */
  rule: TopologyRule;
  /** A human message, e.g. `"at most 3 TFTP addresses per cluster"`. */
  message: string;
}

/** Options of {@link validateTopology}. */
export interface ValidateTopologyOptions {
  /** The primary proxy's cluster ID (default `"primary"`). Remotes must peer back with it. */
  primaryId?: string;
  /**
   * This proxy's own addresses (`"10.0.0.5"`, `"10.0.0.5:6969"`, `"[::]:69"`; no port = 69). A
   * cluster address equal to one of them is refused: the proxy would ask itself. A wildcard
   * (`0.0.0.0`, `::`) stands for every local interface address.
   */
  listen?: string[];
}

export type TopologyResult =
  | { ok: true; clusters: ClusterConfig[] }
  | { ok: false; violations: TopologyViolation[] };

/** The default ID of the primary proxy when `primaryId` is not given. */
export const DEFAULT_PRIMARY_ID = 'primary';
/** Cisco's limit: at most 3 TFTP addresses per remote-cluster entry. */
export const MAX_TFTP_ADDRESSES = 3;

/** Every rule code, with the exact message reported for it. */
export const TopologyMessages = {
  'entry-type': 'cluster entry must be an object',
  'cluster-id-required': 'cluster ID is required',
  'cluster-id-length': 'cluster ID must be at most 50 characters',
  'cluster-id-characters': "cluster ID may contain only letters, digits, '.' and '-'",
  'cluster-id-duplicate': 'cluster ID is already used by another entry',
  'cluster-id-primary': "cluster ID must differ from the primary's ID",
  'fqdn-type': 'TFTP server FQDN must be a string',
  'fqdn-length': 'TFTP server FQDN must be at most 50 characters',
  'fqdn-characters': "TFTP server FQDN may contain only letters, digits, '.', '-', '*' and space",
  'description-type': 'description must be a string',
  'description-length': 'description must be at most 128 characters',
  'description-characters': 'description must not contain any of " < > \\ - & %',
  'enabled-type': 'TFTP-enabled flag must be a boolean',
  'secure-type': 'cluster-is-secure flag must be a boolean',
  'tftp-type': 'TFTP addresses must be a list of strings',
  'tftp-addresses-required': 'at least one TFTP address is required when TFTP is enabled',
  'max-tftp-addresses': 'at most 3 TFTP addresses per cluster',
  'tftp-address-invalid': 'TFTP address must be an IPv4 or IPv6 address, optionally with a port',
  'tftp-address-duplicate': 'TFTP address is listed twice in this cluster',
  'self-address': "TFTP address is this proxy's own listen address (the proxy would ask itself)",
  'http-type': 'HTTP addresses must be a list of strings',
  'http-address-invalid': 'HTTP address must be an http(s) URL or an IP address',
  'peers-type': 'peers must be a list of cluster IDs',
  'peer-unknown': 'peer is not a configured cluster or the primary',
  'peer-self': 'a cluster must not peer with itself',
  'primary-peer-required': 'remote cluster must peer back with the primary',
  'remote-peer': 'remote clusters must not peer with each other (edge {edge})',
  'multi-level':
    'remote cluster reaches the primary only through another remote (edge {edge}): the hierarchy is single level',
  'peer-loop': 'peers form a loop ({edge}): the hierarchy is single level',
  'discovery-failed': 'discovery source failed',
} as const;
export type TopologyRule = keyof typeof TopologyMessages;

const ID = /^[A-Za-z0-9.-]+$/;
const FQDN = /^[A-Za-z0-9.\-* ]+$/;
const DESCRIPTION_FORBIDDEN = /["<>\\\-&%]/;

/** Canonical text of an IP (IPv4-mapped IPv6 becomes IPv4), for comparisons. */
export function normalizeIp(ip: string): string {
  try {
    return ipaddr.process(ip.replace(/^\[|\]$/g, '')).toString();
  } catch {
    return ip;
  }
}

/** Normalises an HTTP address (`"10.0.0.1"` → `"http://10.0.0.1:6970"`); undefined when invalid. */
export function parseHttpBase(text: string): string | undefined {
  if (/^https?:\/\//i.test(text)) {
    try {
      const url = new URL(text);
      return url.href.replace(/\/+$/, '');
    } catch {
      return undefined;
    }
  }
  const hp = upstreamHostPort(text, DEFAULT_UPSTREAM_HTTP_PORT);
  return hp && `http://${formatHostPort(hp)}`;
}

/**
 * Validates remote-cluster entries (from manual configuration or a discovery source) against
 * the proxy TFTP rules, reporting every violation at once.
 *
 * Entry rules: the cluster ID (required, at most 50 characters, letters, digits, `.`, `-`,
 * unique, not the primary's), FQDN characters and length, description length and forbidden
 * characters, 1-3 TFTP addresses (IPv4/IPv6, optional port; none needed when disabled), the
 * boolean flags. Peer-graph rules: single level only, no loops, no remote peered with another
 * remote, each remote pointing back to the primary; a cluster address that is one of this
 * proxy's own listen addresses is refused.
 *
 * @example
 * ```ts
 * const result = validateTopology([{ id: 'B', tftp: ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'] }]);
 * // { ok: false, violations: [{ path: 'clusters[0].tftp[3]', entry: 'B',
 * //   rule: 'max-tftp-addresses', message: 'at most 3 TFTP addresses per cluster' }] }
 * ```
 */
export function validateTopology(clusters: unknown[], opts: ValidateTopologyOptions = {}): TopologyResult {
  const primaryId = opts.primaryId ?? DEFAULT_PRIMARY_ID;
  const own = ownAddresses(opts.listen ?? []);
  const violations: TopologyViolation[] = [];
  const out: ClusterConfig[] = [];
  const seenIds = new Map<string, number>();
  const report = (path: string, entry: string | undefined, rule: TopologyRule, edge?: string) => {
    const message: string = TopologyMessages[rule].replace('{edge}', edge ?? '');
    violations.push(entry === undefined ? { path, rule, message } : { path, entry, rule, message });
  };

  if (!Array.isArray(clusters)) {
    report('clusters', undefined, 'entry-type');
    return { ok: false, violations };
  }

  clusters.forEach((raw, i) => {
    const at = `clusters[${i}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      report(at, undefined, 'entry-type');
      return;
    }
    const e = raw as Record<string, unknown>;
    const id = typeof e.id === 'string' && e.id !== '' ? e.id : undefined;
    if (id === undefined) report(`${at}.id`, undefined, 'cluster-id-required');
    else {
      if (id.length > 50) report(`${at}.id`, id, 'cluster-id-length');
      if (!ID.test(id)) report(`${at}.id`, id, 'cluster-id-characters');
      if (seenIds.has(id)) report(`${at}.id`, id, 'cluster-id-duplicate');
      else seenIds.set(id, i);
      if (id === primaryId) report(`${at}.id`, id, 'cluster-id-primary');
    }

    if (e.fqdn !== undefined) {
      if (typeof e.fqdn !== 'string') report(`${at}.fqdn`, id, 'fqdn-type');
      else {
        if (e.fqdn.length > 50) report(`${at}.fqdn`, id, 'fqdn-length');
        if (!FQDN.test(e.fqdn)) report(`${at}.fqdn`, id, 'fqdn-characters');
      }
    }
    if (e.description !== undefined) {
      if (typeof e.description !== 'string') report(`${at}.description`, id, 'description-type');
      else {
        if (e.description.length > 128) report(`${at}.description`, id, 'description-length');
        if (DESCRIPTION_FORBIDDEN.test(e.description))
          report(`${at}.description`, id, 'description-characters');
      }
    }
    if (e.enabled !== undefined && typeof e.enabled !== 'boolean')
      report(`${at}.enabled`, id, 'enabled-type');
    if (e.secure !== undefined && typeof e.secure !== 'boolean') report(`${at}.secure`, id, 'secure-type');
    const enabled = e.enabled !== false;

    const tftp = stringList(e.tftp ?? []);
    if (tftp === undefined) report(`${at}.tftp`, id, 'tftp-type');
    else {
      if (enabled && tftp.length === 0 && stringList(e.http ?? [])?.length === 0) {
        report(`${at}.tftp`, id, 'tftp-addresses-required');
      }
      if (tftp.length > MAX_TFTP_ADDRESSES)
        report(`${at}.tftp[${MAX_TFTP_ADDRESSES}]`, id, 'max-tftp-addresses');
      const seen = new Set<string>();
      tftp.forEach((text, j) => {
        const hp = upstreamHostPort(text);
        if (!hp) {
          report(`${at}.tftp[${j}]`, id, 'tftp-address-invalid');
          return;
        }
        const key = formatHostPort(hp);
        if (seen.has(key)) report(`${at}.tftp[${j}]`, id, 'tftp-address-duplicate');
        seen.add(key);
        if (own.has(key)) report(`${at}.tftp[${j}]`, id, 'self-address');
      });
    }

    const http = stringList(e.http ?? []);
    if (http === undefined) report(`${at}.http`, id, 'http-type');
    else
      http.forEach((text, j) => {
        if (parseHttpBase(text) === undefined) report(`${at}.http[${j}]`, id, 'http-address-invalid');
      });

    const peers = e.peers === undefined ? undefined : stringList(e.peers);
    if (e.peers !== undefined && peers === undefined) report(`${at}.peers`, id, 'peers-type');

    if (id !== undefined && tftp !== undefined && http !== undefined) {
      const c: ClusterConfig = { id, tftp: [...tftp], enabled, secure: e.secure === true };
      if (typeof e.fqdn === 'string') c.fqdn = e.fqdn;
      if (typeof e.description === 'string') c.description = e.description;
      if (peers !== undefined) c.peers = [...peers];
      if (http.length > 0) c.http = [...http];
      out.push(c);
    }
  });

  checkPeerGraph(clusters, primaryId, seenIds, report);
  return violations.length === 0 ? { ok: true, clusters: out } : { ok: false, violations };
}

function checkPeerGraph(
  clusters: unknown[],
  primaryId: string,
  ids: Map<string, number>,
  report: (path: string, entry: string | undefined, rule: TopologyRule, edge?: string) => void,
): void {
  // Remote-to-remote edges, keyed "A>B", with where they were declared.
  const edges = new Map<string, { from: string; to: string; path: string }>();
  clusters.forEach((raw, i) => {
    if (typeof raw !== 'object' || raw === null) return;
    const e = raw as Record<string, unknown>;
    const id = typeof e.id === 'string' ? e.id : undefined;
    const peers = stringList(e.peers);
    if (id === undefined || peers === undefined) return;
    const remotes = peers.filter((p) => p !== primaryId && p !== id && ids.has(p));
    peers.forEach((p, j) => {
      const path = `clusters[${i}].peers[${j}]`;
      if (p === id) report(path, id, 'peer-self');
      else if (p !== primaryId && !ids.has(p)) report(path, id, 'peer-unknown');
      else if (p !== primaryId) edges.set(`${id}>${p}`, { from: id, to: p, path });
    });
    if (!peers.includes(primaryId) && remotes.length === 0)
      report(`clusters[${i}].peers`, id, 'primary-peer-required');
  });

  const peersOf = new Map<string, Set<string>>();
  for (const { from, to } of edges.values()) {
    if (!peersOf.has(from)) peersOf.set(from, new Set());
    peersOf.get(from)!.add(to);
  }
  const pointsToPrimary = (id: string) => {
    const raw = clusters[ids.get(id)!] as Record<string, unknown>;
    const peers = stringList(raw.peers);
    return peers === undefined || peers.includes(primaryId);
  };
  for (const { from, to, path } of edges.values()) {
    const cycle = findCycle(from, to, peersOf);
    if (cycle) report(path, from, 'peer-loop', cycle.join(' -> '));
    else if (!pointsToPrimary(from)) report(path, from, 'multi-level', `${from} -> ${to}`);
    else report(path, from, 'remote-peer', `${from} -> ${to}`);
  }
}

/** The path from `to` back to `from` through remote edges, as a closed walk, if any (bounded BFS). */
function findCycle(from: string, to: string, peersOf: Map<string, Set<string>>): string[] | undefined {
  const prev = new Map<string, string>();
  const visited = new Set([to]);
  const queue = [to];
  while (queue.length > 0) {
    const node = queue.shift()!;
    if (node === from) {
      const walk = [from];
      for (let n = from; n !== to; ) {
        n = prev.get(n)!;
        walk.unshift(n);
      }
      return [from, ...walk];
    }
    for (const next of peersOf.get(node) ?? []) {
      if (!visited.has(next)) {
        visited.add(next);
        prev.set(next, node);
        queue.push(next);
      }
    }
  }
  return undefined;
}

function stringList(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
}

/** The `host:port` strings of this proxy's own addresses, wildcards expanded to interfaces. */
export function ownAddresses(listen: string[]): Set<string> {
  const out = new Set<string>();
  for (const text of listen) {
    const hp = upstreamHostPort(text);
    if (!hp) continue;
    if (hp.host === '0.0.0.0' || hp.host === '::') {
      for (const list of Object.values(networkInterfaces())) {
        for (const nic of list ?? []) {
          if (hp.host === '::' || nic.family === 'IPv4') {
            out.add(formatHostPort({ host: normalizeIp(nic.address), port: hp.port }));
          }
        }
      }
    } else out.add(formatHostPort(hp));
  }
  return out;
}
