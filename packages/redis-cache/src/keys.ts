import type { CacheFlushScope } from '@ptftp/resolver';

/** The Redis keys of one fleet (one prefix). */
export class Keys {
  constructor(readonly prefix: string) {}
  /** Hash: v (version), s (size), c (cluster), a (address), d (device), x (bytes, small files only). */
  file(name: string): string {
    return `${this.prefix}f:${name}`;
  }
  negative(name: string): string {
    return `${this.prefix}n:${name}`;
  }
  affinity(device: string): string {
    return `${this.prefix}a:${device.toUpperCase()}`;
  }
  lease(name: string): string {
    return `${this.prefix}l:${name}`;
  }
  /** Bumped by every flush, so a replica that missed the message while away flushes on return. */
  get epoch(): string {
    return `${this.prefix}epoch`;
  }
  get channel(): string {
    return `${this.prefix}events`;
  }
  /** A SCAN pattern for one kind of key (`f:`, `n:`, `a:`), the prefix's glob characters escaped. */
  pattern(kind: 'f:' | 'n:' | 'a:'): string {
    return `${this.prefix.replace(/[*?[\]\\]/g, '\\$&')}${kind}*`;
  }
  /** The name (or device) of a key found by SCAN. */
  strip(kind: 'f:' | 'n:' | 'a:', key: string): string {
    return key.slice(this.prefix.length + kind.length);
  }
}

/** What replicas tell each other on the fleet's channel. */
export type FleetMessage =
  /** A file, a "not found", or nothing (a fetch gave up) is now known for `name`: waiters look again. */
  | { t: 'filled' | 'negative' | 'released'; name: string }
  /** An operator flushed on replica `from`; `epoch` is the epoch after it. */
  | { t: 'flush'; from: string; epoch: number; scope: CacheFlushScope };

export function decodeMessage(raw: string): FleetMessage | undefined {
  try {
    const m = JSON.parse(raw) as FleetMessage;
    if (m && typeof m === 'object' && typeof m.t === 'string') return m;
  } catch {
    // Not ours: another program shares the channel name.
  }
  return undefined;
}
