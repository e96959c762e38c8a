import {
  exportCertificateBundle,
  type GeneratedCertificate,
  generateItlRecoveryCertificate,
  importCertificateBundle,
  Role,
  readCertificate,
  toRole,
} from '@ptftp/security';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCert, openssl, tempDir } from './fixtures.js';

const tmp = tempDir();
let tftp: GeneratedCertificate;
let recovery: GeneratedCertificate;
beforeAll(() => {
  tftp = makeCert('proxy-tftp.example.com');
  recovery = generateItlRecoveryCertificate({ subject: { commonName: 'cucm-pub', organization: 'Example' } });
});
afterAll(() => tmp.cleanup());

describe('certificates', () => {
  it('generates a CallManager-style signing certificate that openssl accepts as self-signed', async () => {
    const path = tmp.write('tftp.pem', tftp.certPem);
    const v = await openssl(['verify', '-CAfile', path, path]);
    expect(v.stdout).toContain(': OK');
    const text = await openssl(['x509', '-in', path, '-noout', '-text']);
    expect(text.stdout).toContain('Public-Key: (2048 bit)');
    expect(text.stdout).toMatch(/TLS Web Server Authentication, TLS Web Client Authentication/);
    expect(text.stdout).toContain(`Serial Number:`);
    const serial = await openssl(['x509', '-in', path, '-noout', '-serial']);
    expect(serial.stdout.trim()).toBe(`serial=${tftp.info.serialHex}`);
    expect(tftp.info.serial.length).toBe(16);
    expect(tftp.info.keyBits).toBe(2048);
    const mod = await openssl(['rsa', '-in', tmp.write('tftp.key', tftp.keyPem), '-noout', '-modulus']);
    const certMod = await openssl(['x509', '-in', path, '-noout', '-modulus']);
    expect(mod.stdout).toBe(certMod.stdout);
  });

  it('names an ITLRecovery certificate ITLRECOVERY_<host> and writes Cisco-style names', () => {
    expect(recovery.info.subjectName).toBe('CN=ITLRECOVERY_cucm-pub;O=Example');
    expect(recovery.info.issuerName).toBe(recovery.info.subjectName);
    expect(recovery.info.selfSigned).toBe(true);
    expect(tftp.info.subjectName).toBe(
      'CN=proxy-tftp.example.com;OU=TAC;O=Cisco;L=Krakow;ST=Malopolska;C=PL',
    );
  });

  it('reads DER as well as PEM, with fingerprints openssl agrees with', async () => {
    const der = readCertificate(tftp.info.der);
    expect(der.serialHex).toBe(tftp.info.serialHex);
    const fp = await openssl([
      'x509',
      '-in',
      tmp.write('fp.pem', tftp.certPem),
      '-noout',
      '-fingerprint',
      '-sha1',
    ]);
    expect(fp.stdout.trim().split('=')[1]!.replace(/:/g, '').toLowerCase()).toBe(der.sha1);
  });

  it('rejects garbage with PTFTP_ERR_CERTIFICATE', () => {
    expect(() => readCertificate('not a certificate')).toThrow(
      expect.objectContaining({ code: 'PTFTP_ERR_CERTIFICATE' }),
    );
  });

  it('exports and imports a bundle that keeps the store and role of every certificate', async () => {
    const text = exportCertificateBundle([
      { certificate: tftp.certPem, store: 'Phone-SAST-Trust', role: 'TFTP' },
      { certificate: recovery.certPem, store: 'CallManager-trust' },
    ]);
    const back = importCertificateBundle(text);
    expect(back).toHaveLength(2);
    expect(back[0]!.info.der.equals(tftp.info.der)).toBe(true);
    expect(back[0]!.store).toBe('Phone-SAST-Trust');
    expect(back[0]!.role).toBe(Role.TFTP);
    expect(back[1]!.store).toBe('CallManager-trust');
    expect(back[1]!.role).toBeUndefined();
    // Plain PEM tools read the same file.
    const x = await openssl(['x509', '-in', tmp.write('bundle.pem', text), '-noout', '-serial']);
    expect(x.stdout.trim()).toBe(`serial=${tftp.info.serialHex}`);
  });

  it('parses role names as the CLI spells them', () => {
    expect(
      ['SAST', 'CCM', 'CCM+TFTP', 'TFTP', 'CAPF', 'SRST', 'APP-SERVER', 'TVS', '21'].map(toRole),
    ).toEqual([0, 1, 2, 3, 4, 5, 7, 21, 21]);
    expect(() => toRole('PHONE')).toThrow(expect.objectContaining({ code: 'PTFTP_ERR_ARGUMENT' }));
  });
});
