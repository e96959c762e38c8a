/**
 * @packageDocumentation
 * A simulated Cisco IP phone that answers "will my phones boot through this server?": it plays
 * a phone's start-up (CTL, ITL, device configuration with its fallbacks, firmware load, dial
 * plan, softkeys, ring list, locales; HTTP on 6970 first for the models that do so, TFTP as
 * fallback), judges every signed file with the trust lists it holds using `@ptftp/security`'s
 * `evaluateTrust`, and says whether it would register, or the first reason it would not with
 * the remedies. `runPhoneStorm` boots a thousand of them against one server.
 *
 * ```ts
 * import { Phone, runPhoneStorm } from '@ptftp/phone';
 *
 * const phone = new Phone({ mac: '001122334455', model: '8845', tftp: { host: '10.0.0.5', port: 69 } });
 * phone.on('step', (s) => console.log(s.name, s.transport, s.answer, s.size, s.verdict));
 * const r = await phone.boot();
 * if (!r.registered) console.log(r.failure?.reason, r.failure?.remedies.map((x) => x.summary));
 *
 * const storm = await runPhoneStorm({ tftp: { host: '10.0.0.5', port: 69 }, count: 1000, macPrefix: '0011' });
 * console.log(storm.bootMs.p99, storm.failures);
 * ```
 */

export type {
  BootFailure,
  BootFailureCode,
  BootResult,
  BootStep,
  FilePurpose,
  StepVerdict,
  TrustSummary,
} from './boot-result.js';
export { type CallManagerNode, type DeviceConfig, parseDeviceConfig } from './device-config.js';
export type { Endpoint, FetchAttempt, Transport } from './fetch-file.js';
export { type LoadImage, parseLoads } from './loads.js';
export { macRange, normalizeMac } from './mac.js';
export { PHONE_MODELS, type PhoneModel, phoneModel } from './models.js';
export { bootPhone, PHONE_HTTP_PORT, Phone, type PhoneEvents, type PhoneInit } from './phone.js';
export type { HeldTrust } from './phone-trust.js';
export {
  type Percentiles,
  type PhoneStormInit,
  type PhoneStormReport,
  percentile,
  runPhoneStorm,
} from './storm.js';
