/**
 * The seed's security section end to end: a phone of cluster B boots through a proxy (the real
 * `ptftp serve` binary) whose remote cluster B is played by tftpd-hpa. Passed through, B's
 * signed configuration verifies with the ITL the phone holds; re-signed by the proxy, it is
 * refused ("signer not in ITL") and the remedy names the proxy's certificate; with that
 * certificate in the home TVS's trust store (the first remedy applied), it is accepted again.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningCertificate } from '@ptftp/security';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lacking, type RunningPeer, startTftpdHpa } from '../../../test-support/peers.js';
import { type ServedPtftp, startPtftpServe } from '../../../test-support/ptftp-serve.js';
import { bootPhone } from '../src/index.js';
import {
  type ClusterPki,
  clusterItl,
  clusterPki,
  configXml,
  firmware,
  signed,
  writeTree,
} from './cluster-fixture.js';

const MAC = '00BB00000001';

describe.skipIf(lacking('inTftpd'))(
  'a phone booting through a proxy whose remote cluster is tftpd-hpa',
  () => {
    let dir: string;
    let hpa: RunningPeer;
    let passthrough: ServedPtftp;
    let resign: ServedPtftp;
    let b: ClusterPki;
    const proxyCert = generateSigningCertificate({
      subject: { commonName: 'proxy-tftp', organization: 'Example' },
      keyBits: 1024,
    });
    const fw = firmware('sip78xx.14-1-1-0001-1', 50_000);

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'ptftp-phone-proxy-'));
      b = clusterPki('cluster-b');
      const cluster = join(dir, 'cluster-b');
      const local = join(dir, 'proxy-local');
      const xml = configXml({ cm: 'cucm-b', load: fw.load, networkLocale: 'United_States' });
      await writeTree(cluster, {
        'ITLFile.tlv': clusterItl(b),
        [`SEP${MAC}.cnf.xml`]: xml,
        [`SEP${MAC}.cnf.xml.sgn`]: signed(xml, `SEP${MAC}.cnf.xml`, b.tftp),
        [`${fw.load}.loads`]: fw.loadsFile,
        ...Object.fromEntries(fw.images),
      });
      // Common files come from the proxy's own copy (the seed's serving rules).
      await writeTree(local, {
        'RingList.xml': '<CiscoIPPhoneRingList/>',
        'United_States/g3-tones.xml': '<tones/>',
      });
      // tftpd-hpa drops privileges: the tree must be readable by anyone.
      await chmod(dir, 0o755);
      await chmod(cluster, 0o755);
      hpa = await startTftpdHpa({ root: cluster });
      await writeFile(join(dir, 'proxy.key'), proxyCert.keyPem);
      await writeFile(join(dir, 'proxy.pem'), proxyCert.certPem);
      const config = (mode: 'passthrough' | 'resign') => ({
        store: { root: local },
        clusters: [{ id: 'cluster-b', tftp: [`${hpa.host}:${hpa.port}`] }],
        signing:
          mode === 'resign'
            ? { mode, key: join(dir, 'proxy.key'), certificate: join(dir, 'proxy.pem') }
            : { mode },
      });
      await writeFile(join(dir, 'passthrough.json'), JSON.stringify(config('passthrough')));
      await writeFile(join(dir, 'resign.json'), JSON.stringify(config('resign')));
      const args = [
        '--listen',
        '127.0.0.1:0',
        '--http-listen',
        '127.0.0.1:0',
        '--no-admin',
        '--log-level',
        'warn',
      ];
      passthrough = await startPtftpServe(['-c', join(dir, 'passthrough.json'), ...args]);
      resign = await startPtftpServe(['-c', join(dir, 'resign.json'), ...args]);
    });

    afterAll(async () => {
      await Promise.all([passthrough?.stop(), resign?.stop(), hpa?.stop()]);
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it("passed through, cluster B's signed configuration verifies with B's ITL; firmware and ring list arrive", async () => {
      const r = await bootPhone({
        mac: MAC,
        tftp: passthrough.tftp,
        http: passthrough.http,
        trust: { itl: clusterItl(b) },
      });
      expect(r.failure).toBeUndefined();
      expect(r.registered).toBe(true);
      expect(r.callManager?.name).toBe('cucm-b');
      const config = r.steps.find((s) => s.name === `SEP${MAC}.cnf.xml.sgn`)!;
      expect(config).toMatchObject({
        status: 'ok',
        transport: 'http',
        verdict: 'accepted',
        trust: { rule: 'ITL' },
      });
      expect(r.steps.filter((s) => s.purpose === 'image').map((s) => [s.name, s.sha256, s.verdict])).toEqual(
        [...fw.sha256].map(([n, h]) => [n, h, 'hash-ok']),
      );
      expect(r.steps.find((s) => s.name === 'RingList.xml')).toMatchObject({ status: 'ok', size: 23 });
    });

    it("re-signed by the proxy, the configuration is refused: signer not in the phone's ITL, remedy names the proxy's certificate", async () => {
      const r = await bootPhone({
        mac: MAC,
        tftp: resign.tftp,
        http: resign.http,
        trust: { itl: clusterItl(b) },
      });
      expect(r.registered).toBe(false);
      expect(r.failure?.code).toBe('CONFIG_REJECTED');
      expect(r.failure?.reason).toContain('signer not in ITL');
      expect(r.failure?.reason).toContain('CN=proxy-tftp');
      const remedy = r.failure!.remedies[0]!;
      expect(remedy.action).toBe('import-phone-sast-trust');
      expect(remedy.certificate.serialHex).toBe(proxyCert.info.serialHex);
      expect(remedy.summary).toContain('Phone-SAST-Trust store so its TVS (cluster-b-tvs)');
    });

    it("with the proxy's certificate in the home TVS's trust store (the remedy applied), the re-signed configuration is accepted", async () => {
      const r = await bootPhone({
        mac: MAC,
        tftp: resign.tftp,
        http: resign.http,
        trust: { itl: clusterItl(b), tvsTrust: [proxyCert.certPem] },
        runningLoad: fw.load,
      });
      expect(r.registered).toBe(true);
      expect(r.steps.find((s) => s.purpose === 'config')).toMatchObject({
        verdict: 'accepted',
        trust: { rule: 'TVS' },
      });
    });

    it('a factory-fresh phone takes the ITL it is served (Security By Default) and then trusts only its signers', async () => {
      const r = await bootPhone({
        mac: MAC,
        tftp: passthrough.tftp,
        http: passthrough.http,
        runningLoad: fw.load,
      });
      expect(r.registered).toBe(true);
      expect(r.steps.find((s) => s.name === 'ITLFile.tlv')).toMatchObject({
        verdict: 'accepted',
        trust: { rule: 'NO_TRUST_LIST' },
      });
      expect(r.holds.itl).toContain('ITLRECOVERY_cluster-b-pub');
    });
  },
);
