/**
 * A simulated Cisco phone's start-up, in the order Cisco's phone administration guides give:
 * the trust lists (CTL, then ITL; per-device names first), the device configuration (signed
 * first once the phone holds a trust list, then unsigned, then the auto-registration default),
 * the firmware load the configuration names, then the dial plan, softkeys, feature policy,
 * ring list and locale files. Every signed file is judged with the trust lists the phone holds
 * at that moment.
 */
import { EventEmitter } from 'node:events';
import { InvalidArgumentError, type TftpTransferOptions } from '@ptftp/protocol';
import { stripSgn, type TrustDecision } from '@ptftp/security';
import type * as TypedEmitterModule from 'typed-emitter';
import type {
  BootFailure,
  BootFailureCode,
  BootResult,
  BootStep,
  FilePurpose,
  StepVerdict,
  TrustSummary,
} from './boot-result.js';
import { type DeviceConfig, parseDeviceConfig } from './device-config.js';
import {
  type Endpoint,
  type FetchAttempt,
  type FetchedFile,
  fetchFile,
  type Transport,
} from './fetch-file.js';
import { parseLoads } from './loads.js';
import { normalizeMac } from './mac.js';
import { type PhoneModel, phoneModel } from './models.js';
import { type HeldTrust, looksSigned, PhoneTrustStore, type Verdict } from './phone-trust.js';

/** Events of a {@link Phone}, one per step of its start-up. */
export type PhoneEvents = {
  /** One request on one transport and its answer (HTTP and TFTP attempts of one file each emit). */
  attempt: (attempt: FetchAttempt) => void;
  /** A file is settled: fetched and judged, or not found. */
  step: (step: BootStep) => void;
  /** The phone installed a trust list. */
  installed: (kind: 'CTL' | 'ITL', file: string, signer: string) => void;
  /** The boot ended. */
  done: (result: BootResult) => void;
};

type TypedEmitter<T extends TypedEmitterModule.EventMap> = TypedEmitterModule.default<T>;
const Emitter = EventEmitter as unknown as new () => TypedEmitter<PhoneEvents>;

/** The HTTP port of CUCM's TFTP service, that HTTP-first phones ask. */
export const PHONE_HTTP_PORT = 6970;

/** A phone to boot (plain data). */
export interface PhoneInit {
  /** MAC, any usual notation (`00:11:22:33:44:55`, `SEP001122334455`). */
  readonly mac: string;
  /** Model number, `8845` by default. */
  readonly model?: string;
  /** The TFTP server (what DHCP option 150 gave). */
  readonly tftp: Endpoint;
  /**
   * The HTTP endpoint tried first by HTTP-first models; `<tftp host>:6970` when omitted,
   * `false` for TFTP only.
   */
  readonly http?: Endpoint | false;
  /** The trust lists the phone holds before it boots (none: a factory-fresh phone). */
  readonly trust?: HeldTrust;
  /** The load the phone runs; when it equals the configuration's, no firmware is fetched. */
  readonly runningLoad?: string;
  /** The phone already runs whatever load the configuration names (a storm's non-upgraders). */
  readonly runsConfiguredLoad?: boolean;
  /** TFTP options (block size 1468 and 2 retries of 1 s unless given). */
  readonly tftpOptions?: TftpTransferOptions;
  /** HTTP timeout before TFTP is tried, ms (2000). */
  readonly httpTimeoutMs?: number;
  /** Largest non-firmware file kept in memory (4 MiB). */
  readonly maxFileBytes?: number;
  readonly signal?: AbortSignal;
}

const summary = (d: TrustDecision): TrustSummary => ({
  rule: d.rule,
  reason: d.reason,
  signer: { name: d.signer.name, serialHex: d.signer.serialHex, issuer: d.signer.issuer },
  remedies: d.remedies,
});

/** Verdict → the step's verdict word, its sentence and its trust summary. */
function judged(v: Verdict): Pick<BootStep, 'verdict' | 'detail' | 'trust'> {
  switch (v.kind) {
    case 'accepted':
    case 'rejected':
      return { verdict: v.kind, detail: v.decision.reason, trust: summary(v.decision) };
    case 'malformed':
      return { verdict: 'malformed', detail: v.detail, trust: undefined };
    case 'unsigned':
      return { verdict: 'unsigned', detail: 'unsigned file: nothing to verify', trust: undefined };
  }
}

