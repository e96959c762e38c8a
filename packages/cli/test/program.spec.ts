import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { captureIo, createProgram, run } from '../src/index.js';

async function cli(...argv: string[]) {
  const io = captureIo();
  const code = await run(argv, io);
  return { code, out: io.out, err: io.err };
}

describe('usage errors: one line `ptftp: ...` on stderr, exit 2 (docs/packages/cli.md, "Exit codes and output")', () => {
  const cases: Array<[string[], RegExp]> = [
    [['frob'], /unknown command 'frob'/],
    [['dhcp', 'option150'], /missing required argument 'addresses'/],
    [['dhcp', 'decode', 'zz'], /value 'zz' is invalid for argument 'hex'. expected hex digits/],
    [
      ['sgn', 'sign', 'a.xml', '--key', 'k', '--cert', 'c', '--hash', 'md5'],
      /'--hash <alg>' argument 'md5' is invalid/,
    ],
    [['sgn', 'sign', 'a.xml'], /required option '--key <key.pem>' not specified/],
    [['tlv', 'verify', 'a.tlv', '--bogus'], /unknown option '--bogus'/],
    // A group without its verb: one line naming the verbs, not the group's whole help.
    [['cache'], /^ptftp: missing command for 'cache' \(one of: flush\) \(see --help\)\n$/],
    [['sgn'], /missing command for 'sgn' \(one of: sign, verify, strip, show\)/],
    [
      ['cache', 'flsh', '--device', 'X'],
      /unknown command 'flsh' for 'cache' \(did you mean flush\? one of: flush\)/,
    ],
    [['cache', '--bogus'], /^ptftp: unknown option '--bogus' \(see --help\)\n$/],
    [
      ['dhcp', 'encode'],
      /unknown command 'encode' for 'dhcp' \(did you mean decode\? one of: option150, option66, option17, decode, plan\)/,
    ],
  ];
  for (const [argv, message] of cases) {
    it(`ptftp ${argv.join(' ')}`, async () => {
      const r = await cli(...argv);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^ptftp: [^\n]+\n$/);
      expect(r.err).toMatch(message);
      expect(r.out).toBe('');
    });
  }
});

describe('--help of every command and group shows an example', () => {
  const paths: string[][] = [];
  const walk = (cmd: Command, path: string[]) => {
    for (const sub of cmd.commands) {
      paths.push([...path, sub.name()]);
      walk(sub, [...path, sub.name()]);
    }
  };
  walk(createProgram(captureIo()), []);

  it('finds the verbs', () => {
    expect(paths.map((p) => p.join(' '))).toEqual(
      expect.arrayContaining(['sgn sign', 'tlv build', 'trust check', 'dhcp', 'dhcp option150', 'get']),
    );
  });

  for (const path of paths) {
    it(`ptftp ${path.join(' ')} --help`, async () => {
      const r = await cli(...path, '--help');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/Examples?:\n\s+\$ ptftp /);
    });
  }
});

describe('help', () => {
  it("`ptftp GROUP help VERB` prints the verb's help, as `ptftp GROUP VERB --help` does", async () => {
    const viaHelp = await cli('cache', 'help', 'flush');
    const viaFlag = await cli('cache', 'flush', '--help');
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.out).toMatch(/^Usage: ptftp cache flush /);
    expect(viaHelp.out).toBe(viaFlag.out);
  });
});
