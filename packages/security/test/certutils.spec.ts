/**
 * Interop with usecallmanagernz/certutils, both ways: every file ptftp writes is read and
 * verified by certutils, and every file certutils writes is verified (and decrypted) by ptftp.
 * SHA-1 and SHA-512 only: CUCM writes those two and certutils refuses SHA-256 (id 2).
 */
import { readFileSync } from 'node:fs';
import {
  addToTrustList,
  assembleSignedFile,
  buildTrustList,
  decryptConfig,
  encryptConfig,
  evaluateTrust,
  type GeneratedCertificate,
  generateItlRecoveryCertificate,
  generateSigningCertificate,
  type HashName,
  parseHeader,
  parseTrustList,
  RecordTag,
  readCertificate,
  rsaSign,
  signEncryptedConfigStub,
  signedBytes,
  signSgn,
  stripSgn,
  verifySgn,
  verifyTrustList,
} from '@ptftp/security';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './fixtures.js';
import { certutils, loadInPython, skipWithoutCertutils, writeCombinedPem } from './support/certutils.js';

const skip = skipWithoutCertutils();
const HASHES: HashName[] = ['sha1', 'sha512'];
const LENGTHS = [15, 16, 17, 160];

/** A `<device>` document of exactly `length` bytes (certutils' enccnf wants `<device>` XML). */
function deviceXml(length: number): Buffer {
  const text =
    length < 17 ? `<device${' '.repeat(length - 9)}/>` : `<device>${'x'.repeat(length - 17)}</device>`;
  expect(text.length).toBe(length);
  return Buffer.from(text);
}

let tmp: ReturnType<typeof tempDir>;
let tftp: GeneratedCertificate;
let sast: GeneratedCertificate;
let phone: GeneratedCertificate;
let rogue: GeneratedCertificate;
const pem = { tftp: '', sast: '', phone: '', phoneKey: '' };

beforeAll(() => {
  tmp = tempDir();
  // Names that differ between renderings: certutils writes DER order joined by commas, ptftp
  // Cisco's `CN=..;..` order; a comma inside a value needs RFC 4514 escaping.
  const subject = { organization: 'Example, Inc.', organizationalUnit: 'VTG', country: 'PL' };
  tftp = generateSigningCertificate({ subject: { commonName: 'cucm-pub.example.com', ...subject } });
  sast = generateItlRecoveryCertificate({ subject: { commonName: 'cucm-pub', ...subject } });
  phone = generateSigningCertificate({ subject: { commonName: 'SEP001122334455' } });
  rogue = generateSigningCertificate({ subject: { commonName: 'rogue' } });
  pem.tftp = writeCombinedPem(tmp.path('tftp.pem'), tftp.certPem, tftp.keyPem);
  pem.sast = writeCombinedPem(tmp.path('sast.pem'), sast.certPem, sast.keyPem);
  pem.phone = tmp.write('phone.pem', phone.certPem);
  pem.phoneKey = tmp.write('phone.key', phone.keyPem);
});
afterAll(() => tmp?.cleanup());

const tftpSigner = (hash: HashName) => ({ keyPem: tftp.keyPem, certPem: tftp.certPem, hash });
const sastSigner = (hash: HashName) => ({ keyPem: sast.keyPem, certPem: sast.certPem, hash });

describe.skipIf(skip)('certutils: .sgn (sgnfile)', () => {
  it.each(HASHES)(
    'ptftp signSgn -> sgnfile -p says "Valid signature" (%s); a flipped byte is Invalid',
    async (hash) => {
      const dir = tempDir();
      try {
        const sgn = signSgn(deviceXml(160), { filename: 'RingList.xml', ...tftpSigner(hash) });
        dir.write('RingList.xml.sgn', sgn);
        const ok = await certutils('sgnfile', ['-p', 'RingList.xml.sgn', '-t', pem.tftp], dir.dir);
        expect(ok.stderr).toBe('');
        expect(ok.stdout).toContain(`Digest Algorithm: ${hash.toUpperCase()}`);
        expect(ok.stdout).toMatch(/\nValid signature\n$/);
        sgn[sgn.length - 1]! ^= 1;
        dir.write('RingList.xml.sgn', sgn);
        const bad = await certutils('sgnfile', ['-p', 'RingList.xml.sgn', '-t', pem.tftp], dir.dir);
        expect(bad.stdout).toMatch(/\nInvalid signature\n$/);
      } finally {
        dir.cleanup();
      }
    },
  );

  it.each(HASHES)(
    'sgnfile -b -> ptftp verifySgn with the certificate, and with an ITL listing it (%s)',
    async (hash) => {
      const dir = tempDir();
      try {
        const content = deviceXml(160);
        dir.write('RingList.xml', content);
        const built = await certutils('sgnfile', ['-b', 'RingList.xml', '-t', pem.tftp, '-d', hash], dir.dir);
        expect(built.stdout, built.stderr).toContain('Built RingList.xml.sgn');
        const sgn = readFileSync(dir.path('RingList.xml.sgn'));
        // certutils renders the names its own way (DER order, commas): only serial and key match.
        expect(parseHeader(sgn).header.signer.issuer).not.toBe(tftp.info.issuerName);
        const byCert = verifySgn(sgn, { certPem: tftp.certPem });
        expect(byCert.reason).toBeUndefined();
        expect(byCert.valid).toBe(true);
        expect(byCert.hash).toBe(hash);
        expect(stripSgn(sgn).equals(content)).toBe(true);
        const itl = buildTrustList({
          ...sastSigner(hash),
          records: [{ role: 'TFTP', certificate: tftp.certPem }],
        });
        expect(verifySgn(sgn, { trustList: itl }).valid).toBe(true);
        const decision = evaluateTrust(sgn, { itl });
        expect(decision.accepted).toBe(true);
        expect(decision.rule).toBe('ITL');
      } finally {
        dir.cleanup();
      }
    },
  );
});

