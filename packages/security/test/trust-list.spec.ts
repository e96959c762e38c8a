import {
  addToTrustList,
  buildTrustList,
  decryptConfig,
  encodeTrustList,
  encryptConfig,
  type GeneratedCertificate,
  generateItlRecoveryCertificate,
  parseTrustList,
  RecordTag,
  Role,
  SecurityError,
  signedBytes,
  signSgn,
  verifyTrustList,
} from '@ptftp/security';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCert, openssl, tempDir } from './fixtures.js';

const tmp = tempDir();
let recovery: GeneratedCertificate;
let callManager: GeneratedCertificate;
let tvs: GeneratedCertificate;
let capf: GeneratedCertificate;
let proxy: GeneratedCertificate;

beforeAll(() => {
  recovery = generateItlRecoveryCertificate({
    subject: { commonName: 'cucm-pub', organization: 'Cisco', country: 'PL' },
  });
  callManager = makeCert('cucm-pub');
  tvs = makeCert('cucm-pub-tvs');
  capf = makeCert('CAPF-1234');
  proxy = makeCert('proxy-tftp');
});
afterAll(() => tmp.cleanup());

function cucmItl(hash: 'sha1' | 'sha256' | 'sha512' = 'sha1', timestamp = 1700000000): Buffer {
  // What CUCM writes: ITLRecovery signs; CallManager twice (CCM+TFTP and SAST); TVS; CAPF.
  return buildTrustList({
    keyPem: recovery.keyPem,
    certPem: recovery.certPem,
    hash,
    timestamp,
    filename: 'ITLFile.tlv',
    records: [
      { role: 'SAST', certificate: callManager.certPem },
      { role: 'CCM+TFTP', certificate: callManager.certPem, ipAddress: '10.48.47.153' },
      { role: 'TVS', certificate: tvs.certPem, certificateHash: 'sha1' },
      { role: 'CAPF', certificate: capf.certPem },
    ],
  });
}

