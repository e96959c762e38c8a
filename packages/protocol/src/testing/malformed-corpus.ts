/**
 * Datagrams a TFTP server must survive: every way a packet can be short, long, unterminated,
 * out of range or simply not TFTP. Parsing bugs of exactly these kinds gave C servers remote
 * crashes and leaks; a server passes when it answers (or ignores) each one and keeps serving.
 */

/** One hostile datagram and what is wrong with it. */
export interface CorpusEntry {
  readonly label: string;
  readonly bytes: Buffer;
}

const op = (code: number) => Buffer.from([code >> 8, code & 0xff]);
const z = Buffer.from([0]);
const s = (text: string) => Buffer.from(text, 'latin1');
const rrq = (...parts: Array<string | Buffer>) =>
  Buffer.concat([op(1), ...parts.map((p) => (typeof p === 'string' ? Buffer.concat([s(p), z]) : p))]);

/** `head` followed by 'A's up to `total` bytes. */
const fill = (head: Buffer, total: number) => Buffer.concat([head, Buffer.alloc(total - head.length, 0x41)]);

/** An RRQ for `name` with the given options, as a well-formed request would carry them. */
const withOption = (name: string, value: string) => rrq('ok.bin', 'octet', name, value);

/**
 * The corpus. `okName` is a file the server has, so that requests well-formed apart from their
 * options reach the option parser rather than stopping at "file not found".
 *
 * @example
 * ```ts
 * for (const { label, bytes } of malformedDatagrams('ok.bin')) sock.send(bytes, port, '127.0.0.1');
 * ```
 */
