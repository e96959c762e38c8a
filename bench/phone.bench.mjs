/**
 * "Will my phones boot?" at scale: `ptftp phone storm` of 1000 simulated phones against
 * `ptftp serve` run as a proxy (local store for the common files, one remote cluster played by
 * tftpd-hpa holding the ITL, the signed device configurations and a firmware load). Before the
 * storm, 90% of the configurations are fetched once through the proxy, so most are answered
 * from its cache and the rest from the cluster, as after a partial outage; 10% of the phones
 * upgrade firmware. Reports per-phone boot time p50/p99, failures by reason, bytes by source
 * (the proxy's own counters: local, cache, cluster) and by transport, and the load
 * generator's CPU. Writes bench/results/phone.md.
 *
 * Environment: PTFTP_BENCH_PHONE_CASES (run only the cases whose label contains it, e.g.
 * `7965/tftpd`), PTFTP_BENCH_PHONE_TRACE (print the timeline of the first 3 failed phones),
 * PTFTP_BENCH_PHONES (1000), PTFTP_BENCH_PHONE_CONCURRENCY (phones booting at once,
 * 1000: a power cut brings them all up together), PTFTP_BENCH_IMAGE_KIB (firmware image size,
 * 2048).
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { macRange, runPhoneStorm } from '@ptftp/phone';
import { tftpGet } from '@ptftp/protocol';
import {
  buildTrustList,
  generateItlRecoveryCertificate,
  generateSigningCertificate,
  signSgn,
} from '@ptftp/security';
import { startTftpdHpa } from './lib/peers.mjs';
import { markdownTable } from './lib/table.mjs';

const PHONES = Number(process.env.PTFTP_BENCH_PHONES ?? 1000);
const CONCURRENCY = Number(process.env.PTFTP_BENCH_PHONE_CONCURRENCY ?? 1000);
const IMAGE = Number(process.env.PTFTP_BENCH_IMAGE_KIB ?? 2048) * 1024;
const CACHED_SHARE = 0.9;
const UPGRADE_SHARE = 0.1;
const MAC_PREFIX = '00EE';
const LOAD = 'sip88xx.14-1-1-0001-136';
const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, '..', 'packages', 'cli', 'bin', 'ptftp.js');

const dir = mkdtempSync(join(tmpdir(), 'ptftp-bench-phone-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
chmodSync(dir, 0o755);

function write(root, name, data) {
  mkdirSync(dirname(join(root, name)), { recursive: true });
  writeFileSync(join(root, name), data);
}

// --- the remote cluster's files (what CUCM's TFTP service would hold)
const subject = (cn) => ({ commonName: cn, organization: 'Example', organizationalUnit: 'cluster-b' });
const tftpCert = generateSigningCertificate({ subject: subject('cucm-b-pub') });
const recovery = generateItlRecoveryCertificate({ subject: subject('ITLRECOVERY_cucm-b-pub') });
const tvs = generateSigningCertificate({ subject: subject('cucm-b-tvs') });
const itl = buildTrustList({
  keyPem: recovery.keyPem,
  certPem: recovery.certPem,
  hash: 'sha256',
  records: [
    { role: 'CCM+TFTP', certificate: tftpCert.certPem },
    { role: 'TVS', certificate: tvs.certPem },
  ],
});
const cluster = join(dir, 'cluster-b');
const local = join(dir, 'proxy-local');
mkdirSync(cluster, { mode: 0o755 });
write(cluster, 'ITLFile.tlv', itl);
const macs = macRange(MAC_PREFIX, PHONES);
for (const mac of macs) {
  // About 4 KiB, like a CUCM SIP phone configuration.
  const xml = `<?xml version="1.0"?>\n<device><devicePool><callManagerGroup><members><member priority="0"><callManager><name>cucm-b-pub</name><processNodeName>10.0.0.1</processNodeName></callManager></member></members></callManagerGroup></devicePool><loadInformation>${LOAD}</loadInformation><networkLocale>United_States</networkLocale><userLocale><name>English_United_States</name></userLocale><dialTemplate>dialplan.xml</dialTemplate><!-- ${'x'.repeat(3600)} --><deviceName>SEP${mac}</deviceName></device>\n`;
  write(
    cluster,
    `SEP${mac}.cnf.xml.sgn`,
    signSgn(Buffer.from(xml), {
      filename: `SEP${mac}.cnf.xml`,
      keyPem: tftpCert.keyPem,
      certPem: tftpCert.certPem,
      hash: 'sha256',
    }),
  );
}
const images = [`kern-${LOAD}.sbn`, `rootfs-${LOAD}.sbn`];
const { createHash, randomBytes } = await import('node:crypto');
const loadsLines = images.map((name) => {
  const bytes = randomBytes(IMAGE);
  write(cluster, name, bytes);
  return `${name} sha256=${createHash('sha256').update(bytes).digest('hex')} size=${IMAGE}`;
});
write(cluster, `${LOAD}.loads`, `${loadsLines.join('\n')}\n`);
write(cluster, 'dialplan.xml', '<DIALTEMPLATE><TEMPLATE MATCH="1..." Timeout="0"/></DIALTEMPLATE>\n');
// --- the proxy's local store: the common files
write(
  local,
  'RingList.xml',
  '<CiscoIPPhoneRingList><Ring><DisplayName>Chirp</DisplayName><FileName>Chirp1.raw</FileName></Ring></CiscoIPPhoneRingList>\n',
);
write(local, 'United_States/g3-tones.xml', `<tones>${'t'.repeat(2000)}</tones>\n`);
write(local, 'English_United_States/ipc-sip.jar', randomBytes(64 * 1024));

/**
 * `ptftp serve ARGS` on free loopback ports; resolves with the TFTP address and, when asked
 * for, the HTTP and admin ones.
 */
