import { readFileSync } from 'node:fs';
import {
  assembleSignedFile,
  buildTrustList,
  decryptConfig,
  encryptConfig,
  evaluateTrust,
  type GeneratedCertificate,
  parseHeader,
  readCertificate,
  SecurityError,
  signedBytes,
  signSgn,
  stripSgn,
  verifySgn,
} from '@ptftp/security';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCert, openssl, tempDir } from './fixtures.js';

/** What `fn` returned, or what it threw: the caller asserts on either, with no try/catch in the test. */
function attempt<T>(fn: () => T): { value: T } | { error: unknown } {
  try {
    return { value: fn() };
  } catch (error) {
    return { error };
  }
}

const XML = Buffer.from('<?xml version="1.0"?>\n<device><fullConfig>true</fullConfig></device>\n');
const tmp = tempDir();
let tftp: GeneratedCertificate;
let other: GeneratedCertificate;

beforeAll(() => {
  tftp = makeCert('cucm-pub.example.com');
  other = makeCert('proxy.example.com');
});
afterAll(() => tmp.cleanup());

describe('.sgn sign / verify / strip', () => {
  it('wraps a file under header version 1.0 with the requested name, subdirectory included, plus .sgn', () => {
    const sgn = signSgn(XML, {
      filename: 'Desktops\\320x196x4/List.xml',
      keyPem: tftp.keyPem,
      certPem: tftp.certPem,
      hash: 'sha256',
      timestamp: 1700000000,
    });
    const { header, body } = parseHeader(sgn);
    expect(header.version).toEqual({ major: 1, minor: 0 });
    expect(header.signerVersion).toBeUndefined();
    expect(header.filename).toBe('Desktops/320x196x4/List.xml.sgn');
    expect(header.signer.name).toBe('CN=cucm-pub.example.com;OU=TAC;O=Cisco;L=Krakow;ST=Malopolska;C=PL');
    expect(header.signer.serial.equals(tftp.info.serial)).toBe(true);
    expect(header.hash).toBe('sha256');
    expect(header.signature.length).toBe(256);
    expect(header.timestamp).toBe(1700000000);
    expect(header.headerLength % 4).toBe(0);
    expect(body.equals(XML)).toBe(true);
    expect(stripSgn(sgn).equals(XML)).toBe(true);
    expect(sgn.length).toBe(header.headerLength + XML.length);
  });

  for (const hash of ['sha1', 'sha256', 'sha512'] as const) {
    it(`verifies a ${hash} signature with the signer's certificate and returns the payload`, () => {
      const sgn = signSgn(XML, {
        filename: 'SEP001122334455.cnf.xml',
        keyPem: tftp.keyPem,
        certPem: tftp.certPem,
        hash,
      });
      const v = verifySgn(sgn, { certPem: tftp.certPem });
      expect(v.reason).toBeUndefined();
      expect(v.valid).toBe(true);
      expect(v.hash).toBe(hash);
      expect(v.filename).toBe('SEP001122334455.cnf.xml.sgn');
      expect(v.payload.equals(XML)).toBe(true);
    });
  }

  it("defaults to SHA-1, CUCM's default TFTP File Signature Algorithm", () => {
    const sgn = signSgn(XML, { filename: 'a.xml', keyPem: tftp.keyPem, certPem: tftp.certPem });
    expect(parseHeader(sgn).header.hash).toBe('sha1');
  });

  it('is deterministic: same input, key and timestamp give the same bytes', () => {
    const opts = { filename: 'a.xml', keyPem: tftp.keyPem, certPem: tftp.certPem, timestamp: 1 };
    expect(signSgn(XML, opts).equals(signSgn(XML, opts))).toBe(true);
  });

  it('reports the signer when verified against another certificate', () => {
    const sgn = signSgn(XML, { filename: 'a.xml', keyPem: tftp.keyPem, certPem: tftp.certPem });
    const v = verifySgn(sgn, { certPem: other.certPem });
    expect(v.valid).toBe(false);
    expect(v.code).toBe('PTFTP_ERR_SIGNATURE_INVALID');
    expect(v.reason).toMatch(
      /signed by CN=cucm-pub\.example\.com.*not by the given certificate CN=proxy\.example\.com/,
    );
  });

  it('verifies against a trust list: the record with the header serial supplies the key', () => {
    const itl = buildTrustList({
      keyPem: other.keyPem,
      certPem: other.certPem,
      records: [{ role: 'TFTP', certificate: tftp.certPem }],
    });
    const sgn = signSgn(XML, { filename: 'a.xml', keyPem: tftp.keyPem, certPem: tftp.certPem });
    expect(verifySgn(sgn, { trustList: itl }).valid).toBe(true);
    const stranger = signSgn(XML, { filename: 'a.xml', keyPem: other.keyPem, certPem: other.certPem });
    const empty = buildTrustList({ keyPem: tftp.keyPem, certPem: tftp.certPem, records: [] });
    expect(verifySgn(stranger, { trustList: empty }).reason).toMatch(
      /signer CN=proxy\.example\.com.* is not in the trust list ITLFile\.tlv/,
    );
  });

  it('does not call a file valid when given nothing to check against', () => {
    const sgn = signSgn(XML, { filename: 'a.xml', keyPem: tftp.keyPem, certPem: tftp.certPem });
    expect(verifySgn(sgn).valid).toBe(false);
  });

  it('refuses a key that does not belong to the certificate (PTFTP_ERR_KEY)', () => {
    expect(() => signSgn(XML, { filename: 'a.xml', keyPem: other.keyPem, certPem: tftp.certPem })).toThrow(
      expect.objectContaining({ code: 'PTFTP_ERR_KEY' }),
    );
  });

  it('a single flipped byte anywhere in the file fails verification and says why', () => {
    const sgn = signSgn(XML, {
      filename: 'SEP001122334455.cnf.xml',
      keyPem: tftp.keyPem,
      certPem: tftp.certPem,
      hash: 'sha256',
    });
    // Each flip ends in one of three stated outcomes, never in a message that merely says "not".
    const REASON =
      /^(signature does not match the content \(SHA\d+, signer .+\): the file was modified or signed with another key|signed by .+, not by the given certificate .+|header: .+)$/;
    const seen = { reason: 0, thrown: 0 };
    for (let i = 0; i < sgn.length; i++) {
      const bad = Buffer.from(sgn);
      bad[i] = bad[i]! ^ 0x01;
      const outcome = attempt(() => verifySgn(bad, { certPem: tftp.certPem }));
      if ('error' in outcome) {
        seen.thrown++;
        // A header that no longer parses: a SecurityError with a TLV code, saying where.
        expect(outcome.error, `flip at offset ${i}`).toBeInstanceOf(SecurityError);
        expect((outcome.error as SecurityError).code, `flip at offset ${i}`).toMatch(/^PTFTP_ERR_TLV_/);
        expect((outcome.error as Error).message, `flip at offset ${i}`).toMatch(
          /^header[ :].*(tag \d+|offset \d+)/,
        );
      } else {
        seen.reason++;
        expect(outcome.value.valid, `flip at offset ${i}`).toBe(false);
        expect(outcome.value.reason, `flip at offset ${i}`).toMatch(REASON);
      }
    }
    // Both paths ran: payload and signature flips give a reason, header flips throw.
    expect(seen.reason).toBeGreaterThan(400);
    expect(seen.thrown).toBeGreaterThan(20);
  });

  it('a flipped payload byte is reported as a modified file', () => {
    const sgn = signSgn(XML, { filename: 'a.xml', keyPem: tftp.keyPem, certPem: tftp.certPem });
    sgn[sgn.length - 3] = sgn[sgn.length - 3]! ^ 0xff;
    expect(verifySgn(sgn, { certPem: tftp.certPem }).reason).toMatch(
      /signature does not match the content.*modified/,
    );
  });

  it('stripSgn refuses non-signed and truncated input with typed errors', () => {
    expect(() => stripSgn(Buffer.from('<xml/>'))).toThrow(
      expect.objectContaining({ code: 'PTFTP_ERR_TLV_LENGTH' }),
    );
    const sgn = signSgn(XML, { filename: 'a.xml', keyPem: tftp.keyPem, certPem: tftp.certPem });
    expect(() => stripSgn(sgn.subarray(0, 40))).toThrow(
      expect.objectContaining({ code: 'PTFTP_ERR_TLV_TRUNCATED' }),
    );
  });

  it('stripSgn: a HEADER_LENGTH below 10 (inside tags 1 and 2) is refused, not returned as content', () => {
    const sgn = signSgn(XML, { filename: 'a.xml', keyPem: tftp.keyPem, certPem: tftp.certPem });
    for (const bogus of [0, 4, 9]) {
      const edited = Buffer.from(sgn);
      edited.writeUInt16BE(bogus, 8);
      expect(() => stripSgn(edited)).toThrow(
        expect.objectContaining({ code: 'PTFTP_ERR_TLV_HEADER_LENGTH' }),
      );
    }
    // VERSION whose length field is not 2: not a signed file
    const odd = Buffer.from(sgn);
    odd.writeUInt16BE(3, 1);
    expect(() => stripSgn(odd)).toThrow(expect.objectContaining({ code: 'PTFTP_ERR_TLV_LENGTH' }));
  });
});