describe('trust lists: build and parse', () => {
  it('builds an ITL whose signer is a SAST record with the header serial, added first when not listed', () => {
    const list = parseTrustList(cucmItl());
    expect(list.kind).toBe('ITL');
    expect(list.header.version).toEqual({ major: 1, minor: 2 });
    expect(list.header.signerVersion).toEqual({ major: 1, minor: 0 });
    expect(list.header.filename).toBe('ITLFile.tlv');
    expect(list.records.map((r) => r.roleName)).toEqual(['SAST', 'SAST', 'CCM+TFTP', 'TVS', 'CAPF']);
    expect(list.signer?.subjectName).toBe('CN=ITLRECOVERY_cucm-pub;O=Cisco;C=PL');
    expect(list.signer?.serial.equals(recovery.info.serial)).toBe(true);
    expect(list.signer?.dnsName).toBe('');
    expect(verifyTrustList(list).valid).toBe(true);
  });

  it('writes record elements in Cisco order with exact lengths', () => {
    const list = parseTrustList(cucmItl());
    const ccm = list.records[2]!;
    expect(ccm.elements.map((e) => e.tag)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const total = ccm.elements.reduce((n, e) => n + 3 + e.value.length, 0);
    expect(ccm.elements[0]!.value.readUInt16BE(0)).toBe(total);
    expect(ccm.elements.find((e) => e.tag === RecordTag.SUBJECT_NAME)!.value.length).toBe(
      callManager.info.subjectName.length + 1,
    );
    expect(ccm.dnsName).toBe('cucm-pub');
    expect(ccm.ipAddress).toBe('10.48.47.153');
    expect(ccm.role).toBe(Role.CCM_TFTP);
    expect(ccm.certificate.equals(callManager.info.der)).toBe(true);
    expect(ccm.publicKey.equals(callManager.info.publicKey)).toBe(true);
    const tvsRecord = list.records[3]!;
    expect(tvsRecord.elements.map((e) => e.tag)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12]);
    expect(tvsRecord.certificateHash?.length).toBe(20);
    expect(tvsRecord.hashAlgorithm).toBe('sha1');
  });

  it('build -> parse -> build is byte-identical, and parse -> encode gives back the bytes', () => {
    for (const hash of ['sha1', 'sha256', 'sha512'] as const) {
      const first = cucmItl(hash);
      const list = parseTrustList(first);
      expect(encodeTrustList(list).equals(first)).toBe(true);
      const again = buildTrustList({
        keyPem: recovery.keyPem,
        certPem: recovery.certPem,
        hash,
        timestamp: list.header.timestamp,
        filename: list.header.filename,
        records: list.records,
      });
      expect(again.equals(first)).toBe(true);
    }
  });

  it('per-phone ITLSEP<MAC>.tlv / CTLSEP<MAC>.tlv embed the generic file name', () => {
    const itl = buildTrustList({
      keyPem: recovery.keyPem,
      certPem: recovery.certPem,
      filename: 'ITLSEP001122AABBCC.tlv',
      records: [],
    });
    expect(parseTrustList(itl).header.filename).toBe('ITLFile.tlv');
    const ctl = buildTrustList({
      keyPem: recovery.keyPem,
      certPem: recovery.certPem,
      filename: 'CTLSEP001122AABBCC.tlv',
      records: [],
    });
    expect(parseTrustList(ctl).kind).toBe('CTL');
  });

  it('refuses a third SAST record (PTFTP_ERR_TRUST_RULE)', () => {
    expect(() =>
      buildTrustList({
        keyPem: recovery.keyPem,
        certPem: recovery.certPem,
        records: [
          { role: 'SAST', certificate: callManager.certPem },
          { role: 'SAST', certificate: tvs.certPem },
        ],
      }),
    ).toThrow(
      expect.objectContaining({
        code: 'PTFTP_ERR_TRUST_RULE',
        message: expect.stringMatching(/at most 2 SAST records, this one has 3/),
      }),
    );
  });

  it('refuses a signer that is not a SAST record when asked not to add it', () => {
    expect(() =>
      buildTrustList({
        keyPem: recovery.keyPem,
        certPem: recovery.certPem,
        addSignerRecord: false,
        records: [{ role: 'TFTP', certificate: recovery.certPem }],
      }),
    ).toThrow(expect.objectContaining({ code: 'PTFTP_ERR_TRUST_RULE' }));
  });

  it('verifyTrustList reports a header serial that matches no SAST record', () => {
    const bytes = cucmItl();
    const list = parseTrustList(bytes);
    const noSigner = {
      ...list,
      records: list.records.filter((r) => r.role !== Role.SAST),
      signer: undefined,
    };
    const v = verifyTrustList(noSigner);
    expect(v.valid).toBe(false);
    expect(v.code).toBe('PTFTP_ERR_TRUST_RULE');
    expect(v.reason).toMatch(new RegExp(`signer serial ${recovery.info.serialHex}`));
  });

  it('a single flipped byte anywhere fails verification (typed error or invalid signature)', () => {
    const bytes = cucmItl('sha256');
    let invalid = 0;
    let thrown = 0;
    for (let i = 0; i < bytes.length; i++) {
      const bad = Buffer.from(bytes);
      bad[i] = bad[i]! ^ 0x80;
      try {
        const v = verifyTrustList(bad);
        expect(v.valid, `flip at ${i}`).toBe(false);
        expect(v.reason).toBeTruthy();
        invalid++;
      } catch (err) {
        expect(err, `flip at ${i}`).toBeInstanceOf(SecurityError);
        thrown++;
      }
    }
    expect(invalid).toBeGreaterThan(0);
    expect(thrown).toBeGreaterThan(0);
  });
});

describe('the wrong kind of file', () => {
  it('parseTrustList refuses a .sgn and a .enc.sgn with PTFTP_ERR_VERSION', () => {
    const sgn = signSgn(Buffer.from('<device/>'), {
      filename: 'a.xml',
      keyPem: proxy.keyPem,
      certPem: proxy.certPem,
    });
    expect(() => parseTrustList(sgn)).toThrow(
      expect.objectContaining({
        code: 'PTFTP_ERR_VERSION',
        message: expect.stringMatching(/a\.xml\.sgn \(VERSION 1\.0\) is a signed file/),
      }),
    );
    const enc = encryptConfig('<device/>', {
      filename: 'a.xml',
      phoneCertPem: proxy.certPem,
      keyPem: proxy.keyPem,
      certPem: proxy.certPem,
    });
    expect(() => parseTrustList(enc)).toThrow(expect.objectContaining({ code: 'PTFTP_ERR_VERSION' }));
    expect(() => decryptConfig(sgn, { phoneKeyPem: proxy.keyPem })).toThrow(
      expect.objectContaining({ code: 'PTFTP_ERR_VERSION' }),
    );
  });
});

