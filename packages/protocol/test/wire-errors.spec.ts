/**
 * Issue 16, one error model: what a TFTP peer reads is opted in by the error's class (`wire`),
 * never taken from whatever carries a `PTFTP_ERR_` code. Bytes asserted on a raw socket.
 */
import { Readable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import {
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
  OptionNegotiationError,
  ProtocolError,
  PTFTP_ERROR_BRAND,
  PtftpError,
  ServerBusyError,
  TftpErrorCode,
  TftpRemoteError,
  TimeoutError,
  wireErrorOf,
} from '../src/errors.js';
import { encodeData, encodeRequest, Opcode } from '../src/packet.js';
import { openPeer, startServer } from './support/server-fixture.js';

/** RFC 1350 §5 ERROR: opcode 5, the code, the message, a zero byte. */
function errorBytes(code: number, message: string): Buffer {
  return Buffer.concat([
    Buffer.from([0, 5, code >> 8, code & 0xff]),
    Buffer.from(message, 'ascii'),
    Buffer.from([0]),
  ]);
}

const INTERNAL = errorBytes(0, 'internal error');

/** What an embedder's handler may throw, none of it meant for the wire. */
const notForTheWire: Array<[string, () => unknown]> = [
  [
    'a PtftpError with an embedder code',
    () => new PtftpError('PTFTP_ERR_X', 'cannot open /secret/path/key.pem'),
  ],
  [
    'a PtftpError with a wire class code',
    () => new PtftpError('PTFTP_ERR_NOT_FOUND', 'file not found: /secret/path/x.bin'),
  ],
  [
    'a plain object with a PTFTP_ERR_ code',
    () => Object.assign(new Error('/secret/path/db.sqlite locked'), { code: 'PTFTP_ERR_BUSY' }),
  ],
  ['a TftpRemoteError from another server', () => new TftpRemoteError(1, '/secret/path/x.bin')],
  ['an InvalidArgumentError', () => new InvalidArgumentError('root', '/secret/path is not a folder')],
  [
    'an error of a standalone package (brand, no wire)',
    () =>
      Object.assign(new Error('/secret/path/itl.pem: PEM'), {
        code: 'PTFTP_ERR_CERTIFICATE',
        wire: undefined,
        [Symbol.for('ptftp.error')]: true,
      }),
  ],
];

/** Every class that opts in, with the exact ERROR it answers with. */
const wireClasses: Array<[string, () => PtftpError, number, string]> = [
  ['FileNotFoundError', () => new FileNotFoundError('x.bin'), 1, 'file not found: x.bin'],
  ['AccessViolationError', () => new AccessViolationError('x.bin'), 2, 'access violation: x.bin'],
  ['DiskFullError', () => new DiskFullError('x.bin'), 3, 'disk full: x.bin'],
  ['ProtocolError', () => new ProtocolError('no', TftpErrorCode.IllegalOperation), 4, 'no'],
  ['FileExistsError', () => new FileExistsError('x.bin'), 6, 'file exists: x.bin'],
  ['ProtocolError(NoSuchUser)', () => new ProtocolError('who?', TftpErrorCode.NoSuchUser), 7, 'who?'],
  ['OptionNegotiationError', () => new OptionNegotiationError('blksize', 'too big'), 8, 'blksize: too big'],
  ['ServerBusyError', () => new ServerBusyError('descriptors'), 0, 'server busy'],
  ['IsDirectoryError', () => new IsDirectoryError('dir'), 0, 'Is a directory'],
  ['LimitError', () => new LimitError('maxSessions', 'full'), 0, 'maxSessions: full'],
  ['ClosedError', () => new ClosedError('server is shutting down'), 0, 'server is shutting down'],
  ['TimeoutError', () => new TimeoutError('no progress'), 0, 'no progress'],
  ['AbortedError', () => new AbortedError(), 0, 'transfer aborted'],
];

describe('a read handler error reaches the wire only when its class opts in', () => {
  for (const [name, make] of notForTheWire) {
    it(`${name} -> ERROR 0 "internal error", no "/secret"; the event keeps the message`, async () => {
      const { server, port } = await startServer({
        handler: async () => {
          throw make();
        },
      });
      const seen: Error[] = [];
      server.on('transferError', (err) => seen.push(err));
      const peer = await openPeer();
      peer.rrq(port, 'x.bin');
      const r = await peer.next();
      expect(r.raw).toEqual(INTERNAL);
      expect(r.raw.includes('/secret')).toBe(false);
      // The operator still learns why: the event carries the error (or wraps it as its cause).
      expect(seen).toHaveLength(1);
      const logged = seen[0]!;
      const text = `${logged.message} ${(logged.cause as Error | undefined)?.message ?? ''}`;
      expect(text).toContain('/secret/path');
    });
  }

  for (const [name, make, code, message] of wireClasses) {
    it(`${name} -> ERROR ${code} "${message}"`, async () => {
      const { port } = await startServer({
        handler: async () => {
          throw make();
        },
      });
      const peer = await openPeer();
      peer.rrq(port, 'x.bin');
      const r = await peer.next();
      expect(r.raw).toEqual(errorBytes(code, message));
    });
  }
});

describe('a failure after the transfer started keeps the same rule', () => {
  it('a content stream failing with a PtftpError naming a path -> ERROR 0, generic text', async () => {
    const { port } = await startServer({
      handler: () => ({
        stream: new Readable({
          read() {
            this.destroy(new PtftpError('PTFTP_ERR_STORE', 'read /secret/path/fw.bin: EIO'));
          },
        }),
      }),
    });
    const peer = await openPeer();
    peer.rrq(port, 'x.bin');
    const r = await peer.next();
    expect(r.packet.opcode).toBe(Opcode.ERROR);
    expect(r.raw).toEqual(INTERNAL);
  });

  it('a write sink failing with a PtftpError naming a path -> ERROR 0 "write failed"', async () => {
    const { port } = await startServer({
      handler: () => {
        throw new FileNotFoundError('unused');
      },
      writeHandler: () => ({
        write: () => {
          throw new PtftpError('PTFTP_ERR_STORE', 'write /secret/path/up.bin: EROFS');
        },
        end: () => {},
      }),
    });
    const peer = await openPeer();
    peer.send(encodeRequest(Opcode.WRQ, 'up.bin', 'octet', {}), port);
    const ack = await peer.next();
    expect(ack.raw).toEqual(Buffer.from([0, 4, 0, 0]));
    peer.send(encodeData(1, Buffer.from('hello')), ack.port);
    const r = await peer.next();
    expect(r.raw).toEqual(errorBytes(0, 'write failed'));
  });

  it('a write handler refusing with DiskFullError -> ERROR 3 with its message', async () => {
    const { port } = await startServer({
      handler: () => {
        throw new FileNotFoundError('unused');
      },
      writeHandler: () => {
        throw new DiskFullError('up.bin', 'quota of 1 MiB reached');
      },
    });
    const peer = await openPeer();
    peer.send(encodeRequest(Opcode.WRQ, 'up.bin', 'octet', {}), port);
    const r = await peer.next();
    expect(r.raw).toEqual(errorBytes(3, 'quota of 1 MiB reached'));
  });
});

describe('isPtftpError and wireErrorOf', () => {
  it('a PTFTP_ERR_ prefix alone does not make a family error; the brand does', () => {
    expect(isPtftpError(Object.assign(new Error('x'), { code: 'PTFTP_ERR_NOT_FOUND' }))).toBe(false);
    expect(isPtftpError({ code: 'PTFTP_ERR_X', message: 'x', [PTFTP_ERROR_BRAND]: true })).toBe(true);
    expect(PTFTP_ERROR_BRAND).toBe(Symbol.for('ptftp.error'));
    expect(isPtftpError(new FileNotFoundError('a'))).toBe(true);
  });

  it('only classes that opt in have a wire; the root and API errors do not', () => {
    expect(new PtftpError('PTFTP_ERR_X', 'm').wire).toBeUndefined();
    expect(new InvalidArgumentError('f', 'm').wire).toBeUndefined();
    expect(new TftpRemoteError(2, 'm').wire).toBeUndefined();
    expect(wireErrorOf(new PtftpError('PTFTP_ERR_X', '/srv/key'))).toEqual(INTERNAL_WIRE_ERROR);
    expect(wireErrorOf(new Error('x'))).toEqual({ code: 0, message: 'internal error' });
    expect(wireErrorOf(new FileNotFoundError('a.cnf'))).toEqual({
      code: 1,
      message: 'file not found: a.cnf',
    });
  });

  it('the old third constructor argument (a TFTP code) no longer puts a message on the wire', () => {
    const legacy = new (PtftpError as unknown as new (c: string, m: string, t: number) => PtftpError)(
      'PTFTP_ERR_X',
      '/secret/path',
      3,
    );
    expect(legacy.wire).toBeUndefined();
    expect(legacy.tftpCode).toBe(0);
  });
});

describe('classification by class holds across two copies of the package', () => {
  it('an error from another copy (ESM next to CommonJS) is instanceof by class, a look-alike is not', async () => {
    // A second module instance of errors.ts: what a dual ESM/CommonJS load gives.
    vi.resetModules();
    const other = await import('../src/errors.js');
    expect(other.FileNotFoundError).not.toBe(FileNotFoundError);
    const foreign = new other.FileNotFoundError('a.cnf');
    expect(foreign instanceof FileNotFoundError).toBe(true);
    expect(foreign instanceof PtftpError).toBe(true);
    expect(foreign instanceof AccessViolationError).toBe(false);
    expect(new other.InvalidArgumentError('mac', 'bad') instanceof InvalidArgumentError).toBe(true);
    expect(wireErrorOf(foreign)).toEqual({ code: 1, message: 'file not found: a.cnf' });
    // The same name without the brand is not ours.
    class FileNotFoundErrorLookAlike extends Error {}
    Object.defineProperty(FileNotFoundErrorLookAlike, 'name', { value: 'FileNotFoundError' });
    expect(new FileNotFoundErrorLookAlike('x') instanceof FileNotFoundError).toBe(false);
  });
});
