import {
  analyze,
  DhcpOptionsError,
  type DhcpPlan,
  decodeDhcpv4Message,
  decodeDhcpv6Message,
  decodeOption66,
  decodeOption150,
  decodeVendorOption6,
  encodeCiscoVendorOption6,
  encodeOption66,
  encodeOption150,
  type Finding,
  isDhcpv4Message,
  RENDERER_NAMES,
  type RendererName,
  render,
  toHex,
  type VendorOption6,
} from '@ptftp/dhcp-options';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { CliError, type CliIo } from '../io.js';

/**
 * `ptftp dhcp ...`: build and check the DHCP payloads that point phones at the proxy TFTP
 * servers. The command forms and the default hex output are a contract that scripts rely on.
 */
export function register(program: Command, io: CliIo): void {
  const dhcp = program
    .command('dhcp')
    .description(
      'Encode, decode and plan the DHCP options that point phones at TFTP servers (150, 66, v6 17)',
    )
    .addHelpText(
      'after',
      `
Examples:
  $ ptftp dhcp option150 10.1.1.10 10.1.1.11
  96080a01010a0a01010b
  $ ptftp dhcp option17 2001:db8::10 2001:db8::11 --format kea
  $ ptftp dhcp decode 96080a01010a0a01010b
  $ ptftp dhcp plan --v4 10.1.1.10 10.1.1.11 --v6 2001:db8::10 2001:db8::11 --endpoints dual
`,
    );

  dhcp
    .command('option150')
    .description('Encode DHCPv4 option 150 (TFTP server addresses, in order of preference)')
    .argument('<addresses...>', 'IPv4 addresses of the TFTP servers, most preferred first')
    .addOption(
      new Option('--format <format>', 'output format')
        .choices(['hex', 'base64', 'isc', 'kea', 'dnsmasq', 'ios', 'windows'])
        .default('hex'),
    )
    .addHelpText(
      'after',
      `
Hex output is the whole option (code, length, addresses), lowercase without separators.
Past 63 addresses it is an RFC 3396 long option (several instances).

Examples:
  $ ptftp dhcp option150 10.1.1.10 10.1.1.11
  96080a01010a0a01010b
  $ ptftp dhcp option150 10.1.1.10 10.1.1.11 --format kea
  $ ptftp dhcp option150 10.1.1.10 10.1.1.11 --format dnsmasq
`,
    )
    .action((addresses: string[], opts: { format: string }) =>
      guard(() => {
        const list = splitList(addresses);
        const format = opts.format;
        if (format === 'hex' || format === 'base64') io.stdout(bytesOut(encodeOption150(list), format));
        else io.stdout(render({ v4: list }, v4Renderer(format)));
        // The payload is valid but may not do what was meant: say so on stderr, exit 0.
        for (const f of analyze({ v4: list }))
          if (OPTION150_WARNINGS.has(f.code)) io.stderr(`warning [${f.code}]: ${f.message}\n`);
      }),
    );

  dhcp
    .command('option66')
    .description('Encode DHCPv4 option 66 (TFTP server name; option 150 is preferred)')
    .argument('<name>', 'host name or dotted address, ASCII')
    .addOption(new Option('--format <format>', 'output format').choices(['hex', 'base64']).default('hex'))
    .addHelpText(
      'after',
      `
Examples:
  $ ptftp dhcp option66 tftp.example.com
  4210746674702e6578616d706c652e636f6d
`,
    )
    .action((name: string, opts: { format: 'hex' | 'base64' }) =>
      guard(() => io.stdout(bytesOut(encodeOption66(name), opts.format))),
    );

  dhcp
    .command('option17')
    .description('Encode DHCPv6 option 17, Cisco enterprise 9 (sub-option 1: TFTP server IPv6 addresses)')
    .argument('[addresses...]', 'IPv6 addresses of the TFTP servers, most preferred first')
    .option('--service <name>', 'TFTP service name (sub-option 2, a discouraged alternative)')
    .addOption(
      new Option('--format <format>', 'output format')
        .choices(['hex', 'base64', 'isc', 'kea', 'dnsmasq', 'ios', 'windows'])
        .default('hex'),
    )
    .addHelpText(
      'after',
      `
Hex output is the whole option (code, length, enterprise 9, sub-options).

Examples:
  $ ptftp dhcp option17 2001:db8::10 2001:db8::11
  001100280000000900010020...
  $ ptftp dhcp option17 2001:db8::10 2001:db8::11 --format kea
  $ ptftp dhcp option17 --service tftp.example.com
`,
    )
    .action((addresses: string[], opts: { format: string; service?: string }) =>
      guard(() => {
        const list = splitList(addresses);
        if (list.length === 0 && opts.service === undefined) {
          throw new CliError('option17 needs IPv6 addresses or --service', 2);
        }
        const value = {
          ...(list.length > 0 ? { addresses: list } : {}),
          ...(opts.service !== undefined ? { serviceName: opts.service } : {}),
        };
        const format = opts.format;
        if (format === 'hex' || format === 'base64') {
          return io.stdout(bytesOut(encodeCiscoVendorOption6(value), format));
        }
        const plan: DhcpPlan = {
          ...(list.length > 0 ? { v6: list } : {}),
          ...(opts.service !== undefined ? { serviceName: opts.service } : {}),
        };
        io.stdout(render(plan, v6Renderer(format)));
      }),
    );

  dhcp
    .command('decode')
    .description('Decode an option (150, 66, v6 17) or a whole DHCPv4/DHCPv6 message given in hex')
    .argument(
      '<hex...>',
      'the bytes in hex, in one or several arguments (spaces, ":" and a leading 0x are ignored)',
      collectHex,
    )
    .addOption(
      new Option('--as <kind>', 'what the bytes are')
        .choices(['auto', 'option150', 'option66', 'option17', 'dhcpv4', 'dhcpv6'])
        .default('auto'),
    )
    .option('--json', 'print JSON instead of text')
    .addHelpText(
      'after',
      `
With --as auto, the bytes are a DHCPv4 message when they carry the magic cookie at byte 236,
option 150 when they start with 96, option 66 with 42, DHCPv6 option 17 with 0011, and a
DHCPv6 message otherwise.

Examples:
  $ ptftp dhcp decode 96080a01010a0a01010b
  option 150 (TFTP server address): 10.1.1.10, 10.1.1.11
  $ ptftp dhcp decode "$(tshark -r reply.pcap -T fields -e udp.payload)" --json
`,
    )
    .action((pieces: string[], opts: { as: string; json?: boolean }) =>
      guard(() => {
        const decoded = decode(parseHex(pieces.join('')), opts.as);
        io.stdout(opts.json ? `${JSON.stringify(decoded, jsonBytes, 2)}\n` : describe(decoded));
      }),
    );

  dhcp
    .command('plan')
    .description('Render server configuration for a TFTP plan and print advice on it')
    .option('--v4 <addresses...>', 'IPv4 TFTP server addresses for option 150, in order')
    .option('--v6 <addresses...>', 'IPv6 TFTP server addresses for DHCPv6 sub-option 1, in order')
    .option('--server-name <name>', 'option 66 TFTP server name (discouraged)')
    .option('--service-name <name>', 'DHCPv6 sub-option 2 TFTP service name (discouraged)')
    .option('--subnet4 <cidr>', 'IPv4 scope, e.g. 10.1.1.0/24 (global when omitted)')
    .option('--subnet6 <cidr>', 'IPv6 scope, e.g. 2001:db8::/64 (global when omitted)')
    .option('--pool-name <name>', 'pool (IOS) or tag (dnsmasq) name')
    .addOption(new Option('--endpoints <stacks>', 'stacks the phones use').choices(['ipv4', 'ipv6', 'dual']))
    .addOption(new Option('--format <target>', 'configuration to render').choices([...RENDERER_NAMES]))
    .option('--force', 'render even when the advice has errors')
    .option('--json', 'print {findings, config} as JSON')
    .addHelpText(
      'after',
      `
The configuration goes to stdout and the advice to stderr, so "> file" keeps only the
configuration. Without --format only the advice is printed (to stdout). Exit code 1 when the
advice has an error (nothing is rendered then, unless --force).

Examples:
  $ ptftp dhcp plan --v4 10.1.1.10 10.1.1.11 --v6 2001:db8::10 2001:db8::11 --endpoints dual
  $ ptftp dhcp plan --v4 10.1.1.10 10.1.1.11 --subnet4 10.1.1.0/24 --format kea4 > tftp-kea4.json
  $ ptftp dhcp plan --v6 2001:db8::10 2001:db8::11 --pool-name VOICE --format ios
`,
    )
    .action((opts: PlanOptions) => guard(() => planAction(opts, io)));
}

