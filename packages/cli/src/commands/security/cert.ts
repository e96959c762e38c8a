import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  exportCertificateBundle,
  generateItlRecoveryCertificate,
  generateSigningCertificate,
  importCertificateBundle,
  readCertificate,
} from '@ptftp/security';
import type { Command } from 'commander';
import { Option } from 'commander';
import { CliError, type CliIo } from '../../io.js';
import { aboutFile, readBytes, readCertPem, readText, writeBytes } from './files.js';

export function register(program: Command, io: CliIo): void {
  const cert = program
    .command('cert')
    .description(
      'certificates: a TFTP signing (CallManager-style) or ITLRecovery certificate, bundles for moving trust',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ ptftp cert new --kind tftp --cn proxy-tftp.example.com --out proxy\n',
    );

  cert
    .command('new')
    .description('generate a self-signed certificate and key: writes OUT.pem and OUT.key')
    .addOption(
      new Option('--kind <kind>', 'tftp (CallManager-style signer) or itlrecovery')
        .choices(['tftp', 'itlrecovery'])
        .default('tftp'),
    )
    .requiredOption('--cn <name>', 'common name (the host name for tftp)')
    .option('--ou <unit>', 'organizational unit')
    .option('--org <name>', 'organization')
    .option('--locality <name>', 'locality')
    .option('--state <name>', 'state')
    .option('--country <cc>', 'two-letter country code')
    .addOption(
      new Option('--bits <n>', 'RSA key size').choices(['1024', '2048', '3072', '4096']).default('2048'),
    )
    .option('--days <n>', 'validity in days', '1825')
    .requiredOption('--out <prefix>', 'writes PREFIX.pem and PREFIX.key')
    .option('--force', 'overwrite an existing PREFIX.pem / PREFIX.key (the old key is lost)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ ptftp cert new --kind tftp --cn proxy-tftp.example.com --org Example --country PL --out proxy-CallManager\n  $ ptftp cert new --kind itlrecovery --cn cucm-pub --out ITLRecovery\n',
    )
    .action(
      (opts: {
        kind: string;
        cn: string;
        ou?: string;
        org?: string;
        locality?: string;
        state?: string;
        country?: string;
        bits: string;
        days: string;
        out: string;
        force?: boolean;
      }) => {
        const days = Number(opts.days);
        // A key that already signs files (or is in phones' trust lists) is not replaceable.
        const existing = [`${opts.out}.pem`, `${opts.out}.key`].filter((f) => existsSync(f));
        if (existing.length && !opts.force) {
          throw new CliError(
            `${existing.join(' and ')} already exist(s): refusing to overwrite (use --force)`,
          );
        }
        if (!Number.isInteger(days) || days < 1)
          throw new CliError(`--days must be a positive integer, not ${opts.days}`, 2);
        const generate =
          opts.kind === 'itlrecovery' ? generateItlRecoveryCertificate : generateSigningCertificate;
        const made = aboutFile('cert new', () =>
          generate({
            subject: {
              commonName: opts.cn,
              organizationalUnit: opts.ou,
              organization: opts.org,
              locality: opts.locality,
              state: opts.state,
              country: opts.country,
            },
            keyBits: Number(opts.bits) as 2048,
            days,
          }),
        );
        writeBytes(`${opts.out}.pem`, made.certPem);
        writeBytes(`${opts.out}.key`, made.keyPem, 0o600);
        io.stdout(
          `${made.info.subjectName} serial ${made.info.serialHex} -> ${opts.out}.pem, ${opts.out}.key\n`,
        );
      },
    );

  cert
    .command('show <cert>')
    .description('print the names, serial and fingerprints as trust lists carry them')
    .addHelpText('after', '\nExamples:\n  $ ptftp cert show CallManager.pem\n')
    .action((path: string) => {
      const raw = readBytes(path, 'certificate');
      const text = raw.toString('utf8');
      const info = aboutFile(path, () => readCertificate(text.includes('-----BEGIN') ? text : raw));
      io.stdout(
        [
          `subject: ${info.subjectName}`,
          `issuer:  ${info.issuerName}`,
          `subject (RFC 4514): ${info.subjectRfc4514}`,
          `issuer (RFC 4514):  ${info.issuerRfc4514}`,
          `serial:  ${info.serialHex}`,
          `key:     RSA ${info.keyBits} bits`,
          `valid:   ${info.notBefore.toISOString()} .. ${info.notAfter.toISOString()}`,
          `sha1:    ${info.sha1}`,
          `md5:     ${info.md5}`,
          '',
        ].join('\n'),
      );
    });

  cert
    .command('export <certs...>')
    .description(
      'write a bundle of certificates (with their target store and role) to move trust between clusters',
    )
    .requiredOption('-o, --out <bundle.pem>', 'bundle file')
    .option('--store <name>', 'trust store on the other cluster, e.g. Phone-SAST-Trust', 'Phone-SAST-Trust')
    .option('--role <role>', 'trust-list role, e.g. TFTP')
    .addHelpText(
      'after',
      '\nExamples:\n  $ ptftp cert export proxy-CallManager.pem --store Phone-SAST-Trust --role TFTP -o to-home-cluster.pem\n',
    )
    .action((certs: string[], opts: { out: string; store: string; role?: string }) => {
      const text = exportCertificateBundle(
        certs.map((p) => ({
          certificate: readCertPem(p, 'certificate'),
          store: opts.store,
          role: opts.role,
        })),
      );
      writeBytes(opts.out, text);
      io.stdout(`${certs.length} certificate(s) -> ${opts.out}\n`);
    });

  cert
    .command('import <bundle>')
    .description('split a bundle into one PEM per certificate and list where each goes')
    .requiredOption('-d, --dir <dir>', 'folder to write <CN>.pem files into')
    .addHelpText('after', '\nExamples:\n  $ ptftp cert import to-home-cluster.pem -d incoming/\n')
    .action((bundle: string, opts: { dir: string }) => {
      mkdirSync(opts.dir, { recursive: true });
      for (const e of importCertificateBundle(readText(bundle, 'bundle'))) {
        const file = join(opts.dir, `${e.info.commonName.replace(/[^A-Za-z0-9._-]/g, '_')}.pem`);
        writeBytes(file, e.info.pem);
        io.stdout(
          `${file}: ${e.info.subjectName} serial ${e.info.serialHex}${e.store ? ` -> ${e.store}` : ''}${e.role !== undefined ? ` (role ${e.role})` : ''}\n`,
        );
      }
    });
}