describe.skipIf(skip)('certutils: ITL and CTL (tlvfile)', () => {
  for (const hash of HASHES) {
    for (const filename of ['ITLFile.tlv', 'CTLFile.tlv']) {
      it(`ptftp buildTrustList ${filename} -> tlvfile -p says "Valid signature" (${hash})`, async () => {
        const dir = tempDir();
        try {
          const list = buildTrustList({
            ...sastSigner(hash),
            filename,
            records: [
              { role: 'CCM+TFTP', certificate: tftp.certPem },
              { role: 'TVS', certificate: rogue.certPem },
            ],
          });
          dir.write(filename, list);
          const r = await certutils('tlvfile', ['-p', filename], dir.dir);
          expect(r.stderr).toBe('');
          expect(r.stdout).toContain('Role:             SAST');
          expect(r.stdout).toContain('Role:             CCM+TFTP');
          expect(r.stdout).toMatch(/\nValid signature\n$/);
        } finally {
          dir.cleanup();
        }
      });

      it(`tlvfile -b ${filename} -> ptftp verifyTrustList, addToTrustList with its SAST (${hash})`, async () => {
        const dir = tempDir();
        try {
          const r = await certutils(
            'tlvfile',
            ['-b', filename, '-F', filename, '-d', hash, '-s', pem.sast, '-t', pem.tftp],
            dir.dir,
          );
          expect(r.stdout, r.stderr).toContain(`Built ${filename}`);
          const bytes = readFileSync(dir.path(filename));
          const v = verifyTrustList(bytes);
          expect(v.reason).toBeUndefined();
          expect(v.valid).toBe(true);
          expect(v.list.kind).toBe(filename.slice(0, 3));
          expect(v.signer?.serial.equals(sast.info.serial)).toBe(true);
          // The genuine SAST may re-sign it; the result still verifies in certutils.
          const added = addToTrustList(bytes, {
            ...sastSigner(hash),
            records: [{ role: 'TVS', certificate: rogue.certPem }],
          });
          expect(parseTrustList(added).records).toHaveLength(3);
          dir.write(filename, added);
          const again = await certutils('tlvfile', ['-p', filename], dir.dir);
          expect(again.stdout).toMatch(/\nValid signature\n$/);
        } finally {
          dir.cleanup();
        }
      });
    }
  }
});

/**
 * The attack of issue 14 item 2: swap PUBLIC_KEY (tag 7) of a record for a rogue key and
 * re-sign the list with that key. Lengths stay the same (2048-bit keys), so only bytes move.
 */
function substituteTag7(list: Buffer, role: number, rogueCert: GeneratedCertificate): Buffer {
  const parsed = parseTrustList(list);
  const record = parsed.records.find((r) => r.role === role)!;
  const out = Buffer.from(list);
  let off = record.offset;
  for (const el of record.elements) {
    if (el.tag === RecordTag.PUBLIC_KEY) {
      const rogueKey = readCertificate(rogueCert.certPem).publicKey;
      expect(rogueKey.length).toBe(el.value.length);
      rogueKey.copy(out, off + 3);
    }
    off += 3 + el.value.length;
  }
  const { header } = parseHeader(out);
  const signature = rsaSign(signedBytes(out, header), rogueCert.keyPem, header.hash);
  signature.copy(out, header.signatureOffset + 3);
  return out;
}