interface PlanOptions {
  v4?: string[];
  v6?: string[];
  serverName?: string;
  serviceName?: string;
  subnet4?: string;
  subnet6?: string;
  poolName?: string;
  endpoints?: 'ipv4' | 'ipv6' | 'dual';
  format?: RendererName;
  force?: boolean;
  json?: boolean;
}

function planAction(opts: PlanOptions, io: CliIo): void {
  const scope = {
    ...(opts.subnet4 !== undefined ? { subnet4: opts.subnet4 } : {}),
    ...(opts.subnet6 !== undefined ? { subnet6: opts.subnet6 } : {}),
    ...(opts.poolName !== undefined ? { poolName: opts.poolName } : {}),
  };
  const plan: DhcpPlan = {
    ...(opts.v4 ? { v4: splitList(opts.v4) } : {}),
    ...(opts.v6 ? { v6: splitList(opts.v6) } : {}),
    ...(opts.serverName !== undefined ? { serverName: opts.serverName } : {}),
    ...(opts.serviceName !== undefined ? { serviceName: opts.serviceName } : {}),
    ...(Object.keys(scope).length > 0 ? { scope } : {}),
    ...(opts.endpoints
      ? { endpoints: { ipv4: opts.endpoints !== 'ipv6', ipv6: opts.endpoints !== 'ipv4' } }
      : {}),
  };
  const findings = analyze(plan, opts.format ? { target: opts.format } : {});
  const errors = findings.filter((f) => f.severity === 'error').length;
  const config = opts.format && (errors === 0 || opts.force) ? render(plan, opts.format) : undefined;
  if (opts.json) {
    io.stdout(`${JSON.stringify({ findings, ...(config !== undefined ? { config } : {}) }, null, 2)}\n`);
  } else if (config !== undefined) {
    io.stdout(config);
    io.stderr(formatFindings(findings));
  } else {
    const text = formatFindings(findings);
    if (opts.format) io.stderr(text);
    else io.stdout(text);
  }
  if (errors > 0 && !(opts.force && config !== undefined)) {
    throw new CliError(
      `the plan has ${errors} error${errors === 1 ? '' : 's'}${opts.format ? '; nothing rendered (fix them, or pass --force)' : ''}`,
    );
  }
}

