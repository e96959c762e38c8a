/**
 * Issue 13, item 6: a requested name is the client's text. In `--log-format pretty` it must not
 * forge log lines or drive the terminal; in JSON it stays valid and means the same name.
 */
import { describe, expect, it } from 'vitest';
import { escapeForLog, escapeJsonLine } from '../src/log-escape.js';
import { createLogger, prettyLine } from '../src/logger.js';

const hostile =
  'SEP1.cnf.xml\n12:00:00.000 INFO  tftp admin.cfg <- local\r\x1b[2J\x9b31m\u202egpj.exe\u2028x\x7f\\n';

function capture(format: 'json' | 'pretty'): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const log = createLogger(
    { stdout: () => {}, stderr: (t: string) => lines.push(t), isTTY: false },
    { format },
  );
  return { lines, log };
}

describe('log escaping (--log-format pretty and json)', () => {
  it('escapeForLog: every control, C1, separator and bidi character becomes a visible escape; \\ doubles', () => {
    expect(escapeForLog(hostile)).toBe(
      'SEP1.cnf.xml\\n12:00:00.000 INFO  tftp admin.cfg <- local\\r\\x1b[2J\\x9b31m\\u202egpj.exe\\u2028x\\x7f\\\\n',
    );
    expect(escapeForLog('SEP001122334455.cnf.xml.sgn')).toBe('SEP001122334455.cnf.xml.sgn');
    expect(escapeForLog('Desktops/320x212x16/List.xml é')).toBe('Desktops/320x212x16/List.xml é');
  });

  it('pretty: a name with a newline and ANSI escapes stays on one line with no ESC byte', () => {
    const { lines, log } = capture('pretty');
    log.info({ file: hostile }, `tftp ${hostile}: file not found`);
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/);
    expect(line).toContain('SEP1.cnf.xml\\n12:00:00.000 INFO');
    expect(prettyLine('not json\n\x1b[2J')).toBe('not json\\n\\x1b[2J\n');
  });

  it('json: one valid line, no raw C1/DEL/separator/bidi character, and the same name after parsing', () => {
    const { lines, log } = capture('json');
    log.info({ file: hostile }, 'failed');
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/);
    expect((JSON.parse(line) as { file: string }).file).toBe(hostile);
    expect(escapeJsonLine('{"a":"\u009b"}\n')).toBe('{"a":"\\u009b"}\n');
  });
});
