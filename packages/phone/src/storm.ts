/**
 * A boot storm of simulated phones: N phones started with bounded concurrency against one
 * server, a realistic share of them upgrading firmware (the rest already run the configured
 * load), reporting what an operator wants before a maintenance window: boot time p50/p99,
 * failures by reason, bytes by transport and by kind of file, and the generator's own CPU.
 * Firmware images are hashed while they stream, never held whole.
 */
import { InvalidArgumentError, type TftpTransferOptions } from '@ptftp/protocol';
import type { BootFailureCode, BootResult, FilePurpose } from './boot-result.js';
import type { Endpoint, Transport } from './fetch-file.js';
import { macRange } from './mac.js';
import { bootPhone } from './phone.js';
import type { HeldTrust } from './phone-trust.js';

/** A storm to run. */
export interface PhoneStormInit {
  readonly tftp: Endpoint;
  /** HTTP endpoint for HTTP-first models; `<tftp host>:6970` when omitted, `false` for TFTP only. */
  readonly http?: Endpoint | false;
  readonly count: number;
  /** Hex digits the MACs start with (`0011` → `001100000000`, `001100000001`, ...). */
  readonly macPrefix?: string;
  readonly model?: string;
  /** Phones booting at once (100). */
  readonly concurrency?: number;
  /** Share of phones that fetch the firmware load, 0..1 (0.1). The rest already run it. */
  readonly upgradeShare?: number;
  /** Trust lists every phone holds before it boots. */
  readonly trust?: HeldTrust;
  readonly tftpOptions?: TftpTransferOptions;
  /** HTTP timeout before TFTP is tried, ms (2000). */
  readonly httpTimeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Called as each phone finishes (progress bars, per-phone logs). */
  readonly onPhone?: (result: BootResult, index: number) => void;
}

/** Milliseconds: median, 99th percentile, slowest. */
export interface Percentiles {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** What a storm measured. */
export interface PhoneStormReport {
  readonly phones: number;
  readonly registered: number;
  readonly upgraded: number;
  readonly wallMs: number;
  /** Per-phone boot time. */
  readonly bootMs: Percentiles;
  /** Phones that would not register, by the first reason. */
  readonly failures: Readonly<Partial<Record<BootFailureCode, number>>>;
  /** One example reason per failure code, for the report. */
  readonly failureExamples: Readonly<Partial<Record<BootFailureCode, string>>>;
  readonly bytesByTransport: Readonly<Record<Transport, number>>;
  readonly bytesByPurpose: Readonly<Partial<Record<FilePurpose, number>>>;
  /** CPU time of this process during the storm (the load generator's cost), ms. */
  readonly cpuMs: { readonly user: number; readonly system: number };
}

/**
 * The value at quantile `q` (0..1) of `values` by the nearest-rank method; 0 for none.
 *
 * @example
 * ```ts
 * percentile([1, 2, 3, 4], 0.5); // 2
 * ```
 */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/**
 * Which phones upgrade: spread evenly through the list (every 1/share-th phone), so a storm's
 * firmware load does not arrive all at its start or end.
 */
function upgrades(index: number, share: number): boolean {
  return Math.floor((index + 1) * share) > Math.floor(index * share);
}

/**
 * Boot `count` phones against a server and report.
 *
 * @example
 * ```ts
 * import { runPhoneStorm } from '@ptftp/phone';
 * const r = await runPhoneStorm({ tftp: { host: '127.0.0.1', port: 6969 }, http: false, count: 1000, macPrefix: '0011' });
 * console.log(r.bootMs.p50, r.bootMs.p99, r.failures, r.bytesByTransport);
 * ```
 */
export async function runPhoneStorm(init: PhoneStormInit): Promise<PhoneStormReport> {
  const concurrency = init.concurrency ?? 100;
  const share = init.upgradeShare ?? 0.1;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new InvalidArgumentError('concurrency', `${concurrency} is not a positive integer`);
  if (!(share >= 0 && share <= 1))
    throw new InvalidArgumentError('upgradeShare', `${share} is not within 0..1`);
  const macs = macRange(init.macPrefix ?? '0011', init.count);
  const results: BootResult[] = new Array(macs.length);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  let upgraded = 0;
  const worker = async () => {
    while (next < macs.length && !init.signal?.aborted) {
      const i = next++;
      const upgrade = upgrades(i, share);
      if (upgrade) upgraded++;
      const r = await bootPhone({
        mac: macs[i]!,
        model: init.model,
        tftp: init.tftp,
        http: init.http,
        trust: init.trust,
        runsConfiguredLoad: !upgrade,
        tftpOptions: init.tftpOptions,
        httpTimeoutMs: init.httpTimeoutMs,
        signal: init.signal,
      });
      results[i] = r;
      init.onPhone?.(r, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, macs.length) }, worker));
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const done = results.filter((r) => r !== undefined);
  const times = done.map((r) => r.ms);
  const failures: Partial<Record<BootFailureCode, number>> = {};
  const failureExamples: Partial<Record<BootFailureCode, string>> = {};
  const bytesByTransport: Record<Transport, number> = { http: 0, tftp: 0 };
  const bytesByPurpose: Partial<Record<FilePurpose, number>> = {};
  for (const r of done) {
    if (r.failure) {
      failures[r.failure.code] = (failures[r.failure.code] ?? 0) + 1;
      failureExamples[r.failure.code] ??= r.failure.reason;
    }
    bytesByTransport.http += r.bytes.http;
    bytesByTransport.tftp += r.bytes.tftp;
    for (const [k, v] of Object.entries(r.bytesByPurpose) as Array<[FilePurpose, number]>)
      bytesByPurpose[k] = (bytesByPurpose[k] ?? 0) + v;
  }
  return {
    phones: done.length,
    registered: done.filter((r) => r.registered).length,
    upgraded,
    wallMs,
    bootMs: { p50: percentile(times, 0.5), p99: percentile(times, 0.99), max: Math.max(0, ...times) },
    failures,
    failureExamples,
    bytesByTransport,
    bytesByPurpose,
    cpuMs: { user: cpu.user / 1000, system: cpu.system / 1000 },
  };
}
