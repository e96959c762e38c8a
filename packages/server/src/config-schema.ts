import { TFTP_PORT } from '@ptftp/protocol';
import type { ClusterConfig } from '@ptftp/resolver';
import { z } from 'zod';
import { formatEndpoint, parseEndpoint } from './address.js';

/**
 * The TFTP port this proxy listens on when none is configured: 6969, so that the demo and
 * tests run without root. Not the port of an upstream TFTP server written without one (that is
 * RFC 1350's 69: `DEFAULT_UPSTREAM_TFTP_PORT` of `@ptftp/resolver`).
 */
export const DEFAULT_LISTEN_TFTP_PORT = 6969;
/** The HTTP port this proxy listens on when none is configured: 6970, as Cisco phones use it. */
export const DEFAULT_LISTEN_HTTP_PORT = 6970;
/**
 * 9469: free in IANA's registry, clear of Cisco's 6971/6972 (HTTPS TFTP) and of the 69xx
 * ports the server itself uses, and inside Prometheus' customary 9xxx exporter range.
 */
export const DEFAULT_ADMIN_PORT = 9469;
/** Cisco's default lifetime of per-device files learned from remote clusters: 30 minutes. */
export const DEFAULT_CACHE_TTL_SECONDS = 1800;
/** Open HTTP connections per address: a site's phones, with room, far below a process's file limit. */
export const DEFAULT_HTTP_MAX_CONNECTIONS = 1024;
/** Request headers arrive within 10 s or the connection is closed (slow-header attacks). */
export const DEFAULT_HTTP_HEADERS_TIMEOUT_MS = 10_000;
/**
 * Open HTTP connections from one client address. A phone uses one or two; 64 leaves room for
 * a NAT gateway with a few dozen phones booting at once, and keeps one host to 1/16 of
 * `maxConnections`. Phones refused here fall back to TFTP.
 */
export const DEFAULT_HTTP_MAX_CONNECTIONS_PER_ADDRESS = 64;
/** A response the client stops reading is cut after 30 s without (enough) progress. */
export const DEFAULT_HTTP_IDLE_TIMEOUT_MS = 30_000;
/**
 * The slowest reading that still counts as progress: 1 KiB/s (30 KiB per 30 s window). A phone
 * slower than that for 30 s would need hours for a firmware image; a client reading a byte now
 * and then to hold the connection is below it.
 */
export const DEFAULT_HTTP_MIN_BYTES_PER_SECOND = 1024;

/**
 * An address string normalised to `host:port`. `ipOnly` is for sockets we bind ourselves:
 * a host name there would make the bound address depend on DNS at start time.
 */
const endpoint = (defaultPort: number, ipOnly: boolean) =>
  z.string().transform((value, ctx) => {
    const parsed = parseEndpoint(value, defaultPort);
    if (typeof parsed === 'string') {
      ctx.addIssue({ code: 'custom', message: parsed });
      return z.NEVER;
    }
    if (ipOnly && parsed.family === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${value}" must be an IP address to listen on` });
      return z.NEVER;
    }
    return formatEndpoint(parsed);
  });

const listenList = (defaultPort: number) =>
  z
    .array(endpoint(defaultPort, true))
    .min(1)
    .superRefine((list, ctx) => {
      // Two entries for one socket: the second bind fails, or with port 0 a socket nobody tracks.
      list.forEach((a, i) => {
        if (list.indexOf(a) !== i)
          ctx.addIssue({ code: 'custom', path: [i], message: `${a} is listed twice` });
      });
    });

/**
 * Another proxy, recognised by the source address of its requests: a host name or a typo there
 * would never match, and that proxy's misses would be forwarded (a second level) unnoticed.
 */
const peerAddress = z.string().superRefine((value, ctx) => {
  const parsed = parseEndpoint(value, TFTP_PORT);
  if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
  else if (parsed.family === undefined)
    ctx.addIssue({
      code: 'custom',
      message: `"${value}" must be an IP address: a peer proxy is recognised by the address its requests come from`,
    });
});

const CLUSTER_KEYS = new Set(['id', 'fqdn', 'description', 'tftp', 'enabled', 'secure', 'peers', 'http']);

