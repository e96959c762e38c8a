import type { IncomingHttpHeaders } from 'node:http';

/** What identifies the version of a response: its entity tag and its modification date. */
export interface Validators {
  /** The quoted entity tag (`"v1"`), as sent in `ETag`. */
  readonly etag?: string | undefined;
  /** Epoch ms of the last change, in whole seconds, as sent in `Last-Modified`. */
  readonly lastModified?: number | undefined;
}

/** An entity tag for a version string, or undefined when it holds characters an ETag cannot (RFC 9110 §8.8.3). */
export function entityTag(version: string | undefined): string | undefined {
  return version !== undefined && /^[\x21\x23-\x7e]{1,200}$/.test(version) ? `"${version}"` : undefined;
}

/** The opaque tags of an `If-None-Match` list, weak prefixes dropped (weak comparison). */
function listedTags(header: string): string[] {
  return (header.match(/(?:W\/)?"[^"]*"/g) ?? []).map((t) => t.replace(/^W\//, ''));
}

function httpDate(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const t = Date.parse(header);
  return Number.isFinite(t) ? t : undefined;
}

/**
 * Whether a GET or HEAD is answered `304 Not Modified` (RFC 9110 §13.2.2): `If-None-Match`
 * when present (weak comparison, `*` matches any version), otherwise `If-Modified-Since`
 * against the `Last-Modified` date. A response without the validator a header asks about
 * never matches it.
 *
 * @example
 * ```ts
 * notModified({ 'if-none-match': 'W/"v1", "v2"' }, { etag: '"v2"' }); // true
 * notModified({ 'if-modified-since': 'Fri, 04 Dec 2026 10:00:00 GMT' }, { lastModified: Date.UTC(2026, 11, 4, 9) }); // true
 * ```
 */
export function notModified(headers: IncomingHttpHeaders, v: Validators): boolean {
  const inm = headers['if-none-match'];
  if (inm !== undefined) {
    if (v.etag === undefined) return false;
    return inm.trim() === '*' || listedTags(inm).includes(v.etag);
  }
  const since = httpDate(headers['if-modified-since']);
  return since !== undefined && v.lastModified !== undefined && v.lastModified <= since;
}

/**
 * Whether a `Range` header may be honoured (RFC 9110 §13.1.5): without `If-Range` always; with
 * it only when it names this very version (a strong ETag match, or exactly the `Last-Modified`
 * date). Otherwise the whole file is sent, so a resumed download never splices two versions.
 */
export function rangeApplies(headers: IncomingHttpHeaders, v: Validators): boolean {
  const raw = headers['if-range'];
  const ifRange = Array.isArray(raw) ? raw[0] : raw;
  if (ifRange === undefined) return true;
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith('W/')) return v.etag !== undefined && value === v.etag;
  const date = httpDate(value);
  return date !== undefined && v.lastModified !== undefined && date === v.lastModified;
}

/**
 * `Last-Modified` for files whose source gives no date: the second this server first saw the
 * version of a name. A new version of a name always gets a later second than the one before
 * (so a client holding the old date never gets a false 304); names forgotten to stay within
 * `max` only ever come back later than every date handed out; and the first dates are after
 * this process started, later than any an earlier process gave.
 */
export class VersionDates {
  private readonly seen = new Map<string, { version: string; at: number }>();
  private floor: number;

  constructor(
    private readonly max = 4096,
    private readonly now: () => number = Date.now,
  ) {
    this.floor = this.second() + 1000;
  }

  private second(): number {
    return Math.floor(this.now() / 1000) * 1000;
  }

  /** The date of `version` of `name`, or undefined while it would be in the future. */
  dateOf(name: string, version: string): number | undefined {
    const prev = this.seen.get(name);
    let at: number;
    if (prev && prev.version === version) at = prev.at;
    else at = Math.max(this.second(), this.floor, prev ? prev.at + 1000 : 0);
    // Map order is insertion order: re-inserting keeps the least recently used first.
    this.seen.delete(name);
    this.seen.set(name, { version, at });
    if (this.seen.size > this.max) {
      const [oldest, entry] = this.seen.entries().next().value as [string, { at: number }];
      this.seen.delete(oldest);
      this.floor = Math.max(this.floor, entry.at + 1000);
    }
    return at <= this.now() ? at : undefined;
  }
}
