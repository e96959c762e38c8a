/**
 * Every failure this package reports, as a stable string code. Callers narrow on `err.code`;
 * the message names the field, tag and byte offset involved so an operator can find it in a
 * hex dump.
 */
export type SecurityErrorCode =
  | 'PTFTP_ERR_TLV_TRUNCATED'
  | 'PTFTP_ERR_TLV_LENGTH'
  | 'PTFTP_ERR_TLV_HEADER_LENGTH'
  | 'PTFTP_ERR_TLV_MISSING'
  | 'PTFTP_ERR_VERSION'
  | 'PTFTP_ERR_PADDING'
  | 'PTFTP_ERR_SIGNATURE_MISSING'
  | 'PTFTP_ERR_SIGNATURE_INVALID'
  | 'PTFTP_ERR_TRUST_RULE'
  | 'PTFTP_ERR_KEY'
  | 'PTFTP_ERR_CERTIFICATE'
  | 'PTFTP_ERR_DECRYPT'
  | 'PTFTP_ERR_ARGUMENT';

/**
 * The brand of every `@ptftp` error (`Symbol.for`, so the same symbol in every package). This
 * package stands alone and may not depend on `@ptftp/protocol`, where the root class
 * `PtftpError` lives: its error class carries the same brand, `code` and `wire` instead of
 * extending it, so `isPtftpError` from `@ptftp/protocol` accepts it and a TFTP server answers
 * it with ERROR 0 "internal error" (never with its message).
 */
const PTFTP_ERROR_BRAND: unique symbol = Symbol.for('ptftp.error');

/**
 * The one error class of `@ptftp/security`.
 *
 * @example
 * ```ts
 * try {
 *   parseTrustList(bytes);
 * } catch (err) {
 *   if (err instanceof SecurityError && err.code === 'PTFTP_ERR_TLV_TRUNCATED') console.log(err.message);
 * }
 * ```
 */
export class SecurityError<C extends SecurityErrorCode = SecurityErrorCode> extends Error {
  readonly code: C;
  /** Byte offset in the file where the problem was found, when there is one. */
  readonly offset: number | undefined;

  constructor(code: C, message: string, opts: { offset?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'SecurityError';
    this.code = code;
    this.offset = opts.offset;
  }

  get [PTFTP_ERROR_BRAND](): true {
    return true;
  }

  /** Never meant for a TFTP peer: a server that meets this error answers ERROR 0 "internal error". */
  get wire(): undefined {
    return undefined;
  }
}

/** True when `err` is a {@link SecurityError}, optionally with the given code. */
export function isSecurityError<C extends SecurityErrorCode>(
  err: unknown,
  code?: C,
): err is SecurityError<C> {
  return err instanceof SecurityError && (code === undefined || err.code === code);
}
