import {
  addToTrustList,
  assembleSignedFile,
  buildRecord,
  buildTrustList,
  encodeElements,
  evaluateTrust,
  type GeneratedCertificate,
  generateItlRecoveryCertificate,
  rsaSign,
  signSgn,
  type TrustRecord,
} from '@ptftp/security';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeCert } from './fixtures.js';

const encodeTrustRecord = (r: TrustRecord) => encodeElements(r.elements);

// Home cluster A (the phone's) and a proxy with its own CallManager certificate.
let recovery: GeneratedCertificate;
let homeCcm: GeneratedCertificate;
let homeTvs: GeneratedCertificate;
let proxy: GeneratedCertificate;
let itl: Buffer;
let ctl: Buffer;
const XML = Buffer.from('<device/>');

beforeAll(() => {
  recovery = generateItlRecoveryCertificate({ subject: { commonName: 'cucm-a' } });
  homeCcm = makeCert('cucm-a');
  homeTvs = makeCert('cucm-a-tvs');
  proxy = makeCert('proxy-tftp');
  itl = buildTrustList({
    keyPem: recovery.keyPem,
    certPem: recovery.certPem,
    records: [
      { role: 'SAST', certificate: homeCcm.certPem },
      { role: 'CCM+TFTP', certificate: homeCcm.certPem },
      { role: 'TVS', certificate: homeTvs.certPem },
    ],
  });
  ctl = buildTrustList({
    keyPem: homeCcm.keyPem,
    certPem: homeCcm.certPem,
    filename: 'CTLFile.tlv',
    records: [{ role: 'CCM+TFTP', certificate: homeCcm.certPem }],
  });
});

const signBy = (c: GeneratedCertificate) =>
  signSgn(XML, { filename: 'SEP001122334455.cnf.xml', keyPem: c.keyPem, certPem: c.certPem });

