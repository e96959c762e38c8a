/**
 * The error model of every `@ptftp` package: one root class with a stable `code`, and an
 * explicit opt-in, `wire`, for the few errors whose text a TFTP peer may read. Everything
 * else (an embedder's handler error, a store's, a signer's, whatever its `code` looks like)
 * goes out as ERROR 0 "internal error" and is reported through the server's events only.
 */

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

/** Stable string codes of the errors `@ptftp/protocol` throws. Callers narrow on `err.code`. */
export type ProtocolErrorCode =
  | 'PTFTP_ERR_MALFORMED_PACKET'
  | 'PTFTP_ERR_INVALID_ARGUMENT'
  | 'PTFTP_ERR_NOT_FOUND'
  | 'PTFTP_ERR_ACCESS_VIOLATION'
  | 'PTFTP_ERR_FILE_EXISTS'
  | 'PTFTP_ERR_DISK_FULL'
  | 'PTFTP_ERR_REMOTE'
  | 'PTFTP_ERR_TIMEOUT'
  | 'PTFTP_ERR_ABORTED'
  | 'PTFTP_ERR_OPTION_NEGOTIATION'
  | 'PTFTP_ERR_PROTOCOL'
  | 'PTFTP_ERR_LIMIT'
  | 'PTFTP_ERR_SIZE_MISMATCH'
  | 'PTFTP_ERR_CLOSED'
  | 'PTFTP_ERR_BUSY'
  | 'PTFTP_ERR_IS_DIRECTORY';

/**
 * Any code of the family. Each package narrows it with its own union
 * (`ProtocolErrorCode`, `ResolverErrorCode`, `ServerErrorCode`, `SecurityErrorCode`,
 * `DhcpOptionsErrorCode`).
 */
export type PtftpErrorCode = `PTFTP_ERR_${string}`;

/** @deprecated Use {@link PtftpErrorCode} (any code) or {@link ProtocolErrorCode} (this package's). */
export type PtftpErrorCodeString = PtftpErrorCode;

/** What a TFTP peer is told: the ERROR packet's code and message. */
export interface WireError {
  readonly code: TftpErrorCode;
  readonly message: string;
}

/**
 * The brand every `@ptftp` error carries, registered globally so that it is the same symbol in
 * every package and in duplicated copies of one. `@ptftp/security` and `@ptftp/dhcp-options`
 * stand alone (they may not depend on this package), so their error classes cannot extend
 * {@link PtftpError}: they carry this brand, a `code` and `wire: undefined` instead, which is
 * all {@link isPtftpError} and the servers look at.
 */
export const PTFTP_ERROR_BRAND: unique symbol = Symbol.for('ptftp.error');

/** What every `@ptftp` error has, whichever package's class it is. */
export interface PtftpErrorLike extends Error {
  readonly code: PtftpErrorCode;
  /** Set only by errors meant for a TFTP peer; undefined means "ERROR 0, generic message". */
  readonly wire: WireError | undefined;
  readonly [PTFTP_ERROR_BRAND]: true;
}

/** The answer to a failure that has no {@link WireError} of its own. */
export const INTERNAL_WIRE_ERROR: WireError = Object.freeze({
  code: TftpErrorCode.NotDefined,
  message: 'internal error',
});

/**
 * Root of every error thrown by the `@ptftp` packages. Its message is for logs and callers,
 * never for the wire: only a subclass that overrides {@link PtftpError.wire} (FileNotFound,
 * AccessViolation, ServerBusy...) is answered with its own code and text.
 *
 * @example
 * ```ts
 * // A handler's own failure: the peer sees ERROR 0 "internal error", the log sees the path.
 * throw new PtftpError('PTFTP_ERR_STORE', `cannot open /srv/secret/${name}`);
 * // A failure meant for the peer: ERROR 1 "file not found: x.cnf".
 * throw new FileNotFoundError('x.cnf');
 * ```
 */
export class PtftpError extends Error implements PtftpErrorLike {
  readonly code: PtftpErrorCode;

  constructor(code: PtftpErrorCode, message: string, options?: { cause?: unknown }) {
    // A number in third place (the old `tftpCode` argument) is ignored: the wire is opt-in.
    super(message, typeof options === 'object' ? options : undefined);
    this.name = new.target.name;
    this.code = code;
  }

  /**
   * `instanceof` that also holds across copies of these packages — an ESM and a CommonJS
   * build loaded side by side (the CLI requires one, a dynamic `import()` loads the other):
   * a branded error whose prototype chain has a class of this name is one.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class `instanceof` asks about (a subclass too).
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    if (typeof value !== 'object' || value === null) return false;
    if ((value as { [PTFTP_ERROR_BRAND]?: unknown })[PTFTP_ERROR_BRAND] !== true) return false;
    for (let p = Object.getPrototypeOf(value); p !== null; p = Object.getPrototypeOf(p)) {
      // biome-ignore lint/complexity/noThisInStatic: as above, the asked class's own name.
      if (Object.hasOwn(p, 'constructor') && (p.constructor as { name?: unknown }).name === this.name)
        return true;
    }
    return false;
  }

  get [PTFTP_ERROR_BRAND](): true {
    return true;
  }

  /** The ERROR a TFTP peer gets for this error; undefined (the default) keeps it off the wire. */
  get wire(): WireError | undefined {
    return undefined;
  }

