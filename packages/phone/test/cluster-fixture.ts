/**
 * A CUCM-like cluster's files, built with @ptftp/security in the test itself: the cluster's
 * CallManager (TFTP signing) certificate, its ITLRecovery (SAST) and TVS certificates, the
 * ITL they make, signed device configurations, and a firmware load with its images.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  buildTrustList,
  type GeneratedCertificate,
  generateItlRecoveryCertificate,
  generateSigningCertificate,
  signSgn,
} from '@ptftp/security';
import { xorshiftBytes } from '../../../test-support/peers.js';

export interface ClusterPki {
  readonly name: string;
  /** CallManager.pem: signs `.sgn` files (role CCM+TFTP in the ITL). */
  readonly tftp: GeneratedCertificate;
  /** ITLRecovery: signs the ITL (its SAST). */
  readonly recovery: GeneratedCertificate;
  readonly tvs: GeneratedCertificate;
}

export function clusterPki(name: string): ClusterPki {
  const subject = (cn: string) => ({ commonName: cn, organization: 'Example', organizationalUnit: name });
  return {
    name,
    tftp: generateSigningCertificate({ subject: subject(`${name}-pub`), keyBits: 1024 }),
    recovery: generateItlRecoveryCertificate({ subject: subject(`ITLRECOVERY_${name}-pub`), keyBits: 1024 }),
    tvs: generateSigningCertificate({ subject: subject(`${name}-tvs`), keyBits: 1024 }),
  };
}

/** The cluster's ITL as CUCM writes it: ITLRecovery signs; CallManager as CCM+TFTP; TVS. */
export function clusterItl(pki: ClusterPki, filename = 'ITLFile.tlv'): Buffer {
  return buildTrustList({
    keyPem: pki.recovery.keyPem,
    certPem: pki.recovery.certPem,
    hash: 'sha256',
    filename,
    records: [
      { role: 'CCM+TFTP', certificate: pki.tftp.certPem },
      { role: 'TVS', certificate: pki.tvs.certPem },
    ],
  });
}

export interface ConfigOptions {
  readonly cm?: string;
  readonly load?: string;
  readonly dialTemplate?: string;
  readonly softKeyFile?: string;
  readonly userLocale?: string;
  readonly networkLocale?: string;
}

/** A device configuration shaped like CUCM's. */
export function configXml(o: ConfigOptions = {}): string {
  const cm = o.cm ?? 'cucm-pub';
  return `<?xml version="1.0" encoding="UTF-8"?>
<device xsi:type="axl:XIPPhone" ctiid="1">
  <fullConfig>true</fullConfig>
  <deviceProtocol>SIP</deviceProtocol>
  <devicePool>
    <callManagerGroup>
      <name>Default</name>
      <members>
        <member priority="1"><callManager><name>${cm}-sub</name><processNodeName>10.0.0.2</processNodeName></callManager></member>
        <member priority="0"><callManager><name>${cm}</name><ports><sipPort>5060</sipPort></ports><processNodeName>10.0.0.1</processNodeName></callManager></member>
      </members>
    </callManagerGroup>
  </devicePool>
  ${o.load ? `<loadInformation>${o.load}</loadInformation>` : '<loadInformation></loadInformation>'}
  ${o.userLocale ? `<userLocale><name>${o.userLocale}</name><langCode>en_US</langCode></userLocale>` : ''}
  ${o.networkLocale ? `<networkLocale>${o.networkLocale}</networkLocale>` : ''}
  ${o.dialTemplate ? `<dialTemplate>${o.dialTemplate}</dialTemplate>` : ''}
  ${o.softKeyFile ? `<softKeyFile>${o.softKeyFile}</softKeyFile>` : ''}
</device>
`;
}

/** `<name>.sgn` of `data`, signed by `cert` as CUCM's TFTP service does. */
export function signed(data: string | Buffer, name: string, cert: GeneratedCertificate): Buffer {
  return signSgn(Buffer.from(data), {
    filename: name,
    keyPem: cert.keyPem,
    certPem: cert.certPem,
    hash: 'sha256',
  });
}

export interface FirmwareFixture {
  readonly load: string;
  readonly loadsFile: string;
  readonly images: ReadonlyMap<string, Buffer>;
  readonly sha256: ReadonlyMap<string, string>;
}

/** A load of two images of `size` bytes, and a `.loads` that lists them with SHA-256 and size. */
export function firmware(load: string, size: number): FirmwareFixture {
  const images = new Map([
    [`kern-${load}.sbn`, xorshiftBytes(size, 7)],
    [`rootfs-${load}.sbn`, xorshiftBytes(size + 321, 11)],
  ]);
  const sha256 = new Map([...images].map(([n, b]) => [n, createHash('sha256').update(b).digest('hex')]));
  const loadsFile = `<?xml version="1.0"?>\n<load id="${load}">\n${[...images]
    .map(([n, b]) => `  <image name="${n}" size="${b.length}" sha256="${sha256.get(n)}"/>`)
    .join('\n')}\n</load>\n`;
  return { load, loadsFile, images, sha256 };
}

/** Write `files` (name → bytes) under `root`, creating subfolders. */
export async function writeTree(root: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [name, data] of Object.entries(files)) {
    await mkdir(dirname(join(root, name)), { recursive: true });
    await writeFile(join(root, name), data);
  }
}
