/**
 * Security bench: RSA-2048 PKCS#1 v1.5 sign and verify per second, node-forge (pure JavaScript)
 * against node:crypto (OpenSSL), both directly and through the built @ptftp/security
 * (rsaSign/rsaVerify with each engine, and signSgn/verifySgn end to end on a 4 KiB file).
 * Prints one markdown table and writes it to bench/results/security.md.
 *
 * Environment: PTFTP_BENCH_SECONDS (time per row, default 1).
 */
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildTrustList,
  generateSigningCertificate,
  parseTrustList,
  rsaSign,
  rsaVerify,
  signSgn,
  verifySgn,
} from '@ptftp/security';
import forge from 'node-forge';

const SECONDS = Number(process.env.PTFTP_BENCH_SECONDS ?? 1);
const here = dirname(fileURLToPath(import.meta.url));
const HASH = 'sha256';

/** Operations per second of `fn`, run for SECONDS after a short warm-up. */
function rate(fn) {
  for (let i = 0; i < 3; i++) fn();
  const end = performance.now() + SECONDS * 1000;
  let n = 0;
  const start = performance.now();
  while (performance.now() < end) {
    fn();
    n++;
  }
  return n / ((performance.now() - start) / 1000);
}

const { certPem, keyPem } = generateSigningCertificate({
  subject: { commonName: 'bench-tftp' },
  keyBits: 2048,
});
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const forgePriv = forge.pki.privateKeyFromPem(privateKey.export({ format: 'pem', type: 'pkcs1' }));
const forgePub = forge.pki.publicKeyFromPem(publicKey.export({ format: 'pem', type: 'spki' }));
const file = Buffer.alloc(4096, '<device><fullConfig>true</fullConfig></device>\n');
const fileBinary = file.toString('binary');

const forgeSig = (() => {
  const md = forge.md.sha256.create();
  md.update(fileBinary);
  return forgePriv.sign(md);
})();
const nodeSig = sign(HASH, file, privateKey);
const sgn = signSgn(file, { filename: 'SEP001122334455.cnf.xml', keyPem, certPem, hash: HASH });
const others = Array.from(
  { length: 4 },
  (_, i) => generateSigningCertificate({ subject: { commonName: `bench-${i}` } }).certPem,
);
const itl = buildTrustList({
  keyPem,
  certPem,
  records: others.map((c) => ({ role: 'TFTP', certificate: c })),
});

const rows = [
  [
    'sign (raw library call)',
    () => {
      const md = forge.md.sha256.create();
      md.update(fileBinary);
      forgePriv.sign(md);
    },
    () => sign(HASH, file, privateKey),
  ],
  [
    'verify (raw library call)',
    () => {
      const md = forge.md.sha256.create();
      md.update(fileBinary);
      forgePub.verify(md.digest().bytes(), forgeSig);
    },
    () => verify(HASH, file, publicKey, nodeSig),
  ],
  [
    'rsaSign (@ptftp/security, engine option)',
    () => rsaSign(file, privateKey, HASH, 'forge'),
    () => rsaSign(file, privateKey, HASH, 'node'),
  ],
  [
    'rsaVerify (@ptftp/security, engine option)',
    () => rsaVerify(file, nodeSig, publicKey, HASH, 'forge'),
    () => rsaVerify(file, nodeSig, publicKey, HASH, 'node'),
  ],
];

const results = [];
for (const [name, viaForge, viaNode] of rows) {
  const f = rate(viaForge);
  const n = rate(viaNode);
  results.push(`| ${name} | ${f.toFixed(0)} | ${n.toFixed(0)} | ${(n / f).toFixed(1)}x |`);
}
const e2e = [
  [
    'signSgn, 4 KiB file (same PEMs each call: parses cached)',
    rate(() => signSgn(file, { filename: 'SEP001122334455.cnf.xml', keyPem, certPem, hash: HASH })),
  ],
  ['verifySgn, 4 KiB file (same PEM each call: parse cached)', rate(() => verifySgn(sgn, { certPem }))],
  [
    'buildTrustList, 5 records',
    rate(() =>
      buildTrustList({ keyPem, certPem, records: others.map((c) => ({ role: 'TFTP', certificate: c })) }),
    ),
  ],
  ['parseTrustList, 5 records', rate(() => parseTrustList(itl))],
];

const table = [
  `RSA-2048, PKCS#1 v1.5, ${HASH.toUpperCase()}, 4 KiB message; Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}; ${SECONDS} s per cell.`,
  '',
  '| operation | node-forge ops/s | node:crypto ops/s | node:crypto ÷ forge |',
  '|---|---:|---:|---:|',
  ...results,
  '',
  '| @ptftp/security end to end (node:crypto engine) | ops/s |',
  '|---|---:|',
  ...e2e.map(([name, r]) => `| ${name} | ${r.toFixed(0)} |`),
  '',
].join('\n');

console.log(table);
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'security.md'), `# @ptftp/security bench\n\n${table}`);
