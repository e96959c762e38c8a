/**
 * @packageDocumentation
 * A complete TFTP engine for Node.js: the wire codec, a server and a client
 * (RFC 1350, 2347, 2348, 2349, 7440), IPv4 and IPv6.
 *
 * This face is chosen, not spilled: what is listed here is what users may rely on. Helpers
 * that only the other `@ptftp` packages share live behind `@ptftp/protocol/internal`; test
 * doubles behind `@ptftp/protocol/testing`.
 */

// The client.
export {
  parseTftpUrl,
  TftpClient,
  type TftpDownloadStream,
  type TftpFileResult,
  type TftpGetFileOptions,
  type TftpNegotiated,
  type TftpPutOptions,
  type TftpPutSource,
  type TftpTarget,
  type TftpTransferOptions,
  type TftpUrl,
  tftpGet,
  tftpGetFile,
  tftpGetStream,
  tftpPut,
} from './client.js';
// Content handles and the safe-folder core they are read from.
export { bufferContent, type Content } from './content.js';
export { DiskFiles, type DiskFilesOptions } from './disk-content.js';
// Errors: one class per condition, each with a stable code and its TFTP error code.
export {
  AbortedError,
  AccessViolationError,
  ClosedError,
  DiskFullError,
  FileExistsError,
  FileNotFoundError,
  INTERNAL_WIRE_ERROR,
  InvalidArgumentError,
  IsDirectoryError,
  isPtftpError,
  LimitError,
  MalformedPacketError,
  OptionNegotiationError,
  ProtocolError,
  type ProtocolErrorCode,
  PTFTP_ERROR_BRAND,
  PtftpError,
  type PtftpErrorCode,
  type PtftpErrorCodeString,
  type PtftpErrorLike,
  ServerBusyError,
  SizeMismatchError,
  TftpErrorCode,
  TftpRemoteError,
  TimeoutError,
  type WireError,
  wireErrorOf,
} from './errors.js';
// The server's events.
export type {
  ListeningAddress,
  RequestInfo,
  TftpServerEvents,
  TransferErrorInfo,
  TransferInfo,
  TransferStats,
} from './events.js';
// Handlers: a folder's, and the shapes of your own.
export { createFsHandler, type FsHandlerOptions, resolveSafePath } from './fs-handler.js';
export { createFsWriteHandler, type FsWriteHandlerOptions } from './fs-write-handler.js';
export type {
  HandlerContext,
  LocalInfo,
  ReadHandler,
  ReadRequest,
  ReadResult,
  RemoteInfo,
  TransferRequest,
  WriteHandler,
  WriteRequest,
  WriteSink,
} from './handler.js';
export {
  formatHostPort,
  type HostPort,
  type HostPortOptions,
  type HostPortProblem,
  type IpFamily,
  ipFamily,
  parseHostPort,
  TFTP_PORT,
  tryParseHostPort,
} from './host-port.js';
export { Leases } from './leases.js';
export type { InheritedListenSocket } from './listen-address.js';
// The codec: netascii, option negotiation (RFC 2347-2349, 7440) and packets (RFC 1350).
export { encodeNetascii, NetasciiDecoder } from './netascii.js';
export {
  BLKSIZE_MAX,
  BLKSIZE_MIN,
  DEFAULT_BLKSIZE,
  type NegotiatedOptions,
  type NegotiationInput,
  negotiateOptions,
  type OptionLimits,
  type OptionPolicyResult,
  TIMEOUT_MAX_S,
  TIMEOUT_MIN_S,
  WINDOWSIZE_MAX,
  WINDOWSIZE_MIN,
} from './options.js';
export {
  type AckPacket,
  type DataPacket,
  decodePacket,
  type ErrorPacket,
  encodeAck,
  encodeData,
  encodeError,
  encodeOack,
  encodePacket,
  encodeRequest,
  type OackPacket,
  Opcode,
  type Packet,
  PacketLimits,
  type RequestPacket,
  type TftpOptions,
  type TransferMode,
} from './packet.js';
export { SafeRoot, type SafeRootOptions } from './safe-root.js';
export type { SendBudgetOptions } from './send-budget.js';
// The server.
export {
  createServer,
  type DatagramSocketFactory,
  type LiveServerOptions,
  TftpServer,
  type TftpServerOptions,
} from './server.js';
