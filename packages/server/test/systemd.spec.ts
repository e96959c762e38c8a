import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemdSockets } from '../src/index.js';
import { parseProcNet } from '../src/internal.js';

const HEADER =
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const HEADER6 =
  '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const row = (local: string, st: string, inode: number) =>
  `   0: ${local} 00000000:0000 ${st} 00000000:00000000 00:00000000 00000000     0        0 ${inode} 2 0000000000000000 0\n`;

describe('/proc/net tables (how an inherited descriptor is recognised)', () => {
  it('decodes IPv4 (host-order word) and IPv6 (four words) addresses, ports in hex, TCP listen state', () => {
    const v4 = parseProcNet(
      HEADER + row('0100007F:1A0B', '07', 11) + row('00000000:0045', '07', 12),
      'udp',
      'IPv4',
    );
    expect(v4.get('11')).toEqual({
      protocol: 'udp',
      family: 'IPv4',
      address: '127.0.0.1',
      port: 0x1a0b,
      listening: true,
    });
    expect(v4.get('12')?.address).toBe('0.0.0.0');
    const v6 = parseProcNet(
      HEADER6 +
        row('00000000000000000000000001000000:0045', '0A', 21) +
        row('00000000000000000000000000000000:1B3A', '01', 22) +
        row('B80D0120000000000000000001000000:0045', '0A', 23),
      'tcp',
      'IPv6',
    );
    expect(v6.get('21')).toEqual({
      protocol: 'tcp',
      family: 'IPv6',
      address: '::1',
      port: 69,
      listening: true,
    });
    expect(v6.get('22')).toMatchObject({ address: '::', listening: false });
    expect(v6.get('23')?.address).toBe('2001:db8::1');
  });
});

describe('systemdSockets (sd_listen_fds)', () => {
  let proc: string;
  beforeEach(async () => {
    proc = await mkdtemp(join(tmpdir(), 'ptftp-proc-'));
    await mkdir(join(proc, 'net'));
    await mkdir(join(proc, 'self', 'fd'), { recursive: true });
    await writeFile(join(proc, 'net', 'udp'), HEADER + row('00000000:0045', '07', 100));
    await writeFile(
      join(proc, 'net', 'udp6'),
      HEADER6 + row('00000000000000000000000000000000:0045', '07', 101),
    );
    await writeFile(
      join(proc, 'net', 'tcp'),
      HEADER + row('0100007F:1B3A', '0A', 102) + row('0100007F:1B3B', '01', 103),
    );
    await symlink('socket:[100]', join(proc, 'self', 'fd', '3'));
    await symlink('socket:[101]', join(proc, 'self', 'fd', '4'));
    await symlink('socket:[102]', join(proc, 'self', 'fd', '5'));
    await symlink('socket:[103]', join(proc, 'self', 'fd', '6'));
  });
  afterEach(async () => {
    await rm(proc, { recursive: true, force: true });
  });

  it('names each passed socket: protocol, family, address, port, FileDescriptorName; and clears LISTEN_*', () => {
    const env: NodeJS.ProcessEnv = { LISTEN_PID: '42', LISTEN_FDS: '3', LISTEN_FDNAMES: 'tftp:tftp6:http' };
    expect(systemdSockets({ env, pid: 42, procRoot: proc })).toEqual([
      { fd: 3, name: 'tftp', protocol: 'udp', family: 'IPv4', address: '0.0.0.0', port: 69 },
      { fd: 4, name: 'tftp6', protocol: 'udp', family: 'IPv6', address: '::', port: 69 },
      { fd: 5, name: 'http', protocol: 'tcp', family: 'IPv4', address: '127.0.0.1', port: 6970 },
    ]);
    expect(env).toEqual({});
  });

  it('sockets meant for another process (LISTEN_PID) or none at all: an empty list', () => {
    expect(systemdSockets({ env: { LISTEN_PID: '41', LISTEN_FDS: '3' }, pid: 42, procRoot: proc })).toEqual(
      [],
    );
    expect(systemdSockets({ env: {}, pid: 42, procRoot: proc })).toEqual([]);
    expect(systemdSockets({ env: { LISTEN_PID: '42', LISTEN_FDS: '0' }, pid: 42, procRoot: proc })).toEqual(
      [],
    );
  });

  it('refuses what it cannot serve on, naming the descriptor (PTFTP_ERR_LISTEN)', async () => {
    const run = (fds: string) => () =>
      systemdSockets({ env: { LISTEN_PID: '42', LISTEN_FDS: fds }, pid: 42, procRoot: proc });
    expect(run('x')).toThrow(
      expect.objectContaining({
        code: 'PTFTP_ERR_LISTEN',
        message: expect.stringContaining('LISTEN_FDS="x"'),
      }),
    );
    // fd 6 is a TCP socket that is not listening.
    expect(run('4')).toThrow(/cannot listen on systemd fd 6: a TCP socket that is not listening/);
    // fd 3 a plain file.
    await rm(join(proc, 'self', 'fd', '3'));
    await symlink('/var/log/syslog', join(proc, 'self', 'fd', '3'));
    expect(run('1')).toThrow(/cannot listen on systemd fd 3: \/var\/log\/syslog is not a UDP or TCP socket/);
  });
});