class Stop extends Error {
  constructor(readonly failure: BootFailure) {
    super(failure.reason);
  }
}

/**
 * One simulated phone. `boot()` plays its start-up once and resolves with the timeline and
 * the verdict; it never rejects for what a server answers (that is the result), only for
 * invalid arguments.
 *
 * @example
 * ```ts
 * import { Phone } from '@ptftp/phone';
 * const phone = new Phone({ mac: '001122334455', model: '8845', tftp: { host: '10.0.0.5', port: 69 } });
 * phone.on('step', (s) => console.log(s.name, s.transport, s.answer, s.verdict));
 * const result = await phone.boot();
 * console.log(result.registered ? `would register with ${result.callManager?.name}` : result.failure?.reason);
 * ```
 */
export class Phone extends Emitter {
  readonly mac: string;
  readonly model: PhoneModel;
  readonly #init: PhoneInit;
  #trust!: PhoneTrustStore;
  #steps: BootStep[] = [];
  #warnings: string[] = [];

  constructor(init: PhoneInit) {
    super();
    this.mac = normalizeMac(init.mac);
    this.model = phoneModel(init.model);
    if (!init.tftp?.host || !Number.isInteger(init.tftp.port))
      throw new InvalidArgumentError('tftp', 'needs a host and a port');
    this.#init = init;
  }

  /** Play the start-up once. */
  async boot(): Promise<BootResult> {
    const started = performance.now();
    this.#trust = new PhoneTrustStore(this.#init.trust);
    this.#steps = [];
    this.#warnings = [];
    let config: DeviceConfig | undefined;
    let failure: BootFailure | undefined;
    try {
      await this.#trustLists();
      config = await this.#config();
      await this.#firmware(config);
      await this.#extras(config);
      if (config.callManagers.length === 0)
        throw new Stop({
          code: 'NO_CALL_MANAGER',
          file: this.#steps.find((s) => s.purpose === 'config' && s.status === 'ok')?.name ?? '',
          reason: 'the configuration names no call-control node (empty CallManager group)',
          remedies: [],
        });
    } catch (err) {
      if (!(err instanceof Stop)) throw err;
      failure = err.failure;
    }
    const bytes: Record<Transport, number> = { http: 0, tftp: 0 };
    const bytesByPurpose: Partial<Record<FilePurpose, number>> = {};
    for (const s of this.#steps) {
      if (s.status !== 'ok') continue;
      bytes[s.transport] += s.size;
      bytesByPurpose[s.purpose] = (bytesByPurpose[s.purpose] ?? 0) + s.size;
    }
    const result: BootResult = {
      mac: this.mac,
      model: this.model.id,
      registered: failure === undefined,
      callManager: failure === undefined ? config?.callManagers[0] : undefined,
      failure,
      steps: this.#steps,
      warnings: this.#warnings,
      ms: performance.now() - started,
      bytes,
      bytesByPurpose,
      holds: { itl: this.#trust.itl?.header.signer.name, ctl: this.#trust.ctl?.header.signer.name },
    };
    this.emit('done', result);
    return result;
  }

  #fetch(name: string, keep: boolean): Promise<FetchedFile> {
    const i = this.#init;
    const http =
      i.http === false || !this.model.httpFirst
        ? undefined
        : (i.http ?? { host: i.tftp.host, port: PHONE_HTTP_PORT });
    return fetchFile(
      name,
      keep,
      {
        tftp: i.tftp,
        http,
        tftpOptions: { blksize: 1468, retries: 2, retransmitTimeoutMs: 1000, ...i.tftpOptions },
        httpTimeoutMs: i.httpTimeoutMs ?? 2000,
        maxKeptBytes: i.maxFileBytes ?? 4 * 1024 * 1024,
        signal: i.signal,
      },
      (a) => this.emit('attempt', a),
    );
  }

