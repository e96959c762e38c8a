/**
 * The one `host:port` module (issue 16): parse and format are inverse on canonical text, the
 * family is 4 or 6, and every caller's policy (names, zones, port 0, default port) is an option.
 */
import { isIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../src/errors.js';
import {
  formatHostPort,
  type HostPort,
  ipFamily,
  parseHostPort,
  TFTP_PORT,
  tryParseHostPort,
} from '../src/host-port.js';

const port = fc.integer({ min: 1, max: 65535 });
const any = { names: true, zone: true, portZero: true } as const;

function ok(text: string, options = {}): HostPort {
  const hp = tryParseHostPort(text, options);
  if ('problem' in hp) throw new Error(`${text}: ${hp.problem}`);
  return hp;
}

describe('HostPort round trip (fast-check)', () => {
  it('IPv4: format then parse gives the same host, port and family 4', () => {
    fc.assert(
      fc.property(fc.ipV4(), port, (host, p) => {
        expect(ok(formatHostPort({ host, port: p }))).toEqual({ host, port: p, family: 4 });
      }),
    );
  });

  it('IPv6 in any spelling: parse is canonical, and format then parse is the identity on it', () => {
    fc.assert(
      fc.property(fc.ipV6(), port, (host, p) => {
        const first = ok(`[${host}]:${p}`);
        expect(first.port).toBe(p);
        // The same address, whatever the spelling (an IPv4-mapped one becomes its IPv4 address).
        expect(isIP(first.host)).toBe(first.family);
        const text = formatHostPort(first);
        expect(ok(text)).toEqual(first);
        expect(formatHostPort(ok(text))).toBe(text);
      }),
    );
  });

  it('a bare IP takes the default port; the bracketed form says the same', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), port, (host, p) => {
        const bare = ok(host, { defaultPort: p });
        expect(bare.port).toBe(p);
        expect(ok(formatHostPort(bare))).toEqual(bare);
      }),
    );
  });

  it('a port outside 1..65535 or not decimal is refused, never wrapped or truncated', () => {
    fc.assert(
      fc.property(
        fc.ipV4(),
        fc.oneof(fc.integer({ min: 65536, max: 99999 }).map(String), fc.constant('6a9')),
        (h, p) => {
          expect(tryParseHostPort(`${h}:${p}`)).toHaveProperty('problem');
        },
      ),
    );
  });
});

describe('HostPort, one rule per case', () => {
  it('examples: IPv6 needs brackets before a port; text is RFC 5952; family is 4 | 6', () => {
    expect(ok('[2001:DB8:0:0::1]:6969')).toEqual({ host: '2001:db8::1', port: 6969, family: 6 });
    expect(ok('10.0.0.1', { defaultPort: TFTP_PORT })).toEqual({ host: '10.0.0.1', port: 69, family: 4 });
    expect(ok('[::ffff:10.0.0.1]:69')).toEqual({ host: '10.0.0.1', port: 69, family: 4 });
    expect(ok('tftp.example.com:69', { names: true })).toEqual({
      host: 'tftp.example.com',
      port: 69,
      family: undefined,
    });
    // `::1:6969` is a bare IPv6 address, not ::1 port 6969.
    expect(ok('::1:6969', { defaultPort: 69 })).toMatchObject({ port: 69, family: 6 });
  });

  it('each policy is opt-in: names, zones, port 0, a missing port', () => {
    expect(tryParseHostPort('tftp:69')).toEqual({ problem: '"tftp" is not an IP address' });
    expect(tryParseHostPort('[fe80::1%eth0]:69')).toEqual({ problem: '"fe80::1%eth0" has a zone' });
    expect(ok('[fe80::1%eth0]:69', { zone: true }).host).toBe('fe80::1%eth0');
    expect(tryParseHostPort('127.0.0.1:0')).toEqual({ problem: '"127.0.0.1:0" has port 0' });
    expect(ok('127.0.0.1:0', any).port).toBe(0);
    expect(tryParseHostPort('127.0.0.1')).toEqual({ problem: '"127.0.0.1" has no port' });
    expect(tryParseHostPort('[::1')).toHaveProperty('problem');
    expect(tryParseHostPort('[10.0.0.1]:69')).toHaveProperty('problem');
    expect(tryParseHostPort('')).toEqual({ problem: 'address is empty' });
    expect(tryParseHostPort('a b:69', any)).toHaveProperty('problem');
  });

  it('parseHostPort throws PTFTP_ERR_INVALID_ARGUMENT naming the field', () => {
    expect(() => parseHostPort('x:1', {}, 'listen[0]')).toThrow(InvalidArgumentError);
    expect(() => parseHostPort('x:1', {}, 'listen[0]')).toThrow(/^listen\[0\]: "x" is not an IP address$/);
  });

  it('ipFamily: 4, 6 (brackets allowed) or undefined', () => {
    expect([ipFamily('10.0.0.1'), ipFamily('[::1]'), ipFamily('::1'), ipFamily('host')]).toEqual([
      4,
      6,
      6,
      undefined,
    ]);
  });
});
