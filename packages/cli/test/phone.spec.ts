/**
 * `ptftp phone boot|storm` through the built binary, against the built `ptftp serve`: the
 * timeline and verdict for a person, `--json` for scripts, exit 0 / 1, usage errors on one line.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../../test-support/peers.js';
import { PTFTP_BIN, type ServedPtftp, startPtftpServe } from '../../../test-support/ptftp-serve.js';
import {
  type ClusterPki,
  clusterItl,
  clusterPki,
  configXml,
  signed,
  writeTree,
} from '../../phone/test/cluster-fixture.js';

const GOOD = '00DD00000001';
const ROGUE = '00DD00000002';

describe('ptftp phone (built binary)', () => {
  let dir: string;
  let srv: ServedPtftp;
  let a: ClusterPki;
  let rogue: ClusterPki;
  let itlPath: string;
  const ptftp = (...args: string[]) =>
    runCommand(process.execPath, [PTFTP_BIN, 'phone', ...args], { timeoutMs: 60_000 });
  const addr = (e: { host: string; port: number }) => `${e.host}:${e.port}`;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ptftp-cli-phone-'));
    [a, rogue] = [clusterPki('cluster-a'), clusterPki('rogue')];
    const xml = configXml({ cm: 'cucm-a' });
    const root = join(dir, 'root');
    await writeTree(root, {
      'ITLFile.tlv': clusterItl(a),
      [`SEP${GOOD}.cnf.xml.sgn`]: signed(xml, `SEP${GOOD}.cnf.xml`, a.tftp),
      [`SEP${ROGUE}.cnf.xml.sgn`]: signed(xml, `SEP${ROGUE}.cnf.xml`, rogue.tftp),
    });
    itlPath = join(dir, 'ITLSEP.tlv');
    await writeFile(itlPath, clusterItl(a));
    srv = await startPtftpServe([
      '--root',
      root,
      '--listen',
      '127.0.0.1:0',
      '--http-listen',
      '127.0.0.1:0',
      '--no-admin',
      '--log-level',
      'warn',
    ]);
  });

  afterAll(async () => {
    await srv?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('boot: the timeline with transport, answer, size and verdict, then "would register with", exit 0', async () => {
    const r = await ptftp('boot', '--mac', GOOD, '--tftp', addr(srv.tftp), '--http', addr(srv.http!));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`phone SEP${GOOD} (model 8845)`);
    expect(lines[1]).toMatch(/^#\s+file\s+via\s+answer\s+size\s+time\s+verdict$/);
    expect(lines.find((l) => l.includes('ITLFile.tlv'))).toMatch(
      /ITLFile\.tlv\s+http\s+http 200\s+\d+ B\s+\d+ ms\s+accepted$/,
    );
    expect(lines.find((l) => l.includes('CTLFile.tlv'))).toMatch(
      /-\s+http 404 → tftp ERROR 1 \(file not found\)\s+-\s+\d+ ms\s+not-found$/,
    );
    expect(lines.at(-1)).toBe('would register with cucm-a (10.0.0.1)');
  });

  it('boot --json: the result for scripts; a config signed outside --itl exits 1 with the remedies', async () => {
    const ok = await ptftp('boot', '--mac', GOOD, '--tftp', addr(srv.tftp), '--no-http', '--json');
    expect(ok.code).toBe(0);
    const good = JSON.parse(ok.stdout) as {
      registered: boolean;
      steps: { name: string; transport: string }[];
      callManager: { name: string };
    };
    expect(good.registered).toBe(true);
    expect(good.callManager.name).toBe('cucm-a');
    expect(good.steps.map((s) => s.name)).toEqual([
      `CTLSEP${GOOD}.tlv`,
      'CTLFile.tlv',
      `ITLSEP${GOOD}.tlv`,
      'ITLFile.tlv',
      `SEP${GOOD}.cnf.xml.sgn`,
      'RingList.xml.sgn',
      'RingList.xml',
    ]);
    expect(new Set(good.steps.map((s) => s.transport))).toEqual(new Set(['tftp']));

    const bad = await ptftp(
      'boot',
      '--mac',
      ROGUE,
      '--itl',
      itlPath,
      '--tftp',
      addr(srv.tftp),
      '--http',
      addr(srv.http!),
      '--json',
    );
    expect(bad.code).toBe(1);
    const result = JSON.parse(bad.stdout) as {
      registered: boolean;
      failure: { code: string; remedies: { action: string; certificate: { serialHex: string } }[] };
    };
    expect(result.registered).toBe(false);
    expect(result.failure.code).toBe('CONFIG_REJECTED');
    expect(result.failure.remedies.map((m) => m.action)).toEqual([
      'import-phone-sast-trust',
      'reset-itl',
      'disable-security-by-default',
    ]);
    expect(result.failure.remedies[0]!.certificate.serialHex).toBe(rogue.tftp.info.serialHex);

    const text = await ptftp(
      'boot',
      '--mac',
      ROGUE,
      '--itl',
      itlPath,
      '--tftp',
      addr(srv.tftp),
      '--http',
      addr(srv.http!),
    );
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(
      `would NOT register (CONFIG_REJECTED): SEP${ROGUE}.cnf.xml.sgn: sgn verify file failed: signer CN=rogue-pub`,
    );
    expect(text.stdout).toMatch(/remedies:\n {2}1\. \[import-phone-sast-trust\] Import CN=rogue-pub/);
  });

  it('storm: every phone counted, failures by reason, exit 1 when any would not register', async () => {
    const r = await ptftp(
      'storm',
      '--count',
      '3',
      '--mac-prefix',
      '00DD0000000',
      '--tftp',
      addr(srv.tftp),
      '--http',
      addr(srv.http!),
      '--json',
    );
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as {
      phones: number;
      registered: number;
      failures: Record<string, number>;
    };
    // 00DD00000000 has no configuration, ...01 boots, ...02 is refused: fresh phones install
    // cluster A's ITLFile.tlv first (Security By Default), which does not list the rogue signer.
    expect(report).toMatchObject({
      phones: 3,
      registered: 1,
      failures: { CONFIG_NOT_FOUND: 1, CONFIG_REJECTED: 1 },
    });
    const text = await ptftp(
      'storm',
      '--count',
      '2',
      '--mac-prefix',
      '00DD0000000',
      '--tftp',
      addr(srv.tftp),
      '--no-http',
    );
    expect(text.stdout).toMatch(
      /^2 phones, 1 would register, 1 would not; 0 fetched firmware\nboot time: p50 \d+ ms, p99 \d+ ms/,
    );
    expect(text.stdout).toContain(
      'failures:\n  CONFIG_NOT_FOUND: 1 (e.g. neither SEP00DD00000000.cnf.xml.sgn nor SEP00DD00000000.cnf.xml nor XMLDefault.cnf.xml is on the server',
    );
  });

  it('bad arguments: one line on stderr, exit 2', async () => {
    expect(await ptftp('boot', '--mac', '0011', '--tftp', '127.0.0.1:1')).toEqual({
      code: 2,
      stdout: '',
      stderr: 'ptftp: mac: "0011" is not a MAC address (12 hex digits)\n',
    });
    expect(await ptftp('boot', '--mac', GOOD, '--tftp', '127.0.0.1:99999')).toMatchObject({
      code: 2,
      stderr: 'ptftp: --tftp: "127.0.0.1:99999" has a port above 65535\n',
    });
    expect(await ptftp('storm', '--count', '0', '--tftp', '127.0.0.1:1')).toMatchObject({
      code: 2,
      stderr: 'ptftp: --count: "0" is not a whole number of at least 1\n',
    });
    expect((await ptftp('boot', '--tftp', '127.0.0.1:1')).stderr).toBe(
      "ptftp: required option '--mac <mac>' not specified (see --help)\n",
    );
  });
});
