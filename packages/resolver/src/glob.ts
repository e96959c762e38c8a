import picomatch from 'picomatch';

/**
 * Compiles a file-name glob to a case-insensitive RegExp matching the whole name, with
 * picomatch: `*` matches within one path segment (a leading dot included), `**` across
 * segments (`**\/` also matches nothing), `?` one character, `[0-9]` and `{a,b}` as in a
 * shell. Parentheses, `+`, `@` and a leading `!` are literal characters (no extglobs, no
 * negation: a flush of `!x` never means "everything but x"). Case-insensitive because phones do not agree on the case of file names.
 *
 * @example
 * ```ts
 * globToRegExp('SEP*.cnf.xml*').test('SEP001122334455.cnf.xml.sgn'); // true
 * ```
 */
export function globToRegExp(pattern: string): RegExp {
  // Parentheses would be regex groups to picomatch; in a file name they are characters.
  const literalParens = pattern.replace(/[()]/g, '\\$&');
  return picomatch.makeRe(literalParens, { nocase: true, dot: true, nonegate: true, noextglob: true });
}
