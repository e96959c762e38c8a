import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { verbs } from '../src/commands/index.js';
import { captureIo, createProgram, run } from '../src/index.js';

// Every verb loaded, to walk the whole command tree.
const fullProgram = await createProgram(captureIo());

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
  walk(fullProgram, []);

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

describe('lazy verbs: --help lists every verb from the static table', () => {
  it('each summary and help term in commands/index.ts is what the loaded module registers', async () => {
    const full = await createProgram(captureIo());
    const help = full.createHelp();
    expect(full.commands.map((c) => c.name())).toEqual(verbs.map((v) => v.name));
    for (const v of verbs) {
      const cmd = full.commands.find((c) => c.name() === v.name)!;
      expect(cmd.description(), v.name).toBe(v.summary);
      expect(help.subcommandTerm(cmd), v.name).toBe(v.term);
    }
  });

  it('ptftp --help without loading any verb lists them all, as the full program does', async () => {
    const lazy = await cli('--help');
    const io = captureIo();
    const full = await createProgram(io);
    full.exitOverride();
    await full.parseAsync(['--help'], { from: 'user' }).catch(() => {});
    expect(lazy.code).toBe(0);
    expect(lazy.out).toBe(io.out);
    for (const v of verbs) expect(lazy.out).toContain(`  ${v.term} `);
  });

  it('only the named verb is complete; the others are placeholders', async () => {
    const program = await createProgram(captureIo(), ['dhcp', 'option150', '10.1.1.10']);
    const dhcp = program.commands.find((c) => c.name() === 'dhcp')!;
    const serve = program.commands.find((c) => c.name() === 'serve')!;
    expect(dhcp.commands.map((c) => c.name())).toContain('option150');
    expect(serve.options).toHaveLength(0);
  });

  it('--version and -V print the version from package.json, exit 0', async () => {
    const { version } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
    expect(await cli('--version')).toEqual({ code: 0, out: `${version}\n`, err: '' });
    expect(await cli('-V')).toEqual({ code: 0, out: `${version}\n`, err: '' });
  });
});