describe.skipIf(skip)('certutils: a record whose PUBLIC_KEY (tag 7) was swapped is refused', () => {
  it('a certutils ITL with the SAST key swapped and re-signed: tlvfile and ptftp both say invalid', async () => {
    const dir = tempDir();
    try {
      await certutils('tlvfile', ['-b', 'ITLFile.tlv', '-s', pem.sast, '-t', pem.tftp], dir.dir);
      const genuine = readFileSync(dir.path('ITLFile.tlv'));
      const forged = substituteTag7(genuine, 0, rogue);
      dir.write('ITLFile.tlv', forged);
      const r = await certutils('tlvfile', ['-p', 'ITLFile.tlv'], dir.dir);
      expect(r.stdout).toMatch(/\nInvalid signature\n$/);
      const v = verifyTrustList(forged);
      expect(v.valid).toBe(false);
      expect(v.code).toBe('PTFTP_ERR_KEY');
      expect(v.reason).toMatch(/PUBLIC_KEY \(tag 7\) is not the key of its CERTIFICATE \(tag 9\)/);
    } finally {
      dir.cleanup();
    }
  });

  it('verifySgn --trust-list and evaluateTrust refuse a file signed by the rogue key of an altered TFTP record', () => {
    const itl = buildTrustList({
      ...sastSigner('sha1'),
      records: [{ role: 'TFTP', certificate: tftp.certPem }],
    });
    const altered = substituteTag7(itl, 3, rogue);
    // A .sgn that names the genuine TFTP certificate (serial, names) but is signed by the rogue key.
    const forgedSgn = assembleSignedFile(
      {
        version: [1, 0],
        signer: { name: tftp.info.subjectName, serial: tftp.info.serial, issuer: tftp.info.issuerName },
        hash: 'sha1',
        modulusBytes: 256,
        filename: 'SEP001122334455.cnf.xml.sgn',
        timestamp: 1_700_000_000,
      },
      deviceXml(160),
      (data) => rsaSign(data, rogue.keyPem, 'sha1'),
    );
    const v = verifySgn(forgedSgn, { trustList: altered });
    expect(v.valid).toBe(false);
    expect(v.reason).toMatch(/PUBLIC_KEY \(tag 7\)/);
    const d = evaluateTrust(forgedSgn, { itl: altered });
    expect(d.accepted).toBe(false);
    expect(d.checks.find((c) => c.rule === 'ITL')?.outcome).toBe('signature-invalid');
    // The genuine record still vouches for the genuine signer.
    const good = signSgn(deviceXml(160), { filename: 'SEP001122334455.cnf.xml', ...tftpSigner('sha1') });
    expect(evaluateTrust(good, { itl }).accepted).toBe(true);
  });

  it('an ITL update whose SAST tag 7 was swapped breaks the trust-list rules for evaluateTrust', () => {
    const itl = buildTrustList({
      ...sastSigner('sha512'),
      records: [{ role: 'TFTP', certificate: tftp.certPem }],
    });
    const forged = substituteTag7(itl, 0, rogue);
    const d = evaluateTrust(forged, { itl: forged });
    expect(d.accepted).toBe(false);
    expect(d.reason).toMatch(/PUBLIC_KEY \(tag 7\)/);
  });
});

