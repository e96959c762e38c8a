/**
 * The trust lists a phone holds, and the phone's judgement of each signed file with them.
 * Every decision is `@ptftp/security`'s `evaluateTrust` (Cisco's CTL / ITL / TVS rules and the
 * remedies of `ptftp trust check`); this file only keeps the state that start-up changes: a
 * phone with no trust list installs the first ITL (and CTL) it is given, as Security By
 * Default does, and a later list replaces the held one only when the held one trusts it.
 */
import { evaluateTrust, parseTrustList, type TrustDecision, type TrustList } from '@ptftp/security';

/** What a phone holds before it boots. */
export interface HeldTrust {
  readonly itl?: Uint8Array;
  readonly ctl?: Uint8Array;
  /** PEM certificates the home TVS vouches for (only consulted when the ITL lists a TVS). */
  readonly tvsTrust?: readonly string[];
}

/** The verdict on one file. */
export type Verdict =
  | { readonly kind: 'accepted'; readonly decision: TrustDecision }
  | { readonly kind: 'rejected'; readonly decision: TrustDecision }
  | { readonly kind: 'malformed'; readonly detail: string }
  | { readonly kind: 'unsigned' };

/** True when `bytes` start like a Cisco signed file (VERSION element first). */
export function looksSigned(bytes: Uint8Array): boolean {
  return bytes.length > 5 && bytes[0] === 1 && bytes[1] === 0 && bytes[2] === 2;
}

export class PhoneTrustStore {
  #itl: TrustList | undefined;
  #ctl: TrustList | undefined;
  readonly #tvsTrust: readonly string[] | undefined;

  constructor(held: HeldTrust = {}) {
    this.#itl = held.itl ? parseTrustList(held.itl) : undefined;
    this.#ctl = held.ctl ? parseTrustList(held.ctl) : undefined;
    this.#tvsTrust = held.tvsTrust;
  }

  get itl(): TrustList | undefined {
    return this.#itl;
  }

  get ctl(): TrustList | undefined {
    return this.#ctl;
  }

  /** The phone holds a CTL or an ITL, so it asks for signed configuration files. */
  get holdsAny(): boolean {
    return this.#itl !== undefined || this.#ctl !== undefined;
  }

  /** Judge a signed file (`.sgn`, trust list) with the lists held now. */
  check(file: Uint8Array): Verdict {
    let decision: TrustDecision;
    try {
      decision = evaluateTrust(file, { itl: this.#itl, ctl: this.#ctl, tvsTrust: this.#tvsTrust });
    } catch (err) {
      return { kind: 'malformed', detail: (err as Error).message };
    }
    return decision.accepted ? { kind: 'accepted', decision } : { kind: 'rejected', decision };
  }

  /**
   * A fetched CTL or ITL: judged like any signed file (the first one is accepted because the
   * phone holds nothing yet), and installed when accepted.
   */
  offerTrustList(kind: 'CTL' | 'ITL', file: Uint8Array): Verdict {
    if (!looksSigned(file)) return { kind: 'malformed', detail: `${kind} is not a signed trust list` };
    const verdict = this.check(file);
    if (verdict.kind !== 'accepted') return verdict;
    try {
      const list = parseTrustList(file);
      if (kind === 'ITL') this.#itl = list;
      else this.#ctl = list;
    } catch (err) {
      return { kind: 'malformed', detail: (err as Error).message };
    }
    return verdict;
  }
}
