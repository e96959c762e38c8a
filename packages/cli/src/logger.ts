import { formatHostPort } from '@ptftp/protocol';
import type { FailedInfo, ProxyServer, ServedInfo } from '@ptftp/server';
import { type LevelWithSilent, type Logger, pino } from 'pino';
import type { CliIo } from './io.js';
import { escapeForLog, escapeJsonLine } from './log-escape.js';

/** `json`: one pino object per line (for journald, Loki...); `pretty`: one readable line per event. */
export type LogFormat = 'json' | 'pretty';

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/**
 * Turn one pino JSON line into `12:00:01.123 INFO  message`, control characters in the message
 * escaped (it carries names clients chose).
 */
export function prettyLine(json: string): string {
  try {
    const o = JSON.parse(json) as { time?: number; level?: number; msg?: string };
    const t = new Date(o.time ?? Date.now()).toISOString().slice(11, 23);
    const level = (LEVEL_NAMES[o.level ?? 30] ?? 'INFO').padEnd(5);
    return `${t} ${level} ${escapeForLog(String(o.msg ?? ''))}\n`;
  } catch {
    return `${escapeForLog(json.replace(/\n$/, ''))}\n`;
  }
}

/**
 * The CLI's logger. Logs go to stderr, so stdout keeps only what the command announces
 * (listening addresses, what to try) and stays easy to read or parse.
 */
export function createLogger(
  io: CliIo,
  options: { level?: LevelWithSilent; format?: LogFormat } = {},
): Logger {
  const format = options.format ?? (io.isTTY ? 'pretty' : 'json');
  const destination = {
    write(line: string) {
      io.stderr(format === 'pretty' ? prettyLine(line) : escapeJsonLine(line));
    },
  };
  return pino({ level: options.level ?? 'info', base: undefined }, destination);
}

/** `cluster-b@127.0.0.2:69`, `cache (cluster-b@127.0.0.2:69)`, `local`: where a file came from. */
export function describeSource(s: Pick<ServedInfo, 'source' | 'clusterId' | 'address'>): string {
  const origin = s.clusterId ? `${s.clusterId}${s.address ? `@${s.address}` : ''}` : undefined;
  if (s.source === 'cluster') return origin ?? 'cluster';
  if (s.source === 'cache') return origin ? `cache (${origin})` : 'cache';
  return 'local';
}

function remoteText(r: { address: string; port: number }): string {
  return formatHostPort({ host: r.address, port: r.port });
}

/** Log every request with where it was served from, reloads, upstream trouble. */
export function logServerEvents(server: ProxyServer, log: Logger): void {
  server.on('served', (s: ServedInfo) => {
    const status = s.status ? ` ${s.status}` : '';
    log.info(
      {
        event: 'served',
        transport: s.transport,
        file: s.name,
        source: s.source,
        clusterId: s.clusterId,
        upstream: s.address,
        remote: remoteText(s.remote),
        bytes: s.bytes,
        durationMs: Math.round(s.durationMs),
        status: s.status,
      },
      `${s.transport}${status} ${s.name} <- ${describeSource(s)} (${s.bytes} B) to ${remoteText(s.remote)}`,
    );
  });
  server.on('failed', (f: FailedInfo) => {
    const level = f.result === 'error' ? 'warn' : 'info';
    log[level](
      {
        event: 'failed',
        transport: f.transport,
        file: f.name,
        result: f.result,
        remote: remoteText(f.remote),
      },
      `${f.transport} ${f.name}: ${f.error.message} (${remoteText(f.remote)})`,
    );
  });
  server.on('upstreamError', (e) => {
    const why = e.error instanceof Error ? e.error.message : String(e.error);
    log.warn(
      { event: 'upstreamError', clusterId: e.clusterId, upstream: e.address },
      `${e.clusterId}@${e.address}: ${why}`,
    );
  });
  server.on('failover', (e) => {
    log.warn({ event: 'failover', ...e }, `${e.clusterId}: failover ${e.from} -> ${e.to}`);
  });
  server.on('reloaded', (r) => {
    const applied = r.applied.length ? r.applied.join(', ') : 'nothing changed';
    const restart = r.restartRequired.length ? `; needs a restart: ${r.restartRequired.join(', ')}` : '';
    log.info({ event: 'reloaded', ...r }, `configuration reloaded: ${applied}${restart}`);
  });
  server.on('discovery', (r) => {
    if (r.ok) log.info({ event: 'discovery' }, 'remote clusters refreshed from the discovery source');
    else {
      const why = (r.violations ?? []).map((v) => `${v.path}: ${v.message}`).join('; ');
      log.warn(
        { event: 'discovery', violations: r.violations },
        `discovery result refused, clusters unchanged: ${why}`,
      );
    }
  });
  // The addresses at start are announced on stdout; a reload that moves them is logged.
  server.on('listening', (a, cause) => {
    if (cause === 'start') return;
    const list = [
      ...a.tftp.map((t) => `${t.url} (TFTP)`),
      ...a.http.map((h) => `${h.url} (HTTP)`),
      ...(a.admin ? [`${a.admin.url} (admin)`] : []),
    ];
    log.info({ event: 'listening', addresses: a }, `now listening on ${list.join(', ')}`);
  });
  server.on('unexpectedError', (e) => {
    log.error(
      { event: 'unexpectedError', where: e.where, detail: e.detail, err: e.error },
      `unexpected failure (${e.where}${e.detail ? `, ${e.detail}` : ''}), still serving: ${e.error.message}`,
    );
  });
  server.on('reloadRejected', (err) => {
    log.error({ event: 'reloadRejected' }, `reload refused, the running configuration stays: ${err.message}`);
  });
}
