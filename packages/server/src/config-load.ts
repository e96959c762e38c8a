import { readFile } from 'node:fs/promises';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { configSchema, type ProxyConfig, type ProxyConfigInput } from './config-schema.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { topologyIssues } from './topology.js';

/** Options of {@link parseConfig}. */
export interface ParseConfigOptions {
  /** Relative paths in the configuration are taken from here (the file's folder). Default: `process.cwd()`. */
  baseDir?: string;
  /** The file name, for error messages. */
  file?: string;
}

/** `clusters[2].tftp[3]`: the path notation operators see in error messages. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

function zodIssues(error: z.ZodError): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      // One line per key, at the key's own path, reads better than zod's combined message.
      for (const key of issue.keys)
        issues.push({ path: formatPath([...issue.path, key]), message: 'unknown key' });
    } else {
      issues.push({ path: formatPath(issue.path), message: issue.message });
    }
  }
  return issues;
}

/**
 * Validate a configuration object and normalise it: defaults filled in, addresses as
 * `host:port` (69 when the port is missing), paths made absolute against `baseDir`, and the
 * remote-cluster topology checked with the resolver's rules. Throws {@link ConfigError}
 * listing every problem by its path. The result is itself a valid input (parsing is idempotent).
 *
 * @example
 * ```ts
 * const config = parseConfig({ store: { root: './tftpboot' }, clusters: [] }, { baseDir: '/etc/ptftp' });
 * config.store?.root; // '/etc/ptftp/tftpboot'
 * ```
 */
export function parseConfig(input: unknown, options: ParseConfigOptions = {}): ProxyConfig {
  const result = configSchema.safeParse(input ?? {});
  const issues = result.success ? [] : zodIssues(result.error);
  // Topology is judged even when the rest of the file is wrong, so one run lists everything.
  const raw = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const clusters = Array.isArray(raw.clusters) ? raw.clusters : [];
  const topology = topologyIssues(clusters, {
    primaryId: typeof raw.primaryId === 'string' ? raw.primaryId : undefined,
    listen: result.success ? result.data.listen : [],
  });
  const seen = new Set(issues.map((i) => `${i.path}\n${i.message}`));
  for (const t of topology.issues) if (!seen.has(`${t.path}\n${t.message}`)) issues.push(t);
  if (!result.success || issues.length > 0 || !topology.clusters) {
    throw new ConfigError(sortIssues(issues), options.file);
  }
  const base = options.baseDir ?? process.cwd();
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const config: ProxyConfig = { ...result.data, clusters: topology.clusters };
  if (config.store) config.store = { root: abs(config.store.root) };
  if (config.discovery) config.discovery = { ...config.discovery, file: abs(config.discovery.file) };
  if (config.signing.key) config.signing.key = abs(config.signing.key);
  if (config.signing.certificate) config.signing.certificate = abs(config.signing.certificate);
  return config;
}

/** Sorted by path (array indexes numerically), so problems of one entry stay together. */
function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  const key = (p: string) => p.replace(/\[(\d+)\]/g, (_, n: string) => `[${n.padStart(6, '0')}]`);
  return [...issues].sort((a, b) => (key(a.path) < key(b.path) ? -1 : key(a.path) > key(b.path) ? 1 : 0));
}

/** Parse configuration text: JSON for `.json`, YAML otherwise (YAML also reads JSON). */
export function parseConfigText(text: string, file: string): unknown {
  try {
    return extname(file).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new ConfigError(
      [{ path: '', message: `not valid ${extname(file) === '.json' ? 'JSON' : 'YAML'}: ${why}` }],
      file,
    );
  }
}

/**
 * Read, parse and validate a configuration file (`ptftp.config.json`, or `.yaml`/`.yml`).
 * Relative paths inside it are taken from the file's folder.
 *
 * @example
 * ```ts
 * const config = await loadConfig('/etc/ptftp/ptftp.config.json');
 * const server = createProxyServer(config);
 * ```
 */
export async function loadConfig(file: string): Promise<ProxyConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (err as Error).message;
    throw new ConfigError([{ path: '', message: why }], file);
  }
  return parseConfig(parseConfigText(text, file), { baseDir: dirname(resolve(file)), file });
}

export type { ProxyConfig, ProxyConfigInput };
