/**
 * Signing a phone configuration file (.sgn) and asking "would a phone accept it?". A phone
 * with Security By Default holds an ITL (Initial Trust List) from its home cluster and accepts
 * a signed file only when the signer is a TFTP / CCM+TFTP certificate in that ITL (or its CTL),
 * or a certificate that the TVS listed in its ITL vouches for. A proxy that re-signs files with
 * its own key is therefore refused by phones of other clusters until one of the remedies is
 * applied; here: importing the proxy's certificate into the home cluster's Phone-SAST-Trust
 * store, so the home TVS vouches for it. Keys and certificates are generated on the spot.
 *
 *   npx tsx examples/sign-and-check-trust.ts              # prints the decisions
 *   npx tsx examples/sign-and-check-trust.ts ./out        # also writes the files, for `ptftp trust check`
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  buildTrustList,
  evaluateTrust,
  formatTrustList,
  generateItlRecoveryCertificate,
  generateSigningCertificate,
  parseTrustList,
  signSgn,
  stripSgn,
  type TrustDecision,
  verifySgn,
} from '@ptftp/security';

/** Options of {@link main}. */
export interface SignAndCheckOptions {
  /** RSA key size of the generated certificates (default 2048, CUCM's). */
  keyBits?: 1024 | 2048 | 3072 | 4096;
  /** Write the files (config, .sgn files, ITL, certificates) into this folder. */
  outDir?: string;
  log?: (line: string) => void;
}

/** What the example produced and decided. */
export interface SignAndCheckResult {
  readonly filename: string;
  readonly xml: Buffer;
  /** The ITL phones of the home cluster hold (ITLFile.tlv). */
  readonly itl: Buffer;
  /** The file signed by the home cluster's CallManager (TFTP) certificate. */
  readonly homeSigned: Buffer;
  /** The same file re-signed by the proxy's own certificate. */
  readonly proxySigned: Buffer;
  readonly proxyCertPem: string;
  readonly decisions: {
    /** Home-signed file: accepted by the ITL rule. */
    readonly homeSigned: TrustDecision;
    /** Proxy-signed file, phone's TVS does not know the proxy: rejected, with remedies. */
    readonly proxySigned: TrustDecision;
    /** Same file after the proxy certificate was imported into Phone-SAST-Trust: accepted by TVS. */
    readonly afterImport: TrustDecision;
    /** One byte of the XML changed after signing: rejected, and no trust move fixes it. */
    readonly tampered: TrustDecision;
  };
  close(): Promise<void>;
}

const CONFIG = `<?xml version="1.0" encoding="UTF-8"?>
<device><fullConfig>true</fullConfig><deviceProtocol>SIP</deviceProtocol>
<devicePool><callManagerGroup><members><member priority="0"><callManager><name>cucm-a.example.com</name></callManager></member></members></callManagerGroup></devicePool>
</device>
`;

function describe(label: string, d: TrustDecision): string {
  const lines = [`${label}: ${d.accepted ? `ACCEPTED (${d.rule})` : 'REJECTED'} - ${d.reason}`];
  for (const r of d.remedies) lines.push(`    remedy ${r.action}: ${r.summary}`);
  return lines.join('\n');
}

export async function main(options: SignAndCheckOptions = {}): Promise<SignAndCheckResult> {
  const log = options.log ?? (() => {});
  const keyBits = options.keyBits ?? 2048;
  const filename = 'SEP001122334455.cnf.xml';
  const xml = Buffer.from(CONFIG);

  // The home cluster (cucm-a): the ITLRecovery SAST that signs its ITL, its CallManager
  // certificate (TFTP signer) and its TVS certificate.
  const recovery = generateItlRecoveryCertificate({ subject: { commonName: 'cucm-a' }, keyBits });
  const home = generateSigningCertificate({
    subject: { commonName: 'cucm-a.example.com', organization: 'Example' },
    keyBits,
  });
  const tvs = generateSigningCertificate({ subject: { commonName: 'cucm-a.example.com-tvs' }, keyBits });
  // The proxy TFTP server's own signing certificate, used when it re-signs remote files.
  const proxy = generateSigningCertificate({ subject: { commonName: 'proxy-tftp.example.com' }, keyBits });

  const itl = buildTrustList({
    keyPem: recovery.keyPem,
    certPem: recovery.certPem,
    hash: 'sha256',
    filename: 'ITLFile.tlv',
    records: [
      { role: 'CCM+TFTP', certificate: home.certPem },
      { role: 'TVS', certificate: tvs.certPem },
    ],
  });
  log(formatTrustList(parseTrustList(itl)));

  const homeSigned = signSgn(xml, { filename, keyPem: home.keyPem, certPem: home.certPem, hash: 'sha256' });
  const proxySigned = signSgn(xml, {
    filename,
    keyPem: proxy.keyPem,
    certPem: proxy.certPem,
    hash: 'sha256',
  });
  const check = verifySgn(proxySigned, { certPem: proxy.certPem });
  log(`${check.filename}: signature ${check.valid ? 'valid' : 'INVALID'}, signer ${check.signer.name}`);
  if (!stripSgn(proxySigned).equals(xml))
    throw new Error('the signed file does not carry the configuration unchanged');

  // The TVS trust store of the home cluster: CallManager-trust holds its own certificate.
  const tvsBefore = [home.certPem];
  const tampered = Buffer.from(homeSigned);
  const at = tampered.length - 10;
  tampered.writeUInt8(tampered.readUInt8(at) ^ 0x01, at);

  const decisions = {
    homeSigned: evaluateTrust(homeSigned, { itl, tvsTrust: tvsBefore }),
    proxySigned: evaluateTrust(proxySigned, { itl, tvsTrust: tvsBefore }, { signerCertPem: proxy.certPem }),
    afterImport: evaluateTrust(proxySigned, { itl, tvsTrust: [...tvsBefore, proxy.certPem] }),
    tampered: evaluateTrust(tampered, { itl, tvsTrust: tvsBefore }),
  };
  log(describe('signed by the home cluster', decisions.homeSigned));
  log(describe('re-signed by the proxy', decisions.proxySigned));
  log(
    describe(
      're-signed by the proxy, after importing its certificate into Phone-SAST-Trust',
      decisions.afterImport,
    ),
  );
  log(describe('signed by the home cluster, then one byte changed', decisions.tampered));

  if (options.outDir) {
    const out = options.outDir;
    await mkdir(out, { recursive: true });
    await writeFile(join(out, filename), xml);
    await writeFile(join(out, 'ITLFile.tlv'), itl);
    await writeFile(join(out, `home-${filename}.sgn`), homeSigned);
    await writeFile(join(out, `proxy-${filename}.sgn`), proxySigned);
    await writeFile(join(out, 'proxy-CallManager.pem'), proxy.certPem);
    await writeFile(join(out, 'home-CallManager.pem'), home.certPem);
    log(`files written to ${out}; try:`);
    log(
      `  npx ptftp trust check --file ${join(out, `proxy-${filename}.sgn`)} --itl ${join(out, 'ITLFile.tlv')} --signer-cert ${join(out, 'proxy-CallManager.pem')}`,
    );
  }

  return {
    filename,
    xml,
    itl,
    homeSigned,
    proxySigned,
    proxyCertPem: proxy.certPem,
    decisions,
    close: async () => {},
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main({ ...(process.argv[2] && { outDir: process.argv[2] }), log: console.log });
}