export function malformedDatagrams(okName = 'ok.bin'): CorpusEntry[] {
  const entries: Array<[string, Buffer]> = [
    ['empty datagram', Buffer.alloc(0)],
    ['one byte', Buffer.from([0])],
    ['opcode 0', Buffer.concat([op(0), s('x'), z, s('octet'), z])],
    ['opcode 7', Buffer.concat([op(7), s('x'), z, s('octet'), z])],
    ['opcode 0xffff', Buffer.concat([op(0xffff), Buffer.alloc(10, 0x41)])],
    ['RRQ: opcode only', op(1)],
    ['RRQ: name without NUL', Buffer.concat([op(1), s(okName)])],
    ['RRQ: empty name', rrq('', 'octet')],
    ['RRQ: no mode', rrq(okName)],
    ['RRQ: mode without NUL', Buffer.concat([op(1), s(okName), z, s('octet')])],
    ['RRQ: unknown mode', rrq(okName, 'binary')],
    ['RRQ: mode "mail"', rrq(okName, 'mail')],
    ['RRQ: mode over 16 bytes', rrq(okName, 'octet'.repeat(10))],
    ['RRQ: 256-byte name', rrq('a'.repeat(256), 'octet')],
    ['RRQ: 64 KiB name', rrq('a'.repeat(65_000), 'octet')],
    ['RRQ: name is invalid UTF-8', rrq(Buffer.concat([Buffer.from([0xff, 0xfe, 0xc0, 0x80]), z]), 'octet')],
    ['RRQ: option without value', rrq(okName, 'octet', 'blksize')],
    ['RRQ: option value without NUL', Buffer.concat([rrq(okName, 'octet', 'blksize'), s('1024')])],
    ['RRQ: empty option name then value', rrq(okName, 'octet', '', '512')],
    ['RRQ: duplicate option', rrq(okName, 'octet', 'blksize', '1024', 'BLKSIZE', '2048')],
    ['RRQ: 40 options', rrq(okName, 'octet', ...Array.from({ length: 40 }, (_, i) => [`x${i}`, '1']).flat())],
    ['RRQ: option name of 65 bytes', rrq(okName, 'octet', 'n'.repeat(65), '1')],
    ['RRQ: option value of 256 bytes', rrq(okName, 'octet', 'blksize', '9'.repeat(256))],
    ['RRQ: blksize 0', withOption('blksize', '0')],
    ['RRQ: blksize 7', withOption('blksize', '7')],
    ['RRQ: blksize 65465', withOption('blksize', '65465')],
    ['RRQ: blksize -1', withOption('blksize', '-1')],
    ['RRQ: blksize "abc"', withOption('blksize', 'abc')],
    ['RRQ: blksize "1e3"', withOption('blksize', '1e3')],
    ['RRQ: blksize " 512"', withOption('blksize', ' 512')],
    ['RRQ: blksize 2^64', withOption('blksize', '18446744073709551616')],
    ['RRQ: blksize empty', withOption('blksize', '')],
    ['RRQ: timeout 0', withOption('timeout', '0')],
    ['RRQ: timeout 256', withOption('timeout', '256')],
    ['RRQ: timeout "NaN"', withOption('timeout', 'NaN')],
    ['RRQ: tsize -1', withOption('tsize', '-1')],
    ['RRQ: tsize 2^80', withOption('tsize', '1208925819614629174706176')],
    ['RRQ: windowsize 0', withOption('windowsize', '0')],
    ['RRQ: windowsize 65536', withOption('windowsize', '65536')],
    ['RRQ: windowsize "Infinity"', withOption('windowsize', 'Infinity')],
    ['RRQ: rollover 7', withOption('rollover', '7')],
    ['RRQ: unknown option', withOption('x-unknown', 'y')],
    ['RRQ: option named __proto__', withOption('__proto__', '1')],
    ['RRQ: option named constructor', withOption('constructor', '1')],
    [
      'RRQ: padding NULs after options',
      Buffer.concat([rrq(okName, 'octet', 'blksize', '1024'), Buffer.alloc(100)]),
    ],
    ['RRQ: garbage after mode', Buffer.concat([rrq(okName, 'octet'), Buffer.from([0x41, 0x42])])],
    ['RRQ: 65507-byte datagram (the IPv4 maximum)', fill(rrq(okName, 'octet'), 65507)],
    ['WRQ (writes are off by default)', Buffer.concat([op(2), s('upload.bin'), z, s('octet'), z])],
    ['WRQ to an existing name', Buffer.concat([op(2), s(okName), z, s('octet'), z])],
    ['DATA to the listening port', Buffer.concat([op(3), Buffer.from([0, 1]), Buffer.alloc(512, 0x41)])],
    ['DATA: 3 bytes', Buffer.concat([op(3), Buffer.from([0])])],
    ['DATA: 65468-byte payload', Buffer.concat([op(3), Buffer.from([0, 1]), Buffer.alloc(65468)])],
    ['ACK to the listening port', Buffer.concat([op(4), Buffer.from([0, 1])])],
    ['ACK: 3 bytes', Buffer.concat([op(4), Buffer.from([0])])],
    ['ACK: trailing bytes', Buffer.concat([op(4), Buffer.from([0, 1, 2, 3, 4])])],
    ['ERROR to the listening port', Buffer.concat([op(5), Buffer.from([0, 1]), s('boom'), z])],
    ['ERROR: no message NUL', Buffer.concat([op(5), Buffer.from([0, 1]), s('boom')])],
    ['ERROR: 60 KiB message', Buffer.concat([op(5), Buffer.from([0, 0]), Buffer.alloc(60_000, 0x41), z])],
    ['ERROR: 3 bytes', Buffer.concat([op(5), Buffer.from([0])])],
    ['OACK to the listening port', Buffer.concat([op(6), s('blksize'), z, s('1024'), z])],
    ['OACK: unterminated', Buffer.concat([op(6), s('blksize')])],
    ['HTTP request', s('GET / HTTP/1.1\r\nHost: x\r\n\r\n')],
    ['DNS-looking query', Buffer.from('abcd01000001000000000000076578616d706c6503636f6d0000010001', 'hex')],
    ['all 0xff', Buffer.alloc(600, 0xff)],
    ['all zeros', Buffer.alloc(600, 0)],
  ];
  return entries.map(([label, bytes]) => ({ label, bytes }));
}
