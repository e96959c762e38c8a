import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, parseTftpUrl } from '../src/index.js';

describe('parseTftpUrl (RFC 3617 tftp URI, without ;mode=)', () => {
  it('RFC 3617: port 69 by default, the path after the first "/" is the file name', () => {
    expect(parseTftpUrl('tftp://10.0.0.5/SEP001122334455.cnf.xml')).toEqual({
      host: '10.0.0.5',
      port: 69,
      filename: 'SEP001122334455.cnf.xml',
    });
  });
  it('RFC 3986: a bracketed IPv6 literal comes back without brackets, with its port', () => {
    expect(parseTftpUrl('tftp://[::1]:6969/dir/name')).toEqual({
      host: '::1',
      port: 6969,
      filename: 'dir/name',
    });
  });
  it('host names, nested paths and percent-encoding are decoded', () => {
    expect(parseTftpUrl('TFTP://tftp.example:1069/a%20b/c%3Fd.cfg')).toEqual({
      host: 'tftp.example',
      port: 1069,
      filename: 'a b/c?d.cfg',
    });
  });
  for (const bad of [
    'http://h/x',
    'tftp://',
    'tftp://h',
    'tftp://h/',
    'tftp://h:0/x',
    'tftp://h:70000/x',
    'tftp://user@h/x',
    'tftp://h/x?y',
    'tftp://h/x#y',
    'tftp://h/%zz',
    'tftp://h/a%00b',
    'h/x',
  ]) {
    it(`refuses ${JSON.stringify(bad)} with InvalidArgumentError (field url)`, () => {
      let err: unknown;
      try {
        parseTftpUrl(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect(err).toMatchObject({ code: 'PTFTP_ERR_INVALID_ARGUMENT', field: 'url' });
      expect((err as Error).message).toContain(JSON.stringify(bad));
    });
  }
});
