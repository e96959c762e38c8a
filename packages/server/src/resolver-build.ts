import {
  type DiscoverySource,
  FolderStore,
  MemoryStore,
  Resolver,
  type ResolverCache,
  type ResolverComponents,
  type Store,
  TopologyError,
} from '@ptftp/resolver';
import type { ProxyConfig, ProxyConfigInput } from './config-schema.js';
import { fileDiscovery } from './discovery-file.js';
import { ConfigError } from './errors.js';
import { resolverInit } from './resolver-init.js';
import type { InheritedSocket } from './systemd.js';

/** Collaborators, kept apart from the configuration (`init`) so tests and embedders can replace them. */
export interface ProxyComponents {
  /** The local store for a configuration. Default: a FolderStore on `store.root`, or an empty MemoryStore. */
  createStore?: (config: ProxyConfig) => Store;
  /** Passed to the resolver: how remote clusters are fetched (default: TFTP with @ptftp/protocol). */
  upstreamFactory?: ResolverComponents['upstreamFactory'];
  /** Passed to the resolver: a dynamic source of remote clusters (default: `discovery.file` when configured). */
  discovery?: DiscoverySource;
  /** Passed to the resolver: re-signs `.sgn` files when `signing.mode` is `resign`. */
  signer?: ResolverComponents['signer'];
  /** Where `reload()` without an argument reads the new configuration (the CLI: the config file). */
  configSource?: () => Promise<ProxyConfigInput | ProxyConfig>;
  /**
   * Bound sockets handed over by systemd (see {@link systemdSockets}): UDP ones replace
   * `listen`, TCP ones replace `http.listen`, for as long as the server runs.
   */
  inheritedSockets?: readonly InheritedSocket[];
}

/** A topology the resolver refuses is a configuration error, listed by path. */
export function topologyToConfigError(err: unknown): unknown {
  if (err instanceof TopologyError) {
    return new ConfigError(err.violations.map((v) => ({ path: v.path, message: v.message })));
  }
  return err;
}

/**
 * The resolver for a configuration: its store (`components.createStore`, a FolderStore on
 * `store.root`, or an empty MemoryStore), its discovery source and the shared cache.
 */
export function createResolver(
  config: ProxyConfig,
  signing: { keyPem: string; certPem: string } | undefined,
  components: ProxyComponents,
  sharedCache: ResolverCache | undefined,
): Resolver {
  const store =
    components.createStore?.(config) ??
    (config.store ? new FolderStore(config.store.root) : new MemoryStore({}));
  const discovery =
    components.discovery ?? (config.discovery ? fileDiscovery(config.discovery.file) : undefined);
  try {
    return new Resolver(resolverInit(config, signing), {
      store,
      ...(components.upstreamFactory && { upstreamFactory: components.upstreamFactory }),
      ...(components.signer && { signer: components.signer }),
      ...(discovery && { discovery }),
      ...(sharedCache && { cache: sharedCache }),
    });
  } catch (err) {
    throw topologyToConfigError(err);
  }
}
