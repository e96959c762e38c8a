/**
 * A boot storm: many IP phones powering up at once (after a power cut, a switch reload, a
 * cluster-wide reset), each fetching its own trust list and configuration and the shared ring
 * list and locale files, as fast as the server lets it. Each phone has its own socket, MAC and
 * retransmit timer, and the storm reports every phone's outcome and latency.
 */
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { InvalidArgumentError } from '../errors.js';
import type { TftpOptions } from '../packet.js';
import type { LinkEndpoint } from './lossy-link.js';
import { mulberry32 } from './prng.js';
import { instrumentedGet, type TransferOutcome } from './raw-client.js';

/** The files a Cisco phone fetches at boot, in order, given its MAC (12 upper-case hex digits). */
export function defaultPhoneFiles(mac: string): string[] {
  return [
    `ITLSEP${mac}.tlv`,
    `SEP${mac}.cnf.xml.sgn`,
    'RingList.xml.sgn',
    'United_States/g3-tones.xml',
    'English_United_States/tc-sccp.jar',
  ];
}

/**
 * `count` distinct MACs from `seed`: a seeded vendor prefix and consecutive device parts from
 * a seeded start, so they never collide (up to 2^24 of them).
 *
 * @example
 * ```ts
 * phoneMacs(2, 1); // e.g. ['6A1F3C0012AB', '6A1F3C0012AC']
 * ```
 */
export function phoneMacs(count: number, seed = 1): string[] {
  if (!Number.isInteger(count) || count < 0 || count > 0x1000000)
    throw new InvalidArgumentError('count', 'must be an integer within 0..2^24');
  const rand = mulberry32(seed);
  // Clear the multicast bit and set the locally-administered one: these are not real vendors.
  const oui = ((Math.floor(rand() * 0x1000000) & 0xfeffff) | 0x020000) >>> 0;
  const start = Math.floor(rand() * 0x1000000);
  const hex = (n: number, w: number) => n.toString(16).toUpperCase().padStart(w, '0');
  return Array.from({ length: count }, (_, i) => hex(oui, 6) + hex((start + i) % 0x1000000, 6));
}

/** Sizes in bytes of the files {@link bootStormFixture} makes. */
export interface BootStormFileSizes {
  trustList?: number;
  config?: number;
  ringList?: number;
  tones?: number;
  localeJar?: number;
}

/** Files for a storm and their SHA-256, ready for a server handler and for `verify`. */
export interface BootStormFixture {
  readonly macs: readonly string[];
  readonly files: ReadonlyMap<string, Buffer>;
  readonly sha256: ReadonlyMap<string, string>;
}

function seededBytes(size: number, seed: number, header: string): Buffer {
  const rand = mulberry32(seed);
  const buf = Buffer.alloc(size);
  for (let i = 0; i < size; i++) buf[i] = Math.floor(rand() * 256);
  // A readable header makes a misdelivered file obvious in a capture.
  buf.write(header.slice(0, size), 0, 'latin1');
  return buf;
}

/**
 * Make the files of {@link defaultPhoneFiles} for `phones` phones: per-phone files differ in
 * content (a file served to the wrong phone fails its hash), shared ones are shared.
 *
 * @example
 * ```ts
 * const fx = bootStormFixture({ phones: 100, seed: 1 });
 * const server = createServer({ handler: (req) => fx.files.get(req.filename) ?? notFound(req) });
 * const storm = await runBootStorm({ target, phones: 100, seed: 1, verify: fx.sha256 });
 * ```
 */
export function bootStormFixture(opts: {
  phones: number;
  seed?: number;
  sizes?: BootStormFileSizes;
}): BootStormFixture {
  const seed = opts.seed ?? 1;
  const sizes = {
    trustList: 5_000,
    config: 6_000,
    ringList: 1_100,
    tones: 3_300,
    localeJar: 40_000,
    ...opts.sizes,
  };
  const macs = phoneMacs(opts.phones, seed);
  const files = new Map<string, Buffer>();
  files.set('RingList.xml.sgn', seededBytes(sizes.ringList, seed + 1, 'RingList'));
  files.set('United_States/g3-tones.xml', seededBytes(sizes.tones, seed + 2, '<tones>'));
  files.set('English_United_States/tc-sccp.jar', seededBytes(sizes.localeJar, seed + 3, 'PK'));
  macs.forEach((mac, i) => {
    files.set(`ITLSEP${mac}.tlv`, seededBytes(sizes.trustList, seed * 7919 + i * 2 + 10, `ITL ${mac}`));
    files.set(
      `SEP${mac}.cnf.xml.sgn`,
      seededBytes(sizes.config, seed * 7919 + i * 2 + 11, `<device ${mac}>`),
    );
  });
  const sha256 = new Map<string, string>();
  for (const [name, data] of files) sha256.set(name, createHash('sha256').update(data).digest('hex'));
  return { macs, files, sha256 };
}

