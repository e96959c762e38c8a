/**
 * The pure parts: MAC notation, the device configuration fields that drive start-up, and the
 * image list of a `.loads` file (plain, XML and signed).
 */
import { generateSigningCertificate, signSgn } from '@ptftp/security';
import { describe, expect, it } from 'vitest';
import { macRange, normalizeMac, parseDeviceConfig, parseLoads, phoneModel } from '../src/index.js';
import { configXml } from './cluster-fixture.js';

describe('MACs', () => {
  it('accepts the usual notations and names the field when it is not 12 hex digits', () => {
    expect(normalizeMac('00:11:22:aa:bb:cc')).toBe('001122AABBCC');
    expect(normalizeMac('SEP0011.22aa.bbcc')).toBe('001122AABBCC');
    expect(() => normalizeMac('0011223344')).toThrow(
      expect.objectContaining({ code: 'PTFTP_ERR_INVALID_ARGUMENT', field: 'mac' }),
    );
  });

  it('a range counts up behind its prefix and refuses what does not fit', () => {
    expect(macRange('00aa', 3)).toEqual(['00AA00000000', '00AA00000001', '00AA00000002']);
    expect(macRange('0011223344', 256).at(-1)).toBe('0011223344FF');
    expect(() => macRange('0011223344', 257)).toThrow(expect.objectContaining({ field: 'count' }));
  });
});

describe('device configuration', () => {
  it('orders the CallManager group by priority and reads load, dial plan, softkeys and locales', () => {
    const c = parseDeviceConfig(
      configXml({
        load: 'sip88xx.1',
        dialTemplate: 'dp.xml',
        softKeyFile: 'sk.xml',
        userLocale: 'French_France',
        networkLocale: 'France',
      }),
    );
    expect(c.callManagers).toEqual([
      { name: 'cucm-pub', processNodeName: '10.0.0.1' },
      { name: 'cucm-pub-sub', processNodeName: '10.0.0.2' },
    ]);
    expect(c).toMatchObject({
      loadInformation: 'sip88xx.1',
      dialTemplate: 'dp.xml',
      softKeyFile: 'sk.xml',
      userLocale: 'French_France',
      networkLocale: 'France',
    });
  });

  it('an empty <loadInformation> names no load; networkLocaleInfo is read too', () => {
    const c = parseDeviceConfig(
      '<device><loadInformation/><networkLocaleInfo><name>Japan</name></networkLocaleInfo></device>',
    );
    expect(c.loadInformation).toBeUndefined();
    expect(c.networkLocale).toBe('Japan');
    expect(c.callManagers).toEqual([]);
  });

  it('bytes that are not XML, or XML without <device>, are refused with the field named', () => {
    expect(() => parseDeviceConfig('<device><a></device>')).toThrow(
      expect.objectContaining({ field: 'config' }),
    );
    expect(() => parseDeviceConfig('<phone/>')).toThrow(/no <device> root element/);
  });
});

describe('.loads', () => {
  const sha = 'ab'.repeat(32);

  it('reads XML image elements with their hash and size, in order', () => {
    expect(
      parseLoads(
        `<load><image name="b.sbn" sha256="${sha.toUpperCase()}" size="10"/><file>a.sbn</file></load>`,
      ),
    ).toEqual([
      { name: 'b.sbn', sha256: sha, size: 10 },
      { name: 'a.sbn', sha256: undefined, size: undefined },
    ]);
  });

  it('reads one image per line, and unwraps a signed .loads', () => {
    const text = `# load\nkern.sbn sha256=${sha}\nrootfs.sbn size=42\n`;
    expect(parseLoads(Buffer.from(text))).toEqual([
      { name: 'kern.sbn', sha256: sha, size: undefined },
      { name: 'rootfs.sbn', sha256: undefined, size: 42 },
    ]);
    const cert = generateSigningCertificate({ subject: { commonName: 'cisco-fw' }, keyBits: 1024 });
    const signedLoads = signSgn(Buffer.from(text), {
      filename: 'x.loads',
      keyPem: cert.keyPem,
      certPem: cert.certPem,
    });
    expect(parseLoads(signedLoads).map((i) => i.name)).toEqual(['kern.sbn', 'rootfs.sbn']);
  });

  it('refuses an image name that climbs out of the server folder, and a malformed hash', () => {
    expect(() => parseLoads('../etc/passwd')).toThrow(expect.objectContaining({ field: 'loads' }));
    expect(() => parseLoads('kern.sbn sha256=1234')).toThrow(/not 64 hex digits/);
  });
});

describe('models', () => {
  it('7800/8800 ask HTTP first, 7900 TFTP only; unknown models behave like an 8845', () => {
    expect(phoneModel('CP-8865').httpFirst).toBe(true);
    expect(phoneModel('7841').httpFirst).toBe(true);
    expect(phoneModel('7965').httpFirst).toBe(false);
    expect(phoneModel('9999')).toMatchObject({ id: '9999', httpFirst: true });
  });
});