function formatFindings(findings: Finding[]): string {
  if (findings.length === 0) return 'advice: no findings\n';
  return findings.map((f) => `${f.severity} [${f.code}]: ${f.message}\n  fix: ${f.fix}\n`).join('');
}

/** Run a command body, turning the library's typed errors into one-line CLI failures. */
function guard(body: () => void): void {
  try {
    body();
  } catch (err) {
    if (err instanceof DhcpOptionsError) throw new CliError(`${err.message} [${err.code}]`);
    throw err;
  }
}

/** Accept both `a b` and `a,b` (what people paste from other tools). */
function splitList(values: readonly string[]): string[] {
  return values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}

function bytesOut(bytes: Uint8Array, format: string): string {
  return `${format === 'base64' ? Buffer.from(bytes).toString('base64') : toHex(bytes)}\n`;
}

function v4Renderer(format: string): RendererName {
  return format === 'kea' ? 'kea4' : (format as RendererName);
}

function v6Renderer(format: string): RendererName {
  if (format === 'isc') return 'isc6';
  if (format === 'kea') return 'kea6';
  return format as RendererName;
}

/** One argument of `decode`: hex digits, separators dropped; pasted dumps may span arguments. */
function collectHex(text: string, previous: string[] = []): string[] {
  const clean = text.replace(/^0x/i, '').replace(/[\s:.-]/g, '');
  if (!/^[0-9a-f]*$/i.test(clean)) throw new InvalidArgumentError('expected hex digits');
  return [...previous, clean];
}

function parseHex(clean: string): Uint8Array {
  if (clean.length === 0 || clean.length % 2 !== 0) {
    throw new CliError(`hex: expected an even number of hex digits, got ${clean.length}`, 2);
  }
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}

type Decoded =
  | { kind: 'option150'; tftpServers: string[] }
  | { kind: 'option66'; tftpServerName: string }
  | { kind: 'option17'; vendor: VendorOption6 }
  | { kind: 'dhcpv4'; message: ReturnType<typeof decodeDhcpv4Message> }
  | { kind: 'dhcpv6'; message: ReturnType<typeof decodeDhcpv6Message> };

function decode(bytes: Uint8Array, as: string): Decoded {
  const kind = as === 'auto' ? sniff(bytes) : as;
  switch (kind) {
    case 'option150':
      return { kind, tftpServers: decodeOption150(bytes) };
    case 'option66':
      return { kind, tftpServerName: decodeOption66(bytes) };
    case 'option17':
      return { kind, vendor: decodeVendorOption6(bytes) };
    case 'dhcpv4':
      return { kind, message: decodeDhcpv4Message(bytes) };
    default:
      return { kind: 'dhcpv6', message: decodeDhcpv6Message(bytes) };
  }
}

