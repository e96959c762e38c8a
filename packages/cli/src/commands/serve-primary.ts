/**
 * `ptftp serve --workers N` in the primary process: checks the configuration once, forks the
 * workers (each runs `ptftp serve` as a ProxyServer), runs the admin endpoint for all of them,
 * forwards SIGHUP and the drain, and logs a worker that dies and is started again.
 */
import {
  guardProcess,
  loadConfig,
  type ProxyConfigInput,
  parseConfig,
  systemdSockets,
  WorkerPool,
} from '@ptftp/server';
import { AdminEndpoint } from '@ptftp/server/internal';
import { CliError, type CliIo } from '../io.js';
import { createLogger } from '../logger.js';
import { requireStoreFolder } from '../store-folder.js';
import {
  announce,
  applyOverrides,
  rootModeConfig,
  type ServeOptions,
  toCliError,
  waitForStop,
} from './serve.js';

export async function runPrimary(opts: ServeOptions, io: CliIo, graceMs: number): Promise<void> {
  if (!opts.config && !opts.root)
    throw new CliError('--workers needs -c or --root (the demo runs in one process)', 2);
  const log = createLogger(io, {
    ...(opts.logLevel && { level: opts.logLevel }),
    ...(opts.logFormat && { format: opts.logFormat }),
  });
  let config: ReturnType<typeof parseConfig>;
  try {
    // Each worker binds exactly what one process would bind; systemd's sockets are the
    // primary's descriptors and cannot be shared out through node:cluster.
    if (systemdSockets().length > 0)
      throw new CliError('--workers cannot be used with systemd socket activation (ptftp.socket)');
    let input: ProxyConfigInput;
    if (opts.config) input = applyOverrides(await loadConfig(opts.config), opts);
    else
      input = {
        ...(await rootModeConfig({ ...opts, root: opts.root as string })),
        workers: Number(opts.workers),
      };
    config = parseConfig(input);
    await requireStoreFolder(config.store?.root, opts.config ? 'store.root' : '--root');
  } catch (err) {
    throw toCliError(err);
  }

  const pool = new WorkerPool({ count: config.workers });
  pool.on('workerExit', (e) =>
    log.warn(
      { event: 'workerExit', ...e },
      `worker ${e.slot} (pid ${e.pid}) exited (${e.signal ?? `code ${e.code}`}); starting it again in ${e.restartInMs} ms`,
    ),
  );
  pool.on('workerStarted', (e) =>
    log.info(
      { event: 'workerStarted', ...e },
      `worker ${e.slot} started again (pid ${e.pid}, restart ${e.restarts})`,
    ),
  );
  pool.on('unexpectedError', (e) =>
    log.error({ event: 'unexpectedError', where: e.where, err: e.error }, e.detail ?? e.error.message),
  );
  const unguard = guardProcess((error, kind) => pool.reportUnexpected('process', error, kind));
  const admin = new AdminEndpoint(pool);
  try {
    try {
      await pool.start();
      if (config.admin.enabled) await admin.listen(config.admin.listen);
    } catch (err) {
      await pool.close(0);
      throw new CliError(`cannot start ${config.workers} workers: ${(err as Error).message}`);
    }
    const a = admin.address;
    announce(io, {
      addresses: {
        ...pool.addresses,
        ...(a && {
          admin: { address: a.address, port: a.port, family: a.family === 'IPv6' ? 6 : 4, url: adminUrl(a) },
        }),
      },
    });
    io.stdout(`${config.workers} workers serving (pid ${process.pid} is the primary)\n`);
    const stop = waitForStop(() => {
      log.info({ event: 'sighup' }, `SIGHUP: every worker reloads ${opts.config ?? 'its configuration'}`);
      pool
        .reload()
        .catch((err: Error) => log.warn({ event: 'reloadRejected' }, `reload refused: ${err.message}`));
    });
    try {
      const signal = await stop.stopped;
      log.info(
        { event: 'stopping', signal },
        `${signal}: stopping ${config.workers} workers (transfers in progress get ${graceMs} ms)`,
      );
      await Promise.all([admin.close(), pool.close(graceMs)]);
      io.stdout('stopped\n');
    } finally {
      stop.dispose();
    }
  } finally {
    unguard();
  }
}

function adminUrl(a: { address: string; port: number; family: string }): string {
  return a.family === 'IPv6' ? `http://[${a.address}]:${a.port}` : `http://${a.address}:${a.port}`;
}
