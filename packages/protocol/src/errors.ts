/**
 * Error codes carried by TFTP ERROR packets (RFC 1350 §5, RFC 2347 adds 8).
 */
export const TftpErrorCode = {
  NotDefined: 0,
  FileNotFound: 1,
  AccessViolation: 2,
  DiskFull: 3,
  IllegalOperation: 4,
  UnknownTransferId: 5,
  FileExists: 6,
  NoSuchUser: 7,
  OptionNegotiation: 8,
} as const;
export type TftpErrorCode = (typeof TftpErrorCode)[keyof typeof TftpErrorCode];

/** Stable string codes of every error this package throws. Callers narrow on `err.code`. */
export type PtftpErrorCodeString =
  | 'PTFTP_ERR_MALFORMED_PACKET'
  | 'PTFTP_ERR_INVALID_ARGUMENT'
  | 'PTFTP_ERR_NOT_FOUND'
  | 'PTFTP_ERR_ACCESS_VIOLATION'
  | 'PTFTP_ERR_REMOTE'
  | 'PTFTP_ERR_TIMEOUT'
  | 'PTFTP_ERR_ABORTED'
  | 'PTFTP_ERR_OPTION_NEGOTIATION'
  | 'PTFTP_ERR_PROTOCOL'
  | 'PTFTP_ERR_LIMIT'
  | 'PTFTP_ERR_SIZE_MISMATCH'
  | 'PTFTP_ERR_CLOSED'
  | 'PTFTP_ERR_BUSY'
  | 'PTFTP_ERR_IS_DIRECTORY'
  // Added by @ptftp/resolver and @ptftp/server; listed here so `err.code` narrows everywhere.
  | 'PTFTP_ERR_TOPOLOGY'
  | 'PTFTP_ERR_UPSTREAM_UNREACHABLE'
  | 'PTFTP_ERR_CONFIG';

/** Root of every error thrown by the `@ptftp` packages. */
export class PtftpError extends Error {
  readonly code: PtftpErrorCodeString;
  /** The TFTP ERROR code that a server answers with when this error reaches the wire. */
  readonly tftpCode: TftpErrorCode;

  constructor(
    code: PtftpErrorCodeString,
    message: string,
    tftpCode: TftpErrorCode = TftpErrorCode.NotDefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.tftpCode = tftpCode;
  }
}

/** A datagram that is not a valid TFTP packet. `field` names the part that is wrong. */
export class MalformedPacketError extends PtftpError {
  override readonly code = 'PTFTP_ERR_MALFORMED_PACKET' as const;
  readonly field: string;
  constructor(field: string, message: string) {
    super('PTFTP_ERR_MALFORMED_PACKET', `${field}: ${message}`, TftpErrorCode.IllegalOperation);
    this.field = field;
  }
}

/** An API argument out of range. `field` names the argument. */
export class InvalidArgumentError extends PtftpError {
  override readonly code = 'PTFTP_ERR_INVALID_ARGUMENT' as const;
  readonly field: string;
  constructor(field: string, message: string) {
    super('PTFTP_ERR_INVALID_ARGUMENT', `${field}: ${message}`);
    this.field = field;
  }
}

/** The requested file does not exist (TFTP error 1). Throw it from a read handler. */
export class FileNotFoundError extends PtftpError {
  override readonly code = 'PTFTP_ERR_NOT_FOUND' as const;
  readonly filename: string;
  constructor(filename: string, message = `file not found: ${filename}`) {
    super('PTFTP_ERR_NOT_FOUND', message, TftpErrorCode.FileNotFound);
    this.filename = filename;
  }
}

/** The request is refused (TFTP error 2). Throw it from a handler. */
export class AccessViolationError extends PtftpError {
  override readonly code = 'PTFTP_ERR_ACCESS_VIOLATION' as const;
  readonly filename: string;
  constructor(filename: string, message = `access violation: ${filename}`) {
    super('PTFTP_ERR_ACCESS_VIOLATION', message, TftpErrorCode.AccessViolation);
    this.filename = filename;
  }
}

/** The peer answered with a TFTP ERROR packet. */
export class TftpRemoteError extends PtftpError {
  override readonly code = 'PTFTP_ERR_REMOTE' as const;
  readonly remoteCode: number;
  readonly remoteMessage: string;
  constructor(remoteCode: number, remoteMessage: string) {
    super('PTFTP_ERR_REMOTE', `peer sent ERROR ${remoteCode}: ${remoteMessage}`, remoteCode as TftpErrorCode);
    this.remoteCode = remoteCode;
    this.remoteMessage = remoteMessage;
  }
}

