/**
 * The security verbs against usecallmanagernz/certutils (issue 14), and the CLI fixes of its
 * item 7. The oracle helper is the security package's; the oracle tests skip (one line) when
 * certutils or a Python with cryptography and lxml is missing, the others always run.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  assembleSignedFile,
  parseHeader,
  parseTrustList,
  RecordTag,
  readCertificate,
  rsaSign,
  signedBytes,
} from '@ptftp/security';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  certutils,
  loadInPython,
  skipWithoutCertutils,
  writeCombinedPem,
} from '../../security/test/support/certutils.js';
import { captureIo, run } from '../src/index.js';

const skip = skipWithoutCertutils();
const dir = mkdtempSync(join(tmpdir(), 'ptftp-cli-certutils-'));
const p = (name: string) => join(dir, name);

async function cli(...argv: string[]) {
  const io = captureIo();
  const code = await run(argv, io);
  return { code, out: io.out, err: io.err };
}

/** `<device>` XML of exactly `length` bytes. */
function deviceXml(length: number): string {
  return length < 17 ? `<device${' '.repeat(length - 9)}/>` : `<device>${'x'.repeat(length - 17)}</device>`;
}

beforeAll(async () => {
  for (const [kind, cn, org, out] of [
    ['tftp', 'cucm-pub.example.com', 'Example Org', 'tftp'],
    ['itlrecovery', 'cucm_pub', 'R&D @ Łódź', 'sast'],
    ['tftp', 'SEP001122334455', 'Phones', 'phone'],
    ['tftp', 'rogue', 'Rogue', 'rogue'],
  ] as const) {
    const r = await cli(
      'cert',
      'new',
      '--kind',
      kind,
      '--cn',
      cn,
      '--org',
      org,
      '--country',
      'PL',
      '--out',
      p(out),
    );
    expect(r.code, r.err).toBe(0);
  }
  for (const name of ['tftp', 'sast', 'rogue']) {
    writeCombinedPem(
      p(`${name}.both.pem`),
      readFileSync(p(`${name}.pem`), 'utf8'),
      readFileSync(p(`${name}.key`), 'utf8'),
    );
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(skip)('CLI with certutils: ptftp -> certutils', () => {
  it('every cert new output loads in python-cryptography (`_ & @`, non-ASCII organisation)', async () => {
    for (const name of ['tftp', 'sast', 'phone', 'rogue']) {
      const r = await loadInPython(p(`${name}.pem`), dir);
      expect(r.stderr, name).toBe('');
      const show = await cli('cert', 'show', p(`${name}.pem`));
      expect(show.out).toContain(`subject (RFC 4514): ${r.stdout.split('\n')[0]}`);
    }
  });

  it.each(['sha1', 'sha512'])(
    'sgn sign / tlv build / enc encrypt (%s) are valid in sgnfile, tlvfile and enccnf',
    async (hash) => {
      writeFileSync(p('SEP001122334455.cnf.xml'), deviceXml(160));
      expect(
        (
          await cli(
            'sgn',
            'sign',
            p('SEP001122334455.cnf.xml'),
            '--key',
            p('tftp.key'),
            '--cert',
            p('tftp.pem'),
            '--hash',
            hash,
          )
        ).code,
      ).toBe(0);
      const sgn = await certutils(
        'sgnfile',
        ['-p', 'SEP001122334455.cnf.xml.sgn', '-t', p('tftp.both.pem')],
        dir,
      );
      expect(sgn.stdout).toMatch(/\nValid signature\n$/);

      const built = await cli(
        'tlv',
        'build',
        '-o',
        p('ITLFile.tlv'),
        '--key',
        p('sast.key'),
        '--cert',
        p('sast.pem'),
        '--hash',
        hash,
        '--record',
        `TFTP:${p('tftp.pem')}`,
      );
      expect(built.code, built.err).toBe(0);
      const tlv = await certutils('tlvfile', ['-p', 'ITLFile.tlv'], dir);
      expect(tlv.stderr).toBe('');
      expect(tlv.stdout).toMatch(/\nValid signature\n$/);

      for (const length of [15, 16, 17, 160]) {
        writeFileSync(p('SEP001122334455.cnf.xml'), deviceXml(length));
        const enc = await cli(
          'enc',
          'encrypt',
          p('SEP001122334455.cnf.xml'),
          '--phone-cert',
          p('phone.pem'),
          '--key',
          p('tftp.key'),
          '--cert',
          p('tftp.pem'),
          '--hash',
          hash,
          '--no-stub',
        );
        expect(enc.code, enc.err).toBe(0);
        rmSync(p('SEP001122334455.cnf.xml'));
        const removed = await certutils(
          'enccnf',
          ['-r', 'SEP001122334455.cnf.xml.enc.sgn', '-k', p('phone.key')],
          dir,
        );
        expect(removed.stderr, `${length} bytes`).toBe('');
        expect(readFileSync(p('SEP001122334455.cnf.xml'), 'utf8')).toBe(deviceXml(length));
      }
    },
  );
});

describe.skipIf(skip)('CLI with certutils: certutils -> ptftp', () => {
  it.each(['sha1', 'sha512'])(
    'sgn verify --cert / --trust-list and trust check accept a certutils .sgn and ITL (%s)',
    async (hash) => {
      writeFileSync(p('RingList.xml'), deviceXml(160));
      await certutils('sgnfile', ['-b', 'RingList.xml', '-t', p('tftp.both.pem'), '-d', hash], dir);
      await certutils(
        'tlvfile',
        [
          '-b',
          'ITLc.tlv',
          '-F',
          'ITLFile.tlv',
          '-d',
          hash,
          '-s',
          p('sast.both.pem'),
          '-t',
          p('tftp.both.pem'),
        ],
        dir,
      );
      const byCert = await cli('sgn', 'verify', p('RingList.xml.sgn'), '--cert', p('tftp.pem'));
      expect(byCert.out).toMatch(/^valid: RingList.xml.sgn signed by /);
      expect(byCert.code).toBe(0);
      const byList = await cli('sgn', 'verify', p('RingList.xml.sgn'), '--trust-list', p('ITLc.tlv'));
      expect(byList.code, byList.out).toBe(0);
      const tlv = await cli('tlv', 'verify', p('ITLc.tlv'));
      expect(tlv.code, tlv.out).toBe(0);
      const trust = await cli('trust', 'check', '--file', p('RingList.xml.sgn'), '--itl', p('ITLc.tlv'));
      expect(trust.out).toMatch(/^ACCEPTED \(ITL\)/);
      expect(trust.code).toBe(0);
      // tlv add with the genuine SAST (certutils named it its own way).
      const add = await cli(
        'tlv',
        'add',
        p('ITLc.tlv'),
        '--key',
        p('sast.key'),
        '--cert',
        p('sast.pem'),
        '--hash',
        hash,
        '--record',
        `TVS:${p('rogue.pem')}`,
      );
      expect(add.out).toMatch(/^added 1 record\(s\); 3 records/);
      expect(add.code).toBe(0);
      expect((await certutils('tlvfile', ['-p', 'ITLc.tlv'], dir)).stdout).toMatch(/\nValid signature\n$/);
    },
  );

  it.each([15, 16, 17, 160])(
    'enc decrypt --cert of a certutils .enc.sgn of %i bytes (SHA-512) writes the XML',
    async (length) => {
      writeFileSync(p('SEP00AABBCCDDEE.cnf.xml'), deviceXml(length));
      const built = await certutils(
        'enccnf',
        ['-b', 'SEP00AABBCCDDEE.cnf.xml', '-t', p('tftp.both.pem'), '-c', p('phone.pem'), '-d', 'sha512'],
        dir,
      );
      expect(built.stderr).toBe('');
      const r = await cli(
        'enc',
        'decrypt',
        p('SEP00AABBCCDDEE.cnf.xml.enc.sgn'),
        '--phone-key',
        p('phone.key'),
        '--cert',
        p('tftp.pem'),
        '-o',
        p('out.xml'),
      );
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(readFileSync(p('out.xml'), 'utf8')).toBe(deviceXml(length));
    },
  );

  it('tag-7 substitution: tlv verify, sgn verify --trust-list and trust check all refuse it (exit 1)', async () => {
    await certutils(
      'tlvfile',
      ['-b', 'ITLs.tlv', '-F', 'ITLFile.tlv', '-s', p('sast.both.pem'), '-t', p('tftp.both.pem')],
      dir,
    );
    const list = readFileSync(p('ITLs.tlv'));
    const rogueKey = readCertificate(readFileSync(p('rogue.pem'), 'utf8')).publicKey;
    const forged = Buffer.from(list);
    for (const record of parseTrustList(list).records) {
      let off = record.offset;
      for (const el of record.elements) {
        if (el.tag === RecordTag.PUBLIC_KEY) rogueKey.copy(forged, off + 3);
        off += 3 + el.value.length;
      }
    }
    const { header } = parseHeader(forged);
    rsaSign(signedBytes(forged, header), readFileSync(p('rogue.key'), 'utf8'), header.hash).copy(
      forged,
      header.signatureOffset + 3,
    );
    writeFileSync(p('forged.tlv'), forged);
    expect((await certutils('tlvfile', ['-p', 'forged.tlv'], dir)).stdout).toMatch(/\nInvalid signature\n$/);
    const v = await cli('tlv', 'verify', p('forged.tlv'));
    expect(v.out).toMatch(/^INVALID: .*PUBLIC_KEY \(tag 7\) is not the key of its CERTIFICATE \(tag 9\)/);
    expect(v.code).toBe(1);
    // A file that names the TFTP certificate (serial, names) but that the rogue key signed.
    const tftpInfo = readCertificate(readFileSync(p('tftp.pem'), 'utf8'));
    const forgedSgn = assembleSignedFile(
      {
        version: [1, 0],
        signer: { name: tftpInfo.subjectName, serial: tftpInfo.serial, issuer: tftpInfo.issuerName },
        hash: 'sha1',
        modulusBytes: 256,
        filename: 'forged.xml.sgn',
        timestamp: 1_700_000_000,
      },
      Buffer.from(deviceXml(160)),
      (data) => rsaSign(data, readFileSync(p('rogue.key'), 'utf8'), 'sha1'),
    );
    writeFileSync(p('forged.xml.sgn'), forgedSgn);
    const byList = await cli('sgn', 'verify', p('forged.xml.sgn'), '--trust-list', p('forged.tlv'));
    expect(byList.out).toMatch(/^INVALID: /);
    expect(byList.code).toBe(1);
    const trust = await cli('trust', 'check', '--file', p('forged.xml.sgn'), '--itl', p('forged.tlv'));
    expect(trust.out).toMatch(/^REJECTED: /);
    expect(trust.code).toBe(1);
  });
});

describe('CLI fixes of issue 14 item 7 (no oracle needed)', () => {
  it('enc decrypt --cert writes nothing (no -o file, no stdout) when the signature fails', async () => {
    writeFileSync(p('SEP0A.cnf.xml'), '<device><secret>yes</secret></device>');
    expect(
      (
        await cli(
          'enc',
          'encrypt',
          p('SEP0A.cnf.xml'),
          '--phone-cert',
          p('phone.pem'),
          '--key',
          p('tftp.key'),
          '--cert',
          p('tftp.pem'),
          '--no-stub',
        )
      ).code,
    ).toBe(0);
    const toFile = await cli(
      'enc',
      'decrypt',
      p('SEP0A.cnf.xml.enc.sgn'),
      '--phone-key',
      p('phone.key'),
      '--cert',
      p('rogue.pem'),
      '-o',
      p('leak.xml'),
    );
    expect(toFile.code).toBe(1);
    expect(existsSync(p('leak.xml'))).toBe(false);
    expect(toFile.err).toMatch(/signature INVALID, nothing written/);
    const toStdout = await cli(
      'enc',
      'decrypt',
      p('SEP0A.cnf.xml.enc.sgn'),
      '--phone-key',
      p('phone.key'),
      '--cert',
      p('rogue.pem'),
    );
    expect(toStdout.code).toBe(1);
    expect(toStdout.out).toBe('');
  });

  it('cert new refuses to overwrite an existing key without --force', async () => {
    const before = readFileSync(p('tftp.key'), 'utf8');
    const r = await cli('cert', 'new', '--cn', 'again', '--out', p('tftp'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/already exist\(s\): refusing to overwrite \(use --force\)/);
    expect(readFileSync(p('tftp.key'), 'utf8')).toBe(before);
    expect((await cli('cert', 'new', '--cn', 'again', '--out', p('again'))).code).toBe(0);
    expect((await cli('cert', 'new', '--cn', 'again', '--out', p('again'), '--force')).code).toBe(0);
  });

  it('trust check without ITL/CTL says the signature was not checked; with --signer-cert a tampered file is REJECTED', async () => {
    writeFileSync(p('Ring.xml'), '<ringList/>');
    await cli('sgn', 'sign', p('Ring.xml'), '--key', p('tftp.key'), '--cert', p('tftp.pem'));
    const bytes = readFileSync(p('Ring.xml.sgn'));
    bytes[bytes.length - 2]! ^= 1;
    writeFileSync(p('Ring.xml.sgn'), bytes);
    const r = await cli('trust', 'check', '--file', p('Ring.xml.sgn'));
    expect(r.out).toMatch(/^ACCEPTED \(NO_TRUST_LIST\): .*signature was NOT checked/);
    expect(r.out).toContain('signature: NOT checked');
    const checked = await cli('trust', 'check', '--file', p('Ring.xml.sgn'), '--signer-cert', p('tftp.pem'));
    expect(checked.out).toMatch(/^REJECTED: the signature of Ring.xml.sgn does not verify/);
    expect(checked.code).toBe(1);
  });

  it('a wrong HEADER_LENGTH is reported as HEADER_LENGTH, not as the tag it ran into', async () => {
    writeFileSync(p('Hl.xml'), '<device><a>1</a></device>');
    await cli('sgn', 'sign', p('Hl.xml'), '--key', p('tftp.key'), '--cert', p('tftp.pem'));
    const bytes = readFileSync(p('Hl.xml.sgn'));
    bytes.writeUInt16BE(bytes.readUInt16BE(8) + 4, 8);
    writeFileSync(p('Hl.xml.sgn'), bytes);
    const r = await cli('sgn', 'verify', p('Hl.xml.sgn'), '--cert', p('tftp.pem'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/HEADER_LENGTH \d+ \(offset 8\) does not end where the header's elements end/);
    expect(r.err).not.toMatch(/^[^(]*TAG_60/);
  });

  it('trust check on an ITL update from an unknown SAST explains a list update', async () => {
    await cli(
      'tlv',
      'build',
      '-o',
      p('held.tlv'),
      '--filename',
      'ITLFile.tlv',
      '--key',
      p('sast.key'),
      '--cert',
      p('sast.pem'),
      '--record',
      `TFTP:${p('tftp.pem')}`,
    );
    await cli(
      'tlv',
      'build',
      '-o',
      p('update.tlv'),
      '--filename',
      'ITLFile.tlv',
      '--key',
      p('rogue.key'),
      '--cert',
      p('rogue.pem'),
    );
    const r = await cli('trust', 'check', '--file', p('update.tlv'), '--itl', p('held.tlv'));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^REJECTED: the phone would not install this ITL update/);
    expect(r.out).not.toMatch(/sgn verify file failed|installs an ITL that lists/);
    expect(r.out).toContain('[sign-with-held-sast]');
  });
});

describe('issue 14 item 6: SHA-256 is offered, not recommended', () => {
  it.each([
    ['sgn', 'sign'],
    ['tlv', 'build'],
    ['tlv', 'add'],
    ['enc', 'encrypt'],
  ])('ptftp %s %s --help', async (...verb) => {
    const r = await cli(...verb, '--help');
    expect(r.out.replace(/\s+/g, ' ')).toMatch(
      /phones are only known to take sha1 \(CUCM default\) and sha512/,
    );
    expect(r.out).not.toMatch(/--hash sha256/);
  });
});