export interface BootStormOptions {
  /** Where the phones send their requests (the server, or a lossy link in front of it). */
  target: LinkEndpoint;
  /** How many phones. */
  phones: number;
  /** Seed of the MACs (same as the fixture's). Default 1. */
  seed?: number;
  /** The files each phone fetches, in order. Default {@link defaultPhoneFiles}. */
  files?: (mac: string) => string[];
  /**
   * Use a new source port for every file (RFC 1350's random TID per transfer) instead of one
   * socket per phone. Default false: many embedded clients keep one port, and a server must
   * tell their next request from a resent one.
   */
  portPerTransfer?: boolean;
  /**
   * With `portPerTransfer`, how long each finished transfer's socket stays open to re-ACK a
   * resent last DATA (so the OS does not hand its port to the next transfer while the server
   * still talks to it). Default: the phone's whole retry budget.
   */
  lingerMs?: number;
  /**
   * The address phone `index` sends from. Default: the loopback address of the target's
   * family. On Linux all of 127.0.0.0/8 is loopback, so `(i) => \`127.0.${1 + Math.floor(i / 250)}.${(i % 250) + 1}\``
   * gives every phone its own source address, as real phones have (per-source limits see them apart).
   */
  phoneAddress?: (index: number) => string;
  /** Phones booting at once. Default: all of them. */
  concurrency?: number;
  /** blksize to request (phones ask for 1428 or so on Ethernet). Default: none. */
  blksize?: number;
  /** Ask for tsize, as phones do. Default false. */
  tsize?: boolean;
  /** Each phone's retransmit timeout. Default 1000 ms. */
  retransmitTimeoutMs?: number;
  /** Each phone's retries per packet. Default 5. */
  retries?: number;
  /** Longest one transfer may take. Default 60 s. */
  deadlineMs?: number;
  /**
   * Requests per file before the phone gives up on it. Default 1: every failure counts. Real
   * phones ask again after a failed transfer; set 2 or more to play that, and read
   * `retriedTransfers` for how often it was needed.
   */
  attempts?: number;
  /**
   * How to check each file: a function, or expected SHA-256 per name (a name missing from
   * the map fails, so a fixture gap cannot pass unnoticed).
   */
  verify?:
    | ((name: string, data: Buffer) => boolean)
    | ReadonlyMap<string, string>
    | Readonly<Record<string, string>>;
}

/** One phone's boot. */
export interface PhoneOutcome {
  readonly mac: string;
  /** Every file arrived and verified. */
  readonly ok: boolean;
  /** Time from the first request to the last ACK. */
  readonly ms: number;
  /** Per file, in order (without the bytes): the last attempt's outcome. */
  readonly transfers: readonly Omit<TransferOutcome, 'data'>[];
  /** Files that needed more than one request. */
  readonly retried: number;
  /** The first failure, if any. */
  readonly error?: string;
}

export interface BootStormResult {
  readonly phones: readonly PhoneOutcome[];
  /** Transfers attempted. */
  readonly transfers: number;
  /** Transfers that failed or did not verify (after all `attempts`). */
  readonly failures: number;
  /** Transfers that failed at first and succeeded when the phone asked again. */
  readonly retriedTransfers: number;
  /** Phones with at least one failure. */
  readonly failedPhones: number;
  /** Phone boot time percentiles (all phones). */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Transfer time percentiles. */
  readonly transferP50Ms: number;
  readonly transferP99Ms: number;
  /** Packets the phones resent on timeout. */
  readonly retransmissions: number;
  /** DATA packets received per distinct block: 1 on a clean link, about 1 + loss on a lossy one. */
  readonly packetsPerBlock: number;
  readonly dataPackets: number;
  readonly blocks: number;
  readonly bytes: number;
  /** Wall time of the whole storm. */
  readonly durationMs: number;
  /** Failure reasons and how often each occurred. */
  readonly errors: Readonly<Record<string, number>>;
}

