import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureIo } from '../src/io.js';
import { run } from '../src/program.js';

async function cli(...argv: string[]) {
  const io = captureIo();
  const code = await run(argv, io);
  return { code, out: io.out, err: io.err };
}

describe('ptftp config check', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ptftp-cli-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const write = async (name: string, value: unknown) => {
    const file = join(dir, name);
    await writeFile(file, typeof value === 'string' ? value : JSON.stringify(value));
    return file;
  };

  it('topology rule "at most 3 TFTP addresses per cluster": one line with the path, exit 1', async () => {
    const file = await write('four.json', {
      clusters: [{ id: 'b', tftp: ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'] }],
    });
    expect(await cli('config', 'check', file)).toEqual({
      code: 1,
      out: '',
      err: `ptftp: invalid configuration ${file}: clusters[0].tftp[3]: at most 3 TFTP addresses per cluster\n`,
    });
  });

  it('a store.root that does not exist, or is a file, is an error of the review (exit 1)', async () => {
    const missing = join(dir, 'no-such-folder');
    const file = await write('missing-store.json', { store: { root: missing } });
    const r = await cli('config', 'check', file);
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      `error   PTFTP_CONFIG_STORE_MISSING: store.root: store.root ${missing} does not exist: every request would get "file not found".\n`,
    );
    expect(r.out).toContain(`${file}: valid configuration; 1 error(s), 0 warning(s)\n`);
    expect(r.err).toBe(`ptftp: ${file}: 1 error(s) in the review\n`);
    const notFolder = await write('store-is-file.json', { store: { root: file } });
    const f = await cli('config', 'check', notFolder, '--json');
    expect(f.code).toBe(1);
    expect(JSON.parse(f.out).findings[0]).toMatchObject({
      code: 'PTFTP_CONFIG_STORE_NOT_FOLDER',
      path: 'store.root',
    });
    const ok = await write('store-ok.json', { store: { root: dir } });
    const good = await cli('config', 'check', ok, '--json');
    expect(JSON.parse(good.out).findings.map((x: { code: string }) => x.code)).not.toContain(
      'PTFTP_CONFIG_STORE_MISSING',
    );
  });

  it('a JSON syntax error names its line and column and shows the line', async () => {
    const file = await write('comma.json', '{\n  "listen": ["127.0.0.1:69"],\n}\n');
    const r = await cli('config', 'check', file);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      new RegExp(
        `^ptftp: invalid configuration ${file}: not valid JSON at line 3, column 1: [^\\n]+ \\(line 3: \\}\\)\\n$`,
      ),
    );
  });

  it('a YAML syntax error is one whole line with line, column and the line itself (not cut at ":")', async () => {
    const file = await write('nested.yaml', 'listen:\n  - 127.0.0.1:69\nstore: root: ./x\n');
    const r = await cli('config', 'check', file);
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      `ptftp: invalid configuration ${file}: not valid YAML at line 3, column 8: Nested mappings are not allowed in compact mappings (line 3: store: root: ./x)\n`,
    );
  });

  it('an unknown key close to a known one: "did you mean", at any depth', async () => {
    const file = await write('typos.json', { lsiten: ['127.0.0.1:69'], cache: { ttlSecond: 60 }, zzzz: 1 });
    const r = await cli('config', 'check', file);
    expect(r.code).toBe(1);
    expect(r.err).toContain('  cache.ttlSecond: unknown key (did you mean "ttlSeconds"?)\n');
    expect(r.err).toContain('  lsiten: unknown key (did you mean "listen"?)\n');
    expect(r.err).toContain('  zzzz: unknown key\n');
  });

  it('limits are validated with their path', async () => {
    const file = await write('limits.json', {
      limits: { maxWindowsize: 0, ports: { from: 2000, to: 1000 } },
    });
    const r = await cli('config', 'check', file);
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      [
        `ptftp: invalid configuration ${file} (2 problems):`,
        '  limits.maxWindowsize: Too small: expected number to be >=1',
        '  limits.ports: "from" must not be above "to"',
        '',
      ].join('\n'),
    );
  });

  it('dual stack: IPv6 endpoints while the proxy listens on IPv4 only is an error (exit 1)', async () => {
    const file = await write('v4only.json', {
      listen: ['10.1.1.10:69'],
      dhcp: { v4: ['10.1.1.10', '10.1.1.11'], v6: ['2001:db8::10'], endpoints: { ipv4: true, ipv6: true } },
    });
    const r = await cli('config', 'check', file);
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      'error   PTFTP_CONFIG_IPV6_ENDPOINTS_IPV4_LISTEN: listen: Endpoints use IPv6 but the proxy listens on IPv4 only: IPv6 phones never get their files and never register.',
    );
    expect(r.out).toContain('error   PTFTP_CONFIG_IPV6_TFTP_IPV4_LISTEN: dhcp.v6:');
    expect(r.out).toContain(`${file}: valid configuration; 2 error(s)`);
    expect(r.err).toBe(`ptftp: ${file}: 2 error(s) in the review\n`);
  });

  it('dual stack: an IPv6 listen address with no IPv6 in DHCPv6 is a warning; @ptftp/dhcp-options advice is included', async () => {
    const file = await write('v6nodhcp.json', {
      listen: ['10.1.1.10:69', '[2001:db8::10]:69'],
      dhcp: { v4: ['10.1.1.10'] },
    });
    const r = await cli('config', 'check', file, '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as { valid: boolean; findings: { code: string; severity: string }[] };
    expect(report.valid).toBe(true);
    expect(report.findings.map((f) => `${f.severity} ${f.code}`)).toEqual([
      'warning PTFTP_CONFIG_IPV6_LISTEN_NO_DHCPV6',
      'warning PTFTP_DHCP_SINGLE_SERVER',
    ]);
  });

  it('an admin endpoint off loopback is a warning (it has no authentication)', async () => {
    const file = await write('admin.json', { listen: ['10.1.1.10:69'], admin: { listen: '0.0.0.0:9469' } });
    const r = await cli('config', 'check', file, '--json');
    expect(r.code).toBe(0);
    const codes = (JSON.parse(r.out) as { findings: { code: string }[] }).findings.map((f) => f.code);
    expect(codes).toEqual(['PTFTP_CONFIG_ADMIN_NOT_LOOPBACK', 'PTFTP_CONFIG_NO_DHCP_SECTION']);
  });

  it('single-port mode or a port range on a non-loopback address is a warning (forged ACKs reach transfers)', async () => {
    const codesOf = async (name: string, config: unknown) => {
      const r = await cli('config', 'check', await write(name, config), '--json');
      expect(r.code).toBe(0);
      return (JSON.parse(r.out) as { findings: { code: string; path?: string }[] }).findings;
    };
    const single = await codesOf('single.json', { listen: ['10.1.1.10:69'], limits: { ports: 'single' } });
    expect(single[0]).toMatchObject({
      code: 'PTFTP_CONFIG_SHARED_TRANSFER_PORT_EXPOSED',
      path: 'limits.ports',
    });
    const range = await codesOf('range.json', {
      listen: ['[::]:69'],
      limits: { ports: { from: 50000, to: 50039 } },
    });
    expect(range.map((f) => f.code)).toContain('PTFTP_CONFIG_SHARED_TRANSFER_PORT_EXPOSED');
    const loopback = await codesOf('loop.json', { listen: ['127.0.0.1:69'], limits: { ports: 'single' } });
    expect(loopback.map((f) => f.code)).toEqual(['PTFTP_CONFIG_NO_DHCP_SECTION']);
    const perTransfer = await codesOf('per.json', { listen: ['10.1.1.10:69'] });
    expect(perTransfer.map((f) => f.code)).toEqual(['PTFTP_CONFIG_NO_DHCP_SECTION']);
  });

  it('a clean file passes with exit 0 and says so', async () => {
    const file = await write(
      'ok.yaml',
      'listen: ["10.1.1.10:69", "10.1.1.11:69"]\ndhcp:\n  v4: [10.1.1.10, 10.1.1.11]\n  endpoints: { ipv4: true, ipv6: false }\n',
    );
    const r = await cli('config', 'check', file);
    expect(r).toEqual({ code: 0, out: `${file}: valid configuration; 0 error(s), 0 warning(s)\n`, err: '' });
  });

  it('--help shows examples', async () => {
    const r = await cli('config', 'check', '--help');
    expect(r.code).toBe(0);
    expect(r.out).toContain('Examples:\n  $ ptftp config check ptftp.config.json');
  });
});
