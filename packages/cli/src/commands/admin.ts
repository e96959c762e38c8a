import { DEFAULT_ADMIN_PORT, type ProxyStatus, type ReloadResult, type WorkerStatus } from '@ptftp/server';
import { type Command, Option } from 'commander';
import { CliError, type CliIo } from '../io.js';

/** The admin endpoint `ptftp serve` binds by default (override with --admin or PTFTP_ADMIN). */
export const DEFAULT_ADMIN_URL = `http://127.0.0.1:${DEFAULT_ADMIN_PORT}`;

const adminOption = () =>
  new Option('--admin <url>', 'admin endpoint of the running server')
    .env('PTFTP_ADMIN')
    .default(DEFAULT_ADMIN_URL);

interface AdminReply {
  status: number;
  body: Record<string, unknown>;
}

/** Call the admin endpoint; connection problems become one readable CliError. */
export async function callAdmin(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<AdminReply> {
  let url: URL;
  try {
    url = new URL(path, base.endsWith('/') ? base : `${base}/`);
  } catch {
    throw new CliError(`--admin ${base} is not a URL (e.g. ${DEFAULT_ADMIN_URL})`, 2);
  }
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      signal: AbortSignal.timeout(30_000),
      ...(method === 'POST' && {
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body ?? {}),
      }),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err as Error).message;
    throw new CliError(
      `cannot reach the admin endpoint at ${base} (${why}): is \`ptftp serve\` running there?`,
    );
  }
  const text = await res.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new CliError(
      `the admin endpoint at ${base} answered ${res.status} with something that is not JSON`,
    );
  }
  return { status: res.status, body: parsed };
}

function errorOf(reply: AdminReply): string {
  const e = reply.body.error as
    | { message?: string; issues?: { path: string; message: string }[] }
    | undefined;
  if (e?.issues?.length) {
    const lines = e.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
    if (lines.length === 1) return `invalid configuration: ${lines[0]}`;
    return [`invalid configuration (${lines.length} problems):`, ...lines.map((l) => `  ${l}`)].join('\n');
  }
  return e?.message ?? `admin endpoint answered ${reply.status}`;
}

/** Bytes in the largest unit that keeps the number under 1024 (`10.0 MiB`, not `10240.1 KiB`). */
export const byteSize = (n: number): string => {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  if (n < 1024) return `${n} B`;
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
};

/** `ptftp status` as text. */
export function statusText(s: ProxyStatus): string {
  const lines = [
    `state: ${s.state}${s.startedAt ? ` since ${s.startedAt} (up ${s.uptimeSeconds} s)` : ''}`,
    `tftp: ${s.addresses.tftp.map((a) => a.url).join(', ') || '-'}`,
    `http: ${s.addresses.http.map((a) => a.url).join(', ') || '-'}`,
    `active transfers: tftp ${s.activeSessions.tftp}, http ${s.activeSessions.http}`,
    `cache: ${s.cache.entries} entries, ${byteSize(s.cache.bytes)} (memory ${byteSize(s.cache.memoryBytes ?? 0)}, disk ${byteSize(s.cache.diskBytes ?? 0)}); ${s.cache.hits} hits, ${s.cache.misses} misses`,
    `upstream fetches: ${s.cache.inflightFetches ?? 0} in flight (${byteSize(s.cache.inflightBytes ?? 0)}), ${s.cache.waitingFetches ?? 0} waiting, ${s.cache.budgetRefusals ?? 0} refused busy`,
    `reloads: ${s.reloads.applied} applied, ${s.reloads.rejected} refused${s.reloads.lastError ? ` (last: ${s.reloads.lastError.split('\n')[0]})` : ''}`,
  ];
  // `ptftp serve --workers N`: the lines above are the workers' sum; here each on its own.
  const workers = (s as { workers?: WorkerStatus[] }).workers;
  if (workers)
    lines.push(
      `workers: ${workers.length} (${workers.map((w) => `#${w.slot} pid ${w.pid ?? '-'} ${w.state}${w.activeSessions ? `, tftp ${w.activeSessions.tftp} http ${w.activeSessions.http}` : ''}${w.restarts ? `, ${w.restarts} restarts` : ''}`).join('; ')})`,
    );
  const clusters = Array.isArray(s.clusters) ? (s.clusters as Record<string, unknown>[]) : [];
  lines.push(clusters.length === 0 ? 'clusters: none' : 'clusters:');
  for (const c of clusters) {
    const addrs = Array.isArray(c.addresses)
      ? (c.addresses as { address: string; healthy?: boolean }[])
          .map((a) => `${a.address}${a.healthy === false ? ' (down)' : ''}`)
          .join(', ')
      : Array.isArray(c.tftp)
        ? (c.tftp as string[]).join(', ')
        : '';
    const flags = [c.enabled === false ? 'disabled' : '', c.secure === true ? 'secure' : '']
      .filter(Boolean)
      .join(', ');
    lines.push(`  ${String(c.id ?? '?')}${flags ? ` [${flags}]` : ''}: ${addrs}`);
  }
  return `${lines.join('\n')}\n`;
}

