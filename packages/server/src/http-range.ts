/** A byte range to send, inclusive at both ends as in `Content-Range`. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/**
 * Interpret a `Range` header against a body of `size` bytes (RFC 9110 §14.1.2, §14.2).
 * - `undefined`: no usable range (absent, not `bytes=`, several ranges): send the whole body.
 *   Ignoring a Range is always allowed, and phones never ask for several ranges.
 * - `'unsatisfiable'`: answer 416 with `Content-Range: bytes *\/size`.
 *
 * @example
 * ```ts
 * parseRange('bytes=100-1099', 10_000); // { start: 100, end: 1099 }
 * parseRange('bytes=-10', 10_000);      // { start: 9990, end: 9999 }
 * parseRange('bytes=10000-', 10_000);   // 'unsatisfiable'
 * ```
 */
export function parseRange(
  header: string | undefined,
  size: number,
): ByteRange | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return undefined;
  const [, first = '', last = ''] = m;
  if (first === '' && last === '') return undefined;
  if (first === '') {
    // Suffix range: the last N bytes.
    const n = Number(last);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(first);
  if (start >= size) return 'unsatisfiable';
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (end < start) return undefined; // invalid syntax per RFC 9110: ignore the header
  return { start, end };
}
