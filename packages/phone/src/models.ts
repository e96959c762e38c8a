/**
 * What differs between phone models during start-up: whether the firmware asks the TFTP
 * server's HTTP port (6970) first, and which user-locale files it loads.
 *
 * Cisco documents HTTP on 6970 as the transport that newer phone firmware tries before TFTP
 * (CUCM's TFTP service serves both); the 7800 and 8800 series do, the older 7900 series ask
 * TFTP only. The user-locale file names follow the `<Language_Country>/` layout of Cisco's
 * locale installer; a missing locale file is not fatal for a phone (it keeps its built-in
 * English).
 */
export interface PhoneModel {
  /** `8845`, `7841`, ... (without `CP-`). */
  readonly id: string;
  /** Tries `http://<tftp>:6970/<name>` before TFTP for every file. */
  readonly httpFirst: boolean;
  /** Files under `<userLocale>/` that the phone loads for its user locale. */
  readonly userLocaleFiles: readonly string[];
  /** Files under `<networkLocale>/` (tones, cadences). */
  readonly networkLocaleFiles: readonly string[];
}

const modern = (id: string): PhoneModel => ({
  id,
  httpFirst: true,
  userLocaleFiles: ['ipc-sip.jar'],
  networkLocaleFiles: ['g3-tones.xml'],
});
const classic = (id: string): PhoneModel => ({
  id,
  httpFirst: false,
  userLocaleFiles: ['tc-sccp.jar'],
  networkLocaleFiles: ['g3-tones.xml'],
});

/** The models `ptftp phone` knows. Unknown model numbers boot like an 8845. */
export const PHONE_MODELS: Readonly<Record<string, PhoneModel>> = Object.fromEntries(
  [
    ...['7811', '7821', '7841', '7861', '8811', '8841', '8845', '8851', '8861', '8865'].map(modern),
    ...['7942', '7945', '7962', '7965', '7975'].map(classic),
  ].map((m) => [m.id, m]),
);

/**
 * The profile of `id` (`8845`, `CP-8845`); unknown models get the 8845's behaviour under
 * their own id.
 *
 * @example
 * ```ts
 * phoneModel('CP-7965').httpFirst; // false
 * ```
 */
export function phoneModel(id = '8845'): PhoneModel {
  const bare = id.replace(/^CP-/i, '').toUpperCase();
  return PHONE_MODELS[bare] ?? { ...modern(bare), id: bare };
}
