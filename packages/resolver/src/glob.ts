/**
 * Compiles a file-name glob to a case-insensitive RegExp matching the whole name.
 * `*` matches within one path segment, `**` across segments (`**\/` also matches nothing),
 * `?` one character. Case-insensitive because phones do not agree on the case of file names.
 *
 * @example
 * ```ts
 * globToRegExp('SEP*.cnf.xml*').test('SEP001122334455.cnf.xml.sgn'); // true
 * ```
 */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        const slash = pattern[i + 2] === '/';
        re += slash ? '(?:.*/)?' : '.*';
        i += slash ? 2 : 1;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'i');
}
