import { readFile } from 'node:fs/promises';
import { type DiscoverySource, discoveryFrom } from '@ptftp/resolver';
import { parse as parseYaml } from 'yaml';

/**
 * `discovery.file`: a JSON/YAML file holding `{ "clusters": [...] }` (or just the list),
 * re-read on each refresh; the resolver validates the result like manual configuration.
 *
 * @example
 * ```ts
 * const server = createProxyServer(config, { discovery: fileDiscovery('/etc/ptftp/clusters.json') });
 * ```
 */
export function fileDiscovery(file: string): DiscoverySource {
  return discoveryFrom(async () => {
    const value = parseYaml(await readFile(file, 'utf8')) as unknown;
    const list = Array.isArray(value) ? value : (value as { clusters?: unknown } | null)?.clusters;
    if (!Array.isArray(list)) throw new Error(`${file} holds no "clusters" list`);
    return list;
  });
}
