/**
 * Seeded pseudo-random numbers for the test harness. Every random decision the harness makes
 * (which packet to drop, which MAC a phone gets) comes from here, so a failing run can be
 * replayed exactly from its seed.
 */

/** A source of uniform numbers in [0, 1). */
export type Random = () => number;

/**
 * mulberry32: a 32-bit generator, tiny and fast, with a full 2^32 period. Not for
 * cryptography; good enough to spread faults evenly.
 *
 * @example
 * ```ts
 * const rand = mulberry32(42);
 * const coin = rand() < 0.5;
 * ```
 */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Derive an independent seed from a seed and a list of integers (a stream name, an index).
 * Lets each packet get its own generator, so one packet's decisions do not depend on how
 * many random numbers earlier packets happened to use, nor on the order in which they came.
 *
 * @example
 * ```ts
 * const rand = mulberry32(deriveSeed(7, 1, packetIndex));
 * ```
 */
export function deriveSeed(seed: number, ...parts: number[]): number {
  // murmur3's 32-bit finaliser over each part: cheap and well mixed.
  let h = seed >>> 0;
  for (const part of parts) {
    h ^= Math.imul(part >>> 0, 0xcc9e2d51);
    h = Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}
