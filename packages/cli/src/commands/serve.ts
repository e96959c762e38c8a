import cluster from 'node:cluster';
import { formatHostPort } from '@ptftp/protocol';
import {
  ConfigError,
  createProxyServer,
  DEFAULT_ADMIN_PORT,
  DEFAULT_LISTEN_HTTP_PORT,
  DEFAULT_LISTEN_TFTP_PORT,
  guardProcess,
  type InheritedSocket,
  loadConfig,
  type ProxyConfig,
  type ProxyConfigInput,
  type ProxyServer,
  ServerError,
  serveWorkerEndpoint,
  startDemo,
  systemdSockets,
  WORKER_SLOT_ENV,
} from '@ptftp/server';
import { canBind } from '@ptftp/server/internal';
import { type Command, Option } from 'commander';
import type { LevelWithSilent } from 'pino';
import { CliError, type CliIo } from '../io.js';
import { createLogger, type LogFormat, logServerEvents } from '../logger.js';
import { requireStoreFolder } from '../store-folder.js';

/** Flags of `ptftp serve`. */
export interface ServeOptions {
  config?: string;
  root?: string;
  listen?: string[];
  httpListen?: string[];
  http?: boolean;
  admin?: string | boolean;
  logLevel?: LevelWithSilent;
  logFormat?: LogFormat;
  graceMs?: string;
  workers?: string;
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** A ConfigError as the CLI shows it: one line for one problem, an indented list for several. */
export function configErrorText(err: ConfigError): string {
  const where = err.file ? ` ${err.file}` : '';
  const lines = err.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
  if (lines.length === 1) return `invalid configuration${where}: ${lines[0]}`;
  return [`invalid configuration${where} (${lines.length} problems):`, ...lines.map((l) => `  ${l}`)].join(
    '\n',
  );
}

/** Map server errors to CLI errors (exit 1, one readable message). */
export function toCliError(err: unknown): unknown {
  if (err instanceof ConfigError) return new CliError(configErrorText(err));
  if (err instanceof ServerError) return new CliError(err.message);
  return err;
}

/**
 * Flags applied on top of a configuration file, so that tests and one-off runs can move the
 * ports without editing the file. They are re-applied on every reload.
 */
export function applyOverrides(config: ProxyConfig | ProxyConfigInput, opts: ServeOptions): ProxyConfigInput {
  const out = { ...config } as ProxyConfigInput;
  if (opts.listen) out.listen = opts.listen;
  if (opts.httpListen) out.http = { ...out.http, enabled: true, listen: opts.httpListen };
  if (opts.http === false) out.http = { ...out.http, enabled: false };
  if (typeof opts.admin === 'string') out.admin = { enabled: true, listen: opts.admin };
  if (opts.admin === false) out.admin = { enabled: false };
  if (opts.logLevel) out.log = { level: opts.logLevel };
  if (opts.workers !== undefined) out.workers = Number(opts.workers);
  return out;
}

/**
 * `--root DIR`: serve a folder read-only, no clusters. TFTP only unless `--http-listen` or
 * `--admin` ask for more, so that it binds nothing the caller did not name.
 */
export async function rootModeConfig(opts: ServeOptions & { root: string }): Promise<ProxyConfigInput> {
  let listen = opts.listen;
  if (!listen) {
    listen = [`127.0.0.1:${DEFAULT_LISTEN_TFTP_PORT}`];
    if (await canBind('::1')) listen.push(`[::1]:${DEFAULT_LISTEN_TFTP_PORT}`);
  }
  return {
    listen,
    store: { root: opts.root },
    clusters: [],
    http: opts.httpListen ? { listen: opts.httpListen } : { enabled: false },
    admin: typeof opts.admin === 'string' ? { listen: opts.admin } : { enabled: false },
    ...(opts.logLevel && { log: { level: opts.logLevel } }),
  };
}

/**
 * Resolves with the signal name on the first SIGINT or SIGTERM (or `stop(reason)`: the primary
 * of `--workers` asking, which is no second Ctrl-C); SIGHUP calls `onHup`.
 */
export function waitForStop(onHup: (() => void) | undefined): {
  stopped: Promise<string>;
  stop(reason: string): void;
  dispose(): void;
} {
  let resolveStop: (signal: string) => void = () => {};
  const stopped = new Promise<string>((r) => {
    resolveStop = r;
  });
  let signals = 0;
  // A second Ctrl-C means "now": do not wait for the grace period.
  const stopOn = (signal: string) => {
    if (++signals > 1) process.exit(1);
    resolveStop(signal);
  };
  const onInt = () => stopOn('SIGINT');
  const onTerm = () => stopOn('SIGTERM');
  const hup = () => (onHup ? onHup() : undefined);
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  // Without a configuration file there is nothing to re-read, but SIGHUP must still not kill us.
  process.on('SIGHUP', hup);
  return {
    stopped,
    stop: (reason) => resolveStop(reason),
    dispose() {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      process.off('SIGHUP', hup);
    },
  };
}

export function announce(io: CliIo, server: Pick<ProxyServer, 'addresses'>): void {
  const a = server.addresses;
  for (const t of a.tftp) io.stdout(`listening on ${t.url} (TFTP)\n`);
  for (const h of a.http) io.stdout(`listening on ${h.url} (HTTP)\n`);
  if (a.admin) io.stdout(`admin endpoint on ${a.admin.url} (health, metrics, flush, status, reload)\n`);
}

/** `--workers`, else the configuration file's `workers`, else 1. */
async function workerCount(opts: ServeOptions): Promise<number> {
  if (opts.workers !== undefined) {
    const n = Number(opts.workers);
    if (!Number.isInteger(n) || n < 1 || n > 64)
      throw new CliError('--workers must be a whole number from 1 to 64', 2);
    return n;
  }
  if (!opts.config) return 1;
  try {
    return (await loadConfig(opts.config)).workers;
  } catch (err) {
    throw toCliError(err);
  }
}

async function runServe(opts: ServeOptions, io: CliIo): Promise<void> {
  if (opts.config && opts.root) throw new CliError('give either --config or --root, not both', 2);
  let graceMs = opts.graceMs === undefined ? 5000 : Number(opts.graceMs);
  if (!Number.isInteger(graceMs) || graceMs < 0)
    throw new CliError('--grace-ms must be a whole number of milliseconds', 2);
  // A worker forked by `--workers N`: the same command line, run as one of N servers.
  const slot = cluster.isWorker ? process.env[WORKER_SLOT_ENV] : undefined;
  if (slot === undefined) {
    const count = await workerCount(opts);
    if (count > 1) {
      const { runPrimary } = await import('./serve-primary.js');
      return runPrimary({ ...opts, workers: String(count) }, io, graceMs);
    }
  } else {
    // The primary runs the admin endpoint for the whole server; the workers none.
    opts = { ...opts, admin: false };
  }
  const root = createLogger(io, {
    ...(opts.logLevel && { level: opts.logLevel }),
    ...(opts.logFormat && { format: opts.logFormat }),
  });
  const log = slot === undefined ? root : root.child({ worker: Number(slot) });

  let server: ProxyServer;
  let closeAll: () => Promise<void>;
  // Without a configuration file there is nothing to re-read: say so rather than die on SIGHUP.
  let onHup: (() => void) | undefined = () =>
    log.warn({ event: 'sighup' }, 'SIGHUP ignored: no configuration file (-c) to reload');
  // In a worker, reloads come from the primary (which a SIGHUP to the whole group reaches too).
  const onHupHere = () => (slot === undefined ? onHup?.() : undefined);
  // systemd socket activation: sockets bound by a ptftp.socket unit replace the configured
  // TFTP (UDP) and HTTP (TCP) addresses; without LISTEN_PID naming this process there are none.
  let inheritedSockets: InheritedSocket[];
  try {
    inheritedSockets = slot === undefined && (opts.config || opts.root) ? systemdSockets() : [];
  } catch (err) {
    throw toCliError(err);
  }
  for (const s of inheritedSockets)
    io.stdout(
      `using ${s.protocol.toUpperCase()} socket ${formatHostPort({ host: s.address, port: s.port })} from systemd (fd ${s.fd})\n`,
    );
  const inherited = inheritedSockets.length > 0 ? { inheritedSockets } : {};
  try {
    if (opts.config) {
      const file = opts.config;
      const source = async () => applyOverrides(await loadConfig(file), opts);
      const first = await source();
      await requireStoreFolder(first.store?.root, 'store.root');
      server = createProxyServer(first, { configSource: source, ...inherited });
      log.level = server.config.log.level;
      server.on('reloaded', (_result, config) => {
        log.level = config.log.level;
      });
      logServerEvents(server, log);
      await server.start();
      closeAll = () => server.close({ graceMs });
      onHup = () => {
        log.info({ event: 'sighup' }, `SIGHUP: reloading ${file}`);
        server.reload().catch(() => {
          // Reported by the reloadRejected event; the running configuration stays.
        });
      };
    } else if (opts.root) {
      await requireStoreFolder(opts.root, '--root');
      server = createProxyServer(await rootModeConfig({ ...opts, root: opts.root }), inherited);
      logServerEvents(server, log);
      await server.start();
      closeAll = () => server.close({ graceMs });
    } else {
      const demo = await startDemo({
        ...(opts.listen && { listen: opts.listen }),
        ...(opts.httpListen && { httpListen: opts.httpListen }),
        admin:
          opts.admin === false
            ? false
            : typeof opts.admin === 'string'
              ? opts.admin
              : `127.0.0.1:${DEFAULT_ADMIN_PORT}`,
      });
      server = demo.server;
      logServerEvents(server, log);
      for (const n of demo.notices) io.stdout(`note: ${n}\n`);
      io.stdout('ptftp demo: a proxy with a local store and two remote clusters on loopback\n');
      for (const c of demo.clusters)
        io.stdout(`  remote cluster ${c.id} at ${c.address}: ${c.files.join(', ')}\n`);
      closeAll = () => demo.close();
      announce(io, server);
      io.stdout('try:\n');
      for (const h of demo.hints) io.stdout(`  ${h}\n`);
      io.stdout(
        'each request is logged below with its source (local, cache, or cluster@address); Ctrl-C stops.\n',
      );
    }
  } catch (err) {
    throw toCliError(err);
  }
  if ((opts.config || opts.root) && slot === undefined) announce(io, server);

  // One request must never take the proxy down: what escapes every request path's own handling
  // is logged and counted (ptftp_unexpected_errors_total{where="process"}), and serving goes on.
  const running = server;
  const unguard = guardProcess((error, kind) => running.reportUnexpected('process', error, kind));
  const stop = waitForStop(onHupHere);
  const endpoint =
    slot === undefined
      ? () => {}
      : serveWorkerEndpoint(server, {
          onStop(primaryGraceMs) {
            graceMs = primaryGraceMs;
            stop.stop('primary');
          },
        });
  try {
    const signal = await stop.stopped;
    log.info({ event: 'stopping', signal }, `${signal}: stopping (transfers in progress get ${graceMs} ms)`);
    await closeAll();
    if (slot === undefined) io.stdout('stopped\n');
  } finally {
    endpoint();
    stop.dispose();
    unguard();
    // The cluster channel would keep a worker alive after its server closed.
    if (slot !== undefined) cluster.worker?.disconnect();
  }
}

export function register(program: Command, io: CliIo): void {
  program
    .command('serve')
    .description('Run the proxy TFTP server (TFTP + HTTP + admin). Without -c or --root: the embedded demo.')
    .option('-c, --config <file>', 'configuration file (ptftp.config.json, or YAML); SIGHUP re-reads it')
    .option(
      '--root <dir>',
      'serve this folder read-only, no remote clusters: TFTP only, no HTTP and no admin endpoint unless --http-listen or --admin ask for them',
    )
    .option(
      '--listen <addr>',
      `TFTP address to listen on, repeatable (default 127.0.0.1:${DEFAULT_LISTEN_TFTP_PORT} and [::1]:${DEFAULT_LISTEN_TFTP_PORT})`,
      collect,
    )
    .option(
      '--http-listen <addr>',
      `HTTP address to listen on, repeatable (default 127.0.0.1:${DEFAULT_LISTEN_HTTP_PORT}; the demo adds [::1]:${DEFAULT_LISTEN_HTTP_PORT})`,
      collect,
    )
    .option('--no-http', 'no HTTP front end')
    .option(
      '--admin <addr>',
      `admin endpoint address (default 127.0.0.1:${DEFAULT_ADMIN_PORT}; with --root, only when given)`,
    )
    .option('--no-admin', 'no admin endpoint')
    .addOption(
      new Option('--log-level <level>', 'log level').choices([
        'trace',
        'debug',
        'info',
        'warn',
        'error',
        'silent',
      ]),
    )
    .addOption(
      new Option(
        '--log-format <format>',
        'log format (default: pretty on a terminal, json otherwise)',
      ).choices(['json', 'pretty']),
    )
    .option('--grace-ms <ms>', 'on SIGINT/SIGTERM, how long transfers in progress may finish', '5000')
    .option(
      '--workers <n>',
      'worker processes sharing the TFTP and HTTP sockets (default: the configuration\'s "workers", else 1); needs -c or --root',
    )
    .addHelpText(
      'after',
      `
Examples:
  $ ptftp serve                                   # the demo: two remote clusters on loopback
  $ ptftp serve -c /etc/ptftp/ptftp.config.json   # production; kill -HUP <pid> reloads it
  $ ptftp serve --root ./tftpboot --listen 127.0.0.1:6969 --listen [::1]:6969
  $ ptftp serve -c /etc/ptftp/ptftp.config.json --workers 2   # one worker per core
  $ ptftp serve -c ptftp.config.json --listen 127.0.0.1:16969 --http-listen 127.0.0.1:16970 --admin 127.0.0.1:19469
`,
    )
    .action(async (opts: ServeOptions) => {
      await runServe(opts, io);
    });
}
