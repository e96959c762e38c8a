import { basename } from 'node:path';
import {
  formatSignedFile,
  type HashName,
  parseHeader,
  parseTrustList,
  signSgn,
  stripSgn,
  verifySgn,
} from '@ptftp/security';
import type { Command } from 'commander';
import { CliError, type CliIo } from '../../io.js';
import {
  aboutFile,
  hashOption,
  readBytes,
  readCertPem,
  readKeyPem,
  timestampOption,
  writeBytes,
} from './files.js';

export function register(program: Command, io: CliIo): void {
  const sgn = program
    .command('sgn')
    .description('Cisco signed files (.sgn): sign, verify, strip, show')
    .addHelpText(
      'after',
      '\nExamples:\n  $ ptftp sgn sign RingList.xml --key CallManager.key --cert CallManager.pem\n  $ ptftp sgn verify RingList.xml.sgn --cert CallManager.pem\n',
    );

  sgn
    .command('sign <file>')
    .description('wrap FILE in a signed .sgn envelope (header 1.0, RSA PKCS#1 v1.5)')
    .requiredOption('--key <key.pem>', 'private key of the TFTP signing certificate (PEM)')
    .requiredOption('--cert <cert.pem>', 'the TFTP signing certificate (PEM), e.g. CallManager.pem')
    .addOption(hashOption())
    .option('--name <name>', "file name phones request, subdirectory included (default: FILE's base name)")
    .option('-o, --out <out>', 'output file (default: FILE.sgn)')
    .addOption(timestampOption())
    .addHelpText(
      'after',
      '\nExamples:\n  $ ptftp sgn sign SEP001122334455.cnf.xml --key tftp.key --cert tftp.pem --hash sha512\n  $ ptftp sgn sign List.xml --name Desktops/320x196x4/List.xml --key tftp.key --cert tftp.pem -o List.xml.sgn\n',
    )
    .action(
      (
        file: string,
        opts: { key: string; cert: string; hash: HashName; name?: string; out?: string; timestamp?: number },
      ) => {
        const out = opts.out ?? `${file}.sgn`;
        const signed = signSgn(readBytes(file), {
          filename: opts.name ?? basename(file),
          keyPem: readKeyPem(opts.key, '--key'),
          certPem: readCertPem(opts.cert, '--cert'),
          hash: opts.hash,
          timestamp: opts.timestamp,
        });
        writeBytes(out, signed);
        const { header } = parseHeader(signed);
        io.stdout(
          `signed ${header.filename} (${signed.length} bytes, ${header.hash.toUpperCase()}, signer ${header.signer.name}) -> ${out}\n`,
        );
      },
    );

  sgn
    .command('verify <file>')
    .description('check the signature of a .sgn / .enc.sgn file; exit 0 only when valid')
    .option('--cert <cert.pem>', "the signer's certificate (PEM)")
    .option('--trust-list <file.tlv>', "or an ITL/CTL holding the signer's record")
    .addHelpText(
      'after',
      '\nExamples:\n  $ ptftp sgn verify SEP001122334455.cnf.xml.sgn --cert CallManager.pem\n  $ ptftp sgn verify RingList.xml.sgn --trust-list ITLFile.tlv\n',
    )
    .action((file: string, opts: { cert?: string; trustList?: string }) => {
      if (!opts.cert && !opts.trustList) throw new CliError('sgn verify needs --cert or --trust-list', 2);
      if (opts.cert && opts.trustList) {
        throw new CliError('sgn verify takes --cert or --trust-list, not both', 2);
      }
      const certPem = opts.cert ? readCertPem(opts.cert, '--cert') : undefined;
      const listPath = opts.trustList;
      const trustList = listPath
        ? aboutFile(`--trust-list ${listPath}`, () => parseTrustList(readBytes(listPath, '--trust-list')))
        : undefined;
      const bytes = readBytes(file);
      const v = aboutFile(file, () => verifySgn(bytes, { certPem, trustList }));
      if (v.valid) {
        io.stdout(
          `valid: ${v.filename} signed by ${v.signer.name} (serial ${v.signer.serialHex}), ${v.hash.toUpperCase()}, ${v.payload.length} bytes of content\n`,
        );
      } else {
        io.stdout(`INVALID: ${file}: ${v.reason}\n`);
        io.exitCode = 1;
      }
    });

  sgn
    .command('strip <file>')
    .description('write the original file inside a .sgn (everything after the header)')
    .option('-o, --out <out>', 'output file (default: FILE without .sgn)')
    .addHelpText('after', '\nExamples:\n  $ ptftp sgn strip RingList.xml.sgn -o RingList.xml\n')
    .action((file: string, opts: { out?: string }) => {
      const out = opts.out ?? (file.endsWith('.sgn') ? file.slice(0, -4) : undefined);
      if (!out) throw new CliError(`${file} does not end in .sgn: give -o OUT`, 2);
      const bytes = readBytes(file);
      const original = aboutFile(file, () => stripSgn(bytes));
      writeBytes(out, original);
      io.stdout(`stripped ${original.length} bytes -> ${out}\n`);
    });

  sgn
    .command('show <file>')
    .description('print the header of a .sgn / .enc.sgn file')
    .addHelpText('after', '\nExamples:\n  $ ptftp sgn show SEP001122334455.cnf.xml.sgn\n')
    .action((file: string) => {
      const bytes = readBytes(file);
      io.stdout(aboutFile(file, () => formatSignedFile(bytes)));
    });
}
