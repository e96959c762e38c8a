import { readFile } from 'node:fs/promises';
import type { ResolverInit } from '@ptftp/resolver';
import type { ProxyConfig } from './config-schema.js';
import { ConfigError } from './errors.js';

/**
 * The resolver's settings for a configuration. `signing` holds the PEM texts when
 * `signing.mode` is `resign` (read by the server, since the resolver does no file I/O of its own).
 *
 * @example
 * ```ts
 * const resolver = new Resolver(resolverInit(parseConfig(input)), { store: new MemoryStore() });
 * ```
 */
export function resolverInit(
  config: ProxyConfig,
  signing?: { keyPem: string; certPem: string },
): ResolverInit {
  const u = config.upstream;
  // The shared cache is built by the server (it outlives resolvers rebuilt by a reload).
  const { shared: _shared, ...cache } = config.cache;
  return {
    ...(config.primaryId !== undefined && { primaryId: config.primaryId }),
    // With a discovery source and no manual clusters, omitting them keeps what discovery found.
    ...(!(config.discovery && config.clusters.length === 0) && { clusters: config.clusters }),
    ...(config.commonFiles !== undefined && { commonFiles: config.commonFiles }),
    cache,
    listen: config.listen,
    ...(config.peerAddresses !== undefined && { peerAddresses: config.peerAddresses }),
    ...(u.lookup !== undefined && { lookup: u.lookup }),
    ...(u.fanout !== undefined && { fanout: u.fanout }),
    ...(u.preference !== undefined && { preference: u.preference }),
    ...(u.timeoutMs !== undefined && { upstreamTimeoutMs: u.timeoutMs }),
    ...(u.retries !== undefined && { upstreamRetries: u.retries }),
    ...(u.hedgeMs !== undefined && { upstreamHedgeMs: u.hedgeMs }),
    resign: signing ?? false,
  };
}

/** The PEM texts of `signing.key` and `signing.certificate` when `signing.mode` is `resign`. */
export async function readSigning(
  config: ProxyConfig,
): Promise<{ keyPem: string; certPem: string } | undefined> {
  const { mode, key, certificate } = config.signing;
  if (mode !== 'resign' || !key || !certificate) return undefined;
  const read = async (path: string, at: string) => {
    try {
      return await readFile(path, 'utf8');
    } catch (err) {
      throw new ConfigError([{ path: at, message: `cannot read ${path}: ${(err as Error).message}` }]);
    }
  };
  return { keyPem: await read(key, 'signing.key'), certPem: await read(certificate, 'signing.certificate') };
}
