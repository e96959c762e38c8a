import { basename } from 'node:path';
import {
  addToTrustList,
  buildTrustList,
  formatTrustList,
  type HashName,
  parseTrustList,
  type TrustRecordInput,
  verifyTrustList,
} from '@ptftp/security';
import type { Command } from 'commander';
import type { CliIo } from '../../io.js';
import {
  aboutFile,
  collect,
  hashOption,
  parseRecordSpec,
  readBytes,
  readCertPem,
  readKeyPem,
  timestampOption,
  writeBytes,
} from './files.js';

const ROLES = 'ROLE is SAST, CCM, CCM+TFTP, TFTP, CAPF, SRST, APP-SERVER or TVS';

function records(specs: readonly string[]): TrustRecordInput[] {
  return specs.map((spec) => {
    const { role, path } = parseRecordSpec(spec);
    return { role, certificate: readCertPem(path, '--record', `--record ${spec}`) };
  });
}

export function register(program: Command, io: CliIo): void {
  const tlv = program
    .command('tlv')
    .description('Cisco trust lists (ITLFile.tlv, CTLFile.tlv, ITLSEP<MAC>.tlv): build, show, verify, add')
    .addHelpText('after', '\nExamples:\n  $ ptftp tlv show ITLFile.tlv\n  $ ptftp tlv verify CTLFile.tlv\n');

  tlv
    .command('build')
    .description('build and sign a trust list; the signer becomes a SAST record when not listed as one')
    .requiredOption(
      '-o, --out <file.tlv>',
      'output file; its name (ITLFile.tlv, CTLSEP<MAC>.tlv...) sets the embedded FILENAME',
    )
    .requiredOption('--key <key.pem>', 'the SAST private key (PEM)')
    .requiredOption('--cert <cert.pem>', 'the SAST certificate (PEM), e.g. ITLRecovery.pem')
    .addOption(hashOption())
    .option('--record <ROLE:CERT.pem>', `a record to add (repeatable); ${ROLES}`, collect, [])
    .option('--filename <name>', 'embedded FILENAME (default: from --out)')
    .option('--no-signer-version', 'leave out SIGNER_VERSION (tag 28), as older CTL files do')
    .addOption(timestampOption())
    .addHelpText(
      'after',
      `\n${ROLES}.\nExamples:\n  $ ptftp tlv build -o ITLFile.tlv --key ITLRecovery.key --cert ITLRecovery.pem --hash sha512 \\\n      --record CCM+TFTP:CallManager.pem --record SAST:CallManager.pem --record TVS:tvs.pem --record CAPF:CAPF.pem\n`,
    )
    .action(
      (opts: {
        out: string;
        key: string;
        cert: string;
        hash: HashName;
        record: string[];
        filename?: string;
        signerVersion: boolean;
        timestamp?: number;
      }) => {
        const bytes = buildTrustList({
          keyPem: readKeyPem(opts.key, '--key'),
          certPem: readCertPem(opts.cert, '--cert'),
          hash: opts.hash,
          timestamp: opts.timestamp,
          filename: opts.filename ?? basename(opts.out),
          signerVersion: opts.signerVersion ? undefined : null,
          records: records(opts.record),
        });
        writeBytes(opts.out, bytes);
        const list = parseTrustList(bytes);
        io.stdout(
          `built ${list.header.filename} (${bytes.length} bytes, ${list.records.length} records: ${list.records.map((r) => r.roleName).join(', ')}; signed by ${list.signer?.subjectName}) -> ${opts.out}\n`,
        );
      },
    );

  tlv
    .command('show <file>')
    .description("print a trust list the way Cisco's show ctl / show itl do")
    .addHelpText('after', '\nExamples:\n  $ ptftp tlv show ITLSEP001122334455.tlv\n')
    .action((file: string) => {
      const bytes = readBytes(file);
      io.stdout(aboutFile(file, () => formatTrustList(bytes)));
    });

  tlv
    .command('verify <file>')
    .description(
      'check the SAST rules and the signature against the signer SAST record; exit 0 only when valid',
    )
    .addHelpText('after', '\nExamples:\n  $ ptftp tlv verify CTLFile.tlv\n')
    .action((file: string) => {
      const bytes = readBytes(file);
      const v = aboutFile(file, () => verifyTrustList(bytes));
      if (v.valid) {
        io.stdout(
          `valid: ${v.list.header.filename} (${v.list.records.length} records) signed by SAST ${v.signer?.subjectName} (serial ${v.signer?.serialHex}), ${v.list.header.hash.toUpperCase()}\n`,
        );
      } else {
        io.stdout(`INVALID: ${file}: ${v.reason}\n`);
        io.exitCode = 1;
      }
    });

  tlv
    .command('add <file>')
    .description('add certificates to an existing CTL/ITL and re-sign it with a SAST key it already holds')
    .requiredOption('--key <key.pem>', 'private key of a SAST record of the list')
    .requiredOption('--cert <cert.pem>', 'that SAST certificate')
    .addOption(hashOption())
    .option('--record <ROLE:CERT.pem>', `a record to add (repeatable); ${ROLES}`, collect, [])
    .option('-o, --out <file.tlv>', 'output file (default: overwrite FILE)')
    .addOption(timestampOption())
    .addHelpText(
      'after',
      '\nExamples:\n  $ ptftp tlv add CTLFile.tlv --record TFTP:proxy-CallManager.pem --key sast.key --cert sast.pem\n',
    )
    .action(
      (
        file: string,
        opts: {
          key: string;
          cert: string;
          hash: HashName;
          record: string[];
          out?: string;
          timestamp?: number;
        },
      ) => {
        const existing = readBytes(file);
        const add = {
          keyPem: readKeyPem(opts.key, '--key'),
          certPem: readCertPem(opts.cert, '--cert'),
          hash: opts.hash,
          timestamp: opts.timestamp,
          records: records(opts.record),
        };
        const bytes = aboutFile(file, () => addToTrustList(existing, add));
        const out = opts.out ?? file;
        writeBytes(out, bytes);
        const total = parseTrustList(bytes).records.length;
        // Records already listed in the same role are skipped, so count what really changed.
        const added = total - parseTrustList(existing).records.length;
        io.stdout(`added ${added} record(s); ${total} records, re-signed -> ${out}\n`);
      },
    );
}