/** What `ptftp dhcp option150` warns about: the payload encodes, but not as meant. */
const OPTION150_WARNINGS = new Set([
  'PTFTP_DHCP_DUPLICATE_ADDRESS',
  'PTFTP_DHCP_LONG_OPTION',
  'PTFTP_DHCP_ISC_DROPS_OPTION150',
]);

function sniff(bytes: Uint8Array): string {
  if (isDhcpv4Message(bytes)) return 'dhcpv4';
  // A BOOTP header (op 1 or 2, Ethernet, 6-byte addresses) cut before the magic cookie: a
  // truncated DHCPv4 message, reported as such rather than as a strange DHCPv6 one.
  if (
    bytes.length >= 28 &&
    bytes.length < 240 &&
    (bytes[0] === 1 || bytes[0] === 2) &&
    bytes[1] === 1 &&
    bytes[2] === 6
  )
    return 'dhcpv4';
  if (bytes[0] === 150) return 'option150';
  if (bytes[0] === 66) return 'option66';
  if (bytes[0] === 0 && bytes[1] === 17) return 'option17';
  return 'dhcpv6';
}

const V4_TYPES = [
  '',
  'DHCPDISCOVER',
  'DHCPOFFER',
  'DHCPREQUEST',
  'DHCPDECLINE',
  'DHCPACK',
  'DHCPNAK',
  'DHCPRELEASE',
  'DHCPINFORM',
];
const V6_TYPES = [
  '',
  'SOLICIT',
  'ADVERTISE',
  'REQUEST',
  'CONFIRM',
  'RENEW',
  'REBIND',
  'REPLY',
  'RELEASE',
  'DECLINE',
  'RECONFIGURE',
  'INFORMATION-REQUEST',
  'RELAY-FORW',
  'RELAY-REPL',
];

function describe(d: Decoded): string {
  const lines: string[] = [];
  const servers4 = (list: string[]) => `option 150 (TFTP server address): ${list.join(', ')}`;
  const vendor = (v: VendorOption6) => {
    const who = v.enterpriseNumber === 9 ? 'enterprise 9 (Cisco)' : `enterprise ${v.enterpriseNumber}`;
    if (v.tftpServers)
      lines.push(`option 17 ${who} sub-option 1 (TFTP servers): ${v.tftpServers.join(', ')}`);
    if (v.serviceName !== undefined)
      lines.push(`option 17 ${who} sub-option 2 (TFTP service): ${v.serviceName}`);
    for (const o of v.other) lines.push(`option 17 ${who} sub-option ${o.code}: ${toHex(o.data)}`);
    if (!v.tftpServers && v.serviceName === undefined && v.other.length === 0)
      lines.push(`option 17 ${who}: empty`);
  };
  switch (d.kind) {
    case 'option150':
      lines.push(servers4(d.tftpServers));
      break;
    case 'option66':
      lines.push(`option 66 (TFTP server name): ${d.tftpServerName}`);
      break;
    case 'option17':
      vendor(d.vendor);
      break;
    case 'dhcpv4': {
      const m = d.message;
      const type =
        m.messageType === undefined ? 'BOOTP' : (V4_TYPES[m.messageType] ?? `type ${m.messageType}`);
      lines.push(
        `DHCPv4 ${m.op === 2 ? 'BOOTREPLY' : 'BOOTREQUEST'} ${type}, xid 0x${m.xid.toString(16).padStart(8, '0')}, yiaddr ${m.yiaddr}${m.overload ? `, overload ${m.overload}` : ''}`,
      );
      if (m.tftpServers) lines.push(servers4(m.tftpServers));
      if (m.tftpServerName !== undefined) lines.push(`option 66 (TFTP server name): ${m.tftpServerName}`);
      lines.push(`options: ${[...m.options.keys()].join(', ') || 'none'}`);
      break;
    }
    case 'dhcpv6': {
      const m = d.message;
      for (const r of m.relays)
        lines.push(`${V6_TYPES[r.messageType]} link ${r.linkAddress} peer ${r.peerAddress}`);
      lines.push(
        `DHCPv6 ${V6_TYPES[m.messageType] ?? `type ${m.messageType}`}, transaction 0x${m.transactionId.toString(16).padStart(6, '0')}`,
      );
      for (const v of m.vendorOptions) vendor(v);
      lines.push(`options: ${[...m.options.keys()].join(', ') || 'none'}`);
      break;
    }
  }
  return `${lines.join('\n')}\n`;
}

/** JSON.stringify replacer: bytes as hex, maps as objects. */
function jsonBytes(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return toHex(value);
  if (value instanceof Map) return Object.fromEntries(value);
  return value;
}
