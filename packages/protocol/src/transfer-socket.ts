/**
 * The transport a transfer runs over: a socket of its own (an ephemeral port, the RFC 1350
 * TID, or one from the configured range) whose datagrams go to its session, or, in single-port
 * mode, the listening socket itself. Either way under the per-destination send budget when one
 * is on.
 */
import type dgram from 'node:dgram';
import type { MalformedPacketError } from './errors.js';
import { TftpErrorCode } from './errors.js';
import type { RemoteInfo } from './handler.js';
import { decodePacket, encodeError, Opcode, type Packet } from './packet.js';
import type { PortPool } from './port-pool.js';
import { ReadSession } from './read-session.js';
import { BudgetedTransport, type SendBudget } from './send-budget.js';
import type { ResolvedOptions } from './server-options.js';
import type { SessionRecord } from './session-table.js';
import type { StrayReplyLimiter } from './stray-limit.js';
import { SocketTransport, sendQuietly, type Transport } from './transport.js';

/** ERROR 5, the answer to a datagram that belongs to no transfer. */
export const UNKNOWN_TID = encodeError(TftpErrorCode.UnknownTransferId, 'unknown transfer ID');
const ignore = (): void => {};

/** What opening a transfer's transport needs from its server. */
export interface TransferSocketDeps {
  readonly config: ResolvedOptions;
  readonly pool: PortPool;
  readonly budget: SendBudget | undefined;
  readonly strays: StrayReplyLimiter;
  /** A datagram from the peer that the codec refused. */
  malformed(err: MalformedPacketError, remote: RemoteInfo): void;
}

/** Open the transport of `record`'s transfer (its own socket unless in single-port mode). */
export async function openTransport(record: SessionRecord, deps: TransferSocketDeps): Promise<Transport> {
  const { listener } = record;
  if (deps.config.single)
    return budgeted(new SocketTransport(listener.socket, record.wireAddress, record.wirePort, false), deps);
  const socket = await deps.pool.open({
    type: listener.type,
    address: listener.bound.address,
    ipv6Only: listener.ipv6Only,
    sendBufferSize: deps.config.sendBufferSize,
  });
  record.socket = socket;
  record.localPort = socket.address().port;
  // Send errors arrive here (sends carry no callback): a lost packet, which retransmission covers.
  socket.on('error', ignore);
  socket.on('message', (msg, rinfo) => onTransferMessage(record, socket, msg, rinfo, deps));
  return budgeted(new SocketTransport(socket, record.wireAddress, record.wirePort, true), deps);
}

/** A transfer's transport under the per-destination send budget, when one is on. */
function budgeted(transport: SocketTransport, deps: TransferSocketDeps): Transport {
  if (deps.budget === undefined) return transport;
  return new BudgetedTransport(transport, deps.budget, transport.peerAddress);
}

function onTransferMessage(
  record: SessionRecord,
  socket: dgram.Socket,
  msg: Buffer,
  rinfo: dgram.RemoteInfo,
  deps: TransferSocketDeps,
): void {
  if (rinfo.port !== record.wirePort || rinfo.address !== record.wireAddress) {
    // RFC 1350 §4: a stranger gets ERROR 5 and the transfer goes on untouched; an ERROR is never answered.
    if (msg.length >= 2 && msg[0] === 0 && msg[1] === Opcode.ERROR) return;
    if (deps.strays.allow(rinfo.address)) sendQuietly(socket, UNKNOWN_TID, rinfo.port, rinfo.address);
    return;
  }
  deps.budget?.received(rinfo.address);
  const session = record.session;
  // The per-block message of a read: an ACK goes straight in, with no packet object decoded.
  if (msg.length === 4 && msg[0] === 0 && msg[1] === Opcode.ACK && session instanceof ReadSession) {
    session.ack((msg[2]! << 8) | msg[3]!);
    return;
  }
  let packet: Packet;
  try {
    packet = decodePacket(msg);
  } catch (err) {
    deps.malformed(err as MalformedPacketError, record.remote);
    return;
  }
  session?.handle(packet);
}