export function register(program: Command, io: CliIo): void {
  const cache = program
    .command('cache')
    .description("Manage the running server's cache of remote-cluster files")
    .addHelpText('after', '\nExamples:\n  $ ptftp cache flush --device SEP001122334455\n');
  cache
    .command('flush')
    .description(
      'Drop cached remote-cluster files now (a phone moved to another cluster gets the new file at once, not after 30 minutes)',
    )
    .argument('[name]', 'one file name, e.g. SEP001122334455.cnf.xml')
    .option('--pattern <glob>', 'every cached name matching a glob, e.g. "SEP*.cnf.xml"')
    .option('--device <name...>', 'every cached file of these devices, e.g. SEP001122334455')
    .addOption(adminOption())
    .addHelpText(
      'after',
      `
Examples:
  $ ptftp cache flush                                  # everything
  $ ptftp cache flush SEP00AABBCC0B01.cnf.xml
  $ ptftp cache flush --pattern 'SEP00AABBCC*'
  $ ptftp cache flush --device SEP00AABBCC0B01 SEP00AABBCC0B02
  $ ptftp cache flush --admin http://127.0.0.1:19469
`,
    )
    .action(
      async (name: string | undefined, opts: { pattern?: string; device?: string[]; admin: string }) => {
        const given = [name, opts.pattern, opts.device].filter((x) => x !== undefined).length;
        if (given > 1) throw new CliError('give one of NAME, --pattern or --device', 2);
        // `!== undefined`, not truthiness: `ptftp cache flush "$NAME"` with an empty variable must
        // be refused by the server, not read as "flush everything".
        const body =
          name !== undefined
            ? { name }
            : opts.pattern !== undefined
              ? { pattern: opts.pattern }
              : opts.device
                ? { device: opts.device }
                : {};
        const reply = await callAdmin(opts.admin, 'POST', 'cache/flush', body);
        if (reply.status !== 200) throw new CliError(errorOf(reply));
        io.stdout(`flushed ${String(reply.body.flushed)} cached file(s)\n`);
      },
    );

  program
    .command('status')
    .description('Show the running server: addresses, transfers, cache, remote clusters')
    .addOption(adminOption())
    .option('--json', 'print the raw JSON status')
    .addHelpText(
      'after',
      `
Examples:
  $ ptftp status
  $ ptftp status --json | jq .cache
  $ PTFTP_ADMIN=http://127.0.0.1:19469 ptftp status
`,
    )
    .action(async (opts: { admin: string; json?: boolean }) => {
      const reply = await callAdmin(opts.admin, 'GET', 'status');
      if (reply.status !== 200) throw new CliError(errorOf(reply));
      io.stdout(
        opts.json
          ? `${JSON.stringify(reply.body, null, 2)}\n`
          : statusText(reply.body as unknown as ProxyStatus),
      );
    });

  program
    .command('reload')
    .description(
      'Make the running server re-read its configuration file (like SIGHUP). Transfers in progress continue; an invalid file is refused and the running configuration stays.',
    )
    .addOption(adminOption())
    .addHelpText(
      'after',
      `
Examples:
  $ ptftp reload
  $ ptftp reload --admin http://127.0.0.1:19469
`,
    )
    .action(async (opts: { admin: string }) => {
      const reply = await callAdmin(opts.admin, 'POST', 'reload');
      if (reply.status !== 200) throw new CliError(`reload refused: ${errorOf(reply)}`);
      const r = reply.body as unknown as ReloadResult;
      io.stdout(`reloaded: ${r.applied.length ? `applied ${r.applied.join(', ')}` : 'nothing changed'}\n`);
      if (r.restartRequired.length) io.stdout(`needs a restart to apply: ${r.restartRequired.join(', ')}\n`);
    });
}
