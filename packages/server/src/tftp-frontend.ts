import {
  AbortedError,
  ClosedError,
  type Content,
  createServer,
  type InheritedListenSocket,
  type LiveServerOptions,
  type ReadRequest,
  ServerBusyError,
  TftpErrorCode,
  type TftpServer,
  type WireError,
} from '@ptftp/protocol';
import { UpstreamUnreachableError } from '@ptftp/resolver';
import { formatEndpoint } from './address.js';
import type { ProxyConfig } from './config-schema.js';
import { contained } from './contain.js';
import { ListenError, ServerError } from './errors.js';
import { type FrontendHooks, failureKind, type ResolvedFile } from './events.js';

/** The TFTP option another ptftp proxy puts in its upstream RRQ, so loops can be refused. */
export const PROXIED_OPTION = 'ptftp-proxied';

/** Which configured address a bind error is about (Node puts `address` and `port` on it). */
function failedAddress(addresses: readonly TftpListenAddress[], err: unknown): string {
  const text = addresses.map((a) => (typeof a === 'string' ? a : `systemd fd ${a.fd}`));
  const e = err as { address?: string; port?: number };
  if (e.address !== undefined && e.port !== undefined) {
    const one = formatEndpoint({ host: e.address, port: e.port });
    if (text.includes(one)) return one;
  }
  return text.join(', ');
}

/** A configured address, or a socket inherited from systemd. */
export type TftpListenAddress = string | InheritedListenSocket;

/** Address as @ptftp/protocol reports a bound socket. */
export interface TftpBound {
  readonly address: string;
  readonly port: number;
  readonly family: string | number;
}

function optionValue(options: ReadRequest['options'], key: string): string | undefined {
  const raw = options as unknown;
  if (raw instanceof Map) return raw.get(key) as string | undefined;
  return (raw as Record<string, string | undefined>)[key];
}

/** The protocol server's options for `limits`, without `ports` (a socket setting). */
function liveOptions(l: ProxyConfig['limits']): LiveServerOptions {
  return {
    ...(l.maxBlksize !== undefined && { maxBlksize: l.maxBlksize }),
    ...(l.maxWindowsize !== undefined && { maxWindowsize: l.maxWindowsize }),
    ...(l.retransmitTimeoutMs !== undefined && { retransmitTimeoutMs: l.retransmitTimeoutMs }),
    ...(l.retries !== undefined && { retries: l.retries }),
    ...(l.inactivityTimeoutMs !== undefined && { inactivityTimeoutMs: l.inactivityTimeoutMs }),
    ...(l.transferDeadlineMs !== undefined && { transferDeadlineMs: l.transferDeadlineMs }),
    ...(l.maxSessions !== undefined && { maxSessions: l.maxSessions }),
    ...(l.maxSessionsPerSource !== undefined && { maxSessionsPerSource: l.maxSessionsPerSource }),
    ...(l.newSessionsPerSecondPerSource !== undefined && {
      newSessionsPerSecondPerSource: l.newSessionsPerSecondPerSource,
    }),
    ...(l.burstPerSource !== undefined && { burstPerSource: l.burstPerSource }),
  };
}

/** What the handler knew, carried by the protocol server to the transfer's last event. */
interface Answered {
  readonly file: ResolvedFile;
  readonly started: number;
}

/**
 * The TFTP front end: @ptftp/protocol's server with a handler that asks the resolver. Each
 * transfer's context says which source answered it, so that the bytes counted when the
 * transfer completes are labelled with it.
 */
export class TftpFrontend {
  private server: TftpServer<Answered> | undefined;
  /** What each configured address string is bound to (inherited sockets are not listed). */
  private readonly configured = new Map<string, TftpBound>();

  constructor(
    private readonly hooks: FrontendHooks,
    private limits: ProxyConfig['limits'],
  ) {}

  get activeSessions(): number {
    return this.server?.activeSessions ?? 0;
  }

  async listen(addresses: readonly TftpListenAddress[]): Promise<TftpBound[]> {
    const server = createServer<Answered>({
      handler: (req) => this.handle(req),
      ...liveOptions(this.limits),
      ...(this.limits.ports !== undefined && { ports: this.limits.ports }),
    });
    // These run inside the protocol server's socket callbacks: a throw there is reported, not unwound.
    const report = (err: Error) => this.hooks.unexpected('tftp', err);
    server.on(
      'transferComplete',
      contained((stats) => {
        const entry = stats.context;
        if (!entry) return;
        this.hooks.served({
          transport: 'tftp',
          name: entry.file.name,
          remote: { address: stats.remote.address, port: stats.remote.port },
          source: entry.file.source,
          clusterId: entry.file.clusterId,
          address: entry.file.address,
          bytes: stats.bytes,
          durationMs: performance.now() - entry.started,
        });
      }, report),
    );
    server.on(
      'transferError',
      contained((err, info) => {
        // Errors raised by the handler were reported already (no context): this is for
        // transfers that broke after it answered.
        if (info.context === undefined) return;
        const remote = info.remote ?? { address: '', port: 0 };
        const name = info.filename ?? '';
        this.hooks.failed({ transport: 'tftp', name, remote, result: 'error', error: err });
      }, report),
    );
    this.server = server;
    let bound: Awaited<ReturnType<TftpServer['listen']>>;
    try {
      bound = await server.listen([...addresses]);
    } catch (err) {
      throw new ListenError(failedAddress(addresses, err), err);
    }
    const out = bound.map((b) => ({ address: b.address, port: b.port, family: b.family }));
    addresses.forEach((a, i) => {
      if (typeof a === 'string') this.configured.set(a, out[i]!);
    });
    return out;
  }

