/**
 * Admission as pure decisions (admission.ts): every rule checked with plain values, no socket.
 * The order matters: a closing server refuses before a token is looked at, a source over its
 * rate gets silence (no reflection), then mode, write permission, the server's and the
 * source's transfer ceilings.
 */
import { describe, expect, it } from 'vitest';
import {
  type AdmissionInput,
  admitRequest,
  isRequestOpcode,
  knownPeerAction,
  malformedRequestCode,
} from '../src/admission.js';
import { MalformedPacketError, TftpErrorCode } from '../src/errors.js';
import { Opcode, type Packet } from '../src/packet.js';

const base: AdmissionInput = {
  opcode: 'RRQ',
  mode: 'octet',
  source: '192.0.2.7',
  closing: false,
  withinRate: true,
  writable: false,
  sessions: 0,
  maxSessions: 2048,
  fromSource: 0,
  maxSessionsPerSource: 128,
};

/** The refusal of `input`: its error code, TFTP code, message and whether it goes on the wire. */
function refusal(input: Partial<AdmissionInput>) {
  const a = admitRequest({ ...base, ...input });
  if (a.admit) return 'admitted';
  return { code: a.error.code, tftp: a.error.tftpCode, message: a.error.message, answer: a.answer };
}

describe('admitRequest', () => {
  it('admits a request under every limit', () => {
    expect(admitRequest(base)).toEqual({ admit: true });
    expect(admitRequest({ ...base, opcode: 'WRQ', writable: true, mode: 'netascii' })).toEqual({
      admit: true,
    });
    // One below each ceiling is still in.
    expect(admitRequest({ ...base, sessions: 2047, fromSource: 127 })).toEqual({ admit: true });
  });

  it('a closing server refuses with ERROR 0, before the rate is looked at', () => {
    expect(refusal({ closing: true, withinRate: false })).toEqual({
      code: 'PTFTP_ERR_CLOSED',
      tftp: TftpErrorCode.NotDefined,
      message: 'server is shutting down',
      answer: true,
    });
  });

  it('a source over its request rate gets silence, not an ERROR (no reflection)', () => {
    expect(refusal({ withinRate: false, sessions: 5000 })).toEqual({
      code: 'PTFTP_ERR_LIMIT',
      tftp: TftpErrorCode.NotDefined,
      message: 'newSessionsPerSecondPerSource: 192.0.2.7 is over its request rate',
      answer: false,
    });
  });

  it('RFC 1350 mode "mail" is an illegal operation (ERROR 4)', () => {
    expect(refusal({ mode: 'mail' })).toMatchObject({ tftp: TftpErrorCode.IllegalOperation, answer: true });
  });

  it('a WRQ without a write handler is an access violation (ERROR 2); an RRQ is not', () => {
    expect(refusal({ opcode: 'WRQ' })).toEqual({
      code: 'PTFTP_ERR_ACCESS_VIOLATION',
      tftp: TftpErrorCode.AccessViolation,
      message: 'write requests are not accepted',
      answer: true,
    });
    expect(refusal({ opcode: 'RRQ', writable: false })).toBe('admitted');
  });

  it('the server-wide ceiling (maxSessions) answers ERROR 0 "server busy"', () => {
    expect(refusal({ sessions: 2048 })).toEqual({
      code: 'PTFTP_ERR_LIMIT',
      tftp: TftpErrorCode.NotDefined,
      message: 'maxSessions: server busy: 2048 transfers running',
      answer: true,
    });
  });

  it('the per-source ceiling (maxSessionsPerSource) names the source', () => {
    expect(refusal({ fromSource: 128 })).toEqual({
      code: 'PTFTP_ERR_LIMIT',
      tftp: TftpErrorCode.NotDefined,
      message: 'maxSessionsPerSource: 128 transfers already running for 192.0.2.7',
      answer: true,
    });
    // The server's ceiling is checked first.
    expect(refusal({ fromSource: 128, sessions: 2048 })).toMatchObject({ message: /^maxSessions:/ });
  });
});

describe('malformed requests and the listening socket', () => {
  it('a name or mode that cannot be read is ERROR 2; any other malformed request ERROR 4', () => {
    expect(malformedRequestCode(new MalformedPacketError('filename', 'x'))).toBe(
      TftpErrorCode.AccessViolation,
    );
    expect(malformedRequestCode(new MalformedPacketError('mode', 'x'))).toBe(TftpErrorCode.AccessViolation);
    expect(malformedRequestCode(new MalformedPacketError('options', 'x'))).toBe(
      TftpErrorCode.IllegalOperation,
    );
  });

  it('isRequestOpcode reads the first two bytes only', () => {
    expect(isRequestOpcode(Buffer.from([0, 1]))).toBe(true);
    expect(isRequestOpcode(Buffer.from([0, 2, 0xff]))).toBe(true);
    expect(isRequestOpcode(Buffer.from([0, 4, 0, 1]))).toBe(false);
    expect(isRequestOpcode(Buffer.from([1, 1]))).toBe(false);
    expect(isRequestOpcode(Buffer.from([0]))).toBe(false);
  });

  const rrq = (filename: string): Packet => ({ opcode: Opcode.RRQ, filename, mode: 'octet', options: {} });
  const ack: Packet = { opcode: Opcode.ACK, block: 1 };

  it('a packet from a peer with a transfer: repeat, transfer packet, or another file', () => {
    expect(knownPeerAction(rrq('a.bin'), 'a.bin', Opcode.RRQ, true, false)).toBe('repeat');
    expect(knownPeerAction(rrq('a.bin'), 'a.bin', Opcode.RRQ, false, true)).toBe('repeat');
    expect(knownPeerAction(ack, 'a.bin', Opcode.RRQ, true, true)).toBe('transfer');
    // The same name by the other opcode is another request.
    expect(knownPeerAction(rrq('a.bin'), 'a.bin', Opcode.WRQ, true, false)).toBe('alongside');
    // Another file while the first still waits for its handler: the waiting one is dropped.
    expect(knownPeerAction(rrq('b.bin'), 'a.bin', Opcode.RRQ, false, false)).toBe('drop-waiting');
    expect(knownPeerAction(rrq('b.bin'), 'a.bin', Opcode.RRQ, false, true)).toBe('drop-waiting');
    // Another file while the first runs: replaced in single-port mode, side by side otherwise.
    expect(knownPeerAction(rrq('b.bin'), 'a.bin', Opcode.RRQ, true, true)).toBe('supersede');
    expect(knownPeerAction(rrq('b.bin'), 'a.bin', Opcode.RRQ, true, false)).toBe('alongside');
  });
});