describe('fuzz: mutated signed files give typed errors or invalid results, never a crash', () => {
  it('verifySgn, stripSgn, evaluateTrust and decryptConfig on edited and cut files', () => {
    const sgn = signSgn(XML, { filename: 'a.xml', keyPem: tftp.keyPem, certPem: tftp.certPem });
    const enc = encryptConfig(XML, {
      filename: 'a.xml',
      phoneCertPem: other.certPem,
      keyPem: tftp.keyPem,
      certPem: tftp.certPem,
    });
    const itl = buildTrustList({
      keyPem: other.keyPem,
      certPem: other.certPem,
      records: [{ role: 'TFTP', certificate: tftp.certPem }],
    });
    const typed = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        if (!(err instanceof SecurityError)) throw err;
      }
    };
    fc.assert(
      fc.property(
        fc.constantFrom(sgn, enc),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        (original, edits, cutAt) => {
          const copy = Buffer.from(original);
          for (const [at, v] of edits) copy[at % copy.length] = v;
          const bytes = copy.subarray(0, original.length - (cutAt % 40));
          typed(() => expect(verifySgn(bytes, { certPem: tftp.certPem }).valid).toBe(false));
          typed(() => stripSgn(bytes));
          typed(() => evaluateTrust(bytes, { itl }));
          typed(() => decryptConfig(bytes, { phoneKeyPem: other.keyPem }));
        },
      ),
      { numRuns: 120 },
    );
  });
});

