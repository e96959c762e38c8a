/**
 * ISC dhcpd -6 loads the `isc6` rendering and answers an Information-Request with option 17
 * (enterprise 9, sub-option 1: the TFTP servers in order) when the client's ORO (option 6)
 * asks for 17 — and leaves it out when the ORO does not, whatever the configuration says:
 * the v6 twin of the v4 parameter-list append (`option dhcp6.oro = concat(...)`) is accepted
 * and ignored, because dhcpd reads the ORO from the request alone (RFC 8415 §21.7 makes the
 * ORO the client's list; dhcpd offers no override). This is why the rendering cannot force 17
 * and says so. dhcpd refuses the loopback device: it runs in a private network namespace (root).
 */
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeDhcpv6Message, render } from '@ptftp/dhcp-options';
import { afterEach, describe, expect, it } from 'vitest';
import { lacking, runCommand, tempDir } from './support/daemons.js';
import { v6Message, v6Option } from './support/messages.js';

const script = fileURLToPath(new URL('./support/isc-dhcpd6-netns.sh', import.meta.url));
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const XID = 0x15c017;
/** Information-Request (11) with a DUID-LL client id, elapsed time 0 and the given ORO codes. */
function informationRequest(oro: number[]): Uint8Array {
  return v6Message(11, XID, [
    ...v6Option(1, [0, 3, 0, 1, 2, 0, 0, 0, 0, 2]),
    ...v6Option(8, [0, 0]),
    ...v6Option(
      6,
      oro.flatMap((c) => [c >> 8, c & 0xff]),
    ),
  ]);
}

async function askDhcpd6(config: string, request: Uint8Array) {
  const dir = tempDir('ptftp-isc6-');
  dirs.push(dir);
  const conf = path.join(dir, 'dhcpd6.conf');
  writeFileSync(conf, config);
  // The script runs the client with this very node.
  process.env.NODE = process.execPath;
  const r = await runCommand(
    'unshare',
    ['--net', 'bash', script, conf, Buffer.from(request).toString('hex')],
    {
      timeoutMs: 30_000,
    },
  );
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return decodeDhcpv6Message(Buffer.from(r.stdout.trim(), 'hex'));
}

describe.skipIf(lacking('dhcpd', 'unshare'))('ISC dhcpd -6 and DHCPv6 option 17 (enterprise 9)', () => {
  const plan = { v6: ['2001:db8::10', '2001:db8::11'], scope: { subnet6: '2001:db8:99::/64' } };

  it('the isc6 rendering: a REPLY carries option 17 with the servers in order when the ORO asks for 17', async () => {
    const reply = await askDhcpd6(render(plan, 'isc6'), informationRequest([23, 17]));
    expect(reply.messageType).toBe(7);
    expect(reply.transactionId).toBe(XID);
    expect(reply.vendorOptions).toHaveLength(1);
    expect(reply.vendorOptions[0]?.enterpriseNumber).toBe(9);
    expect(reply.tftpServers).toEqual(['2001:db8::10', '2001:db8::11']);
  });

  it('an ORO without 17: no option 17, even with a dhcp6.oro append in the configuration', async () => {
    const rendered = render(plan, 'isc6');
    expect(rendered).toContain('no setting forces it');
    const appended = `${rendered}if exists dhcp6.oro {\n  option dhcp6.oro = concat(option dhcp6.oro, 00:11);\n}\n`;
    for (const config of [rendered, appended]) {
      const reply = await askDhcpd6(config, informationRequest([23]));
      expect(reply.messageType).toBe(7);
      expect(reply.transactionId).toBe(XID);
      expect(reply.options.has(17)).toBe(false);
      expect(reply.tftpServers).toBeUndefined();
    }
  });
});
