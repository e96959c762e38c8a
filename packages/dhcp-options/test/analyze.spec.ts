import { analyze, type Finding } from '@ptftp/dhcp-options';
import { describe, expect, it } from 'vitest';

const codes = (findings: Finding[]) => findings.map((f) => f.code);
const find = (findings: Finding[], code: string) => findings.find((f) => f.code === code);

describe('analyze(plan): advice with a severity and a fix', () => {
  it('a redundant dual-stack plan has no errors or warnings', () => {
    const findings = analyze({
      v4: ['10.1.1.10', '10.1.1.11'],
      v6: ['2001:db8::10', '2001:db8::11'],
      endpoints: { ipv4: true, ipv6: true },
    });
    expect(findings.filter((f) => f.severity !== 'info')).toEqual([]);
    // ...but it still reminds that the proxy must listen on IPv6.
    expect(codes(findings)).toEqual(['PTFTP_DHCP_PROXY_MUST_LISTEN_V6']);
  });

  it('spec: a single TFTP server is a warning (two per cluster is the redundant design)', () => {
    const f = find(analyze({ v4: ['10.1.1.10'] }), 'PTFTP_DHCP_SINGLE_SERVER');
    expect(f?.severity).toBe('warning');
    expect(f?.fix).toMatch(/second/);
    expect(find(analyze({ v6: ['2001:db8::10'] }), 'PTFTP_DHCP_SINGLE_SERVER')?.field).toBe('v6');
  });

  it('a duplicated address counts once: two copies of one server are still a single server', () => {
    const findings = analyze({ v4: ['10.1.1.10', '10.1.1.10'] });
    expect(find(findings, 'PTFTP_DHCP_DUPLICATE_ADDRESS')?.field).toBe('v4[1]');
    expect(codes(findings)).toContain('PTFTP_DHCP_SINGLE_SERVER');
  });

  it('duplicates are found across spellings (2001:db8::10 vs 2001:0DB8:0::10)', () => {
    const f = find(
      analyze({ v6: ['2001:db8::10', '2001:0DB8:0::10', '2001:db8::11'] }),
      'PTFTP_DHCP_DUPLICATE_ADDRESS',
    );
    expect(f?.severity).toBe('warning');
  });

  it('proxy-tftp.md dual stack: IPv6 endpoints without an IPv6 TFTP address is an error', () => {
    const f = find(
      analyze({ v4: ['10.1.1.10', '10.1.1.11'], endpoints: { ipv6: true } }),
      'PTFTP_DHCP_V6_ENDPOINTS_WITHOUT_V6_TFTP',
    );
    expect(f?.severity).toBe('error');
    expect(f?.fix).toMatch(/IPv6/);
  });

  it('proxy-tftp.md dual stack, the reverse: IPv6 TFTP addresses for IPv4-only endpoints is a warning', () => {
    const findings = analyze({
      v4: ['10.1.1.10', '10.1.1.11'],
      v6: ['2001:db8::10', '2001:db8::11'],
      endpoints: { ipv6: false },
    });
    expect(find(findings, 'PTFTP_DHCP_V6_TFTP_WITHOUT_V6_ENDPOINTS')?.severity).toBe('warning');
    expect(
      find(
        analyze({ v6: ['2001:db8::10', '2001:db8::11'], endpoints: { ipv4: true } }),
        'PTFTP_DHCP_V4_ENDPOINTS_WITHOUT_V4_TFTP',
      )?.severity,
    ).toBe('error');
  });

  it.each([
    ['127.0.0.1', 'loopback'],
    ['224.0.1.1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['169.254.10.10', 'linkLocal'],
  ])('option 150 cannot use %s (%s)', (address, range) => {
    const f = find(analyze({ v4: [address, '10.1.1.11'] }), 'PTFTP_DHCP_UNUSABLE_ADDRESS');
    expect(f?.severity).toBe('error');
    expect(f?.message).toContain(range);
    expect(f?.field).toBe('v4[0]');
  });

  it.each(['::1', 'ff02::1', '::'])('sub-option 1 cannot use %s', (address) => {
    expect(find(analyze({ v6: [address, '2001:db8::11'] }), 'PTFTP_DHCP_UNUSABLE_ADDRESS')?.severity).toBe(
      'error',
    );
  });

  it('an IPv6 link-local TFTP address is a warning (only reachable on one link)', () => {
    expect(find(analyze({ v6: ['fe80::10', '2001:db8::11'] }), 'PTFTP_DHCP_LINK_LOCAL_V6')?.severity).toBe(
      'warning',
    );
  });

  it('a wrong-family or malformed address is an error naming the entry', () => {
    const findings = analyze({ v4: ['2001:db8::1', '10.1.1.11', 'x'] });
    const bad = findings.filter((f) => f.code === 'PTFTP_DHCP_INVALID_ADDRESS');
    expect(bad.map((f) => f.field)).toEqual(['v4[0]', 'v4[2]']);
  });

  it('more addresses than the target carries: error for kea4 and dnsmasq, not for isc', () => {
    const v4 = Array.from({ length: 64 }, (_, i) => `10.4.0.${i + 1}`);
    for (const target of ['kea4', 'dnsmasq'] as const) {
      const f = find(analyze({ v4 }, { target }), 'PTFTP_DHCP_TARGET_LIMIT');
      expect(f).toMatchObject({ severity: 'error', target });
    }
    const isc = analyze({ v4 }, { target: 'isc' });
    expect(codes(isc)).not.toContain('PTFTP_DHCP_TARGET_LIMIT');
    expect(find(isc, 'PTFTP_DHCP_LONG_OPTION')?.severity).toBe('warning');
    expect(codes(analyze({ v4: v4.slice(0, 63) }, { target: 'kea4' }))).not.toContain(
      'PTFTP_DHCP_TARGET_LIMIT',
    );
  });

  it('option 66 used where 150 is recommended is a warning; both is information', () => {
    expect(
      find(analyze({ serverName: 'tftp.example.com' }), 'PTFTP_DHCP_OPTION66_INSTEAD_OF_150')?.severity,
    ).toBe('warning');
    expect(
      find(analyze({ v4: ['10.1.1.10', '10.1.1.11'], serverName: 'tftp' }), 'PTFTP_DHCP_OPTION66_WITH_150')
        ?.severity,
    ).toBe('info');
    expect(
      find(analyze({ serviceName: 'tftp' }), 'PTFTP_DHCP_SERVICE_NAME_INSTEAD_OF_ADDRESSES')?.severity,
    ).toBe('warning');
  });

  it('an empty plan is an error, and a target of the wrong family is an error', () => {
    expect(find(analyze({}), 'PTFTP_DHCP_NO_TFTP_SERVER')?.severity).toBe('error');
    expect(
      find(analyze({ v6: ['2001:db8::10', '2001:db8::11'] }, { target: 'kea4' }), 'PTFTP_DHCP_TARGET_FAMILY')
        ?.target,
    ).toBe('kea4');
  });

  it('a dual-stack plan rendered for a one-family target warns that the other family is left out', () => {
    const plan = { v4: ['10.1.1.10', '10.1.1.11'], v6: ['2001:db8::10', '2001:db8::11'] };
    for (const [target, left, other] of [
      ['isc', 'IPv6', 'isc6'],
      ['kea4', 'IPv6', 'kea6'],
      ['isc6', 'IPv4', 'isc'],
      ['kea6', 'IPv4', 'kea4'],
    ] as const) {
      const f = find(analyze(plan, { target }), 'PTFTP_DHCP_TARGET_FAMILY');
      expect(f?.severity).toBe('warning');
      expect(f?.message).toContain(`its ${left} TFTP servers are not in this configuration`);
      expect(f?.fix).toContain(`--format ${other}`);
    }
    // targets that carry both families (dnsmasq, ios, windows) say nothing
    expect(find(analyze(plan, { target: 'dnsmasq' }), 'PTFTP_DHCP_TARGET_FAMILY')).toBeUndefined();
  });

  it('a name a configuration cannot carry is an error', () => {
    expect(
      find(analyze({ v4: ['10.1.1.10', '10.1.1.11'], serverName: 'tftp"x' }), 'PTFTP_DHCP_INVALID_NAME')
        ?.severity,
    ).toBe('error');
  });

  it('findings come most severe first, each with a fix', () => {
    const findings = analyze({ v4: ['10.1.1.10', '127.0.0.1'], v6: ['2001:db8::10'], serverName: 'tftp' });
    const rank = { error: 0, warning: 1, info: 2 };
    const ranks = findings.map((f) => rank[f.severity]);
    expect(ranks).toEqual([...ranks].sort());
    for (const f of findings) expect(f.fix.length).toBeGreaterThan(10);
  });
});