/**
 * One remote cluster. Only misspelt keys are caught here: every other rule (at most 3 TFTP
 * addresses, ID and FQDN characters, single-level peers) is the resolver's `validateTopology`,
 * so a file, a reload and a discovery result are all judged by the same code and messages.
 */
const clusterSchema = z.unknown().superRefine((value, ctx) => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
  for (const key of Object.keys(value)) {
    if (!CLUSTER_KEYS.has(key)) ctx.addIssue({ code: 'custom', path: [key], message: 'unknown key' });
  }
});

const portRange = z
  .strictObject({ from: z.number().int().min(1).max(65535), to: z.number().int().min(1).max(65535) })
  .refine((r) => r.from <= r.to, { message: '"from" must not be above "to"' });

/**
 * The configuration file's schema (`ptftp.config.json`, YAML accepted). Objects are strict:
 * a misspelt key is an error, not a silently ignored setting.
 */
export const configSchema = z.strictObject({
  /**
   * Worker processes (`ptftp serve --workers N`): each runs the whole server and they share the
   * TFTP and HTTP sockets; 1 runs in one process, without node:cluster. Restart-only.
   */
  workers: z.number().int().min(1).max(64).default(1),
  listen: listenList(TFTP_PORT).default([
    `127.0.0.1:${DEFAULT_LISTEN_TFTP_PORT}`,
    `[::1]:${DEFAULT_LISTEN_TFTP_PORT}`,
  ]),
  http: z
    .strictObject({
      enabled: z.boolean().default(true),
      listen: listenList(DEFAULT_LISTEN_HTTP_PORT).default([`127.0.0.1:${DEFAULT_LISTEN_HTTP_PORT}`]),
      /** Open connections per listening address; more are accepted and closed at once. */
      maxConnections: z.number().int().min(1).default(DEFAULT_HTTP_MAX_CONNECTIONS),
      /** Open connections from one client address; more are accepted and closed at once. */
      maxConnectionsPerAddress: z.number().int().min(1).default(DEFAULT_HTTP_MAX_CONNECTIONS_PER_ADDRESS),
      /** A client must send its request headers within this time (slow-header attacks). */
      headersTimeoutMs: z.number().int().min(100).default(DEFAULT_HTTP_HEADERS_TIMEOUT_MS),
      /** A response whose client took too few bytes (`minBytesPerSecond`) in this window is cut. */
      idleTimeoutMs: z.number().int().min(100).default(DEFAULT_HTTP_IDLE_TIMEOUT_MS),
      /** The slowest reading still counted as progress; 0: only a client that takes nothing is cut. */
      minBytesPerSecond: z.number().int().min(0).default(DEFAULT_HTTP_MIN_BYTES_PER_SECOND),
    })
    .prefault({}),
  admin: z
    .strictObject({
      enabled: z.boolean().default(true),
      listen: endpoint(DEFAULT_ADMIN_PORT, true).default(`127.0.0.1:${DEFAULT_ADMIN_PORT}`),
    })
    .prefault({}),
  store: z.strictObject({ root: z.string().min(1) }).optional(),
  primaryId: z.string().optional(),
  clusters: z.array(clusterSchema).default([]),
  discovery: z
    .strictObject({
      /** A JSON or YAML file holding `{ "clusters": [...] }`, re-read on reload and on refresh. */
      file: z.string().min(1),
    })
    .optional(),
  commonFiles: z.array(z.string().min(1)).optional(),
  cache: z
    .strictObject({
      ttlSeconds: z.number().int().min(0).default(DEFAULT_CACHE_TTL_SECONDS),
      negativeTtlSeconds: z.number().int().min(0).optional(),
      /** Bytes of cached files held in memory (default 64 MiB); larger files stay on disk only. */
      maxBytes: z.number().int().min(0).optional(),
      /** Folder of the disk tier ("" keeps files in memory only). */
      dir: z.string().optional(),
      /** Bytes of cached files on disk (default 4 GiB). */
      diskMaxBytes: z.number().int().min(0).optional(),
      /** Remote fetches at once (default 32); more wait up to budgetWaitMs, then "server busy". */
      maxFetches: z.number().int().min(1).optional(),
      /** Bytes received by the remote fetches running, all together (default 256 MiB). */
      maxInflightBytes: z.number().int().min(1).optional(),
      /** How long a fetch beyond the budget waits before "server busy" (default 2000 ms). */
      budgetWaitMs: z.number().int().min(0).optional(),
      /** A cache shared by replicas and workers on Redis/Valkey (package @ptftp/redis-cache). */
      shared: z
        .strictObject({
          /** `redis://[:password@]host:port[/db]` or `rediss://`; else the password from env PTFTP_REDIS_PASSWORD. */
          url: z.string().regex(/^rediss?:\/\/[^/]/, 'must be redis://HOST:PORT or rediss://HOST:PORT'),
          /** Prefix of the keys and channel: one per fleet (default "ptftp:"). */
          prefix: z.string().min(1).default('ptftp:'),
          /** Files up to this size are kept in Redis too (default 256 KiB). */
          inlineMaxBytes: z.number().int().min(0).optional(),
        })
        .optional(),
    })
    .prefault({}),
  limits: z
    .strictObject({
      maxSessions: z.number().int().min(1).optional(),
      maxSessionsPerSource: z.number().int().min(1).optional(),
      newSessionsPerSecondPerSource: z.number().min(0).optional(),
      burstPerSource: z.number().int().min(1).optional(),
      maxBlksize: z.number().int().min(8).max(65464).optional(),
      maxWindowsize: z.number().int().min(1).max(65535).optional(),
      retransmitTimeoutMs: z.number().int().min(1).optional(),
      retries: z.number().int().min(0).optional(),
      inactivityTimeoutMs: z.number().int().min(1).optional(),
      transferDeadlineMs: z.number().int().min(1).optional(),
      ports: z.union([z.literal('per-transfer'), z.literal('single'), portRange]).optional(),
    })
    .prefault({}),
  upstream: z
    .strictObject({
      /** Per-packet timeout when asking a remote cluster (resolver default 1000 ms). */
      timeoutMs: z.number().int().min(1).optional(),
      /** Retransmissions per packet when asking a remote cluster (resolver default 1). */
      retries: z.number().int().min(0).optional(),
      /** Silence after which a cluster's next address is asked too (resolver default 300 ms). */
      hedgeMs: z.number().int().min(1).optional(),
      /** Ask the clusters all at once (first found wins) or one after another. */
      lookup: z.enum(['parallel', 'sequential']).optional(),
      /** Clusters asked at once in parallel lookup (resolver default 4). */
      fanout: z.number().int().min(1).optional(),
      /** Cluster IDs asked first. */
      preference: z.array(z.string()).optional(),
    })
    .prefault({}),
  /** Addresses of other proxies: their requests are answered from the local store only (no loops). */
  peerAddresses: z.array(peerAddress).optional(),
  signing: z
    .strictObject({
      /** `passthrough` serves remote files as signed by their cluster; `resign` signs them with this proxy's key. */
      mode: z.enum(['passthrough', 'resign']).default('passthrough'),
      key: z.string().optional(),
      certificate: z.string().optional(),
    })
    .refine((s) => s.mode !== 'resign' || (s.key !== undefined && s.certificate !== undefined), {
      message: 'mode "resign" needs "key" and "certificate"',
    })
    .prefault({}),
  /**
   * What DHCP tells the phones (option 150 and DHCPv6 sub-option 1) and which stacks the phones
   * use. Only `ptftp config check` reads it, to give the dual-stack advice.
   */
  dhcp: z
    .strictObject({
      v4: z.array(z.string()).optional(),
      v6: z.array(z.string()).optional(),
      endpoints: z.strictObject({ ipv4: z.boolean().optional(), ipv6: z.boolean().optional() }).optional(),
    })
    .optional(),
  log: z
    .strictObject({
      level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    })
    .prefault({}),
});

/** What a configuration file may contain (every key optional where a default exists). */
export type ProxyConfigInput = z.input<typeof configSchema>;
/**
 * A validated configuration: defaults filled, addresses as `host:port`, paths absolute.
 * It is also a valid input, so it can be passed back to `parseConfig` or `createProxyServer`.
 */
export type ProxyConfig = Omit<z.output<typeof configSchema>, 'clusters'> & { clusters: ClusterConfig[] };