describe('unknown record tags survive a round trip', () => {
  it('keeps a tag-40 element inside a record, byte for byte, and still reads the known fields', () => {
    const bytes = cucmItl();
    const list = parseTrustList(bytes);
    const rec = list.records[2]!;
    const extra = Buffer.from([40, 0, 3, 0xde, 0xad, 0xbe]);
    const start = rec.offset;
    const length = bytes.readUInt16BE(start + 3);
    const patched = Buffer.concat([bytes.subarray(0, start + length), extra, bytes.subarray(start + length)]);
    patched.writeUInt16BE(length + extra.length, start + 3);
    const again = parseTrustList(patched);
    expect(again.records[2]!.elements.at(-1)).toMatchObject({ tag: 40 });
    expect(again.records[2]!.subjectName).toBe(rec.subjectName);
    expect(encodeTrustList(again).equals(patched)).toBe(true);
    // The content changed, so the signature no longer holds.
    expect(verifyTrustList(again).code).toBe('PTFTP_ERR_SIGNATURE_INVALID');
  });
});

describe('adding a proxy certificate to an existing CTL', () => {
  it('appends the record and re-signs with a SAST key the list already holds', () => {
    const ctl = buildTrustList({
      keyPem: callManager.keyPem,
      certPem: callManager.certPem,
      filename: 'CTLFile.tlv',
      signerVersion: null,
      records: [{ role: 'CCM+TFTP', certificate: callManager.certPem }],
    });
    const updated = addToTrustList(ctl, {
      keyPem: callManager.keyPem,
      certPem: callManager.certPem,
      hash: 'sha512',
      records: [{ role: 'TFTP', certificate: proxy.certPem }],
    });
    const list = parseTrustList(updated);
    expect(list.header.signerVersion).toBeUndefined();
    expect(list.records.map((r) => r.roleName)).toEqual(['SAST', 'CCM+TFTP', 'TFTP']);
    expect(list.records[2]!.subjectName).toMatch(/^CN=proxy-tftp;/);
    expect(verifyTrustList(list).valid).toBe(true);
    expect(list.header.hash).toBe('sha512');
  });

  it('adding a certificate already listed in that role is a no-op (records unchanged)', () => {
    const ctl = buildTrustList({
      keyPem: callManager.keyPem,
      certPem: callManager.certPem,
      filename: 'CTLFile.tlv',
      records: [{ role: 'TFTP', certificate: proxy.certPem }],
    });
    const again = addToTrustList(ctl, {
      keyPem: callManager.keyPem,
      certPem: callManager.certPem,
      records: [{ role: 'TFTP', certificate: proxy.certPem }],
    });
    expect(parseTrustList(again).records.map((r) => r.roleName)).toEqual(['SAST', 'TFTP']);
  });

  it("refuses to re-sign with a key that is not one of the list's SAST records", () => {
    const ctl = buildTrustList({
      keyPem: callManager.keyPem,
      certPem: callManager.certPem,
      filename: 'CTLFile.tlv',
      records: [],
    });
    expect(() =>
      addToTrustList(ctl, {
        keyPem: proxy.keyPem,
        certPem: proxy.certPem,
        records: [{ role: 'TFTP', certificate: proxy.certPem }],
      }),
    ).toThrow(
      expect.objectContaining({
        code: 'PTFTP_ERR_TRUST_RULE',
        message: expect.stringMatching(/not a SAST record of CTLFile\.tlv/),
      }),
    );
  });
});

describe('trust lists: interop with Debian openssl', () => {
  it('openssl verifies the signature with the public key of the signer SAST record, and reads its DER certificate', async () => {
    const bytes = cucmItl('sha256');
    const list = parseTrustList(bytes);
    const signer = list.signer!;
    const pub = tmp.path('sast-pub.pem');
    const conv = await openssl([
      'rsa',
      '-RSAPublicKey_in',
      '-inform',
      'DER',
      '-in',
      tmp.write('sast-pub.der', signer.publicKey),
      '-pubout',
      '-out',
      pub,
    ]);
    expect(conv.code).toBe(0);
    const v = await openssl([
      'dgst',
      '-sha256',
      '-verify',
      pub,
      '-signature',
      tmp.write('itl.sig', list.header.signature),
      tmp.write('itl.signed', signedBytes(bytes, list.header)),
    ]);
    expect(v.stdout.trim()).toBe('Verified OK');
    const x = await openssl([
      'x509',
      '-inform',
      'DER',
      '-in',
      tmp.write('ccm.der', list.records[2]!.certificate),
      '-noout',
      '-serial',
      '-subject',
    ]);
    expect(x.code).toBe(0);
    expect(x.stdout).toContain(`serial=${callManager.info.serialHex}`);
    expect(x.stdout).toContain('CN = cucm-pub');
  });
});
