import { readFileSync } from 'node:fs';
/**
 * Issue 14 without the oracle: each behaviour certutils showed wrong, pinned with bytes made
 * here (names rendered as certutils renders them, a swapped PUBLIC_KEY, whole-block
 * plaintexts, a DC name, a wrong HEADER_LENGTH), so they run wherever the tests run.
 */
import {
  assembleSignedFile,
  buildTrustList,
  decryptConfig,
  encryptConfig,
  encryptedConfigStub,
  evaluateTrust,
  generateItlRecoveryCertificate,
  generateSigningCertificate,
  parseHeader,
  parseTrustList,
  RecordTag,
  readCertificate,
  readEncryptionInfo,
  rsaSign,
  type SecurityError,
  signedBytes,
  signSgn,
  verifySgn,
  verifyTrustList,
} from '@ptftp/security';
import { describe, expect, it } from 'vitest';
import { openssl, tempDir } from './fixtures.js';

const subject = { organization: 'ExampleOrg', organizationalUnit: 'VTG', country: 'PL' };
const tftp = generateSigningCertificate({ subject: { commonName: 'cucm-pub.example.com', ...subject } });
const sast = generateItlRecoveryCertificate({ subject: { commonName: 'cucm-sast1', ...subject } });
const phone = generateSigningCertificate({ subject: { commonName: 'SEP001122334455' } });
const rogue = generateSigningCertificate({ subject: { commonName: 'rogue' } });
const XML = Buffer.from('<device><fullConfig>true</fullConfig></device>\n');

/** A .sgn signed by `key`, whose header names its signer the way certutils writes names. */
function certutilsStyleSgn(key: string, body: Buffer = XML): Buffer {
  return assembleSignedFile(
    {
      version: [1, 0],
      signer: {
        name: 'C=PL,OU=VTG,O=ExampleOrg,CN=cucm-pub.example.com',
        serial: tftp.info.serial,
        issuer: 'C=PL,OU=VTG,O=ExampleOrg,CN=cucm-pub.example.com',
      },
      hash: 'sha512',
      modulusBytes: 256,
      filename: 'SEP001122334455.cnf.xml.sgn',
      timestamp: 1_700_000_000,
    },
    body,
    (data) => rsaSign(data, key, 'sha512'),
  );
}

/** Swap a record's PUBLIC_KEY (tag 7) for the rogue key and re-sign the list with it. */
function swapTag7(list: Buffer, role: number): Buffer {
  const out = Buffer.from(list);
  const record = parseTrustList(out).records.find((r) => r.role === role)!;
  let off = record.offset;
  for (const el of record.elements) {
    if (el.tag === RecordTag.PUBLIC_KEY) rogue.info.publicKey.copy(out, off + 3);
    off += 3 + el.value.length;
  }
  const { header } = parseHeader(out);
  rsaSign(signedBytes(out, header), rogue.keyPem, header.hash).copy(out, header.signatureOffset + 3);
  return out;
}