  /** @deprecated Read `wire?.code`: the code sent when this error reaches the wire (0 when it is not meant for it). */
  get tftpCode(): TftpErrorCode {
    return this.wire?.code ?? TftpErrorCode.NotDefined;
  }
}

/** A root for errors whose own message is the answer: `wire` is `{ code, message }`. */
abstract class WirePtftpError extends PtftpError {
  protected abstract readonly wireCode: TftpErrorCode;
  override get wire(): WireError {
    return { code: this.wireCode, message: this.message };
  }
}

/** A datagram that is not a valid TFTP packet (ERROR 4). `field` names the part that is wrong. */
export class MalformedPacketError extends WirePtftpError {
  override readonly code = 'PTFTP_ERR_MALFORMED_PACKET' as const;
  protected readonly wireCode = TftpErrorCode.IllegalOperation;
  readonly field: string;
  constructor(field: string, message: string) {
    super('PTFTP_ERR_MALFORMED_PACKET', `${field}: ${message}`);
    this.field = field;
  }
}

/** An API argument out of range. `field` names the argument. Never sent to a peer. */
export class InvalidArgumentError extends PtftpError {
  override readonly code = 'PTFTP_ERR_INVALID_ARGUMENT' as const;
  readonly field: string;
  constructor(field: string, message: string) {
    super('PTFTP_ERR_INVALID_ARGUMENT', `${field}: ${message}`);
    this.field = field;
  }
}

/** The requested file does not exist (TFTP error 1). Throw it from a read handler. */
export class FileNotFoundError extends WirePtftpError {
  override readonly code: 'PTFTP_ERR_NOT_FOUND' = 'PTFTP_ERR_NOT_FOUND';
  protected readonly wireCode = TftpErrorCode.FileNotFound;
  readonly filename: string;
  constructor(filename: string, message = `file not found: ${filename}`) {
    super('PTFTP_ERR_NOT_FOUND', message);
    this.filename = filename;
  }
}

/** The request is refused (TFTP error 2). Throw it from a handler. */
export class AccessViolationError extends WirePtftpError {
  override readonly code: 'PTFTP_ERR_ACCESS_VIOLATION' | 'PTFTP_ERR_FILE_EXISTS' =
    'PTFTP_ERR_ACCESS_VIOLATION';
  protected readonly wireCode: TftpErrorCode = TftpErrorCode.AccessViolation;
  readonly filename: string;
  constructor(filename: string, message = `access violation: ${filename}`) {
    super('PTFTP_ERR_ACCESS_VIOLATION', message);
    this.filename = filename;
  }
}

/** An upload would replace a file (TFTP error 6): an access violation with its own code. */
export class FileExistsError extends AccessViolationError {
  override readonly code = 'PTFTP_ERR_FILE_EXISTS' as const;
  protected override readonly wireCode = TftpErrorCode.FileExists;
  constructor(filename: string, message = `file exists: ${filename}`) {
    super(filename, message);
  }
}

/** An upload is over the room or size allowed (TFTP error 3). Throw it from a write handler. */
export class DiskFullError extends WirePtftpError {
  override readonly code = 'PTFTP_ERR_DISK_FULL' as const;
  protected readonly wireCode = TftpErrorCode.DiskFull;
  readonly filename: string;
  constructor(filename: string, message = `disk full: ${filename}`) {
    super('PTFTP_ERR_DISK_FULL', message);
    this.filename = filename;
  }
}

/**
 * The peer answered with a TFTP ERROR packet. Not relayed: a proxy that fails because its
 * upstream said so answers its own client generically (the upstream's text is not ours to pass).
 */
export class TftpRemoteError extends PtftpError {
  override readonly code = 'PTFTP_ERR_REMOTE' as const;
  readonly remoteCode: number;
  readonly remoteMessage: string;
  constructor(remoteCode: number, remoteMessage: string) {
    super('PTFTP_ERR_REMOTE', `peer sent ERROR ${remoteCode}: ${remoteMessage}`);
    this.remoteCode = remoteCode;
    this.remoteMessage = remoteMessage;
  }
}

/** No answer from the peer within the retransmit budget, inactivity timeout or deadline. */
export class TimeoutError extends WirePtftpError {
  override readonly code = 'PTFTP_ERR_TIMEOUT' as const;
  protected readonly wireCode = TftpErrorCode.NotDefined;
  constructor(message: string) {
    super('PTFTP_ERR_TIMEOUT', message);
  }
}