/** No answer from the peer within the retransmit budget, inactivity timeout or deadline. */
export class TimeoutError extends PtftpError {
  override readonly code = 'PTFTP_ERR_TIMEOUT' as const;
  constructor(message: string) {
    super('PTFTP_ERR_TIMEOUT', message);
  }
}

/** The transfer was cancelled through its AbortSignal or by closing the server. */
export class AbortedError extends PtftpError {
  override readonly code = 'PTFTP_ERR_ABORTED' as const;
  constructor(message = 'transfer aborted', options?: { cause?: unknown }) {
    super('PTFTP_ERR_ABORTED', message, TftpErrorCode.NotDefined, options);
  }
}

/** Option negotiation failed (TFTP error 8). */
export class OptionNegotiationError extends PtftpError {
  override readonly code = 'PTFTP_ERR_OPTION_NEGOTIATION' as const;
  readonly option: string;
  constructor(option: string, message: string) {
    super('PTFTP_ERR_OPTION_NEGOTIATION', `${option}: ${message}`, TftpErrorCode.OptionNegotiation);
    this.option = option;
  }
}

/** The peer broke the protocol (unexpected opcode, block out of sequence beyond recovery...). */
export class ProtocolError extends PtftpError {
  override readonly code = 'PTFTP_ERR_PROTOCOL' as const;
  constructor(message: string, tftpCode: TftpErrorCode = TftpErrorCode.IllegalOperation) {
    super('PTFTP_ERR_PROTOCOL', message, tftpCode);
  }
}

/** A configured limit refused the request (sessions, per-source cap, rate, size). */
export class LimitError extends PtftpError {
  override readonly code = 'PTFTP_ERR_LIMIT' as const;
  readonly limit: string;
  constructor(limit: string, message: string) {
    super('PTFTP_ERR_LIMIT', `${limit}: ${message}`, TftpErrorCode.NotDefined);
    this.limit = limit;
  }
}

/** A transfer ended with a different size than announced (tsize or a stream's size). */
export class SizeMismatchError extends PtftpError {
  override readonly code = 'PTFTP_ERR_SIZE_MISMATCH' as const;
  readonly expected: number;
  readonly actual: number;
  constructor(expected: number, actual: number) {
    super('PTFTP_ERR_SIZE_MISMATCH', `size mismatch: announced ${expected} bytes, got ${actual}`);
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * The server cannot take this request now (descriptors exhausted, a fetch or byte budget
 * full): TFTP ERROR 0 "server busy", and never a reason to ask another server for the file.
 * The request may succeed when retried.
 */
export class ServerBusyError extends PtftpError {
  override readonly code = 'PTFTP_ERR_BUSY' as const;
  /** What is exhausted, e.g. `"descriptors"`, `"upstream fetches"`. */
  readonly resource: string;
  constructor(resource: string, options?: { cause?: unknown }) {
    super('PTFTP_ERR_BUSY', 'server busy', TftpErrorCode.NotDefined, options);
    this.resource = resource;
  }
}

/**
 * The name is a folder, not a file: ERROR 0 "Is a directory", as tftpd-hpa answers (checked
 * against `in.tftpd` 5.2). Not "not found": the name exists, and asking another server for it
 * would be wrong.
 */
export class IsDirectoryError extends PtftpError {
  override readonly code = 'PTFTP_ERR_IS_DIRECTORY' as const;
  readonly filename: string;
  constructor(filename: string) {
    super('PTFTP_ERR_IS_DIRECTORY', 'Is a directory', TftpErrorCode.NotDefined);
    this.filename = filename;
  }
}

/** The server or client is closed. */
export class ClosedError extends PtftpError {
  override readonly code = 'PTFTP_ERR_CLOSED' as const;
  constructor(message = 'closed') {
    super('PTFTP_ERR_CLOSED', message);
  }
}

/** True for any error of this family (works across duplicated package copies too). */
export function isPtftpError(err: unknown): err is PtftpError {
  return (
    err instanceof PtftpError ||
    (typeof err === 'object' &&
      err !== null &&
      typeof (err as { code?: unknown }).code === 'string' &&
      (err as { code: string }).code.startsWith('PTFTP_ERR_'))
  );
}
