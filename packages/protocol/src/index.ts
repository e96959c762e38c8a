/**
 * @packageDocumentation
 * A complete TFTP engine for Node.js: the wire codec, a server and a client
 * (RFC 1350, 2347, 2348, 2349, 7440), IPv4 and IPv6.
 */
export * from './client.js';
export { bufferContent, type Content, isContent, readAll } from './content.js';
export { DiskFiles, type DiskFilesOptions } from './disk-content.js';
export * from './errors.js';
export * from './events.js';
export * from './fs-handler.js';
export * from './fs-write-handler.js';
export * from './handler.js';
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
export type { InheritedListenSocket } from './listen-address.js';
export * from './netascii.js';
export * from './options.js';
export * from './packet.js';
export { SafeRoot, type SafeRootOptions } from './safe-root.js';
export { SEND_BUDGET_DEFAULTS, type SendBudgetOptions } from './send-budget.js';
export * from './server.js';
