import { PtftpError } from '@ptftp/protocol';

/** Stable string codes of the errors this package throws. Callers narrow on `err.code`. */
export type ServerErrorCode =
  | 'PTFTP_ERR_CONFIG'
  | 'PTFTP_ERR_LISTEN'
  | 'PTFTP_ERR_STATE'
  /** An HTTP client stopped reading its response (see `StalledReaderError`). */
  | 'PTFTP_ERR_HTTP_STALLED'
  /** ERROR 0 "try again later": no cluster that might hold the file answered. */
  | 'PTFTP_ERR_TRY_AGAIN';

/** One problem in a configuration, located by its path in the file (`clusters[2].tftp[3]`). */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

/**
 * Root of the errors thrown by @ptftp/server: a `PtftpError`, so `isPtftpError` and
 * `instanceof PtftpError` hold. None of them is meant for a TFTP peer (no `wire`).
 */
export class ServerError extends PtftpError {
  override readonly code: ServerErrorCode;
  constructor(code: ServerErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.code = code;
  }
}

/**
 * A configuration was refused. `issues` lists every problem, not just the first, so an
 * operator fixes the file in one pass; the message holds them all, one per line.
 *
 * @example
 * ```ts
 * try { await loadConfig('ptftp.config.json'); }
 * catch (err) { if (err instanceof ConfigError) for (const i of err.issues) console.log(`${i.path}: ${i.message}`); }
 * ```
 */
export class ConfigError extends ServerError {
  override readonly code = 'PTFTP_ERR_CONFIG' as const;
  readonly issues: readonly ConfigIssue[];
  /** The file the configuration came from, when there was one. */
  readonly file: string | undefined;
  constructor(issues: readonly ConfigIssue[], file?: string) {
    const lines = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
    const head = `invalid configuration${file ? ` ${file}` : ''} (${issues.length} problem${issues.length === 1 ? '' : 's'})`;
    super('PTFTP_ERR_CONFIG', [head, ...lines].join('\n'));
    this.issues = issues;
    this.file = file;
  }
}

/** A socket could not be bound (address in use, address not available, permission). */
export class ListenError extends ServerError {
  override readonly code = 'PTFTP_ERR_LISTEN' as const;
  readonly address: string;
  constructor(address: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super('PTFTP_ERR_LISTEN', `cannot listen on ${address}: ${why}`, { cause });
    this.address = address;
  }
}

/** An operation that the server's current state does not allow (start twice, reload after close). */
export class StateError extends ServerError {
  override readonly code = 'PTFTP_ERR_STATE' as const;
  constructor(message: string) {
    super('PTFTP_ERR_STATE', message);
  }
}
