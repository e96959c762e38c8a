import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureIo, run } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'ptftp-cli-security-'));
const p = (name: string) => join(dir, name);
const XML = '<device><fullConfig>true</fullConfig></device>\n';

async function cli(...argv: string[]) {
  const io = captureIo();
  const code = await run(argv, io);
  return { code, out: io.out, err: io.err };
}

beforeAll(async () => {
  writeFileSync(p('SEP001122334455.cnf.xml'), XML);
  for (const [kind, cn, out] of [
    ['tftp', 'cucm-a', 'ccm'],
    ['itlrecovery', 'cucm-a', 'recovery'],
    ['tftp', 'cucm-a-tvs', 'tvs'],
    ['tftp', 'proxy-tftp', 'proxy'],
    ['tftp', 'SEP001122334455', 'phone'],
  ] as const) {
    const r = await cli(
      'cert',
      'new',
      '--kind',
      kind,
      '--cn',
      cn,
      '--org',
      'Example',
      '--country',
      'PL',
      '--out',
      p(out),
    );
    expect(r.code, r.err).toBe(0);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ptftp cert', () => {
  it('cert new writes PEM certificate and key; cert show prints the Cisco-style names', async () => {
    expect(readFileSync(p('ccm.pem'), 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(readFileSync(p('ccm.key'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const r = await cli('cert', 'show', p('recovery.pem'));
    expect(r.code).toBe(0);
    expect(r.out).toContain('subject: CN=ITLRECOVERY_cucm-a;O=Example;C=PL');
  });

  it('cert export / import moves a certificate with its target store', async () => {
    expect((await cli('cert', 'export', p('proxy.pem'), '--role', 'TFTP', '-o', p('bundle.pem'))).code).toBe(
      0,
    );
    const r = await cli('cert', 'import', p('bundle.pem'), '-d', p('incoming'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /proxy-tftp\.pem: CN=proxy-tftp;O=Example;C=PL serial [0-9A-F]+ -> Phone-SAST-Trust \(role 3\)/,
    );
    expect(readFileSync(p('incoming/proxy-tftp.pem'), 'utf8')).toBe(readFileSync(p('proxy.pem'), 'utf8'));
  });
});

describe('ptftp sgn', () => {
  it('sign writes FILE.sgn by default; verify exits 0; strip gives back the original bytes', async () => {
    const file = p('SEP001122334455.cnf.xml');
    const s = await cli(
      'sgn',
      'sign',
      file,
      '--key',
      p('ccm.key'),
      '--cert',
      p('ccm.pem'),
      '--hash',
      'sha256',
    );
    expect(s.code, s.err).toBe(0);
    expect(s.out).toMatch(
      /signed SEP001122334455\.cnf\.xml\.sgn \(\d+ bytes, SHA256, signer CN=cucm-a;O=Example;C=PL\)/,
    );
    const v = await cli('sgn', 'verify', `${file}.sgn`, '--cert', p('ccm.pem'));
    expect(v.code).toBe(0);
    expect(v.out).toMatch(/^valid: SEP001122334455\.cnf\.xml\.sgn signed by CN=cucm-a/);
    const st = await cli('sgn', 'strip', `${file}.sgn`, '-o', p('stripped.xml'));
    expect(st.code).toBe(0);
    expect(readFileSync(p('stripped.xml'), 'utf8')).toBe(XML);
    const show = await cli('sgn', 'show', `${file}.sgn`);
    expect(show.out).toContain('Version: 1.0');
  });

  it('verify exits 1 on another signer, on a flipped byte, and on a malformed file', async () => {
    const file = p('SEP001122334455.cnf.xml');
    await cli(
      'sgn',
      'sign',
      file,
      '--key',
      p('ccm.key'),
      '--cert',
      p('ccm.pem'),
      '-o',
      p('a.sgn'),
      '--name',
      'Desktops/320x196x4/List.xml',
    );
    const other = await cli('sgn', 'verify', p('a.sgn'), '--cert', p('proxy.pem'));
    expect(other.code).toBe(1);
    expect(other.out).toMatch(/^INVALID: .*not by the given certificate CN=proxy-tftp/);
    const bytes = readFileSync(p('a.sgn'));
    bytes[bytes.length - 2] = bytes[bytes.length - 2]! ^ 1;
    writeFileSync(p('flipped.sgn'), bytes);
    const flipped = await cli('sgn', 'verify', p('flipped.sgn'), '--cert', p('ccm.pem'));
    expect(flipped.code).toBe(1);
    expect(flipped.out).toMatch(/signature does not match the content/);
    writeFileSync(p('cut.sgn'), bytes.subarray(0, 60));
    const cut = await cli('sgn', 'verify', p('cut.sgn'), '--cert', p('ccm.pem'));
    expect(cut.code).toBe(1);
    expect(cut.err).toMatch(
      /^ptftp: \S*cut\.sgn: header: HEADER_LENGTH is \d+ but the file has only 60 bytes\n$/,
    );
  });

  it('usage errors exit 2', async () => {
    const file = p('SEP001122334455.cnf.xml');
    expect((await cli('sgn', 'sign', file, '--cert', p('ccm.pem'))).code).toBe(2);
    expect(
      (await cli('sgn', 'sign', file, '--key', p('ccm.key'), '--cert', p('ccm.pem'), '--hash', 'md5')).code,
    ).toBe(2);
    expect((await cli('sgn', 'verify', `${file}.sgn`)).code).toBe(2);
    const both = await cli(
      'sgn',
      'verify',
      `${file}.sgn`,
      '--cert',
      p('ccm.pem'),
      '--trust-list',
      p('x.tlv'),
    );
    expect(both.code).toBe(2);
    expect(both.err).toBe('ptftp: sgn verify takes --cert or --trust-list, not both\n');
  });

  it('a key that does not match the certificate exits 1 with the reason', async () => {
    const r = await cli(
      'sgn',
      'sign',
      p('SEP001122334455.cnf.xml'),
      '--key',
      p('proxy.key'),
      '--cert',
      p('ccm.pem'),
      '-o',
      p('x.sgn'),
    );
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^ptftp: the private key does not belong to the certificate CN=cucm-a/);
  });
});

describe('ptftp tlv and trust', () => {
  it('tlv build / show / verify, then a flipped byte fails verify', async () => {
    const b = await cli(
      'tlv',
      'build',
      '-o',
      p('ITLFile.tlv'),
      '--key',
      p('recovery.key'),
      '--cert',
      p('recovery.pem'),
      '--hash',
      'sha256',
      '--record',
      `SAST:${p('ccm.pem')}`,
      '--record',
      `CCM+TFTP:${p('ccm.pem')}`,
      '--record',
      `TVS:${p('tvs.pem')}`,
    );
    expect(b.code, b.err).toBe(0);
    expect(b.out).toMatch(
      /built ITLFile\.tlv \(\d+ bytes, 4 records: SAST, SAST, CCM\+TFTP, TVS; signed by CN=ITLRECOVERY_cucm-a/,
    );
    const show = await cli('tlv', 'show', p('ITLFile.tlv'));
    expect(show.out).toContain('ITL Record #:4');
    expect(show.out).toContain('This etoken was used to sign the ITL file.');
    expect((await cli('tlv', 'verify', p('ITLFile.tlv'))).code).toBe(0);
    const bytes = readFileSync(p('ITLFile.tlv'));
    bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0x40;
    writeFileSync(p('bad.tlv'), bytes);
    const bad = await cli('tlv', 'verify', p('bad.tlv'));
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/^INVALID: .*signature does not match/);
  });

  it('tlv build refuses an unknown role with exit 2', async () => {
    const r = await cli(
      'tlv',
      'build',
      '-o',
      p('x.tlv'),
      '--key',
      p('recovery.key'),
      '--cert',
      p('recovery.pem'),
      '--record',
      `PHONE:${p('ccm.pem')}`,
    );
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown role "PHONE"/);
  });

  it('trust check: rejected proxy file (exit 1) with remedies; accepted after tlv add to the CTL (exit 0)', async () => {
    await cli(
      'tlv',
      'build',
      '-o',
      p('CTLFile.tlv'),
      '--key',
      p('ccm.key'),
      '--cert',
      p('ccm.pem'),
      '--record',
      `CCM+TFTP:${p('ccm.pem')}`,
    );
    await cli(
      'tlv',
      'build',
      '-o',
      p('ITLFile.tlv'),
      '--key',
      p('recovery.key'),
      '--cert',
      p('recovery.pem'),
      '--record',
      `CCM+TFTP:${p('ccm.pem')}`,
      '--record',
      `TVS:${p('tvs.pem')}`,
    );
    await cli(
      'sgn',
      'sign',
      p('SEP001122334455.cnf.xml'),
      '--key',
      p('proxy.key'),
      '--cert',
      p('proxy.pem'),
      '-o',
      p('proxy.sgn'),
    );
    const no = await cli(
      'trust',
      'check',
      '--file',
      p('proxy.sgn'),
      '--itl',
      p('ITLFile.tlv'),
      '--ctl',
      p('CTLFile.tlv'),
      '--signer-cert',
      p('proxy.pem'),
    );
    expect(no.code).toBe(1);
    expect(no.out).toMatch(/^REJECTED: sgn verify file failed: signer CN=proxy-tftp/);
    expect(no.out).toMatch(
      /\[import-phone-sast-trust\].*\n.*\[add-to-remote-ctl\].*\n.*\[reset-itl\].*\n.*\[disable-security-by-default\]/,
    );
    expect(no.out).toContain('-----BEGIN CERTIFICATE-----');
    const tvs = await cli(
      'trust',
      'check',
      '--file',
      p('proxy.sgn'),
      '--itl',
      p('ITLFile.tlv'),
      '--tvs-trust',
      p('proxy.pem'),
    );
    expect(tvs.code).toBe(0);
    expect(tvs.out).toMatch(/^ACCEPTED \(TVS\)/);
    const add = await cli(
      'tlv',
      'add',
      p('CTLFile.tlv'),
      '--record',
      `TFTP:${p('proxy.pem')}`,
      '--key',
      p('ccm.key'),
      '--cert',
      p('ccm.pem'),
      '-o',
      p('CTL2.tlv'),
    );
    expect(add.code, add.err).toBe(0);
    expect(add.out).toMatch(/^added 1 record\(s\); 3 records, re-signed/);
    // the same add again changes nothing, and says so
    const again = await cli(
      'tlv',
      'add',
      p('CTL2.tlv'),
      '--record',
      `TFTP:${p('proxy.pem')}`,
      '--key',
      p('ccm.key'),
      '--cert',
      p('ccm.pem'),
      '-o',
      p('CTL3.tlv'),
    );
    expect(again.code, again.err).toBe(0);
    expect(again.out).toMatch(/^added 0 record\(s\); 3 records, re-signed/);
    const yes = await cli(
      'trust',
      'check',
      '--file',
      p('proxy.sgn'),
      '--itl',
      p('ITLFile.tlv'),
      '--ctl',
      p('CTL2.tlv'),
      '--json',
    );
    expect(yes.code).toBe(0);
    expect(JSON.parse(yes.out)).toMatchObject({ accepted: true, rule: 'CTL', fileKind: 'sgn' });
  });
});

describe('ptftp enc', () => {
  it('encrypt writes .enc.sgn and the stub; decrypt with the phone key gives the XML back', async () => {
    const file = p('SEP001122334455.cnf.xml');
    const e = await cli(
      'enc',
      'encrypt',
      file,
      '--phone-cert',
      p('phone.pem'),
      '--key',
      p('ccm.key'),
      '--cert',
      p('ccm.pem'),
      '--stub',
      p('stub.sgn'),
    );
    expect(e.code, e.err).toBe(0);
    const d = await cli(
      'enc',
      'decrypt',
      `${file}.enc.sgn`,
      '--phone-key',
      p('phone.key'),
      '--cert',
      p('ccm.pem'),
    );
    expect(d.code, d.err).toBe(0);
    expect(d.out).toBe(XML);
    const wrong = await cli('enc', 'decrypt', `${file}.enc.sgn`, '--phone-key', p('proxy.key'));
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/^ptftp: /);
    const stub = await cli('sgn', 'verify', p('stub.sgn'), '--cert', p('ccm.pem'));
    expect(stub.code).toBe(0);
  });
});

describe('--help with examples on every verb', () => {
  const verbs = [
    ['sgn', 'sign'],
    ['sgn', 'verify'],
    ['sgn', 'strip'],
    ['sgn', 'show'],
    ['tlv', 'build'],
    ['tlv', 'show'],
    ['tlv', 'verify'],
    ['tlv', 'add'],
    ['enc', 'encrypt'],
    ['enc', 'decrypt'],
    ['trust', 'check'],
    ['cert', 'new'],
    ['cert', 'show'],
    ['cert', 'export'],
    ['cert', 'import'],
  ];
  for (const verb of verbs) {
    it(`ptftp ${verb.join(' ')} --help`, async () => {
      const r = await cli(...verb, '--help');
      expect(r.code).toBe(0);
      expect(r.out).toContain('Examples:');
      expect(r.out).toContain(`$ ptftp ${verb.join(' ')}`);
    });
  }
});

describe('errors name the argument that was wrong (one line on stderr, exit 1)', () => {
  const file = () => p('SEP001122334455.cnf.xml');
  const oneLine = (err: string) => expect(err).toMatch(/^ptftp: [^\n]+\n$/);

  it('a file that is not PEM given as --key or --cert is named by option and path', async () => {
    writeFileSync(p('junk.pem'), 'junk\n');
    const key = await cli('sgn', 'sign', file(), '--key', p('junk.pem'), '--cert', p('ccm.pem'));
    expect(key.code).toBe(1);
    oneLine(key.err);
    expect(key.err).toContain(`--key ${p('junk.pem')}: not a readable private key`);
    const cert = await cli('sgn', 'sign', file(), '--key', p('ccm.key'), '--cert', p('junk.pem'));
    expect(cert.code).toBe(1);
    expect(cert.err).toBe(`ptftp: --cert ${p('junk.pem')}: no PEM certificate in it\n`);
  });

  it('swapped --key and --cert are recognised', async () => {
    const r = await cli('sgn', 'sign', file(), '--key', p('ccm.pem'), '--cert', p('ccm.key'));
    expect(r.code).toBe(1);
    expect(r.err).toBe(`ptftp: --key ${p('ccm.pem')}: holds a certificate, not a private key\n`);
  });

  it('a missing file says which option it was given to', async () => {
    const r = await cli('sgn', 'sign', file(), '--key', p('nope.key'), '--cert', p('ccm.pem'));
    expect(r.code).toBe(1);
    expect(r.err).toBe(`ptftp: cannot read --key ${p('nope.key')}: no such file (ENOENT)\n`);
  });

  it('an output in a missing folder says the folder is missing', async () => {
    const out = p('no-such-folder/ITLFile.tlv');
    const r = await cli('tlv', 'build', '-o', out, '--key', p('recovery.key'), '--cert', p('recovery.pem'));
    expect(r.code).toBe(1);
    expect(r.err).toBe(`ptftp: cannot write ${out}: folder ${p('no-such-folder')} does not exist (ENOENT)\n`);
  });

  it('tlv build: a bad --record certificate names the record', async () => {
    const r = await cli(
      'tlv',
      'build',
      '-o',
      p('bad-records.tlv'),
      '--key',
      p('recovery.key'),
      '--cert',
      p('recovery.pem'),
      '--record',
      `TFTP:${p('junk.pem')}`,
    );
    expect(r.code).toBe(1);
    expect(r.err).toBe(`ptftp: --record TFTP:${p('junk.pem')}: no PEM certificate in it\n`);
  });

  it('trust check: a broken --itl is told apart from a broken --file', async () => {
    await cli('sgn', 'sign', file(), '--key', p('ccm.key'), '--cert', p('ccm.pem'), '-o', p('t.sgn'));
    const itl = await cli('trust', 'check', '--file', p('t.sgn'), '--itl', file());
    expect(itl.code).toBe(1);
    oneLine(itl.err);
    expect(itl.err).toMatch(new RegExp(`^ptftp: --itl ${file().replace(/[.]/g, '\\.')}: header: `));
    const f = await cli('trust', 'check', '--file', file(), '--itl', p('t.sgn'));
    expect(f.code).toBe(1);
    expect(f.err).toMatch(/^ptftp: --itl \S+t\.sgn: .*is a signed file, not a trust list/);
    const tvs = await cli('trust', 'check', '--file', p('t.sgn'), '--tvs-trust', p('junk.pem'));
    expect(tvs.err).toBe(`ptftp: --tvs-trust ${p('junk.pem')}: no PEM certificate in it\n`);
  });
});
