import { describe, expect, it } from 'vitest';
import { CommonFiles } from '../src/common-files.js';
import { canonicalFileName, deviceOf } from '../src/index.js';
import { globToRegExp } from '../src/internal.js';

describe('common files (proxy-tftp.md: ringlist.xml.sgn and locale files come from the local copy)', () => {
  const common = new CommonFiles(['Desktops/**', 'Dialplans/*.xml']);
  it.each([
    'RingList.xml',
    'ringlist.xml.sgn',
    'DistinctiveRingList.xml',
    'English_United_States/mk-sccp.jar',
    'United_States/g3-tones.xml',
    'Japan/ja_JP-dictionary.xml',
    'Desktops/320x196x4/List.xml',
    'Dialplans/us.xml',
  ])('%s is a common file', (name) => {
    expect(common.matches(name)).toBe(true);
  });
  it.each(['SEP001122334455.cnf.xml', 'ITLSEP001122334455.tlv', 'Dialplans/eu/x.xml', 'P0030801SR02.loads'])(
    '%s is not a common file',
    (name) => {
      expect(common.matches(name)).toBe(false);
    },
  );
});

describe('globToRegExp', () => {
  it('* stays within a segment, ** crosses segments, ? is one character, [] and {} as in a shell, others are literal', () => {
    expect(globToRegExp('SEP[0-9]*.cnf.xml').test('SEP0011.cnf.xml')).toBe(true);
    expect(globToRegExp('SEP[0-9]*.cnf.xml').test('SEPA011.cnf.xml')).toBe(false);
    expect(globToRegExp('{Ring,Dist}List.xml').test('distlist.xml')).toBe(true);
    expect(globToRegExp('!x.xml').test('!x.xml')).toBe(true);
    expect(globToRegExp('!x.xml').test('y.xml')).toBe(false);
    expect(globToRegExp('*.xml').test('.hidden.xml')).toBe(true);
    expect(globToRegExp('*.xml').test('a/b.xml')).toBe(false);
    expect(globToRegExp('**/*.xml').test('b.xml')).toBe(true);
    expect(globToRegExp('**/*.xml').test('a/b/c.xml')).toBe(true);
    expect(globToRegExp('SEP????.x').test('SEPabcd.x')).toBe(true);
    expect(globToRegExp('a+b(c).xml').test('a+b(c).xml')).toBe(true);
    expect(globToRegExp('a.xml').test('aaxml')).toBe(false);
  });
});

describe('deviceOf (Cisco per-device file names)', () => {
  it.each([
    ['SEP00112233AABB.cnf.xml', 'SEP00112233AABB'],
    ['sep00112233aabb.cnf.xml.enc.sgn', 'SEP00112233AABB'],
    ['ITLSEP00112233AABB.tlv', 'SEP00112233AABB'],
    ['CTLSEP00112233AABB.tlv', 'SEP00112233AABB'],
    ['ATA00112233AABB.cnf.xml', 'ATA00112233AABB'],
    ['SKIGW00112233AABB.cnf.xml', 'SKIGW00112233AABB'],
    ['RingList.xml', undefined],
    ['SEPdefault.cnf.xml', undefined],
  ])('%s belongs to %s', (name, device) => {
    expect(deviceOf(name)).toBe(device);
  });
});

describe('canonicalFileName', () => {
  it('strips leading slashes and keeps subdirectories', () => {
    expect(canonicalFileName('//Desktops/320x196x4/List.xml')).toBe('Desktops/320x196x4/List.xml');
  });
  it('refuses an empty name', () => {
    expect(() => canonicalFileName('/')).toThrow('access violation: "/" is empty');
  });
});
