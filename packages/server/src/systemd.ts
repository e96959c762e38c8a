/**
 * systemd socket activation (sd_listen_fds(3)): a `ptftp.socket` unit binds port 69 (and
 * 6970) as root and hands the bound sockets to an unprivileged ptftp, which then needs no
 * capability at all. The protocol is three environment variables and descriptors from 3 up;
 * which descriptor is which (UDP or TCP, IPv4 or IPv6, address) is read from the kernel.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { endianness } from 'node:os';
import { ListenError } from './errors.js';

/** The first descriptor systemd passes (SD_LISTEN_FDS_START). */
const FIRST_FD = 3;

/** A bound socket the process inherited from systemd. */
export interface InheritedSocket {
  readonly fd: number;
  /** From `FileDescriptorName=` (LISTEN_FDNAMES); systemd's default is the socket unit's name. */
  readonly name: string;
  readonly protocol: 'udp' | 'tcp';
  readonly family: 'IPv4' | 'IPv6';
  readonly address: string;
  readonly port: number;
}

/** Options of {@link systemdSockets}; the defaults read this process's own environment. */
export interface SystemdSocketsOptions {
  env?: NodeJS.ProcessEnv;
  pid?: number;
  /** Remove LISTEN_* from `env` so that child processes do not believe the sockets are theirs (default true). */
  unsetEnv?: boolean;
  /** Where the kernel's socket tables are (tests point it elsewhere). */
  procRoot?: string;
}

interface SocketEntry {
  readonly protocol: 'udp' | 'tcp';
  readonly family: 'IPv4' | 'IPv6';
  readonly address: string;
  readonly port: number;
  readonly listening: boolean;
}

/** The bytes of one 32-bit word as /proc/net prints it: in the host's byte order. */
function wordBytes(hex: string, littleEndian: boolean): number[] {
  const n = Number.parseInt(hex, 16);
  const be = [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
  return littleEndian ? be.reverse() : be;
}

/** /proc/net writes an IPv4 address as one 32-bit word in host order. */
function ipv4FromProc(hex: string, littleEndian: boolean): string {
  return wordBytes(hex, littleEndian).join('.');
}

/** ... and an IPv6 address as four such words. */
function ipv6FromProc(hex: string, littleEndian: boolean): string {
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) bytes.push(...wordBytes(hex.slice(w * 8, w * 8 + 8), littleEndian));
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  // Compress the longest run of zero groups, as RFC 5952 writes addresses.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/** Parse one of /proc/net/{udp,udp6,tcp,tcp6} into inode -> socket. */
export function parseProcNet(
  text: string,
  protocol: 'udp' | 'tcp',
  family: 'IPv4' | 'IPv6',
  into: Map<string, SocketEntry> = new Map(),
  littleEndian = endianness() === 'LE',
): Map<string, SocketEntry> {
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const [addrHex, portHex] = f[1]!.split(':');
    if (addrHex === undefined || portHex === undefined) continue;
    into.set(f[9]!, {
      protocol,
      family,
      address: family === 'IPv4' ? ipv4FromProc(addrHex, littleEndian) : ipv6FromProc(addrHex, littleEndian),
      port: Number.parseInt(portHex, 16),
      // TCP_LISTEN is state 0A; a UDP socket has no listening state.
      listening: protocol === 'udp' || f[3] === '0A',
    });
  }
  return into;
}

function readTables(procRoot: string): Map<string, SocketEntry> {
  const table = new Map<string, SocketEntry>();
  const tables = [
    ['udp', 'udp', 'IPv4'],
    ['udp6', 'udp', 'IPv6'],
    ['tcp', 'tcp', 'IPv4'],
    ['tcp6', 'tcp', 'IPv6'],
  ] as const;
  for (const [file, protocol, family] of tables) {
    let text: string;
    try {
      text = readFileSync(`${procRoot}/net/${file}`, 'utf8');
    } catch {
      continue; // no IPv6 in this kernel or namespace
    }
    parseProcNet(text, protocol, family, table);
  }
  return table;
}

/**
 * The sockets systemd passed to this process, or `[]` when it passed none (LISTEN_PID absent
 * or naming another process). A descriptor that is not a bound UDP socket or a listening TCP
 * socket is an error (ListenError naming the descriptor), not something to skip silently.
 *
 * @example
 * ```ts
 * const inherited = systemdSockets(); // [{ fd: 3, name: 'ptftp.socket', protocol: 'udp', family: 'IPv6', address: '::', port: 69 }]
 * const server = createProxyServer(config, { inheritedSockets: inherited });
 * ```
 */
export function systemdSockets(opts: SystemdSocketsOptions = {}): InheritedSocket[] {
  const env = opts.env ?? process.env;
  const pid = opts.pid ?? process.pid;
  const procRoot = opts.procRoot ?? '/proc';
  const listenPid = env.LISTEN_PID;
  const listenFds = env.LISTEN_FDS;
  const names = (env.LISTEN_FDNAMES ?? '').split(':');
  if (opts.unsetEnv ?? true) {
    delete env.LISTEN_PID;
    delete env.LISTEN_FDS;
    delete env.LISTEN_FDNAMES;
  }
  if (listenPid === undefined || listenFds === undefined) return [];
  if (!/^\d+$/.test(listenPid) || Number(listenPid) !== pid) return [];
  if (!/^\d+$/.test(listenFds))
    throw new ListenError('systemd sockets', new Error(`LISTEN_FDS="${listenFds}" is not a count`));
  const count = Number(listenFds);
  if (count === 0) return [];
  const table = readTables(procRoot);
  const out: InheritedSocket[] = [];
  for (let i = 0; i < count; i++) {
    const fd = FIRST_FD + i;
    const where = `systemd fd ${fd}`;
    let link: string;
    try {
      link = readlinkSync(`${procRoot}/self/fd/${fd}`);
    } catch (err) {
      throw new ListenError(where, err);
    }
    const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
    const entry = inode === undefined ? undefined : table.get(inode);
    if (entry === undefined)
      throw new ListenError(
        where,
        new Error(
          inode === undefined
            ? `${link} is not a UDP or TCP socket (ListenDatagram= or ListenStream=)`
            : `${link} is not a UDP or TCP socket of this network namespace (ListenDatagram= or ListenStream=; PrivateNetwork= is not supported)`,
        ),
      );
    if (!entry.listening) throw new ListenError(where, new Error('a TCP socket that is not listening'));
    out.push({
      fd,
      name: names[i] || 'unknown',
      protocol: entry.protocol,
      family: entry.family,
      address: entry.address,
      port: entry.port,
    });
  }
  return out;
}
