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
}

/** True when `err` is a {@link SecurityError}, optionally with the given code. */
export function isSecurityError<C extends SecurityErrorCode>(
  err: unknown,
  code?: C,
): err is SecurityError<C> {
  return err instanceof SecurityError && (code === undefined || err.code === code);
}
