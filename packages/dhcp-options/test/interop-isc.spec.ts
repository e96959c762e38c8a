/**
 * ISC dhcpd loads the `isc` rendering and sends option 150 and 66 to a client whose parameter
 * request list (55) asks for neither: the rendering appends them to the list, as Kea's
 * `always-send` and dnsmasq's `dhcp-option-force` do. A control without that append shows
 * dhcpd leaving them out, so the test proves the append, not dhcpd's defaults.
 * dhcpd refuses the loopback device: it runs in a private network namespace (root).
 */
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyze, decodeDhcpv4Message, render } from '@ptftp/dhcp-options';
import { afterEach, describe, expect, it } from 'vitest';
import { lacking, runCommand, tempDir } from './support/daemons.js';
import { v4Message } from './support/messages.js';

const script = fileURLToPath(new URL('./support/isc-dhcpd-netns.sh', import.meta.url));
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** DHCPINFORM from 10.99.0.2 asking only for the subnet mask (55 = [1]). */
const inform = v4Message({
  op: 1,
  xid: 0x15c0_0150,
  ciaddr: [10, 99, 0, 2],
  options: [53, 1, 8, 55, 1, 1, 255],
});

async function askDhcpd(config: string) {
  const dir = tempDir('ptftp-isc-');
  dirs.push(dir);
  const conf = path.join(dir, 'dhcpd.conf');
  writeFileSync(conf, `ddns-update-style none;\nauthoritative;\n${config}`);
  // The script runs the client with this very node.
  process.env.NODE = process.execPath;
  const r = await runCommand(
    'unshare',
    ['--net', 'bash', script, conf, Buffer.from(inform).toString('hex')],
    {
      timeoutMs: 30_000,
    },
  );
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return decodeDhcpv4Message(Buffer.from(r.stdout.trim(), 'hex'));
}

describe.skipIf(lacking('dhcpd', 'unshare'))(
  'ISC dhcpd sends option 150 and 66 that the client did not ask for',
  () => {
    const plan = {
      v4: ['10.1.1.10', '10.1.1.11'],
      serverName: 'tftp.example.com',
      scope: { subnet4: '10.99.0.0/24' },
    };

    it('the isc rendering: DHCPACK carries 150 (in order) and 66', async () => {
      const reply = await askDhcpd(render(plan, 'isc'));
      expect(reply.messageType).toBe(5);
      expect(reply.xid).toBe(0x15c0_0150);
      expect(reply.tftpServers).toEqual(['10.1.1.10', '10.1.1.11']);
      expect(reply.tftpServerName).toBe('tftp.example.com');
    });

    it('control: without the parameter-request-list append, dhcpd leaves both out', async () => {
      const rendered = render(plan, 'isc');
      const stripped = rendered
        .split('\n')
        .filter((l) => !/if exists dhcp-parameter-request-list|concat\(|^ {2}\}$/.test(l))
        .join('\n');
      expect(stripped).not.toContain('concat');
      const reply = await askDhcpd(stripped);
      expect(reply.messageType).toBe(5);
      expect(reply.tftpServers).toBeUndefined();
      expect(reply.tftpServerName).toBeUndefined();
    });

    it('the size limit analyze warns about: 71 addresses are sent, 72 dropped without a word', async () => {
      const servers = (n: number) => Array.from({ length: n }, (_, i) => `10.5.0.${i + 1}`);
      const scope = { subnet4: '10.99.0.0/24' };
      const sent = await askDhcpd(render({ v4: servers(71), scope }, 'isc'));
      expect(sent.tftpServers).toEqual(servers(71));
      const dropped = await askDhcpd(render({ v4: servers(72), scope }, 'isc'));
      expect(dropped.messageType).toBe(5);
      expect(dropped.tftpServers).toBeUndefined();
      expect(analyze({ v4: servers(72) }, { target: 'isc' }).map((f) => f.code)).toContain(
        'PTFTP_DHCP_ISC_DROPS_OPTION150',
      );
    });
  },
);
