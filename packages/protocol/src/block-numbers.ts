/**
 * 16-bit block numbers over an unbounded transfer. Sessions count blocks with plain integers
 * (1, 2, ... past 65535) and map them to the wire here, so rollover lives in one place.
 */

/**
 * The wire block number of the n-th block. After 65535 the counter wraps to 0 (the default,
 * what most clients expect) or to 1 (the `rollover=1` option).
 *
 * @example
 * ```ts
 * wireBlock(65536, 0); // 0
 * wireBlock(65536, 1); // 1
 * ```
 */
export function wireBlock(n: number, rollover: 0 | 1): number {
  if (rollover === 0) return n & 0xffff;
  return n <= 0xffff ? n : ((n - 1) % 0xffff) + 1;
}

/**
 * The block sequence number that a wire block number means, given the last block known to be
 * acknowledged (`base`) and the highest sequence number that may be meant (`limit`).
 * Returns undefined when no number in (base, limit] maps to `wire`.
 */
export function sequenceOf(wire: number, base: number, limit: number, rollover: 0 | 1): number | undefined {
  const modulus = rollover === 0 ? 0x10000 : 0xffff;
  const from = wireBlock(base, rollover);
  const diff = (((wire - from) % modulus) + modulus) % modulus;
  if (diff === 0) return undefined;
  const n = base + diff;
  if (n > limit || wireBlock(n, rollover) !== wire) return undefined;
  return n;
}
