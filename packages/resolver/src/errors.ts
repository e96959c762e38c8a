import { FileNotFoundError, PtftpError } from '@ptftp/protocol';
import type { TopologyViolation } from './topology.js';

/** Codes of the errors this package adds to the `PTFTP_ERR_*` family. */
export const ResolverErrorCode = {
  Topology: 'PTFTP_ERR_TOPOLOGY',
  UpstreamUnreachable: 'PTFTP_ERR_UPSTREAM_UNREACHABLE',
} as const;
export type ResolverErrorCode = (typeof ResolverErrorCode)[keyof typeof ResolverErrorCode];

/**
 * A cluster topology was refused. `violations` lists every broken rule at once, each with the
 * path of the offending value, the cluster ID and a stable rule code.
 *
 * @example
 * ```ts
 * try { resolver.reconfigure(init); } catch (err) {
 *   if (err instanceof TopologyError) for (const v of err.violations) console.log(v.path, v.message);
 * }
 * ```
 */
export class TopologyError extends PtftpError {
  override readonly code = ResolverErrorCode.Topology;
  readonly violations: TopologyViolation[];
  constructor(violations: TopologyViolation[]) {
    super(ResolverErrorCode.Topology, formatViolations(violations));
    this.violations = violations;
  }
}

/**
 * Every address of an upstream failed to answer (timeouts, refused connections, 5xx). Not for
 * the wire: its message names internal addresses (the TFTP front end answers "try again later").
 */
export class UpstreamUnreachableError extends PtftpError {
  override readonly code = ResolverErrorCode.UpstreamUnreachable;
  readonly upstreamId: string;
  /** The last error of each address tried, in order. */
  readonly attempts: Array<{ address: string; error: unknown }>;
  constructor(upstreamId: string, attempts: Array<{ address: string; error: unknown }>, message?: string) {
    super(
      ResolverErrorCode.UpstreamUnreachable,
      message ?? `upstream ${upstreamId} unreachable: ${describeAttempts(attempts)}`,
      { cause: attempts.at(-1)?.error },
    );
    this.upstreamId = upstreamId;
    this.attempts = attempts;
  }
}

/**
 * A request from another proxy (a configured peer address, or one marked as proxied) asked for
 * a name the local store does not hold. It is answered "file not found" and never forwarded,
 * because the hierarchy is single level: forwarding could loop between misconfigured proxies.
 * It is a {@link FileNotFoundError}, so servers answer it with TFTP error 1.
 */
export class LoopRefusedError extends FileNotFoundError {
  constructor(filename: string) {
    super(
      filename,
      `file not found: ${filename} (request from a peer proxy is served from the local store only)`,
    );
  }
}

function formatViolations(violations: TopologyViolation[]): string {
  const n = violations.length;
  const list = violations.map((v) => `${v.path}: ${v.message}`).join('; ');
  return `invalid topology (${n} violation${n === 1 ? '' : 's'}): ${list}`;
}

function describeAttempts(attempts: Array<{ address: string; error: unknown }>): string {
  if (attempts.length === 0) return 'no address to try';
  return attempts
    .map(({ address, error }) => `${address}: ${error instanceof Error ? error.message : String(error)}`)
    .join('; ');
}
