import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTrustList, stripSgn, verifySgn } from '@ptftp/security';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../test-support/peers.js';
import { main, type SignAndCheckResult } from '../sign-and-check-trust.js';

const cli = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url));

describe('examples/sign-and-check-trust.ts', () => {
  let r: SignAndCheckResult;
  let out: string;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'ptftp-ex-trust-'));
    // 1024-bit keys keep key generation quick; the rules do not depend on the size.
    r = await main({ keyBits: 1024, outDir: out });
  });
  afterAll(async () => {
    await r?.close();
    await rm(out, { recursive: true, force: true });
  });

  it('the .sgn carries the configuration byte for byte, named <file>.sgn, with a valid signature', () => {
    expect(stripSgn(r.proxySigned).equals(r.xml)).toBe(true);
    const v = verifySgn(r.proxySigned, { certPem: r.proxyCertPem });
    expect(v.valid).toBe(true);
    expect(v.filename).toBe('SEP001122334455.cnf.xml.sgn');
    expect(v.signer.name).toBe('CN=proxy-tftp.example.com');
  });

  it('the ITL lists the SAST signer, the CCM+TFTP certificate and the TVS', () => {
    expect(parseTrustList(r.itl).records.map((x) => x.roleName)).toEqual(['SAST', 'CCM+TFTP', 'TVS']);
  });

  it('a phone accepts the file signed by its home CCM+TFTP certificate (ITL rule)', () => {
    expect(r.decisions.homeSigned).toMatchObject({ accepted: true, rule: 'ITL', remedies: [] });
  });

  it('a phone rejects the file re-signed by the proxy, and the remedies say what to move where', () => {
    const d = r.decisions.proxySigned;
    expect(d.accepted).toBe(false);
    expect(d.rule).toBeUndefined();
    const actions = d.remedies.map((x) => x.action);
    expect(actions).toContain('import-phone-sast-trust');
    expect(actions).toContain('disable-security-by-default');
    const imp = d.remedies.find((x) => x.action === 'import-phone-sast-trust');
    expect(imp?.certificate.subjectName).toBe('CN=proxy-tftp.example.com');
  });

  it('after the proxy certificate is imported into Phone-SAST-Trust, the home TVS vouches for it (TVS rule)', () => {
    expect(r.decisions.afterImport).toMatchObject({ accepted: true, rule: 'TVS' });
  });

  it('a file changed after signing is rejected and no trust move is offered', () => {
    expect(r.decisions.tampered.accepted).toBe(false);
    expect(r.decisions.tampered.remedies).toEqual([]);
  });

  it('the written files are what the example returned', async () => {
    expect((await readFile(join(out, 'ITLFile.tlv'))).equals(r.itl)).toBe(true);
    expect((await readFile(join(out, 'proxy-SEP001122334455.cnf.xml.sgn'))).equals(r.proxySigned)).toBe(true);
  });

  it.skipIf(!existsSync(cli))(
    '`ptftp trust check` on the written files agrees (exit 0 home-signed, 1 proxy-signed)',
    async () => {
      const check = (file: string) =>
        runCommand(process.execPath, [
          cli,
          'trust',
          'check',
          '--file',
          join(out, file),
          '--itl',
          join(out, 'ITLFile.tlv'),
        ]);
      const home = await check('home-SEP001122334455.cnf.xml.sgn');
      expect(home.code, home.stderr).toBe(0);
      const proxied = await check('proxy-SEP001122334455.cnf.xml.sgn');
      expect(proxied.code).toBe(1);
    },
  );
});
