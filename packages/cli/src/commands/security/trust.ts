import {
  evaluateTrust,
  parseTrustList,
  readCertificate,
  splitPemCertificates,
  type TrustDecision,
} from '@ptftp/security';
import type { Command } from 'commander';
import { CliError, type CliIo } from '../../io.js';
import { aboutFile, collect, readBytes, readCertPem, readText } from './files.js';

function render(d: TrustDecision): string {
  const lines = [
    d.accepted ? `ACCEPTED (${d.rule}): ${d.reason}` : `REJECTED: ${d.reason}`,
    `file:   ${d.filename} (${d.fileKind})`,
    `signer: ${d.signer.name}`,
    `        serial ${d.signer.serialHex}, issuer ${d.signer.issuer}`,
  ];
  if (!d.signatureChecked && d.accepted) {
    lines.push('signature: NOT checked (no trust list; pass --signer-cert to check it)');
  }
  if (d.checks.length) {
    lines.push('checks:');
    for (const c of d.checks) lines.push(`  ${c.rule.padEnd(4)} ${c.outcome.padEnd(18)} ${c.detail}`);
  }
  if (d.remedies.length) {
    lines.push('remedies:');
    d.remedies.forEach((r, i) => {
      lines.push(`  ${i + 1}. [${r.action}] ${r.summary}`);
    });
    const c = d.remedies[0]!.certificate;
    lines.push(
      `certificate to move: ${c.subjectName} (serial ${c.serialHex})${c.pem ? '' : ' — pass --signer-cert to include its PEM'}`,
    );
    if (c.pem) lines.push(c.pem.trimEnd());
  }
  return `${lines.join('\n')}\n`;
}

export function register(program: Command, io: CliIo): void {
  const trust = program
    .command('trust')
    .description('explain whether a phone accepts a signed file, and what fixes it')
    .addHelpText(
      'after',
      '\nExamples:\n  $ ptftp trust check --file SEP001122334455.cnf.xml.sgn --itl ITLSEP001122334455.tlv\n',
    );

  trust
    .command('check')
    .description('would a phone holding these trust lists accept FILE? exit 0 when accepted, 1 when rejected')
    .requiredOption('--file <file>', 'the signed file (.sgn, .enc.sgn) or trust-list update')
    .option('--itl <ITLFile.tlv>', "the phone's ITL (ITLFile.tlv or ITLSEP<MAC>.tlv)")
    .option('--ctl <CTLFile.tlv>', "the phone's CTL")
    .option(
      '--tvs-trust <certs.pem>',
      "PEM certificates in the home TVS's trust store (repeatable; bundles welcome)",
      collect,
      [],
    )
    .option('--signer-cert <cert.pem>', "the signer's certificate, so remedies carry its PEM")
    .option('--json', 'print the decision as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ ptftp trust check --file SEP001122334455.cnf.xml.sgn --itl ITLSEP001122334455.tlv\n  $ ptftp trust check --file RingList.xml.sgn --itl ITLFile.tlv --ctl CTLFile.tlv --signer-cert proxy-CallManager.pem\n',
    )
    .action(
      (opts: {
        file: string;
        itl?: string;
        ctl?: string;
        tvsTrust: string[];
        signerCert?: string;
        json?: boolean;
      }) => {
        const tvsTrust = opts.tvsTrust.flatMap((p) => {
          const certs = splitPemCertificates(readText(p, '--tvs-trust'));
          if (certs.length === 0) throw new CliError(`--tvs-trust ${p}: no PEM certificate in it`);
          for (const c of certs) aboutFile(`--tvs-trust ${p}`, () => readCertificate(c));
          return certs;
        });
        const list = (flag: string, path: string | undefined) =>
          path === undefined
            ? undefined
            : aboutFile(`${flag} ${path}`, () => parseTrustList(readBytes(path, flag)));
        const phone = {
          itl: list('--itl', opts.itl),
          ctl: list('--ctl', opts.ctl),
          tvsTrust: opts.tvsTrust.length ? tvsTrust : undefined,
        };
        const signerCertPem = opts.signerCert ? readCertPem(opts.signerCert, '--signer-cert') : undefined;
        const file = readBytes(opts.file, '--file');
        const decision = aboutFile(`--file ${opts.file}`, () =>
          evaluateTrust(file, phone, { signerCertPem }),
        );
        if (opts.json) {
          const { matchedBy: _m, ...rest } = decision;
          io.stdout(
            `${JSON.stringify(rest, (_k, v) => (v && v.type === 'Buffer' && Array.isArray(v.data) ? Buffer.from(v.data).toString('hex') : v), 2)}\n`,
          );
        } else {
          io.stdout(render(decision));
        }
        if (!decision.accepted) io.exitCode = 1;
      },
    );
}
