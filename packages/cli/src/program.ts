import { Command, CommanderError } from 'commander';
import { loadVerbs, registerCommands, verbs, verbsFor } from './commands/index.js';
import { CliError, type CliIo, defaultIo } from './io.js';
import { VERSION } from './version.js';

/**
 * Build the `ptftp` program. `io` lets tests and embedders capture output instead of writing
 * to the process streams. With `argv`, only the module of the verb it names is loaded (the
 * others appear in --help by their summary); without, every verb is complete.
 *
 * @example
 * ```ts
 * const program = await createProgram(captureIo());
 * program.commands.map((c) => c.name()); // ['serve', 'config', 'cache', ...]
 * ```
 */
export async function createProgram(io: CliIo = defaultIo, argv?: readonly string[]): Promise<Command> {
  const loaded = await loadVerbs(verbsFor(argv ?? 'all'));
  const terms = new Map(verbs.map((v) => [v.name, v.term]));
  const program = new Command('ptftp')
    .description('Proxy TFTP server for IP-phone networks, and tools for its files and DHCP options')
    .version(VERSION, '-V, --version', 'print the version of ptftp')
    // A verb not loaded yet is listed as it will look once loaded.
    .configureHelp({ subcommandTerm: (cmd) => terms.get(cmd.name()) ?? cmd.name() })
    .configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => io.stderr(s),
      // Usage errors follow the CLI's one-line contract (`ptftp: ...`) that scripts grep for,
      // instead of Commander's `error: ...` plus a separate hint line.
      outputError: (s, write) => write(`ptftp: ${usageLine(s)} (see --help)\n`),
    })
    .exitOverride();
  registerCommands(program, io, loaded);
  for (const cmd of program.commands) {
    cmd.exitOverride().configureOutput(program.configureOutput());
    requireVerb(cmd);
  }
  return program;
}

/**
 * A group (`ptftp cache`, `ptftp dhcp`, ...) run without its verb, or with one it does not
 * have, is a usage error of one line like every other, instead of Commander's whole help on
 * stderr. `ptftp GROUP help VERB` keeps working.
 */
function requireVerb(group: Command): void {
  if (group.commands.length === 0) return;
  for (const sub of group.commands) requireVerb(sub);
  const names = group.commands.map((c) => c.name());
  const verbs = names.join(', ');
  group
    .helpCommand(true)
    // A mistyped verb followed by its options (`cache flsh --device X`) is reported as the verb.
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .action((_opts: unknown, cmd: Command) => {
      const [first] = cmd.args;
      if (first === undefined)
        cmd.error(`missing command for '${group.name()}' (one of: ${verbs})`, {
          exitCode: 2,
          code: 'commander.missingCommand',
        });
      if (first.startsWith('-'))
        cmd.error(`unknown option '${first}'`, { exitCode: 2, code: 'commander.unknownOption' });
      const guess = closest(first, names);
      cmd.error(
        `unknown command '${first}' for '${group.name()}' (${guess ? `did you mean ${guess}? ` : ''}one of: ${verbs})`,
        { exitCode: 2, code: 'commander.unknownCommand' },
      );
    });
}

/** The candidate within two edits of `word` (the nearest), if any. */
function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance, for short words. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/** Commander's `error: ...` message as one line without its prefix. */
function usageLine(message: string): string {
  return message
    .replace(/^error:\s*/, '')
    .replace(/\s*\n\s*/g, ' ')
    .trim();
}

/**
 * Run the CLI with `argv` (without `node` and the script name). Resolves to the exit code:
 * 0 on success, 1 on a failed operation, 2 on a usage error. Never throws.
 */
export async function run(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  try {
    const program = await createProgram(io, argv);
    await program.parseAsync([...argv], { from: 'user' });
    return io.exitCode ?? 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version output end with a "success" CommanderError.
      if (err.exitCode === 0) return 0;
      return 2;
    }
    if (err instanceof CliError) {
      if (err.message) io.stderr(`ptftp: ${err.message}\n`);
      return err.exitCode;
    }
    const message = err instanceof Error ? err.message : String(err);
    io.stderr(`ptftp: ${message.split('\n')[0]}\n`);
    return 1;
  }
}