/** Nearest-rank percentile of unsorted values (0 for none). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

function verifier(v: BootStormOptions['verify']): ((out: TransferOutcome) => boolean) | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'function') return (out) => out.data !== undefined && v(out.name, out.data);
  const map: ReadonlyMap<string, string> = v instanceof Map ? v : new Map(Object.entries(v));
  return (out) => map.get(out.name) === out.sha256;
}

async function bootOnePhone(mac: string, index: number, opts: BootStormOptions): Promise<PhoneOutcome> {
  const host = opts.phoneAddress?.(index) ?? (opts.target.address.includes(':') ? '::1' : '127.0.0.1');
  const sock = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  sock.on('error', () => {});
  await new Promise<void>((resolve) => sock.bind(0, host, () => resolve()));
  const check = verifier(opts.verify);
  const options: TftpOptions = {};
  if (opts.blksize !== undefined) options.blksize = String(opts.blksize);
  if (opts.tsize) options.tsize = '0';
  const finishedTransfers = new Map<string, number>();
  const transfers: Omit<TransferOutcome, 'data'>[] = [];
  let error: string | undefined;
  let retried = 0;
  const started = performance.now();
  try {
    for (const name of (opts.files ?? defaultPhoneFiles)(mac)) {
      let outcome: Omit<TransferOutcome, 'data'> | undefined;
      for (let attempt = 0; attempt < Math.max(1, opts.attempts ?? 1) && !outcome?.ok; attempt++) {
        if (attempt > 0) retried++;
        const out = await instrumentedGet({
          target: opts.target,
          name,
          ...(opts.portPerTransfer
            ? {
                bindAddress: host,
                lingerMs: opts.lingerMs ?? (opts.retransmitTimeoutMs ?? 1000) * ((opts.retries ?? 5) + 1),
              }
            : { socket: sock }),
          options,
          retransmitTimeoutMs: opts.retransmitTimeoutMs,
          retries: opts.retries,
          deadlineMs: opts.deadlineMs,
          keepData: typeof opts.verify === 'function',
          finishedTransfers,
        });
        const { data: _data, ...rest } = out;
        outcome =
          out.ok && check && !check(out) ? { ...rest, ok: false, error: 'content does not verify' } : rest;
      }
      transfers.push(outcome!);
      if (!outcome!.ok) error ??= `${name}: ${outcome!.error}`;
    }
  } finally {
    await new Promise<void>((resolve) => sock.close(() => resolve()));
  }
  const ms = performance.now() - started;
  return error === undefined
    ? { mac, ok: true, ms, transfers, retried }
    : { mac, ok: false, ms, transfers, retried, error };
}

/**
 * Boot `phones` simulated phones against `target` and report how each fared.
 *
 * @example
 * ```ts
 * const fx = bootStormFixture({ phones: 500 });
 * const r = await runBootStorm({ target: { address: '127.0.0.1', port }, phones: 500, verify: fx.sha256 });
 * console.log(r.failures, r.p99Ms, r.packetsPerBlock);
 * ```
 */
export async function runBootStorm(opts: BootStormOptions): Promise<BootStormResult> {
  if (!Number.isInteger(opts.phones) || opts.phones < 1)
    throw new InvalidArgumentError('phones', 'must be >= 1');
  const macs = phoneMacs(opts.phones, opts.seed ?? 1);
  const concurrency = Math.max(1, Math.min(opts.concurrency ?? macs.length, macs.length));
  const outcomes: PhoneOutcome[] = new Array(macs.length);
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < macs.length) {
      const i = next++;
      outcomes[i] = await bootOnePhone(macs[i]!, i, opts);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const durationMs = performance.now() - started;

  const all = outcomes.flatMap((p) => p.transfers);
  const errors: Record<string, number> = {};
  for (const t of all) {
    if (t.ok) continue;
    // Group by the reason without the names and numbers that make every message unique.
    const reason = (t.error ?? 'unknown').replace(/\d+/g, 'N');
    errors[reason] = (errors[reason] ?? 0) + 1;
  }
  const sum = (k: 'retransmissions' | 'dataPackets' | 'blocks' | 'bytes' | 'lateDataPackets') =>
    all.reduce((n, t) => n + t[k], 0);
  const blocks = sum('blocks');
  const dataPackets = sum('dataPackets') + sum('lateDataPackets');
  const phoneMs = outcomes.map((p) => p.ms);
  const transferMs = all.map((t) => t.ms);
  return {
    phones: outcomes,
    transfers: all.length,
    failures: all.filter((t) => !t.ok).length,
    failedPhones: outcomes.filter((p) => !p.ok).length,
    retriedTransfers: outcomes.reduce((n, p) => n + p.retried, 0),
    p50Ms: percentile(phoneMs, 50),
    p99Ms: percentile(phoneMs, 99),
    maxMs: percentile(phoneMs, 100),
    transferP50Ms: percentile(transferMs, 50),
    transferP99Ms: percentile(transferMs, 99),
    retransmissions: sum('retransmissions'),
    packetsPerBlock: blocks === 0 ? 0 : dataPackets / blocks,
    dataPackets,
    blocks,
    bytes: sum('bytes'),
    durationMs,
    errors,
  };
}
