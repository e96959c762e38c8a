/**
 * What DHCP must tell the phones so that they find the proxy TFTP servers: option 150 (IPv4,
 * a list of addresses in order of preference), the DHCPv6 Cisco vendor option (option 17,
 * enterprise 9, sub-option 1), ready-to-paste Kea and dnsmasq configuration for both, and
 * `analyze()` advice on the plan (a second server for redundancy, IPv6 phones need IPv6 TFTP
 * addresses and a proxy that listens on IPv6). Pure functions: nothing is sent anywhere.
 *
 *   npx tsx examples/dhcp-payloads.ts
 *   npx tsx examples/dhcp-payloads.ts 10.1.1.10 10.1.1.11 2001:db8::10 2001:db8::11
 */
import { pathToFileURL } from 'node:url';
import {
  analyze,
  type DhcpPlan,
  encodeCiscoVendorOption6,
  encodeOption150,
  type Finding,
  render,
  toHex,
} from '@ptftp/dhcp-options';

/** Options of {@link main}: the proxy TFTP servers and where the phones are. */
export interface DhcpPayloadOptions {
  /** IPv4 addresses of the proxy TFTP servers (default 10.1.1.10, 10.1.1.11: primary and redundant). */
  v4?: string[];
  /** Their IPv6 addresses (default 2001:db8::10, 2001:db8::11). */
  v6?: string[];
  /** The phones' scopes (default 10.1.1.0/24 and 2001:db8:1::/64). */
  subnet4?: string;
  subnet6?: string;
  /** Stacks the phones use (default both). */
  endpoints?: { ipv4?: boolean; ipv6?: boolean };
  log?: (line: string) => void;
}

/** Everything to hand to the DHCP administrators. */
export interface DhcpPayloads {
  readonly plan: DhcpPlan;
  /** Option 150 as bytes on the wire (code, length, addresses), lowercase hex. */
  readonly option150Hex: string;
  /** DHCPv6 option 17 (code, length, enterprise 9, sub-option 1), lowercase hex. */
  readonly option17Hex: string;
  /** Kea DHCPv4 and DHCPv6 configuration fragments (JSON text). */
  readonly kea4: string;
  readonly kea6: string;
  /** dnsmasq lines for both stacks. */
  readonly dnsmasq: string;
  /** Advice on the plan, most severe first. */
  readonly findings: Finding[];
  close(): Promise<void>;
}

/**
 * Build the payloads for one plan. Bad input (an IPv6 address in option 150, `10.1` instead
 * of `10.0.0.1`...) throws a `DhcpOptionsError` naming the field and the value.
 *
 * @example
 * ```ts
 * const p = await main({ v4: ['10.1.1.10', '10.1.1.11'], v6: [] , endpoints: { ipv4: true } });
 * p.option150Hex; // '96080a01010a0a01010b'
 * ```
 */
export async function main(options: DhcpPayloadOptions = {}): Promise<DhcpPayloads> {
  const log = options.log ?? (() => {});
  const v4 = options.v4 ?? ['10.1.1.10', '10.1.1.11'];
  const v6 = options.v6 ?? ['2001:db8::10', '2001:db8::11'];
  const plan: DhcpPlan = {
    ...(v4.length > 0 && { v4 }),
    ...(v6.length > 0 && { v6 }),
    scope: {
      ...(v4.length > 0 && { subnet4: options.subnet4 ?? '10.1.1.0/24' }),
      ...(v6.length > 0 && { subnet6: options.subnet6 ?? '2001:db8:1::/64' }),
    },
    endpoints: options.endpoints ?? { ipv4: true, ipv6: true },
  };

  const option150Hex = v4.length > 0 ? toHex(encodeOption150(v4)) : '';
  const option17Hex = v6.length > 0 ? toHex(encodeCiscoVendorOption6({ addresses: v6 })) : '';
  const kea4 = v4.length > 0 ? render(plan, 'kea4') : '';
  const kea6 = v6.length > 0 ? render(plan, 'kea6') : '';
  const dnsmasq = render(plan, 'dnsmasq');
  const findings = analyze(plan);

  if (option150Hex) log(`DHCPv4 option 150 (${v4.join(', ')}): ${option150Hex}`);
  if (option17Hex) log(`DHCPv6 option 17, enterprise 9, sub-option 1 (${v6.join(', ')}): ${option17Hex}`);
  if (kea4) log(`\nKea DHCPv4:\n${kea4}`);
  if (kea6) log(`\nKea DHCPv6:\n${kea6}`);
  log(`\ndnsmasq:\n${dnsmasq}`);
  log(findings.length === 0 ? 'advice: none, the plan is sound' : 'advice:');
  for (const f of findings) log(`  ${f.severity} ${f.code}: ${f.message}\n    fix: ${f.fix}`);

  return { plan, option150Hex, option17Hex, kea4, kea6, dnsmasq, findings, close: async () => {} };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const v4 = args.filter((a) => !a.includes(':'));
  const v6 = args.filter((a) => a.includes(':'));
  await main({ ...(args.length > 0 && { v4, v6 }), log: console.log });
  console.log('\nA flawed plan for contrast (one IPv4 server, IPv6 phones):');
  for (const f of analyze({ v4: ['10.1.1.10'], endpoints: { ipv4: true, ipv6: true } }))
    console.log(`  ${f.severity} ${f.code}: ${f.message}`);
}
