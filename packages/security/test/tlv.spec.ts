import {
  assembleSignedFile,
  container,
  decodeElements,
  encodeElements,
  encodeHeader,
  HeaderTag,
  parseHeader,
  parseTrustList,
  SecurityError,
  tlv,
} from '@ptftp/security';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

// Names of the worked example: 61 characters, 62 with the NUL (as in Cisco's show ctl dump).
const NAME61 = 'CN=cucm-1051-a-pub;OU=TAC;O=Cisco;L=Krakow;ST=Malopolska;C=PL';
const zeroSigner = (n: number) => () => Buffer.alloc(n, 0xab);

function workedExample(): Buffer {
  return assembleSignedFile(
    {
      version: [1, 2],
      signer: {
        name: NAME61,
        serial: Buffer.from('70caf64e090751b9df22f49f754fc5bb', 'hex'),
        issuer: NAME61,
      },
      hash: 'sha1',
      modulusBytes: 128,
      filename: 'CTLFile.tlv',
      timestamp: 1396876206,
    },
    Buffer.alloc(0),
    zeroSigner(128),
  );
}

function expectCode(fn: () => unknown, code: string, message?: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SecurityError);
    expect((err as SecurityError).code).toBe(code);
    if (message) expect((err as Error).message).toMatch(message);
    return;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

describe('TLV length arithmetic (spec: worked Cisco example)', () => {
  it('signer-info 149 = (3+62)+(3+16)+(3+62), signature-info 15, header length 336 with 3 padding bytes', () => {
    expect(NAME61.length + 1).toBe(62);
    const file = workedExample();
    expect(file.length).toBe(336);
    const { header } = parseHeader(file);
    expect(header.headerLength).toBe(336);
    expect(file.readUInt16BE(8)).toBe(336);
    const signerInfo = header.elements.find((e) => e.tag === HeaderTag.SIGNER_INFO)!;
    expect(signerInfo.value.length).toBe(149);
    const sigInfo = header.elements.find((e) => e.tag === HeaderTag.SIGNATURE_INFO)!;
    expect(sigInfo.value.length).toBe(15);
    expect(sigInfo.children?.find((e) => e.tag === HeaderTag.SIGNATURE_ALGORITHM_INFO)?.value.length).toBe(8);
    expect(header.padding).toBe(3);
    // 5 + 5 + (3+149) + (3+15) = 180: the signature sits right after SIGNATURE_INFO.
    expect(header.signatureOffset).toBe(180);
    expect([...file.subarray(180, 183)]).toEqual([12, 0, 128]);
    // FILENAME "CTLFile.tlv" has length 12 (NUL counted), and the 3 PADDING bytes end the header.
    expect([...file.subarray(311, 314)]).toEqual([14, 0, 12]);
    expect([...file.subarray(333)]).toEqual([13, 13, 13]);
    expect(header.filename).toBe('CTLFile.tlv');
    expect(header.signer.serialHex).toBe('70CAF64E090751B9DF22F49F754FC5BB');
    expect(header.timestamp).toBe(1396876206);
  });

  it('pads every header so HEADER_LENGTH (signature included) is a multiple of 4', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 80 }),
        fc.constantFrom(64, 128, 256, 512),
        fc.constantFrom<[number, number] | undefined>([1, 0], undefined),
        fc.string({ maxLength: 40 }),
        (name, modulus, signerVersion, filename) => {
          const file = assembleSignedFile(
            {
              version: [1, 0],
              signerVersion,
              signer: { name, serial: Buffer.of(1, 2), issuer: name },
              hash: 'sha512',
              modulusBytes: modulus,
              filename,
              timestamp: 0,
            },
            Buffer.from('body'),
            zeroSigner(modulus),
          );
          const { header, body } = parseHeader(file);
          expect(header.headerLength % 4).toBe(0);
          expect(header.padding).toBeLessThan(4);
          expect(header.headerLength).toBe(file.length - 4);
          expect(body.toString()).toBe('body');
          expect(header.filename).toBe(filename);
        },
      ),
    );
  });
});