async function startServe(args, { http = false, admin = false } = {}) {
  const child = spawn(
    process.execPath,
    [
      BIN,
      'serve',
      ...args,
      '--listen',
      '127.0.0.1:0',
      ...(http ? ['--http-listen', '127.0.0.1:0'] : ['--no-http']),
      ...(admin ? ['--admin', '127.0.0.1:0'] : ['--no-admin']),
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const urls = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ptftp serve did not start:\n${out}`)), 15_000);
    const check = (d) => {
      out += d;
      const tftp = /listening on tftp:\/\/([\d.]+):(\d+) \(TFTP\)/.exec(out);
      const httpUrl = /listening on http:\/\/([\d.]+):(\d+) \(HTTP\)/.exec(out);
      const adminUrl = /admin endpoint on (http:\/\/\S+)/.exec(out);
      if (tftp && (!http || httpUrl) && (!admin || adminUrl)) {
        clearTimeout(timer);
        resolve({
          tftp: { host: tftp[1], port: Number(tftp[2]) },
          http: httpUrl ? { host: httpUrl[1], port: Number(httpUrl[2]) } : undefined,
          admin: adminUrl?.[1],
        });
      }
    };
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    exited.then((code) => reject(new Error(`ptftp serve exited (${code}):\n${out}`)));
  });
  return {
    ...urls,
    port: urls.tftp.port,
    /** What the server logged (warnings and errors at --log-level warn). */
    log: () => out,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** `ptftp_bytes_served_total` by source, from the proxy's Prometheus endpoint. */
async function bytesBySource(admin) {
  const text = await (await fetch(`${admin}/metrics`)).text();
  const out = {};
  for (const m of text.matchAll(/^ptftp_bytes_served_total\{([^}]*)\} (\d+(?:\.\d+)?(?:e\+\d+)?)$/gm)) {
    const source = /source="([^"]+)"/.exec(m[1])?.[1] ?? '?';
    out[source] = (out[source] ?? 0) + Number(m[2]);
  }
  return out;
}

const CASES = [
  { model: '8845', cluster: 'ptftp serve --root' },
  { model: '7965', cluster: 'ptftp serve --root' },
  { model: '7965', cluster: 'tftpd-hpa' },
];
const mib = (n) => (n / 1048576).toFixed(1);
const rows = [];
const notes = [];
const TRACE = Boolean(process.env.PTFTP_BENCH_PHONE_TRACE);
const only = process.env.PTFTP_BENCH_PHONE_CASES;
for (const c of CASES.filter((x) => !only || `${x.model}/${x.cluster}`.includes(only))) {
  let traced = 0;
  const remote =
    c.cluster === 'tftpd-hpa' ? await startTftpdHpa(cluster) : await startServe(['--root', cluster]);
  const configFile = join(dir, 'proxy.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      store: { root: local },
      clusters: [{ id: 'cluster-b', tftp: [`127.0.0.1:${remote.port}`] }],
      http: { maxConnectionsPerAddress: 4096 },
      // Every simulated phone comes from 127.0.0.1: lift the per-address limits, which would
      // see one host where a site has a thousand phones.
      limits: { maxSessionsPerSource: 4096, newSessionsPerSecondPerSource: 100_000, burstPerSource: 100_000 },
    }),
  );
  const proxy = await startServe(['-c', configFile], { http: true, admin: true });
  try {
    // Warm the proxy's cache: 90% of the configurations (and the ITL) once, 16 at a time.
    const warm = macs.slice(0, Math.floor(PHONES * CACHED_SHARE)).map((mac) => `SEP${mac}.cnf.xml.sgn`);
    warm.unshift('ITLFile.tlv');
    for (let i = 0; i < warm.length; i += 16)
      await Promise.all(warm.slice(i, i + 16).map((n) => tftpGet(proxy.tftp, n, { blksize: 1468 })));
    const before = await bytesBySource(proxy.admin);
    const r = await runPhoneStorm({
      tftp: proxy.tftp,
      http: proxy.http,
      count: PHONES,
      macPrefix: MAC_PREFIX,
      model: c.model,
      concurrency: CONCURRENCY,
      upgradeShare: UPGRADE_SHARE,
      onPhone: (p) => {
        if (!TRACE || p.registered || traced++ >= 3) return;
        process.stderr.write(`SEP${p.mac}: ${p.failure?.code} ${p.failure?.reason}\n`);
        for (const s of p.steps)
          process.stderr.write(
            `  ${s.name} ${s.status} ${s.attempts.map((a) => `${a.transport} ${a.answer}`).join(' -> ')} ${s.size} B ${s.sha256.slice(0, 12)} ${s.verdict}\n`,
          );
      },
      tftpOptions: { blksize: 1468, retries: 5, retransmitTimeoutMs: 1000 },
    });
    const after = await bytesBySource(proxy.admin);
    const src = (s) => (after[s] ?? 0) - (before[s] ?? 0);
    const cpu = r.cpuMs.user + r.cpuMs.system;
    const failures =
      Object.entries(r.failures)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none';
    rows.push([
      `${c.model} (${c.model === '8845' ? 'HTTP 6970 first' : 'TFTP only'}), cluster ${c.cluster}`,
      `${r.registered}/${r.phones}`,
      r.bootMs.p50.toFixed(0),
      r.bootMs.p99.toFixed(0),
      failures,
      mib(src('local')),
      mib(src('cache')),
      mib(src('cluster')),
      `${mib(r.bytesByTransport.http)} / ${mib(r.bytesByTransport.tftp)}`,
      (r.wallMs / 1000).toFixed(1),
      `${(cpu / 1000).toFixed(1)} s (${((100 * cpu) / r.wallMs).toFixed(0)}%)`,
    ]);
    for (const [code, reason] of Object.entries(r.failureExamples))
      notes.push(`- ${c.model}, cluster ${c.cluster}, ${code}: ${reason}`);
    process.stderr.write(
      `${c.model}/${c.cluster}: ${JSON.stringify({ ...r, failureExamples: undefined })}\n`,
    );
    const warnings = proxy
      .log()
      .split('\n')
      .filter((l) => /"level":[45]0/.test(l));
    if (warnings.length)
      process.stderr.write(
        `${c.model}/${c.cluster}: the proxy logged ${warnings.length} warnings, e.g.\n${warnings.slice(0, 3).join('\n')}\n`,
      );
  } finally {
    await proxy.stop();
    await remote.stop();
  }
}

const head = [
  'phones (model), remote cluster',
  'registered',
  'p50 boot ms',
  'p99 boot ms',
  'failures',
  'local MiB',
  'cache MiB',
  'cluster MiB',
  'HTTP / TFTP MiB',
  'storm s',
  'generator CPU',
];
const md = [
  `Phone bench, ${new Date().toISOString()}: Node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'CPU'}, loopback.`,
  `\`ptftp phone storm\` of ${PHONES} phones (${CONCURRENCY} booting at once) against \`ptftp serve\` as a proxy: common files local, one remote cluster (a second \`ptftp serve --root\`, or tftpd-hpa) holding the ITL, the signed configurations and the load; ${CACHED_SHARE * 100}% of the configurations cached beforehand; ${UPGRADE_SHARE * 100}% of the phones upgrade firmware (2 images of ${IMAGE / 1024} KiB, hashed while streaming). Boot time is per phone, from its first request to its verdict. Bytes by source are the proxy's \`ptftp_bytes_served_total\`; the generator's CPU is this process's user+system time over the storm's wall time.`,
  '',
  ...markdownTable(head, rows),
  '',
  ...(notes.length ? ['Failure examples:', '', ...notes, ''] : []),
].join('\n');
console.log(md);
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'phone.md'), md);
