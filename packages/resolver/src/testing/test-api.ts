/**
 * The few test-framework functions the compliance suites need, passed in by the caller so that
 * this package does not depend on a test framework (vitest's and jest's functions fit).
 */
export interface TestApi {
  describe: (name: string, fn: () => void) => void;
  it: (name: string, fn: () => Promise<void> | void) => void;
  expect: (actual: unknown) => Matchers;
  afterEach?: (fn: () => Promise<void> | void) => void;
}

/** The matchers the suites use. */
export interface Matchers {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toBeUndefined(): void;
  toBeGreaterThan(n: number): void;
  not: { toBe(expected: unknown): void; toEqual(expected: unknown): void };
}

export function errorCode(err: unknown): unknown {
  return typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : err;
}

/** Bytes 0..255 repeated to `length`: every byte value, so encodings cannot hide. */
export function patternBytes(length: number, seed = 0): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 7 + seed) & 0xff;
  return out;
}
