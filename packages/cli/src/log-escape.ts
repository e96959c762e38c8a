/**
 * Characters a terminal or a log viewer acts on instead of showing: C0 controls (newline,
 * carriage return, ESC...), DEL, C1 controls (U+009B is a one-byte CSI on many terminals), the
 * Unicode line and paragraph separators, and the bidirectional overrides that reorder what is
 * shown. A requested file name is the client's text: written raw, `a\n12:00:00.000 INFO ...`
 * forges a second log line and `\x1b[2J` clears the operator's screen.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const UNSAFE_OR_BACKSLASH = /[\\\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\\': '\\\\' };

function escapeChar(c: string): string {
  const short = SHORT[c];
  if (short) return short;
  const code = c.charCodeAt(0);
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * Text made safe for one line of a terminal log: every control character as a visible escape
 * (`\n`, `\x1b`, `\u202e`), and `\` as `\\` so an escape in the output is never ambiguous.
 *
 * @example
 * ```ts
 * escapeForLog('a\n12:00:00 INFO forged\x1b[31m'); // 'a\\n12:00:00 INFO forged\\x1b[31m'
 * ```
 */
export function escapeForLog(text: string): string {
  return text.replace(UNSAFE_OR_BACKSLASH, escapeChar);
}

/**
 * One JSON log line with the characters JSON.stringify leaves raw (DEL, C1 controls, U+2028/9,
 * bidi overrides) written as `\u` escapes. They can only occur inside strings, where the escape
 * means the same character, so the line stays valid JSON with the same value, and a viewer
 * (`tail -f` on a terminal) never acts on them.
 */
export function escapeJsonLine(line: string): string {
  return line.replace(UNSAFE, (c) =>
    c === '\n' ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