describe('evaluateTrust: which signer a phone accepts', () => {
  it('a phone with no ITL or CTL accepts any signed file', () => {
    const d = evaluateTrust(signBy(proxy), {});
    expect(d.accepted).toBe(true);
    expect(d.rule).toBe('NO_TRUST_LIST');
  });

  it('rule 2: a file signed by the TFTP certificate in the ITL is accepted by ITL', () => {
    const d = evaluateTrust(signBy(homeCcm), { itl });
    expect(d).toMatchObject({ accepted: true, rule: 'ITL', fileKind: 'sgn' });
    expect(d.reason).toMatch(/in the phone's ITL as CCM\+TFTP/);
  });

  it('rule 1: the CTL is consulted first', () => {
    const d = evaluateTrust(signBy(homeCcm), { itl, ctl });
    expect(d).toMatchObject({ accepted: true, rule: 'CTL' });
  });

  it('a proxy-signed file is rejected, naming the signer and the four remedies with the certificate to move', () => {
    const d = evaluateTrust(signBy(proxy), { itl, ctl }, { signerCertPem: proxy.certPem });
    expect(d.accepted).toBe(false);
    expect(d.rule).toBeUndefined();
    expect(d.signer.name).toMatch(/^CN=proxy-tftp;/);
    expect(d.reason).toMatch(
      /sgn verify file failed: signer CN=proxy-tftp.*signer not in CTL; signer not in ITL/,
    );
    expect(d.remedies.map((r) => r.action)).toEqual([
      'import-phone-sast-trust',
      'add-to-remote-ctl',
      'reset-itl',
      'disable-security-by-default',
    ]);
    for (const r of d.remedies) {
      expect(r.certificate.serialHex).toBe(proxy.info.serialHex);
      expect(r.certificate.pem).toBe(proxy.info.pem);
    }
    expect(d.remedies[0]!.summary).toMatch(/Phone-SAST-Trust.*TVS \(cucm-a-tvs\)/);
  });

  it('without a CTL there is no CTL remedy, without TVS in the ITL no TVS remedy', () => {
    const itlNoTvs = buildTrustList({
      keyPem: recovery.keyPem,
      certPem: recovery.certPem,
      records: [{ role: 'TFTP', certificate: homeCcm.certPem }],
    });
    const d = evaluateTrust(signBy(proxy), { itl: itlNoTvs });
    expect(d.remedies.map((r) => r.action)).toEqual(['reset-itl', 'disable-security-by-default']);
    expect(d.remedies[0]!.certificate.pem).toBeUndefined();
    expect(d.checks.find((c) => c.rule === 'TVS')?.detail).toBe('the ITL lists no TVS');
  });

  it('rule 3: once the proxy certificate is in the TVS trust store, TVS vouches for it', () => {
    const d = evaluateTrust(signBy(proxy), { itl, tvsTrust: [homeTvs.certPem, proxy.certPem] });
    expect(d).toMatchObject({ accepted: true, rule: 'TVS' });
    expect(d.reason).toMatch(/TVS cucm-a-tvs vouches for the signer CN=proxy-tftp/);
  });

  it('remedy applied: after adding the proxy to the CTL (re-signed by a SAST) the phone accepts by CTL', () => {
    const newCtl = addToTrustList(ctl, {
      keyPem: homeCcm.keyPem,
      certPem: homeCcm.certPem,
      records: [{ role: 'TFTP', certificate: proxy.certPem }],
    });
    expect(evaluateTrust(signBy(proxy), { itl, ctl: newCtl })).toMatchObject({ accepted: true, rule: 'CTL' });
    // and the new CTL itself is accepted by a phone holding the old one (same SAST)
    expect(evaluateTrust(newCtl, { ctl })).toMatchObject({ accepted: true, rule: 'CTL', fileKind: 'CTL' });
  });

  it('a certificate listed only as SAST in the ITL may not sign configuration files', () => {
    const d = evaluateTrust(signBy(recovery), { itl });
    expect(d.accepted).toBe(false);
    expect(d.reason).toMatch(/listed only as SAST, which may not sign this file/);
    // but it may sign an ITL update
    const nextItl = buildTrustList({ keyPem: recovery.keyPem, certPem: recovery.certPem, records: [] });
    expect(evaluateTrust(nextItl, { itl })).toMatchObject({ accepted: true, rule: 'ITL', fileKind: 'ITL' });
  });

  it('a trusted signer with a modified file is rejected with no trust remedy', () => {
    const sgn = signBy(homeCcm);
    sgn[sgn.length - 1] = sgn[sgn.length - 1]! ^ 1;
    const d = evaluateTrust(sgn, { itl });
    expect(d.accepted).toBe(false);
    expect(d.reason).toMatch(/does not verify.*modified after signing/);
    expect(d.remedies).toEqual([]);
    expect(d.checks.find((c) => c.rule === 'ITL')?.outcome).toBe('signature-invalid');
  });
});

describe('evaluateTrust: trust-list updates (spec: a new version must be signed by a previously known SAST)', () => {
  it('an ITL update signed by a certificate the phone holds only as CCM+TFTP is rejected', () => {
    const phoneItl = buildTrustList({
      keyPem: recovery.keyPem,
      certPem: recovery.certPem,
      records: [{ role: 'CCM+TFTP', certificate: homeCcm.certPem }],
    });
    // homeCcm signs a new ITL (and so is a SAST record of that new ITL)
    const update = buildTrustList({
      keyPem: homeCcm.keyPem,
      certPem: homeCcm.certPem,
      records: [{ role: 'CCM+TFTP', certificate: homeCcm.certPem }],
    });
    const d = evaluateTrust(update, { itl: phoneItl });
    expect(d.accepted).toBe(false);
    expect(d.fileKind).toBe('ITL');
    expect(d.checks.find((c) => c.rule === 'ITL')).toMatchObject({
      outcome: 'not-listed',
      detail: expect.stringMatching(/listed only as CCM\+TFTP, which may not sign this file/),
    });
    // the same certificate still signs configuration files
    expect(evaluateTrust(signBy(homeCcm), { itl: phoneItl })).toMatchObject({ accepted: true, rule: 'ITL' });
  });

  it('an update holding 3 SAST records is rejected even when a known SAST signed it', () => {
    const third = makeCert('cucm-b');
    const records = [recovery, homeCcm, third].map((c) =>
      buildRecord({ role: 'SAST', certificate: c.certPem }),
    );
    const cert = records[0]!;
    const update = assembleSignedFile(
      {
        version: [1, 2],
        signerVersion: [1, 0],
        signer: { name: cert.subjectName, serial: cert.serial, issuer: cert.issuerName },
        hash: 'sha1',
        modulusBytes: 256,
        filename: 'ITLFile.tlv',
        timestamp: 1_700_000_000,
      },
      Buffer.concat(records.map((r) => encodeTrustRecord(r))),
      (bytes) => rsaSign(bytes, recovery.keyPem, 'sha1'),
    );
    const d = evaluateTrust(update, { itl });
    expect(d.accepted).toBe(false);
    expect(d.reason).toMatch(
      /breaks the trust-list rules: a trust list holds at most 2 SAST records, this one has 3/,
    );
  });
});