describe('interop with Debian openssl', () => {
  for (const hash of ['sha1', 'sha256', 'sha512'] as const) {
    it(`openssl dgst -${hash} -verify accepts our signature over header-without-signature + file`, async () => {
      const sgn = signSgn(XML, {
        filename: 'SEP001122334455.cnf.xml',
        keyPem: tftp.keyPem,
        certPem: tftp.certPem,
        hash,
      });
      const { header } = parseHeader(sgn);
      const signed = signedBytes(sgn, header);
      expect(signed.length).toBe(sgn.length - 3 - 256);
      const pub = tmp.write(
        `pub-${hash}.pem`,
        (await openssl(['x509', '-pubkey', '-noout', '-in', tmp.write('cert.pem', tftp.certPem)])).stdout,
      );
      const sig = tmp.write(`sig-${hash}.bin`, header.signature);
      const data = tmp.write(`signed-${hash}.bin`, signed);
      const ok = await openssl(['dgst', `-${hash}`, '-verify', pub, '-signature', sig, data]);
      expect(ok.stdout.trim()).toBe('Verified OK');
      expect(ok.code).toBe(0);
      const tampered = Buffer.from(signed);
      tampered[signed.length - 1] = tampered[signed.length - 1]! ^ 1;
      const bad = await openssl([
        'dgst',
        `-${hash}`,
        '-verify',
        pub,
        '-signature',
        sig,
        tmp.write(`t-${hash}.bin`, tampered),
      ]);
      expect(bad.code).not.toBe(0);
    });
  }

  it('verifies a file signed by openssl with an openssl-made key and certificate', async () => {
    const key = tmp.path('ossl.key');
    const cert = tmp.path('ossl.pem');
    const made = await openssl([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      '/C=PL/ST=Malopolska/L=Krakow/O=Cisco/OU=TAC/CN=cucm-ossl',
    ]);
    expect(made.code).toBe(0);
    const certPem = readFileSync(cert, 'utf8');
    const info = readCertificate(certPem);
    expect(info.subjectName).toBe('CN=cucm-ossl;OU=TAC;O=Cisco;L=Krakow;ST=Malopolska;C=PL');
    const fields = {
      version: [1, 0] as const,
      signer: { name: info.subjectName, serial: info.serial, issuer: info.issuerName },
      hash: 'sha512' as const,
      modulusBytes: 256,
      filename: 'RingList.xml.sgn',
      timestamp: 1700000000,
    };
    // The signature's length is fixed, so the signed bytes are known before signing.
    let toSign: Buffer = Buffer.alloc(0);
    assembleSignedFile(fields, XML, (b) => {
      toSign = b;
      return Buffer.alloc(256);
    });
    const signedBy = await openssl([
      'dgst',
      '-sha512',
      '-sign',
      key,
      '-out',
      tmp.path('ossl.sig'),
      tmp.write('ossl.in', toSign),
    ]);
    expect(signedBy.code).toBe(0);
    const signature = readFileSync(tmp.path('ossl.sig'));
    const sgn = assembleSignedFile(fields, XML, () => signature);
    const v = verifySgn(sgn, { certPem });
    expect(v.valid).toBe(true);
    expect(v.signer.name).toBe('CN=cucm-ossl;OU=TAC;O=Cisco;L=Krakow;ST=Malopolska;C=PL');
    // And the openssl key can sign through this package too.
    const ours = signSgn(XML, {
      filename: 'RingList.xml',
      keyPem: readFileSync(key, 'utf8'),
      certPem,
      hash: 'sha512',
      timestamp: 1700000000,
    });
    expect(ours.equals(sgn)).toBe(true);
  });
});
