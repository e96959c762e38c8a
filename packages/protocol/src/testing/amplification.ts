/**
 * Measures TFTP reflection: what a server sends to a "victim" whose address an attacker
 * forged in a read request. On loopback the victim is simply a socket that sends the RRQ and
 * then never answers, exactly what a spoofed source looks like to the server.
 */
import dgram from 'node:dgram';
import { encodeRequest, type TftpOptions } from '../packet.js';
import type { LinkEndpoint } from './lossy-link.js';

export interface AmplificationProbeOptions {
  /** The server under test. */
  target: LinkEndpoint;
  /** A file the server has (the attacker picks the largest it knows). */
  name: string;
  /** Options in the forged request (e.g. `{ blksize: '65464' }` to ask for the biggest DATA). */
  options?: TftpOptions;
  /** Requests sent from the victim's address (a flood uses many). Default 1. */
  requests?: number;
  /** The server is done once nothing arrives for this long. Default 2000 ms. */
  quietMs?: number;
  /** Give up listening after this long in any case. Default 30 s. */
  maxWaitMs?: number;
}

export interface AmplificationReport {
  /** Bytes of forged requests (UDP payload). */
  readonly requestBytes: number;
  /** Bytes the victim received (UDP payload). */
  readonly responseBytes: number;
  readonly responsePackets: number;
  /** responseBytes / requestBytes: the amplification factor. */
  readonly factor: number;
  /** Packets received per opcode (3 DATA, 5 ERROR, 6 OACK). */
  readonly byOpcode: Readonly<Record<number, number>>;
  /** Distinct server ports that answered (sessions the forged requests opened). */
  readonly sessions: number;
  /** Whether it stopped because `maxWaitMs` passed while packets still came. */
  readonly cutShort: boolean;
}

/**
 * Send forged read requests from a victim socket that never ACKs, and count what comes back.
 *
 * @example
 * ```ts
 * const r = await measureAmplification({ target: { address: '127.0.0.1', port }, name: 'big.bin',
 *   options: { blksize: '1428' } });
 * expect(r.factor).toBeLessThanOrEqual(1);
 * ```
 */
export async function measureAmplification(opts: AmplificationProbeOptions): Promise<AmplificationReport> {
  const host = opts.target.address.includes(':') ? '::1' : '127.0.0.1';
  const victim = dgram.createSocket(host === '::1' ? 'udp6' : 'udp4');
  victim.on('error', () => {});
  await new Promise<void>((resolve) => victim.bind(0, host, () => resolve()));
  const quietMs = opts.quietMs ?? 2000;
  const maxWaitMs = opts.maxWaitMs ?? 30_000;
  const rrq = encodeRequest(1, opts.name, 'octet', opts.options ?? {});
  const count = opts.requests ?? 1;
  let responseBytes = 0;
  let responsePackets = 0;
  const byOpcode: Record<number, number> = {};
  const ports = new Set<number>();
  let quiet: NodeJS.Timeout | undefined;
  let limit: NodeJS.Timeout | undefined;
  const cutShort = await new Promise<boolean>((resolve) => {
    const rearm = () => {
      clearTimeout(quiet);
      quiet = setTimeout(() => resolve(false), quietMs);
    };
    victim.on('message', (msg, r) => {
      responseBytes += msg.length;
      responsePackets++;
      ports.add(r.port);
      const op = msg.length >= 2 ? msg.readUInt16BE(0) : -1;
      byOpcode[op] = (byOpcode[op] ?? 0) + 1;
      rearm();
    });
    limit = setTimeout(() => resolve(true), maxWaitMs);
    for (let i = 0; i < count; i++) victim.send(rrq, opts.target.port, opts.target.address, () => {});
    rearm();
  });
  clearTimeout(quiet);
  clearTimeout(limit);
  await new Promise<void>((resolve) => victim.close(() => resolve()));
  const requestBytes = rrq.length * count;
  return {
    requestBytes,
    responseBytes,
    responsePackets,
    factor: responseBytes / requestBytes,
    byOpcode,
    sessions: ports.size,
    cutShort,
  };
}