describe('TLV round trip: every tag survives, unknown ones included', () => {
  it('re-encodes a header with tags 1..28 and an unknown tag 99 to the same bytes', () => {
    const trailer = [
      container(HeaderTag.ENCRYPTION_INFO, [
        container(HeaderTag.IV_INFO, [tlv(18, [0]), tlv(19, Buffer.alloc(16, 7)), tlv(20, [0, 5])]),
        container(HeaderTag.KEY_INFO, [
          tlv(22, [0]),
          tlv(23, [8, 0]),
          tlv(24, [1]),
          tlv(25, Buffer.alloc(256, 9)),
          tlv(99, [1, 2, 3]),
        ]),
      ]),
      tlv(26, [2]),
      tlv(27, Buffer.alloc(32, 1)),
      tlv(99, Buffer.from('unknown kept!')),
    ];
    const file = assembleSignedFile(
      {
        version: [2, 0],
        signerVersion: [1, 1],
        signer: { name: 'CN=a', serial: Buffer.of(5), issuer: 'CN=b' },
        hash: 'sha256',
        modulusBytes: 256,
        filename: 'x.enc.sgn',
        timestamp: 42,
        trailer,
      },
      Buffer.from('ciphertext'),
      zeroSigner(256),
    );
    const { header, body } = parseHeader(file);
    const tags = new Set<number>();
    const walk = (els: readonly { tag: number; children?: readonly unknown[] }[]) =>
      els.forEach((e) => {
        tags.add(e.tag);
        if (e.children) walk(e.children as never);
      });
    walk(header.elements);
    expect(header.padding).toBeGreaterThan(0);
    for (let t = 1; t <= 28; t++) expect(tags.has(t), `tag ${t}`).toBe(true);
    expect(tags.has(99)).toBe(true);
    expect(Buffer.concat([encodeHeader(header), body]).equals(file)).toBe(true);
    expect(header.signerVersion).toEqual({ major: 1, minor: 1 });
  });

  it('decodes and re-encodes arbitrary flat element lists byte for byte', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ tag: fc.integer({ min: 0, max: 255 }), value: fc.uint8Array({ maxLength: 300 }) }),
        ),
        (els) => {
          const encoded = encodeElements(els.map((e) => tlv(e.tag, e.value)));
          const decoded = decodeElements(encoded, 0, encoded.length, { where: 'test' });
          expect(decoded.map((d) => d.tag)).toEqual(els.map((e) => e.tag));
          expect(encodeElements(decoded).equals(encoded)).toBe(true);
        },
      ),
    );
  });
});

describe('malformed files give typed errors, never a crash', () => {
  const file = workedExample();

  it('a file cut inside the header is PTFTP_ERR_TLV_TRUNCATED', () => {
    expectCode(
      () => parseHeader(file.subarray(0, 200)),
      'PTFTP_ERR_TLV_TRUNCATED',
      /HEADER_LENGTH is 336 but the file has only 200 bytes/,
    );
    expectCode(() => parseHeader(file.subarray(0, 7)), 'PTFTP_ERR_TLV_TRUNCATED');
  });

  it('an element running past HEADER_LENGTH is PTFTP_ERR_TLV_HEADER_LENGTH naming tag and offset', () => {
    const bad = Buffer.from(file);
    bad.writeUInt16BE(320, 8); // the FILENAME element at 311 now crosses the end
    expectCode(() => parseHeader(bad), 'PTFTP_ERR_TLV_HEADER_LENGTH', /FILENAME \(tag 14\) at offset 311/);
  });

  it('a container whose length disagrees with its children is PTFTP_ERR_TLV_LENGTH', () => {
    const bad = Buffer.from(file);
    bad.writeUInt16BE(148, 11); // SIGNER_INFO 149 -> 148: ISSUER_NAME now overruns it
    expectCode(() => parseHeader(bad), 'PTFTP_ERR_TLV_LENGTH', /SIGNER_INFO/);
  });

  it('a header without SIGNATURE is PTFTP_ERR_SIGNATURE_MISSING', () => {
    const noSig = Buffer.concat([file.subarray(0, 180), file.subarray(180 + 131)]);
    noSig.writeUInt16BE(336 - 131 - 1, 8);
    // keep it a multiple of 4 in length by dropping one padding byte
    const cut = Buffer.concat([noSig.subarray(0, noSig.length - 1)]);
    cut.writeUInt16BE(cut.length, 8);
    expectCode(() => parseHeader(cut), 'PTFTP_ERR_SIGNATURE_MISSING', /SIGNATURE \(tag 12\) is missing/);
  });

  it('a header whose padding leaves HEADER_LENGTH off a multiple of 4 is PTFTP_ERR_PADDING', () => {
    const bad = Buffer.from(file.subarray(0, 335));
    bad.writeUInt16BE(335, 8);
    expectCode(() => parseHeader(bad), 'PTFTP_ERR_PADDING', /not a multiple of 4/);
  });

  it('a record whose RECORD_LENGTH runs past the end is PTFTP_ERR_TLV_TRUNCATED', () => {
    const withRecord = Buffer.concat([file, Buffer.from([1, 0, 2, 0x01, 0x00, 4, 0, 2, 0, 0])]);
    expectCode(
      () => parseTrustList(withRecord),
      'PTFTP_ERR_TLV_TRUNCATED',
      /record #1 at offset 336: RECORD_LENGTH 256/,
    );
  });

  it('fuzz: random bytes and mutated files only ever throw SecurityError', () => {
    const attempt = (bytes: Uint8Array) => {
      try {
        parseTrustList(bytes);
      } catch (err) {
        if (!(err instanceof SecurityError)) throw err;
        expect(err.code).toMatch(/^PTFTP_ERR_/);
      }
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), attempt), { numRuns: 2000 });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(file.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.nat(file.length + 40),
        (edits, cut) => {
          const copy = Buffer.concat([file, Buffer.from([1, 0, 2, 0, 10, 4, 0, 2, 0, 0])]);
          for (const [at, v] of edits) copy[at] = v;
          attempt(copy.subarray(0, cut));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
