import { basename } from 'node:path';
import { decryptConfig, encryptConfig, type HashName, signEncryptedConfigStub } from '@ptftp/security';
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
  const enc = program
    .command('enc')
    .description(
      'encrypted phone configuration (.enc.sgn): encrypt for a phone certificate, decrypt with its key',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ ptftp enc encrypt SEP001122334455.cnf.xml --phone-cert phone.pem --key tftp.key --cert tftp.pem\n',
    );

  enc
    .command('encrypt <config>')
    .description(
      "write CONFIG.enc.sgn (AES-128-CBC, key wrapped with the phone's RSA key) and the stub CONFIG.sgn",
    )
    .requiredOption('--phone-cert <phone.pem>', "the phone's certificate (LSC/MIC), PEM")
    .requiredOption('--key <key.pem>', 'TFTP signing key (PEM)')
    .requiredOption('--cert <cert.pem>', 'TFTP signing certificate (PEM)')
    .addOption(hashOption())
    .option('--name <name>', "configuration name phones request (default: CONFIG's base name)")
    .option('-o, --out <out>', 'encrypted file (default: CONFIG.enc.sgn)')
    .option('--stub <out>', 'signed stub (default: CONFIG.sgn)')
    .option('--no-stub', 'do not write the stub')
    .addOption(timestampOption())
    .addHelpText(
      'after',
      '\nExamples:\n  $ ptftp enc encrypt SEP001122334455.cnf.xml --phone-cert SEP001122334455.pem --key tftp.key --cert tftp.pem --hash sha512\n',
    )
    .action(
      (
        config: string,
        opts: {
          phoneCert: string;
          key: string;
          cert: string;
          hash: HashName;
          name?: string;
          out?: string;
          stub: string | boolean;
          timestamp?: number;
        },
      ) => {
        const signing = {
          keyPem: readKeyPem(opts.key, '--key'),
          certPem: readCertPem(opts.cert, '--cert'),
          hash: opts.hash,
          timestamp: opts.timestamp,
        };
        const phoneCertPem = readCertPem(opts.phoneCert, '--phone-cert');
        const name = opts.name ?? basename(config);
        const out = opts.out ?? `${config}.enc.sgn`;
        const plain = readBytes(config);
        writeBytes(out, encryptConfig(plain, { ...signing, phoneCertPem, filename: name }));
        io.stdout(`encrypted ${name} for ${basename(opts.phoneCert)} -> ${out}\n`);
        if (opts.stub !== false) {
          const stubOut = typeof opts.stub === 'string' ? opts.stub : `${config}.sgn`;
          // The stub keeps what a phone that cannot decrypt still needs (network mode, load, CAPF).
          writeBytes(
            stubOut,
            signEncryptedConfigStub({ ...signing, phoneCertPem, filename: name, config: plain }),
          );
          io.stdout(`stub ${name}.sgn (encrConfig true) -> ${stubOut}\n`);
        }
      },
    );

  enc
    .command('decrypt <file>')
    .description(
      "decrypt a .enc.sgn with the phone's private key; with --cert, nothing is written unless the signature holds",
    )
    .requiredOption('--phone-key <key.pem>', "the phone's private key (PEM)")
    .option('--cert <cert.pem>', 'TFTP signing certificate to verify the signature with')
    .option('-o, --out <out>', 'write the XML here (default: stdout)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ ptftp enc decrypt SEP001122334455.cnf.xml.enc.sgn --phone-key phone.key --cert tftp.pem -o SEP001122334455.cnf.xml\n',
    )
    .action((file: string, opts: { phoneKey: string; cert?: string; out?: string }) => {
      const decrypt = {
        phoneKeyPem: readKeyPem(opts.phoneKey, '--phone-key'),
        certPem: opts.cert ? readCertPem(opts.cert, '--cert') : undefined,
      };
      const bytes = readBytes(file);
      const result = aboutFile(file, () => decryptConfig(bytes, decrypt));
      // Plaintext from a file whose signature fails is attacker-controlled: write none of it.
      if (result.verification && !result.verification.valid) {
        throw new CliError(`${file}: signature INVALID, nothing written: ${result.verification.reason}`);
      }
      if (opts.out) {
        writeBytes(opts.out, result.xml);
        io.stdout(`decrypted ${result.filename} (${result.xml.length} bytes) -> ${opts.out}\n`);
      } else {
        io.stdout(result.xml.toString('utf8'));
      }
    });
}
