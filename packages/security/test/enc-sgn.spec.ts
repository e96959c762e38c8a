import { readFileSync } from 'node:fs';
import {
  decryptConfig,
  encryptConfig,
  encryptedConfigStub,
  type GeneratedCertificate,
  parseHeader,
  readEncryptionInfo,
  signEncryptedConfigStub,
  stripSgn,
  verifySgn,
} from '@ptftp/security';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCert, openssl, tempDir } from './fixtures.js';

const tmp = tempDir();
let tftp: GeneratedCertificate;
let phone: GeneratedCertificate;
let otherPhone: GeneratedCertificate;
const XML = '<device><fullConfig>true</fullConfig><sshUserId>admin</sshUserId></device>\n'; // 75 bytes

beforeAll(() => {
  tftp = makeCert('cucm-pub');
  phone = makeCert('SEP001122334455');
  otherPhone = makeCert('SEP00AABBCCDDEE');
});
afterAll(() => tmp.cleanup());

const encrypt = (xml = XML) =>
  encryptConfig(xml, {
    filename: 'SEP001122334455.cnf.xml',
    phoneCertPem: phone.certPem,
    keyPem: tftp.keyPem,
    certPem: tftp.certPem,
    hash: 'sha512',
  });

describe('.enc.sgn encrypted configuration', () => {
  it('writes header 2.0 with the encryption info and \\r-pads the XML to a multiple of 16', () => {
    const file = encrypt();
    const { header, body } = parseHeader(file);
    expect(header.version).toEqual({ major: 2, minor: 0 });
    expect(header.filename).toBe('SEP001122334455.cnf.xml.enc.sgn');
    const info = readEncryptionInfo(file);
    expect(XML.length).toBe(75);
    expect(info.padCount).toBe(5);
    expect(body.length).toBe(80);
    expect(info.iv.length).toBe(16);
    expect(info.encryptedKeyBits).toBe(2048);
    expect(info.encryptedKey.length).toBe(256);
    expect(info.contentHashAlgorithm).toBe('sha512');
    expect(verifySgn(file, { certPem: tftp.certPem }).valid).toBe(true);
  });

  it('decrypts with the phone key, back to the exact XML', () => {
    for (const xml of [XML, 'x'.repeat(32), '']) {
      const out = decryptConfig(encrypt(xml), { phoneKeyPem: phone.keyPem, certPem: tftp.certPem });
      expect(out.xml.toString()).toBe(xml);
      expect(out.verification?.valid).toBe(true);
    }
  });

  it("another phone's key cannot decrypt it (PTFTP_ERR_DECRYPT)", () => {
    expect(() => decryptConfig(encrypt(), { phoneKeyPem: otherPhone.keyPem })).toThrow(
      expect.objectContaining({ code: 'PTFTP_ERR_DECRYPT' }),
    );
  });

  it('a ciphertext that is not a multiple of 16 is PTFTP_ERR_PADDING', () => {
    const file = encrypt();
    expect(() => decryptConfig(file.subarray(0, file.length - 3), { phoneKeyPem: phone.keyPem })).toThrow(
      expect.objectContaining({ code: 'PTFTP_ERR_PADDING' }),
    );
  });

  it('plaintext padding that is not \\r (tag 20 count) is PTFTP_ERR_PADDING', () => {
    const file = encryptConfig(XML, {
      filename: 'SEP001122334455.cnf.xml',
      phoneCertPem: phone.certPem,
      keyPem: tftp.keyPem,
      certPem: tftp.certPem,
      aesKey: Buffer.alloc(16, 1),
      iv: Buffer.alloc(16, 2),
    });
    // CBC: flipping a byte of the second-to-last block flips the same byte of the last plaintext block.
    const bad = Buffer.from(file);
    bad[bad.length - 16 - 1] = bad[bad.length - 16 - 1]! ^ 0x01;
    expect(() => decryptConfig(bad, { phoneKeyPem: phone.keyPem })).toThrow(
      expect.objectContaining({
        code: 'PTFTP_ERR_PADDING',
        message: expect.stringMatching(/last 5 plaintext bytes/),
      }),
    );
  });

  it('openssl unwraps the AES key with the phone key and decrypts the body to XML + \\r padding', async () => {
    const file = encrypt();
    const info = readEncryptionInfo(file);
    const keyPath = tmp.write('phone.key', phone.keyPem);
    const unwrap = await openssl([
      'pkeyutl',
      '-decrypt',
      '-inkey',
      keyPath,
      '-in',
      tmp.write('wrapped.bin', info.encryptedKey),
      '-out',
      tmp.path('aes.key'),
    ]);
    expect(unwrap.code).toBe(0);
    const aes = readFileSync(tmp.path('aes.key'));
    expect(aes.length).toBe(16);
    const dec = await openssl([
      'enc',
      '-d',
      '-aes-128-cbc',
      '-nopad',
      '-K',
      aes.toString('hex'),
      '-iv',
      info.iv.toString('hex'),
      '-in',
      tmp.write('body.bin', stripSgn(file)),
      '-out',
      tmp.path('plain.xml'),
    ]);
    expect(dec.code).toBe(0);
    expect(readFileSync(tmp.path('plain.xml'), 'latin1')).toBe(`${XML}\r\r\r\r\r`);
  });

  it('the stub .cnf.xml.sgn carries encrConfig and the MD5 of the phone certificate', async () => {
    const fp = await openssl([
      'x509',
      '-in',
      tmp.write('phone.pem', phone.certPem),
      '-noout',
      '-fingerprint',
      '-md5',
    ]);
    const md5 = fp.stdout.trim().split('=')[1]!.replace(/:/g, '').toLowerCase();
    expect(encryptedConfigStub(phone.certPem)).toContain(`<certHash>${md5}</certHash>`);
    const stub = signEncryptedConfigStub({
      phoneCertPem: phone.certPem,
      filename: 'SEP001122334455.cnf.xml',
      keyPem: tftp.keyPem,
      certPem: tftp.certPem,
    });
    const v = verifySgn(stub, { certPem: tftp.certPem });
    expect(v.valid).toBe(true);
    expect(v.filename).toBe('SEP001122334455.cnf.xml.sgn');
    expect(v.payload.toString()).toBe(
      `<device>\r\n<fullConfig>false</fullConfig>\r\n<certHash>${md5}</certHash>\r\n<encrConfig>true</encrConfig>\r\n</device>\r\n`,
    );
  });
});
