import { InvalidArgumentError } from '@ptftp/protocol';

/**
 * A MAC as Cisco names files with it: 12 upper-case hex digits, separators dropped.
 * `SEP` in front (as in a device name) is accepted and removed.
 *
 * @example
 * ```ts
 * normalizeMac('00:11:22:aa:bb:cc'); // '001122AABBCC'
 * ```
 */
export function normalizeMac(input: string): string {
  const hex = input
    .trim()
    .replace(/^SEP/i, '')
    .replace(/[:.\-\s]/g, '')
    .toUpperCase();
  if (!/^[0-9A-F]{12}$/.test(hex))
    throw new InvalidArgumentError('mac', `"${input}" is not a MAC address (12 hex digits)`);
  return hex;
}

/**
 * `count` consecutive MACs starting at `prefix` padded with zeros (`0011` → `001100000000`,
 * `001100000001`, ...): a storm's phones, distinct and reproducible.
 *
 * @example
 * ```ts
 * macRange('00AA', 2); // ['00AA00000000', '00AA00000001']
 * ```
 */
export function macRange(prefix: string, count: number): string[] {
  const p = prefix
    .replace(/^SEP/i, '')
    .replace(/[:.\-\s]/g, '')
    .toUpperCase();
  if (!/^[0-9A-F]{0,11}$/.test(p))
    throw new InvalidArgumentError('macPrefix', `"${prefix}" is not 0 to 11 hex digits`);
  const width = 12 - p.length;
  if (!Number.isInteger(count) || count < 0 || count > 16 ** width)
    throw new InvalidArgumentError('count', `${count} phones do not fit behind the prefix ${p || '(none)'}`);
  return Array.from({ length: count }, (_, i) => p + i.toString(16).toUpperCase().padStart(width, '0'));
}
