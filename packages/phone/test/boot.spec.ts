/**
 * Simulated phones booting through the real `ptftp serve` binary with a local store: the file
 * order of Cisco's start-up, HTTP first with TFTP fallback, per-device trust lists, the
 * XMLDefault fallback, firmware fetched whole and hash-checked, and a configuration signed
 * outside the phone's ITL rejected with the remedies of `trust check`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeTcpPort } from '../../../test-support/peers.js';
import { type ServedPtftp, startPtftpServe } from '../../../test-support/ptftp-serve.js';
import { type BootResult, bootPhone, Phone } from '../src/index.js';
import {
  type ClusterPki,
  clusterItl,
  clusterPki,
  configXml,
  type FirmwareFixture,
  firmware,
  signed,
  writeTree,
} from './cluster-fixture.js';

const MAC = '00AA00000001';
const PER_DEVICE = '00AA00000002';
const UNKNOWN = '00AA00000003';
const ROGUE_SIGNED = '00AA00000004';
const BAD_LOAD = '00AA00000005';

describe('a phone booting through ptftp serve (local store)', () => {
  let dir: string;
  let srv: ServedPtftp;
  let a: ClusterPki;
  let b: ClusterPki;
  let rogue: ClusterPki;
  let fw: FirmwareFixture;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ptftp-phone-'));
    [a, b, rogue] = [clusterPki('cluster-a'), clusterPki('cluster-b'), clusterPki('rogue')];
    fw = firmware('sip88xx.14-1-1-0001-136', 200_000);
    const badLoad = 'sip88xx.14-2-1-0001-1';
    const cfg = (mac: string, cert = a.tftp, o = {}) => {
      const xml = configXml({
        load: fw.load,
        dialTemplate: 'dialplan.xml',
        softKeyFile: 'softkeys.xml',
        userLocale: 'English_United_States',
        networkLocale: 'United_States',
        ...o,
      });
      return {
        [`SEP${mac}.cnf.xml`]: xml,
        [`SEP${mac}.cnf.xml.sgn`]: signed(xml, `SEP${mac}.cnf.xml`, cert),
      };
    };
    await writeTree(dir, {
      'ITLFile.tlv': clusterItl(a),
      [`ITLSEP${PER_DEVICE}.tlv`]: clusterItl(b, `ITLSEP${PER_DEVICE}.tlv`),
      ...cfg(MAC),
      ...cfg(PER_DEVICE, b.tftp, { cm: 'cucm-b' }),
      ...cfg(ROGUE_SIGNED, rogue.tftp),
      ...cfg(BAD_LOAD, a.tftp, { load: badLoad }),
      'XMLDefault.cnf.xml': configXml({ cm: 'autoreg' }),
      [`${fw.load}.loads`]: fw.loadsFile,
      ...Object.fromEntries(fw.images),
      [`${badLoad}.loads`]: `kern-${badLoad}.sbn sha256=${'0'.repeat(64)}\n`,
      [`kern-${badLoad}.sbn`]: Buffer.from('not what the .loads file promised'),
      'dialplan.xml': '<DIALTEMPLATE><TEMPLATE MATCH="1..." /></DIALTEMPLATE>',
      'softkeys.xml': '<softKeyCfg/>',
      'RingList.xml': '<CiscoIPPhoneRingList/>',
      'United_States/g3-tones.xml': '<tones/>',
      'English_United_States/ipc-sip.jar': Buffer.alloc(4096, 1),
    });
    srv = await startPtftpServe([
      '--root',
      dir,
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

  const boot = (mac: string, extra: Partial<Parameters<typeof bootPhone>[0]> = {}) =>
    bootPhone({ mac, model: '8845', tftp: srv.tftp, http: srv.http, ...extra });
  const names = (r: BootResult) => r.steps.map((s) => s.name);

  it('asks CTL then ITL (per-device names first), the signed config once it holds the ITL, the load, then the named files', async () => {
    const attempts: string[] = [];
    const phone = new Phone({ mac: MAC, model: '8845', tftp: srv.tftp, http: srv.http });
    phone.on('attempt', (at) => attempts.push(`${at.transport} ${at.name} ${at.answer}`));
    const installed: string[] = [];
    phone.on('installed', (kind, file) => installed.push(`${kind} ${file}`));
    const r = await phone.boot();
    expect(r.failure).toBeUndefined();
    expect(names(r)).toEqual([
      `CTLSEP${MAC}.tlv`,
      'CTLFile.tlv',
      `ITLSEP${MAC}.tlv`,
      'ITLFile.tlv',
      `SEP${MAC}.cnf.xml.sgn`,
      `${fw.load}.loads`,
      `kern-${fw.load}.sbn`,
      `rootfs-${fw.load}.sbn`,
      'dialplan.xml.sgn',
      'dialplan.xml',
      'softkeys.xml.sgn',
      'softkeys.xml',
      'RingList.xml.sgn',
      'RingList.xml',
      'United_States/g3-tones.xml.sgn',
      'United_States/g3-tones.xml',
      'English_United_States/ipc-sip.jar',
    ]);
    // HTTP first on every file; TFTP only where HTTP had nothing (and TFTP had nothing either).
    expect(attempts.slice(0, 5)).toEqual([
      `http CTLSEP${MAC}.tlv 404`,
      `tftp CTLSEP${MAC}.tlv ERROR 1 (file not found)`,
      'http CTLFile.tlv 404',
      'tftp CTLFile.tlv ERROR 1 (file not found)',
      `http ITLSEP${MAC}.tlv 404`,
    ]);
    expect(r.steps.filter((s) => s.status === 'ok').every((s) => s.transport === 'http')).toBe(true);
    expect(r.bytes.tftp).toBe(0);
    expect(installed).toEqual(['ITL ITLFile.tlv']);
    expect(r.steps[3]).toMatchObject({ verdict: 'accepted', trust: { rule: 'NO_TRUST_LIST' } });
    expect(r.steps[4]).toMatchObject({ verdict: 'accepted', trust: { rule: 'ITL' } });
    expect(r.holds.itl).toContain('ITLRECOVERY_cluster-a-pub');
    expect(r.registered).toBe(true);
    // priority 0 first, whatever the document order.
    expect(r.callManager).toEqual({ name: 'cucm-pub', processNodeName: '10.0.0.1' });
  });

  it('fetches the firmware load whole, each image hash-checked against the .loads file', async () => {
    const r = await boot(MAC);
    const images = r.steps.filter((s) => s.purpose === 'image');
    expect(images).toHaveLength(2);
    for (const s of images) {
      expect(s.sha256).toBe(fw.sha256.get(s.name));
      expect(s.size).toBe(fw.images.get(s.name)!.length);
      expect(s.verdict).toBe('hash-ok');
    }
    expect(r.bytesByPurpose.image).toBe(200_000 + 200_321);
  });

  it('a phone already on the configured load fetches no firmware', async () => {
    const r = await boot(MAC, { runningLoad: fw.load });
    expect(r.registered).toBe(true);
    expect(r.steps.some((s) => s.purpose === 'loads' || s.purpose === 'image')).toBe(false);
  });

  it('an image that does not match its .loads hash fails the boot (FIRMWARE_FAILED)', async () => {
    const r = await boot(BAD_LOAD);
    expect(r.registered).toBe(false);
    expect(r.failure).toMatchObject({ code: 'FIRMWARE_FAILED', file: 'kern-sip88xx.14-2-1-0001-1.sbn' });
    expect(r.failure!.reason).toContain(`says ${'0'.repeat(64)}`);
    expect(r.steps.at(-1)).toMatchObject({ purpose: 'image', verdict: 'hash-mismatch' });
  });

  it('a per-device ITL (ITLSEP<MAC>.tlv) is taken instead of ITLFile.tlv, and judges the config', async () => {
    const r = await boot(PER_DEVICE);
    expect(names(r).slice(0, 4)).toEqual([
      `CTLSEP${PER_DEVICE}.tlv`,
      'CTLFile.tlv',
      `ITLSEP${PER_DEVICE}.tlv`,
      `SEP${PER_DEVICE}.cnf.xml.sgn`,
    ]);
    expect(r.holds.itl).toContain('ITLRECOVERY_cluster-b-pub');
    // Signed by cluster B's CallManager: only B's ITL trusts it (ITLFile.tlv is cluster A's).
    expect(r.steps[3]).toMatchObject({ verdict: 'accepted', trust: { rule: 'ITL' } });
    expect(r.callManager?.name).toBe('cucm-b');
  });

  it('a missing device configuration falls back to XMLDefault.cnf.xml (auto-registration)', async () => {
    const r = await boot(UNKNOWN, { runningLoad: fw.load });
    const config = r.steps.filter((s) => s.purpose === 'config');
    expect(config.map((s) => [s.name, s.status])).toEqual([
      [`SEP${UNKNOWN}.cnf.xml.sgn`, 'not-found'],
      [`SEP${UNKNOWN}.cnf.xml`, 'not-found'],
      ['XMLDefault.cnf.xml', 'ok'],
    ]);
    expect(config[2]!.verdict).toBe('unsigned');
    expect(r.callManager?.name).toBe('autoreg');
  });

  it('a configuration signed by a certificate outside the ITL the phone holds is rejected, with the remedies', async () => {
    const r = await boot(ROGUE_SIGNED, { trust: { itl: clusterItl(a) } });
    expect(r.registered).toBe(false);
    expect(r.failure?.code).toBe('CONFIG_REJECTED');
    expect(r.failure?.file).toBe(`SEP${ROGUE_SIGNED}.cnf.xml.sgn`);
    expect(r.failure?.reason).toMatch(/^sgn verify file failed: signer CN=rogue-pub.* is not trusted/);
    // The ITL lists a TVS: import into Phone-SAST-Trust first, then reset the ITL, then SBD off.
    expect(r.failure?.remedies.map((m) => m.action)).toEqual([
      'import-phone-sast-trust',
      'reset-itl',
      'disable-security-by-default',
    ]);
    expect(r.failure!.remedies[0]!.certificate.serialHex).toBe(rogue.tftp.info.serialHex);
    // The phone stops at the rejected file: no firmware, no dial plan.
    expect(r.steps.at(-1)!.name).toBe(`SEP${ROGUE_SIGNED}.cnf.xml.sgn`);
  });

  it('a TFTP-only model (7965) asks no HTTP; an HTTP-first model falls back to TFTP when 6970 refuses', async () => {
    const classic = await boot(MAC, { model: '7965', runningLoad: fw.load });
    expect(classic.registered).toBe(true);
    expect(classic.steps.flatMap((s) => s.attempts).every((at) => at.transport === 'tftp')).toBe(true);
    expect(classic.bytes.http).toBe(0);

    const closed = await freeTcpPort();
    const fallback = await boot(MAC, { http: { host: '127.0.0.1', port: closed }, runningLoad: fw.load });
    expect(fallback.registered).toBe(true);
    const config = fallback.steps.find((s) => s.purpose === 'config')!;
    expect(config.attempts.map((at) => `${at.transport} ${at.answer}`)).toEqual([
      'http ECONNREFUSED',
      'tftp OK',
    ]);
    expect(config.transport).toBe('tftp');
    expect(fallback.bytes.http).toBe(0);
  });
});