describe('issue 14.1: signers are matched by serial and key, not by a rendered name', () => {
  it('verifySgn with the certificate accepts a header whose names are comma-joined in DER order', () => {
    const v = verifySgn(certutilsStyleSgn(tftp.keyPem), { certPem: tftp.certPem });
    expect(v.reason).toBeUndefined();
    expect(v.valid).toBe(true);
  });

  it('the same header signed by another key is INVALID (the key decides, not the names)', () => {
    const v = verifySgn(certutilsStyleSgn(rogue.keyPem), { certPem: tftp.certPem });
    expect(v.valid).toBe(false);
    expect(v.code).toBe('PTFTP_ERR_SIGNATURE_INVALID');
  });

  it('evaluateTrust finds the signer in an ITL that lists that exact certificate', () => {
    const itl = buildTrustList({
      keyPem: sast.keyPem,
      certPem: sast.certPem,
      records: [{ role: 'TFTP', certificate: tftp.certPem }],
    });
    const d = evaluateTrust(certutilsStyleSgn(tftp.keyPem), { itl });
    expect(d.reason).toMatch(/in the phone's ITL as TFTP/);
    expect(d.accepted).toBe(true);
    expect(verifySgn(certutilsStyleSgn(tftp.keyPem), { trustList: itl }).valid).toBe(true);
  });

  it('DC attributes are named, and names render as RFC 4514 for people', async () => {
    const tmp = tempDir();
    try {
      const r = await openssl([
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-keyout',
        tmp.path('k.pem'),
        '-out',
        tmp.path('c.pem'),
        '-subj',
        '/DC=com/DC=example/O=Example, Inc./CN=cucm-pub',
      ]);
      expect(r.code, r.stderr).toBe(0);
      const info = readCertificate(readFileSync(tmp.path('c.pem'), 'utf8'));
      expect(info.subjectRfc4514).toBe('CN=cucm-pub,O=Example\\, Inc.,DC=example,DC=com');
      expect(info.subjectName).toBe('CN=cucm-pub;O=Example, Inc.;DC=example;DC=com');
      expect(info.subjectName).not.toMatch(/0\.9\.2342/);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('issue 14.2: trust lists are verified with the certificate (tag 9), not PUBLIC_KEY (tag 7)', () => {
  const itl = buildTrustList({
    keyPem: sast.keyPem,
    certPem: sast.certPem,
    records: [{ role: 'TFTP', certificate: tftp.certPem }],
  });

  it('verifyTrustList refuses a SAST record whose tag 7 was swapped and the list re-signed with it', () => {
    expect(verifyTrustList(itl).valid).toBe(true);
    const v = verifyTrustList(swapTag7(itl, 0));
    expect(v.valid).toBe(false);
    expect(v.code).toBe('PTFTP_ERR_KEY');
    expect(v.reason).toMatch(/PUBLIC_KEY \(tag 7\) is not the key of its CERTIFICATE \(tag 9\)/);
  });

  it('verifySgn --trust-list and evaluateTrust refuse a file signed by the swapped-in key', () => {
    const altered = swapTag7(itl, 3);
    const forged = certutilsStyleSgn(rogue.keyPem);
    expect(verifySgn(forged, { trustList: altered }).valid).toBe(false);
    const d = evaluateTrust(forged, { itl: altered });
    expect(d.accepted).toBe(false);
    expect(d.reason).toMatch(/PUBLIC_KEY \(tag 7\) is not the key of its CERTIFICATE/);
    expect(d.remedies).toEqual([]);
  });
});

describe('issue 14.3: PAD_COUNT is 1..16, a full block when the plaintext fills whole blocks', () => {
  for (const length of [15, 16, 17, 160]) {
    it(`${length} bytes: PAD_COUNT ${16 - (length % 16)} written, read back`, () => {
      const plain = Buffer.alloc(length, 0x61);
      const enc = encryptConfig(plain, {
        filename: 'SEP001122334455.cnf.xml',
        phoneCertPem: phone.certPem,
        keyPem: tftp.keyPem,
        certPem: tftp.certPem,
      });
      expect(readEncryptionInfo(enc).padCount).toBe(16 - (length % 16));
      expect(parseHeader(enc).body.length).toBe(length + 16 - (length % 16));
      expect(decryptConfig(enc, { phoneKeyPem: phone.keyPem }).xml.equals(plain)).toBe(true);
    });
  }
});

describe('issue 14.4: generated subjects use UTF8String where PrintableString cannot hold them', () => {
  it('`_ & @` and non-ASCII survive a round trip through the DER', () => {
    const made = generateItlRecoveryCertificate({
      subject: { commonName: 'cucm_pub&1@x', organization: 'Zakład Łódź', country: 'pl' },
    });
    expect(made.info.subjectName).toBe('CN=ITLRECOVERY_cucm_pub&1@x;O=Zakład Łódź;C=PL');
    // 0x0c UTF8String before the CN value, 0x13 PrintableString before the country.
    const der = made.info.der;
    expect(der.includes(Buffer.concat([Buffer.of(0x0c, 24), Buffer.from('ITLRECOVERY_cucm_pub&1@x')]))).toBe(
      true,
    );
    expect(der.includes(Buffer.concat([Buffer.of(0x13, 2), Buffer.from('PL')]))).toBe(true);
  });

  it('a country that is not two letters is refused with PTFTP_ERR_ARGUMENT', () => {
    expect.assertions(1);
    try {
      generateSigningCertificate({ subject: { commonName: 'x', country: 'Poland' } });
    } catch (err) {
      expect((err as SecurityError).code).toBe('PTFTP_ERR_ARGUMENT');
    }
  });
});

describe('issue 14.5: the encrypted-config stub keeps what a phone that cannot decrypt needs', () => {
  it('ipAddressMode, loadInformation, capfAuthMode and capfList are copied byte for byte, nothing else', () => {
    const config =
      '<device><fullConfig>true</fullConfig><ipAddressMode>2</ipAddressMode><!-- <capfList>no</capfList> -->' +
      '<sipProfile a=">"><loadInformation>inner</loadInformation></sipProfile>' +
      '<loadInformation model="8845">sip88xx.14-2-1</loadInformation><capfAuthMode>0</capfAuthMode>' +
      '<capfList><capf><phonePort>3804</phonePort></capf></capfList><vendorConfig/></device>';
    expect(encryptedConfigStub(phone.certPem, config)).toBe(
      [
        '<device>',
        '<fullConfig>false</fullConfig>',
        '<ipAddressMode>2</ipAddressMode>',
        '<loadInformation model="8845">sip88xx.14-2-1</loadInformation>',
        '<capfAuthMode>0</capfAuthMode>',
        '<capfList><capf><phonePort>3804</phonePort></capf></capfList>',
        `<certHash>${phone.info.md5}</certHash>`,
        '<encrConfig>true</encrConfig>',
        '</device>',
        '',
      ].join('\r\n'),
    );
  });
});

describe('issue 14.7: a wrong HEADER_LENGTH is named as such', () => {
  it('HEADER_LENGTH pointing into the XML body names HEADER_LENGTH, not TAG_60', () => {
    expect.assertions(3);
    const sgn = signSgn(XML, { filename: 'a.xml', keyPem: tftp.keyPem, certPem: tftp.certPem });
    const bad = Buffer.from(sgn);
    bad.writeUInt16BE(sgn.readUInt16BE(8) + 8, 8);
    try {
      parseHeader(bad);
    } catch (err) {
      expect((err as SecurityError).code).toBe('PTFTP_ERR_TLV_HEADER_LENGTH');
      expect((err as Error).message).toMatch(
        /^header: HEADER_LENGTH \d+ \(offset 8\) does not end where the header's elements end/,
      );
      expect((err as SecurityError).offset).toBe(8);
    }
  });
});

describe('issue 14.7: evaluateTrust says when the signature was not checked', () => {
  const sgn = signSgn(XML, { filename: 'a.xml', keyPem: tftp.keyPem, certPem: tftp.certPem });
  const tampered = Buffer.from(sgn);
  tampered[tampered.length - 2]! ^= 1;

  it('no ITL or CTL: accepted, but signatureChecked false and the reason says NOT checked', () => {
    const d = evaluateTrust(tampered, {});
    expect(d.accepted).toBe(true);
    expect(d.signatureChecked).toBe(false);
    expect(d.reason).toMatch(/signature was NOT checked/);
  });

  it('no ITL or CTL, signer certificate given: a tampered file is rejected', () => {
    const d = evaluateTrust(tampered, {}, { signerCertPem: tftp.certPem });
    expect(d.accepted).toBe(false);
    expect(d.signatureChecked).toBe(true);
    expect(evaluateTrust(sgn, {}, { signerCertPem: tftp.certPem }).accepted).toBe(true);
  });

  it('a trust-list update signed by an unknown SAST is explained as a list update, not "sgn verify file failed"', () => {
    const held = buildTrustList({
      keyPem: sast.keyPem,
      certPem: sast.certPem,
      records: [{ role: 'TFTP', certificate: tftp.certPem }],
    });
    const update = buildTrustList({ keyPem: rogue.keyPem, certPem: rogue.certPem, records: [] });
    const d = evaluateTrust(update, { itl: held });
    expect(d.accepted).toBe(false);
    expect(d.fileKind).toBe('ITL');
    expect(d.reason).toMatch(/^the phone would not install this ITL update: its signer CN=rogue/);
    expect(d.reason).not.toMatch(/sgn verify file failed/);
    expect(d.remedies.map((r) => r.action)).toEqual(['sign-with-held-sast', 'reset-itl']);
    expect(d.remedies.map((r) => r.summary).join(' ')).not.toMatch(/installs an ITL that lists/);
  });
});