  /** The addresses listening now. */
  get bound(): TftpBound[] {
    return (this.server?.addresses ?? []).map((b) => ({
      address: b.address,
      port: b.port,
      family: b.family,
    }));
  }

  /**
   * Move to a new list of configured addresses: the new ones are bound now (a ListenError
   * leaves everything as it was); `commit()` then stops listening on the ones no longer listed
   * (their transfers finish), `rollback()` releases the new ones instead.
   */
  async rebind(next: readonly string[]): Promise<{ commit(): void; rollback(): void }> {
    const server = this.server;
    const added = next.filter((a) => !this.configured.has(a));
    const removed = [...this.configured.keys()].filter((a) => !next.includes(a));
    if (!server || (added.length === 0 && removed.length === 0)) return { commit() {}, rollback() {} };
    let bound: TftpBound[] = [];
    if (added.length > 0) {
      try {
        bound = (await server.listen(added)).map((b) => ({
          address: b.address,
          port: b.port,
          family: b.family,
        }));
      } catch (err) {
        throw new ListenError(failedAddress(added, err), err);
      }
    }
    return {
      commit: () => {
        for (const a of removed) {
          const b = this.configured.get(a);
          if (b) server.unlisten(b);
          this.configured.delete(a);
        }
        for (const [i, a] of added.entries()) this.configured.set(a, bound[i]!);
      },
      rollback: () => {
        for (const b of bound) server.unlisten(b);
      },
    };
  }

  /** New limits for transfers that start from now on (`ports` stays as bound). */
  configure(limits: ProxyConfig['limits']): void {
    this.server?.configure(liveOptions(limits));
    this.limits = { ...limits, ...(this.limits.ports !== undefined && { ports: this.limits.ports }) };
  }

  async close(graceMs = 5000): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await server.close({ graceMs });
    this.configured.clear();
  }

  private async handle(req: ReadRequest): Promise<{ content: Content; context: Answered }> {
    const started = performance.now();
    const remote = { address: req.remote.address, port: req.remote.port };
    try {
      const file = await this.hooks.resolve(req.filename, {
        remoteAddress: req.remote.address,
        proxied: optionValue(req.options, PROXIED_OPTION) === '1',
        signal: req.signal,
        transport: 'tftp',
      });
      // The protocol server reads the handle by offset (views when in memory, bounded read-ahead
      // from disk or while the file still arrives) and releases it however the transfer ends.
      return { content: file.content, context: { file, started } };
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      const result = failureKind(err);
      this.hooks.failed({ transport: 'tftp', name: req.filename, remote, result, error });
      // Rethrown so the protocol server answers with the error's TFTP code (1 not found, 2 denied).
      // The protocol server puts a PtftpError's message on the wire; any other failure (a store's
      // or a signer's, which may name internal hosts or paths) goes out as a plain Error, which
      // it answers with ERROR 0 "internal error".
      if (result !== 'error' || err instanceof AbortedError || err instanceof ClosedError) throw err;
      // No answer from a cluster that might have the file, or no room to look (descriptors,
      // the search bound): ERROR 0 "try again later", never ERROR 1 — a phone told "not found"
      // may fall back to its default configuration. Why an ERROR rather than silence: the
      // phone's retransmitted RRQs were held while the resolver waited (hedged, bounded), so
      // silence now would only cost it another full retransmission cycle per file, and to a
      // booting phone a silent server looks dead; ERROR 0 ends this attempt at once, tells the
      // phone the server is alive, and its next request asks the clusters again.
      // A full budget says so itself: ERROR 0 "server busy".
      if (err instanceof ServerBusyError) throw err;
      if (err instanceof UpstreamUnreachableError) throw new TryAgainError(err);
      throw new Error('resolution failed', { cause: err });
    }
  }
}

/** ERROR 0 "try again later": the answer is not known now (it names no internal host). */
class TryAgainError extends ServerError {
  override readonly code = 'PTFTP_ERR_TRY_AGAIN' as const;
  constructor(cause: unknown) {
    super('PTFTP_ERR_TRY_AGAIN', 'try again later', { cause });
  }
  override get wire(): WireError {
    return { code: TftpErrorCode.NotDefined, message: 'try again later' };
  }
}