/**
 * The transfer was cancelled through its AbortSignal or by closing the server. Its message
 * is sent: the library only ever gives it generic ones ("transfer aborted", "read stream
 * failed"), keeping the failure that caused it as `cause`.
 */
export class AbortedError extends WirePtftpError {
  override readonly code = 'PTFTP_ERR_ABORTED' as const;
  protected readonly wireCode = TftpErrorCode.NotDefined;
  constructor(message = 'transfer aborted', options?: { cause?: unknown }) {
    super('PTFTP_ERR_ABORTED', message, options);
  }
}

/** Option negotiation failed (TFTP error 8). */
export class OptionNegotiationError extends WirePtftpError {
  override readonly code = 'PTFTP_ERR_OPTION_NEGOTIATION' as const;
  protected readonly wireCode = TftpErrorCode.OptionNegotiation;
  readonly option: string;
  constructor(option: string, message: string) {
    super('PTFTP_ERR_OPTION_NEGOTIATION', `${option}: ${message}`);
    this.option = option;
  }
}

/**
 * The peer broke the protocol (unexpected opcode, block out of sequence beyond recovery...):
 * ERROR 4 by default. Also the way to answer with any other RFC 1350 code and a message of
 * your choosing (`new ProtocolError('no such user', TftpErrorCode.NoSuchUser)`).
 */
export class ProtocolError extends WirePtftpError {
  override readonly code = 'PTFTP_ERR_PROTOCOL' as const;
  protected readonly wireCode: TftpErrorCode;
  constructor(message: string, tftpCode: TftpErrorCode = TftpErrorCode.IllegalOperation) {
    super('PTFTP_ERR_PROTOCOL', message);
    this.wireCode = tftpCode;
  }
}

/** A configured limit refused the request (sessions, per-source cap, rate, size): ERROR 0. */
export class LimitError extends WirePtftpError {
  override readonly code = 'PTFTP_ERR_LIMIT' as const;
  protected readonly wireCode: TftpErrorCode = TftpErrorCode.NotDefined;
  readonly limit: string;
  constructor(limit: string, message: string, tftpCode: TftpErrorCode = TftpErrorCode.NotDefined) {
    super('PTFTP_ERR_LIMIT', `${limit}: ${message}`);
    this.limit = limit;
    this.wireCode = tftpCode;
  }
}

/** A transfer ended with a different size than announced (tsize or a stream's size). */
export class SizeMismatchError extends WirePtftpError {
  override readonly code = 'PTFTP_ERR_SIZE_MISMATCH' as const;
  protected readonly wireCode = TftpErrorCode.NotDefined;
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
    super('PTFTP_ERR_BUSY', 'server busy', options);
    this.resource = resource;
  }
  override get wire(): WireError {
    return { code: TftpErrorCode.NotDefined, message: 'server busy' };
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
    super('PTFTP_ERR_IS_DIRECTORY', 'Is a directory');
    this.filename = filename;
  }
  override get wire(): WireError {
    return { code: TftpErrorCode.NotDefined, message: 'Is a directory' };
  }
}

/** The server or client is closed: ERROR 0 with its message ("server is shutting down"). */
export class ClosedError extends WirePtftpError {
  override readonly code = 'PTFTP_ERR_CLOSED' as const;
  protected readonly wireCode = TftpErrorCode.NotDefined;
  constructor(message = 'closed') {
    super('PTFTP_ERR_CLOSED', message);
  }
}

/**
 * True for any error of the family: an instance of {@link PtftpError}, or an object carrying
 * its brand (the errors of `@ptftp/security` and `@ptftp/dhcp-options`, or a duplicated copy
 * of this package). A `PTFTP_ERR_` prefix alone does not make one: anyone can write that.
 *
 * @example
 * ```ts
 * if (isPtftpError(err)) console.log(err.code, err.wire?.code ?? 'not for the wire');
 * ```
 */
export function isPtftpError(err: unknown): err is PtftpError {
  return (
    err instanceof PtftpError ||
    (typeof err === 'object' &&
      err !== null &&
      (err as { [PTFTP_ERROR_BRAND]?: unknown })[PTFTP_ERROR_BRAND] === true &&
      typeof (err as { code?: unknown }).code === 'string')
  );
}

/**
 * What a TFTP peer is told about `err`: its own {@link WireError} when its class opted in,
 * otherwise `fallback` (ERROR 0 "internal error").
 *
 * @example
 * ```ts
 * wireErrorOf(new FileNotFoundError('a.cnf'));            // { code: 1, message: 'file not found: a.cnf' }
 * wireErrorOf(new PtftpError('PTFTP_ERR_X', '/srv/key')); // { code: 0, message: 'internal error' }
 * ```
 */
export function wireErrorOf(err: unknown, fallback: WireError = INTERNAL_WIRE_ERROR): WireError {
  if (!isPtftpError(err)) return fallback;
  const wire = (err as { wire?: WireError }).wire;
  if (wire === undefined || typeof wire.message !== 'string' || !Number.isInteger(wire.code)) return fallback;
  return wire;
}
