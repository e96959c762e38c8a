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
      const known = keysAt(configSchema, issue.path);
      for (const key of issue.keys) {
        const guess = closest(key, known);
        issues.push({
          path: formatPath([...issue.path, key]),
          message: guess ? `unknown key (did you mean "${guess}"?)` : 'unknown key',
        });
      }
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
  if (result.success && result.data.workers > 1 && result.data.limits.ports === 'single')
    // Every worker reads the shared listen socket: a transfer's ACKs would reach any of them.
    issues.push({ path: 'limits.ports', message: '"single" cannot be used with more than one worker' });
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
  const json = extname(file).toLowerCase() === '.json';
  try {
    return json ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError([{ path: '', message: syntaxMessage(err, text, json) }], file);
  }
}

/**
 * A syntax error as one line with its line and column: JSON.parse names only an offset (Node
 * 20), and YAML's message continues with a drawing of the line that a one-line report cuts off.
 */
function syntaxMessage(err: unknown, text: string, json: boolean): string {
  const message = err instanceof Error ? err.message : String(err);
  let line: number | undefined;
  let column: number | undefined;
  let why = message.split('\n')[0]!;
  const pos = (err as { linePos?: Array<{ line: number; col: number }> }).linePos?.[0];
  if (pos) {
    line = pos.line;
    column = pos.col;
    why = why.replace(/ at line \d+, column \d+:?$/, '');
  } else {
    const m = / at position (\d+)/.exec(why);
    if (m) {
      const before = text.slice(0, Number(m[1]));
      line = before.split('\n').length;
      column = Number(m[1]) - before.lastIndexOf('\n');
      why = why.replace(/ at position \d+( \(line \d+ column \d+\))?/, '');
    }
  }
  const where = line === undefined ? '' : ` at line ${line}, column ${column}`;
  const source = line === undefined ? '' : text.split('\n')[line - 1]?.trim();
  const near = source ? ` (line ${line}: ${source.length > 60 ? `${source.slice(0, 57)}...` : source})` : '';
  return `not valid ${json ? 'JSON' : 'YAML'}${where}: ${why}${near}`;
}

/** The keys the schema allows at `path` (objects, through optional/default/array wrappers). */
function keysAt(schema: unknown, path: readonly PropertyKey[]): string[] {
  let node = unwrap(schema);
  for (const key of path) {
    const def = defOf(node);
    if (def?.type === 'object' && typeof key === 'string') node = unwrap(def.shape?.[key]);
    else if (def?.type === 'array') node = unwrap(def.element);
    else return [];
  }
  const def = defOf(node);
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

interface SchemaDef {
  type?: string;
  shape?: Record<string, unknown>;
  element?: unknown;
  innerType?: unknown;
  in?: unknown;
}

function defOf(node: unknown): SchemaDef | undefined {
  return (node as { _zod?: { def?: SchemaDef } } | undefined)?._zod?.def;
}

function unwrap(node: unknown): unknown {
  for (let i = 0; i < 10; i++) {
    const def = defOf(node);
    if (def?.innerType !== undefined) node = def.innerType;
    else if (def?.type === 'pipe' && def.in !== undefined) node = def.in;
    else return node;
  }
  return node;
}

/** The known key within two edits of `word` (the nearest), for "did you mean". */
function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
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