  #record(
    f: FetchedFile,
    purpose: FilePurpose,
    judgement: Pick<BootStep, 'verdict' | 'detail' | 'trust'>,
  ): BootStep {
    const step: BootStep = {
      name: f.name,
      purpose,
      status: f.status,
      transport: f.transport,
      answer: f.answer,
      size: f.size,
      ms: f.ms,
      sha256: f.sha256,
      attempts: f.attempts,
      ...judgement,
    };
    this.#steps.push(step);
    this.emit('step', step);
    return step;
  }

  /** Record a file that did not arrive; a failed transfer of a required file stops the boot. */
  #missing(
    f: FetchedFile,
    purpose: FilePurpose,
    required: boolean,
    code: BootFailureCode = 'TRANSFER_FAILED',
  ) {
    const detail = f.status === 'not-found' ? 'not on the server' : `transfer failed: ${f.answer}`;
    this.#record(f, purpose, { verdict: 'none', detail, trust: undefined });
    if (required && f.status === 'failed')
      throw new Stop({ code, file: f.name, reason: `${f.name}: ${detail}`, remedies: [] });
  }

  async #trustLists(): Promise<void> {
    for (const kind of ['CTL', 'ITL'] as const) {
      for (const name of [`${kind}SEP${this.mac}.tlv`, `${kind}File.tlv`]) {
        const f = await this.#fetch(name, true);
        if (f.status !== 'ok') {
          this.#missing(f, kind, true);
          continue;
        }
        const held = kind === 'ITL' ? this.#trust.itl : this.#trust.ctl;
        const verdict = this.#trust.offerTrustList(kind, f.data!);
        this.#record(f, kind, judged(verdict));
        if (verdict.kind === 'accepted') {
          const now = kind === 'ITL' ? this.#trust.itl : this.#trust.ctl;
          this.emit('installed', kind, name, now?.header.signer.name ?? '');
        } else {
          this.#warnings.push(
            `${name} refused (${judged(verdict).detail}); the phone ${held ? `keeps the ${kind} it holds` : `holds no ${kind}`}`,
          );
        }
        break;
      }
    }
  }

  async #config(): Promise<DeviceConfig> {
    const base = `SEP${this.mac}.cnf.xml`;
    // A phone that holds a trust list asks for the signed configuration first (Cisco: "if a
    // phone receives a CTL file with a valid certificate for the TFTP server, the phone requests
    // a signed .cnf.xml.sgn configuration file"); the ITL of Security By Default does the same.
    const names = [...(this.#trust.holdsAny ? [`${base}.sgn`] : []), base, 'XMLDefault.cnf.xml'];
    for (const name of names) {
      const f = await this.#fetch(name, true);
      if (f.status !== 'ok') {
        this.#missing(f, 'config', true);
        continue;
      }
      const signed = name.endsWith('.sgn');
      const verdict: Verdict = signed ? this.#trust.check(f.data!) : { kind: 'unsigned' };
      const step = this.#record(f, 'config', judged(verdict));
      if (verdict.kind === 'rejected')
        throw new Stop({
          code: 'CONFIG_REJECTED',
          file: name,
          reason: verdict.decision.reason,
          remedies: verdict.decision.remedies,
        });
      if (verdict.kind === 'malformed')
        throw new Stop({ code: 'CONFIG_INVALID', file: name, reason: step.detail, remedies: [] });
      try {
        return parseDeviceConfig(signed ? stripSgn(f.data!) : f.data!);
      } catch (err) {
        throw new Stop({ code: 'CONFIG_INVALID', file: name, reason: (err as Error).message, remedies: [] });
      }
    }
    throw new Stop({
      code: 'CONFIG_NOT_FOUND',
      file: base,
      reason: `neither ${names.join(' nor ')} is on the server: the phone is not configured and auto-registration has no default`,
      remedies: [],
    });
  }

  async #firmware(config: DeviceConfig): Promise<void> {
    const load = config.loadInformation;
    if (load === undefined || this.#init.runsConfiguredLoad || this.#init.runningLoad === load) return;
    const name = `${load}.loads`;
    const f = await this.#fetch(name, true);
    const fail = (file: string, reason: string): never => {
      throw new Stop({ code: 'FIRMWARE_FAILED', file, reason, remedies: [] });
    };
    if (f.status !== 'ok') {
      this.#missing(f, 'loads', true, 'FIRMWARE_FAILED');
      this.#warnings.push(`${name} is not on the server: the phone stays on the load it runs`);
      return;
    }
    let images: ReturnType<typeof parseLoads>;
    try {
      images = parseLoads(f.data!);
    } catch (err) {
      this.#record(f, 'loads', { verdict: 'malformed', detail: (err as Error).message, trust: undefined });
      return fail(name, `${name}: ${(err as Error).message}`);
    }
    this.#record(f, 'loads', {
      verdict: 'not-checked',
      detail: `names ${images.length} image(s); firmware is signed by Cisco's own key, not by the cluster's trust list`,
      trust: undefined,
    });
    for (const image of images) {
      const got = await this.#fetch(image.name, false);
      if (got.status !== 'ok') {
        this.#missing(got, 'image', false);
        fail(
          image.name,
          `${image.name} (named by ${name}): ${got.status === 'not-found' ? 'not on the server' : got.answer}`,
        );
      }
      let verdict: StepVerdict = 'not-checked';
      let detail = `${got.size} bytes, SHA-256 ${got.sha256}`;
      if (image.sha256 !== undefined) {
        verdict = image.sha256 === got.sha256 ? 'hash-ok' : 'hash-mismatch';
        if (verdict === 'hash-mismatch') detail = `SHA-256 ${got.sha256}, but ${name} says ${image.sha256}`;
      } else if (image.size !== undefined) {
        verdict = image.size === got.size ? 'size-ok' : 'size-mismatch';
        if (verdict === 'size-mismatch') detail = `${got.size} bytes, but ${name} says ${image.size}`;
      }
      if (verdict === 'hash-ok' && image.size !== undefined && image.size !== got.size) {
        verdict = 'size-mismatch';
        detail = `${got.size} bytes, but ${name} says ${image.size}`;
      }
      this.#record(got, 'image', { verdict, detail, trust: undefined });
      if (verdict === 'hash-mismatch' || verdict === 'size-mismatch')
        fail(image.name, `${image.name}: ${detail}`);
    }
  }

  /** Files the configuration names, and the common ones; none of them stops registration. */
  async #extras(config: DeviceConfig): Promise<void> {
    const wanted: Array<[FilePurpose, string]> = [];
    if (config.dialTemplate) wanted.push(['dial-plan', config.dialTemplate]);
    if (config.softKeyFile) wanted.push(['softkeys', config.softKeyFile]);
    if (config.featurePolicyFile) wanted.push(['feature-policy', config.featurePolicyFile]);
    wanted.push(['ring-list', 'RingList.xml']);
    if (config.networkLocale)
      for (const f of this.model.networkLocaleFiles) wanted.push(['locale', `${config.networkLocale}/${f}`]);
    if (config.userLocale)
      for (const f of this.model.userLocaleFiles) wanted.push(['locale', `${config.userLocale}/${f}`]);
    for (const [purpose, name] of wanted) {
      // XML files: the signed variant first once the phone holds a trust list, like the
      // configuration (CUCM writes both); locale archives are asked for as named.
      const names = this.#trust.holdsAny && name.endsWith('.xml') ? [`${name}.sgn`, name] : [name];
      for (const n of names) {
        const f = await this.#fetch(n, true);
        if (f.status !== 'ok') {
          this.#missing(f, purpose, false);
          if (f.status === 'failed') this.#warnings.push(`${n}: transfer failed (${f.answer})`);
          continue;
        }
        const verdict: Verdict =
          n.endsWith('.sgn') || looksSigned(f.data!) ? this.#trust.check(f.data!) : { kind: 'unsigned' };
        const step = this.#record(f, purpose, judged(verdict));
        if (verdict.kind === 'rejected' || verdict.kind === 'malformed')
          this.#warnings.push(`${n} refused: ${step.detail}`);
        break;
      }
    }
  }
}

/**
 * Boot one phone and resolve with its result.
 *
 * @example
 * ```ts
 * const r = await bootPhone({ mac: '001122334455', tftp: { host: '127.0.0.1', port: 6969 }, http: false });
 * r.steps.map((s) => s.name); // ['CTLSEP001122334455.tlv', 'CTLFile.tlv', 'ITLSEP001122334455.tlv', ...]
 * ```
 */
export function bootPhone(init: PhoneInit): Promise<BootResult> {
  return new Phone(init).boot();
}
