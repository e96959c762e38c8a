import {
  DhcpOptionsError,
  type DhcpPlan,
  RENDERER_NAMES,
  type RendererName,
  render,
} from '@ptftp/dhcp-options';
import { describe, expect, it } from 'vitest';

function errorOf(fn: () => unknown): DhcpOptionsError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DhcpOptionsError);
    return err as DhcpOptionsError;
  }
  throw new Error('expected a DhcpOptionsError');
}

const plan: DhcpPlan = {
  v4: ['10.1.1.10', '10.1.1.11'],
  v6: ['2001:db8::10', '2001:db8::11'],
  serverName: 'tftp.example.com',
};

function many(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `10.3.${i >> 8}.${(i & 255) + 0}`);
}

describe('renderers: the spec configuration lines, verified on Debian 12', () => {
  it('isc: option-def for code 150, then the values (spec lines)', () => {
    const out = render(plan, 'isc');
    expect(out).toContain('option voip-tftp-server code 150 = array of ip-address;\n');
    expect(out).toContain('option voip-tftp-server 10.1.1.10, 10.1.1.11;\n');
    expect(out).toContain('option tftp-server-name "tftp.example.com";\n');
    expect(out.indexOf('code 150')).toBeLessThan(out.indexOf('voip-tftp-server 10.1.1.10'));
  });

  it('isc with a scope: values inside the subnet declaration, host bits cleared', () => {
    const out = render({ v4: ['10.1.1.10'], scope: { subnet4: '10.1.1.77/24' } }, 'isc');
    expect(out).toContain(
      [
        'subnet 10.1.1.0 netmask 255.255.255.0 {',
        '  option voip-tftp-server 10.1.1.10;',
        '  # Send them even to a client whose parameter request list (55) does not name them.',
        '  if exists dhcp-parameter-request-list {',
        '    option dhcp-parameter-request-list = concat(option dhcp-parameter-request-list, 96);',
        '  }',
        '}\n',
      ].join('\n'),
    );
  });

  it('isc: 150 (hex 96) and 66 (hex 42) are appended to the parameter request list', () => {
    expect(render(plan, 'isc')).toContain(
      'option dhcp-parameter-request-list = concat(option dhcp-parameter-request-list, 96:42);\n',
    );
    expect(render({ serverName: 'tftp.example.com' }, 'isc')).toContain(
      'concat(option dhcp-parameter-request-list, 42);\n',
    );
  });

  it('isc6: the Cisco option space and sub-option 1 (spec lines)', () => {
    const out = render(plan, 'isc6');
    for (const line of [
      'option space cisco code width 2 length width 2;',
      'option cisco.tftp-servers code 1 = array of ip6-address;',
      'option cisco.tftp-service code 2 = text;',
      'option vsio.cisco code 9 = encapsulate cisco;',
      'option cisco.tftp-servers 2001:db8::10, 2001:db8::11;',
    ]) {
      expect(out).toContain(`${line}\n`);
    }
    expect(render({ v6: ['2001:db8::10'], scope: { subnet6: '2001:db8::/64' } }, 'isc6')).toContain(
      'subnet6 2001:db8::/64 {\n  option cisco.tftp-servers 2001:db8::10;\n}',
    );
  });

  it('kea4: option-def 150 and option-data with always-send (spec fragment)', () => {
    const json = JSON.parse(render(plan, 'kea4'));
    expect(json).toEqual({
      Dhcp4: {
        'option-def': [
          { name: 'cisco-tftp-servers', code: 150, space: 'dhcp4', type: 'ipv4-address', array: true },
        ],
        'option-data': [
          { name: 'cisco-tftp-servers', data: '10.1.1.10, 10.1.1.11', 'always-send': true },
          { name: 'tftp-server-name', data: 'tftp.example.com', 'always-send': true },
        ],
      },
    });
  });

  it('kea4 with a scope: option-data inside subnet4', () => {
    const json = JSON.parse(render({ v4: ['10.1.1.10'], scope: { subnet4: '10.1.1.0/24' } }, 'kea4'));
    expect(json.Dhcp4.subnet4).toEqual([
      {
        subnet: '10.1.1.0/24',
        'option-data': [{ name: 'cisco-tftp-servers', data: '10.1.1.10', 'always-send': true }],
      },
    ]);
    expect(json.Dhcp4['option-data']).toBeUndefined();
  });

  it('kea6: vendor-9 option-def, vendor-opts and always-send on the sub-option (spec fragment)', () => {
    const json = JSON.parse(render({ v6: ['2001:db8::10', '2001:db8::11'] }, 'kea6'));
    expect(json).toEqual({
      Dhcp6: {
        'option-def': [
          { name: 'cisco-tftp-servers', code: 1, space: 'vendor-9', type: 'ipv6-address', array: true },
        ],
        'option-data': [
          { name: 'vendor-opts', data: '9', 'always-send': true },
          {
            name: 'cisco-tftp-servers',
            space: 'vendor-9',
            data: '2001:db8::10, 2001:db8::11',
            'always-send': true,
          },
        ],
      },
    });
  });

  it('dnsmasq: forced options 150, 66 (quoted) and vi-encap:9 (spec lines)', () => {
    const out = render(plan, 'dnsmasq');
    expect(out).toContain('dhcp-option-force=150,10.1.1.10,10.1.1.11\n');
    expect(out).toContain('dhcp-option-force=66,"tftp.example.com"\n');
    expect(out).toContain('dhcp-option-force=vi-encap:9,option6:1,[2001:db8::10],[2001:db8::11]\n');
  });

  it('dnsmasq: an IP literal as option 66 is quoted, or dnsmasq would send 4 binary bytes', () => {
    expect(render({ serverName: '10.1.1.10' }, 'dnsmasq')).toContain('dhcp-option-force=66,"10.1.1.10"\n');
  });

  it('dnsmasq with a pool name: every option is tagged', () => {
    const out = render({ v4: ['10.1.1.10'], scope: { poolName: 'VOICE' } }, 'dnsmasq');
    expect(out).toContain('dhcp-option-force=tag:VOICE,150,10.1.1.10\n');
  });

  it('ios: v4 and v6 pools (spec lines)', () => {
    const out = render({ ...plan, scope: { subnet4: '10.1.1.0/24', poolName: 'VOICE' } }, 'ios');
    expect(out).toContain(
      'ip dhcp pool VOICE\n network 10.1.1.0 255.255.255.0\n option 150 ip 10.1.1.10 10.1.1.11\n',
    );
    expect(out).toContain(
      'ipv6 dhcp pool VOICE\n vendor-specific 9\n  suboption 1 address 2001:db8::10 2001:db8::11\n',
    );
  });

  it('windows: the documented cmdlets (spec lines)', () => {
    const out = render({ v4: ['10.1.1.10', '10.1.1.11'], scope: { subnet4: '10.1.1.0/24' } }, 'windows');
    expect(out).toContain(
      'Add-DhcpServerv4OptionDefinition -Name "Cisco TFTP" -OptionId 150 -Type IPv4Address -MultiValued\n',
    );
    expect(out).toContain(
      'Set-DhcpServerv4OptionValue -ScopeId 10.1.1.0 -OptionId 150 -Value 10.1.1.10,10.1.1.11\n',
    );
  });

  it('writes addresses in canonical form', () => {
    expect(render({ v6: ['2001:0DB8:0000::0010'] }, 'isc6')).toContain(
      'option cisco.tftp-servers 2001:db8::10;',
    );
  });

  it.each(['kea4', 'dnsmasq'] as const)('%s refuses option 150 over 255 bytes (64 addresses)', (target) => {
    expect(() => render({ v4: many(63) }, target)).not.toThrow();
    const err = errorOf(() => render({ v4: many(64) }, target));
    expect(err.code).toBe('PTFTP_ERR_DHCP_TARGET_LIMIT');
    expect(err.field).toBe('v4');
    expect(err.value).toBe(64);
    expect(err.message).toContain(target);
    expect(err.message).toContain('255 bytes');
  });

  it.each(['isc', 'ios', 'windows'] as const)('%s carries 64 addresses (no documented limit)', (target) => {
    expect(render({ v4: many(64) }, target)).toContain('10.3.0.63');
  });

  it.each([
    ['isc', { v6: ['2001:db8::10'] }],
    ['kea4', { v6: ['2001:db8::10'] }],
    ['isc6', { v4: ['10.1.1.10'] }],
    ['kea6', { v4: ['10.1.1.10'] }],
    ['dnsmasq', {}],
    ['ios', {}],
    ['windows', {}],
  ] as Array<[RendererName, DhcpPlan]>)(
    '%s refuses a plan with nothing for its address family',
    (target, p) => {
      expect(errorOf(() => render(p, target)).code).toBe('PTFTP_ERR_DHCP_EMPTY');
    },
  );

  it.each(RENDERER_NAMES)('%s rejects a wrong-family address with its plan field', (target) => {
    const family6 = target === 'isc6' || target === 'kea6';
    const err = errorOf(() => render(family6 ? { v6: ['10.1.1.10'] } : { v4: ['2001:db8::1'] }, target));
    expect(err.code).toBe('PTFTP_ERR_DHCP_INVALID_ADDRESS');
    expect(err.field).toBe(family6 ? 'v6[0]' : 'v4[0]');
  });

  it('refuses names that a configuration file cannot carry safely', () => {
    const err = errorOf(() => render({ serverName: 'tftp"; evil' }, 'isc'));
    expect(err.code).toBe('PTFTP_ERR_DHCP_INVALID_ARGUMENT');
    expect(err.field).toBe('serverName');
    expect(errorOf(() => render({ serverName: 'a,b' }, 'kea4')).code).toBe('PTFTP_ERR_DHCP_INVALID_ARGUMENT');
    expect(errorOf(() => render({ serverName: 'tftp.exämple' }, 'isc')).code).toBe(
      'PTFTP_ERR_DHCP_NOT_ASCII',
    );
  });

  it('refuses a bad subnet, pool name or target', () => {
    expect(errorOf(() => render({ v4: ['10.1.1.10'], scope: { subnet4: '10.1.1.0' } }, 'isc')).field).toBe(
      'scope.subnet4',
    );
    expect(errorOf(() => render({ v4: ['10.1.1.10'], scope: { poolName: 'a b' } }, 'ios')).field).toBe(
      'scope.poolName',
    );
    expect(errorOf(() => render(plan, 'bind' as RendererName)).code).toBe('PTFTP_ERR_DHCP_INVALID_ARGUMENT');
  });
});
