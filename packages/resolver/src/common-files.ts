import { globToRegExp } from './glob.js';

/**
 * Files every cluster ships its own copy of, which the proxy serves from its local copy even
 * when the phone's home cluster has one: ring lists and locale files (user and network
 * locales live in `<Language_Country>/` directories; their tone, dictionary and jar files are
 * matched wherever they are).
 */
export const DEFAULT_COMMON_FILES: readonly string[] = [
  'RingList.xml',
  'RingList.xml.sgn',
  'DistinctiveRingList.xml',
  'DistinctiveRingList.xml.sgn',
  '*_*/**',
  '**/g3-tones.xml',
  '**/*-tones.xml',
  '**/*-dictionary*.xml',
  '**/*-font.xml',
  '**/*-kate.xml',
  '**/*-sip.jar',
  '**/*-sccp.jar',
];

/**
 * Decides whether a name is a common file: the defaults plus the configured glob patterns.
 *
 * @example
 * ```ts
 * const common = new CommonFiles(['Desktops/**']);
 * common.matches('ringlist.xml.sgn'); // true (case-insensitive)
 * common.matches('Desktops/320x196x4/List.xml'); // true
 * ```
 */
export class CommonFiles {
  readonly patterns: readonly string[];
  readonly #re: RegExp;

  constructor(extra: readonly string[] = []) {
    this.patterns = [...DEFAULT_COMMON_FILES, ...extra];
    // One alternation instead of one test per pattern: this runs on every request.
    this.#re = new RegExp(this.patterns.map((p) => `(?:${globToRegExp(p).source})`).join('|'), 'i');
  }

  matches(name: string): boolean {
    return this.#re.test(name);
  }
}