describe.skipIf(skip)('certutils: encrypted configuration (enccnf)', () => {
  for (const hash of HASHES) {
    for (const length of LENGTHS) {
      it(`ptftp encryptConfig -> enccnf -p valid, -r gives the ${length} plaintext bytes back (${hash})`, async () => {
        const dir = tempDir();
        try {
          const plain = deviceXml(length);
          const enc = encryptConfig(plain, {
            filename: 'SEP001122334455.cnf.xml',
            phoneCertPem: phone.certPem,
            ...tftpSigner(hash),
          });
          dir.write('SEP001122334455.cnf.xml.enc.sgn', enc);
          const parsed = await certutils(
            'enccnf',
            ['-p', 'SEP001122334455.cnf.xml.enc.sgn', '-t', pem.tftp],
            dir.dir,
          );
          expect(parsed.stderr).toBe('');
          expect(parsed.stdout).toMatch(/\nValid signature\n$/);
          const removed = await certutils(
            'enccnf',
            ['-r', 'SEP001122334455.cnf.xml.enc.sgn', '-k', pem.phoneKey],
            dir.dir,
          );
          expect(removed.stderr).toBe('');
          expect(readFileSync(dir.path('SEP001122334455.cnf.xml')).equals(plain)).toBe(true);
        } finally {
          dir.cleanup();
        }
      });

      it(`enccnf -b (${length} bytes, ${hash}) -> ptftp decryptConfig and verifySgn of both files`, async () => {
        const dir = tempDir();
        try {
          const plain = deviceXml(length);
          dir.write('SEP001122334455.cnf.xml', plain);
          const built = await certutils(
            'enccnf',
            ['-b', 'SEP001122334455.cnf.xml', '-t', pem.tftp, '-c', pem.phone, '-d', hash],
            dir.dir,
          );
          expect(built.stdout, built.stderr).toContain('Built SEP001122334455.cnf.xml.enc.sgn');
          const enc = readFileSync(dir.path('SEP001122334455.cnf.xml.enc.sgn'));
          const out = decryptConfig(enc, { phoneKeyPem: phone.keyPem, certPem: tftp.certPem });
          expect(out.xml.equals(plain)).toBe(true);
          expect(out.verification?.reason).toBeUndefined();
          expect(out.verification?.valid).toBe(true);
          const stub = verifySgn(readFileSync(dir.path('SEP001122334455.cnf.xml.sgn')), {
            certPem: tftp.certPem,
          });
          expect(stub.valid).toBe(true);
          expect(stub.payload.toString()).toContain(`<certHash>${phone.info.md5}</certHash>`);
        } finally {
          dir.cleanup();
        }
      });
    }
  }

  it('the stub keeps the elements certutils keeps, in its order (ipAddressMode, loadInformation, capfAuthMode, capfList)', async () => {
    const dir = tempDir();
    try {
      const config = Buffer.from(
        '<?xml version="1.0" encoding="UTF-8"?>\n<device><fullConfig>true</fullConfig><ipAddressMode>0</ipAddressMode>' +
          '<sipProfile><x/></sipProfile><loadInformation>sip88xx.14-2-1-0101-14</loadInformation>' +
          '<capfAuthMode>0</capfAuthMode><capfList><capf><phonePort>3804</phonePort></capf></capfList>' +
          '<userLocale><name>English_United_States</name></userLocale></device>\n',
      );
      dir.write('SEP001122334455.cnf.xml', config);
      await certutils('enccnf', ['-b', 'SEP001122334455.cnf.xml', '-t', pem.tftp, '-c', pem.phone], dir.dir);
      const theirs = stripSgn(readFileSync(dir.path('SEP001122334455.cnf.xml.sgn'))).toString();
      const ours = stripSgn(
        signEncryptedConfigStub({
          ...tftpSigner('sha1'),
          phoneCertPem: phone.certPem,
          filename: 'SEP001122334455.cnf.xml',
          config,
        }),
      ).toString();
      const tags = (xml: string) => [...xml.matchAll(/<(\w+)>/g)].map((m) => m[1]);
      expect(tags(ours)).toEqual(tags(theirs));
      expect(tags(ours)).toEqual([
        'device',
        'fullConfig',
        'ipAddressMode',
        'loadInformation',
        'capfAuthMode',
        'capfList',
        'capf',
        'phonePort',
        'certHash',
        'encrConfig',
      ]);
    } finally {
      dir.cleanup();
    }
  });
});

describe.skipIf(skip)('certutils: generated certificates load in python-cryptography', () => {
  const names = [
    { commonName: 'cucm_pub&1@example', organization: 'R&D_Team @ HQ' },
    { commonName: 'cucm-pub', organization: 'Zakład Łódź — Ü', locality: 'Kraków' },
  ];
  for (const subject of names) {
    it(`ITLRecovery and TFTP certificates for ${JSON.stringify(subject)}, and an ITL signed by the ITLRecovery one`, async () => {
      const dir = tempDir();
      try {
        for (const made of [
          generateItlRecoveryCertificate({ subject }),
          generateSigningCertificate({ subject }),
        ]) {
          const path = dir.write('cert.pem', made.certPem);
          const r = await loadInPython(path, dir.dir);
          expect(r.stderr).toBe('');
          const [subjectLine, , serial] = r.stdout.trimEnd().split('\n');
          expect(subjectLine).toBe(made.info.subjectRfc4514);
          expect(serial).toBe(made.info.serialHex);
          expect(subjectLine).toContain(subject.organization.replace(/,/g, '\\,'));
        }
        const recovery = generateItlRecoveryCertificate({ subject });
        dir.write(
          'ITLFile.tlv',
          buildTrustList({ keyPem: recovery.keyPem, certPem: recovery.certPem, records: [] }),
        );
        const parsed = await certutils('tlvfile', ['-p', 'ITLFile.tlv'], dir.dir);
        expect(parsed.stderr).toBe('');
        expect(parsed.stdout).toMatch(/\nValid signature\n$/);
      } finally {
        dir.cleanup();
      }
    });
  }
});
