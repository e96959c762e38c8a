import {
  buildTrustList,
  formatSignedFile,
  formatTrustList,
  type GeneratedCertificate,
  signSgn,
} from '@ptftp/security';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeCert } from './fixtures.js';

let sast: GeneratedCertificate;
let tftp: GeneratedCertificate;
beforeAll(() => {
  sast = makeCert('cucm-1051-a-pub', 1024);
  tftp = makeCert('cucm-1051-a-sub');
});

describe('show ctl / show itl style dump', () => {
  it('prints version, header length, every header element with byte position, and the records', () => {
    const bytes = buildTrustList({
      keyPem: sast.keyPem,
      certPem: sast.certPem,
      filename: 'CTLFile.tlv',
      signerVersion: null,
      timestamp: 1396876206,
      records: [{ role: 'TFTP', certificate: tftp.certPem, ipAddress: '10.48.47.153' }],
    });
    const text = formatTrustList(bytes);
    const name = 'CN=cucm-1051-a-pub;OU=TAC;O=Cisco;L=Krakow;ST=Malopolska;C=PL';
    expect(text).toContain(`Length of CTL file: ${bytes.length}`);
    expect(text).toContain('Version: 1.2');
    // The spec's worked example: 62-byte names, 16-byte serial, 1024-bit key -> 336.
    expect(text).toContain('HeaderLength: 336 (BYTES)');
    expect(text).toMatch(/^10\s+3\s+SIGNERINFO\s+149\s*$/m);
    expect(text).toMatch(
      new RegExp(`^13\\s+4\\s+SIGNERNAME\\s+62\\s+${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'),
    );
    expect(text).toMatch(/^162\s+7\s+SIGNATUREINFO\s+15\s*$/m);
    expect(text).toMatch(/^180\s+12\s+SIGNATURE\s+128\s*$/m);
    expect(text).toMatch(/^311\s+14\s+FILENAME\s+12\s+CTLFile\.tlv$/m);
    expect(text).toMatch(/^335\s+13\s+PADDING\s+1$/m);
    expect(text).toMatch(/TIMESTAMP\s+4\s+1396876206 \(2014-04-07T13:10:06\.000Z\)/);
    expect(text).toContain('CTL Record #:1');
    expect(text).toMatch(/FUNCTION\s+2\s+System Administrator Security Token/);
    expect(text).toMatch(/FUNCTION\s+2\s+TFTP/);
    expect(text).toMatch(/IPADDRESS\s+4\s+10\.48\.47\.153/);
    expect(text).toMatch(/CERTIFICATE\s+\d+\s+[0-9A-F]{40} \(SHA1 Hash HEX\)/);
    expect(text).toContain('This etoken was used to sign the CTL file.');
    expect(text).toContain('The CTL file holds 2 record(s).');
  });

  it('prints a .sgn header and the payload size', () => {
    const sgn = signSgn(Buffer.from('hello'), {
      filename: 'a.xml',
      keyPem: tftp.keyPem,
      certPem: tftp.certPem,
    });
    const text = formatSignedFile(sgn);
    expect(text).toContain('Version: 1.0');
    expect(text).toMatch(/FILENAME\s+10\s+a\.xml\.sgn/);
    expect(text).toMatch(/Payload: 5 bytes after the \d+-byte header/);
  });
});

describe('dump of hostile trust lists', () => {
  it('a repeated RECORD_LENGTH or ROLE of odd length is shown raw, not a RangeError', () => {
    const list = buildTrustList({
      keyPem: sast.keyPem,
      certPem: sast.certPem,
      filename: 'CTLFile.tlv',
      records: [],
    });
    // record: RECORD_LENGTH 14 | RECORD_LENGTH again, 1 byte 0x42 | ROLE 3 (TFTP)
    const odd = Buffer.from('01000200' + '0e' + '01000142' + '0400020003', 'hex');
    const withRole = Buffer.from('01000200' + '0e' + '0400020003' + '04000103', 'hex');
    for (const [extra, raw] of [
      [odd, /RECORDLENGTH\s+1\s+42$/m],
      [withRole, /FUNCTION\s+1\s+03$/m],
    ] as const) {
      const text = formatTrustList(Buffer.concat([list, extra]));
      expect(text).toMatch(raw);
    }
  });
});
