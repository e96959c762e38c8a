import type { Command } from 'commander';
import type { CliIo } from '../io.js';

/** A verb group's module: `register(program, io)` adds its commands to the program. */
export interface VerbModule {
  register(program: Command, io: CliIo): void;
}

/** One top-level verb: what `ptftp --help` says about it, and its module, loaded on use. */
export interface Verb {
  readonly name: string;
  /** The help term, as Commander would print it once the module is loaded. */
  readonly term: string;
  readonly summary: string;
  readonly load: () => Promise<VerbModule>;
}

// Each verb's module (and the packages it needs: the server, node-forge, YAML...) loads only
// when that verb runs, so `ptftp --help` or `ptftp dhcp option150` do not pay for `serve`.
// Summaries stay here, not in the modules, so that --help can list every verb without
// loading any; test/program.spec.ts checks they match what the modules register.
const admin = () => import('./admin.js');
const transfer = () => import('./get.js');

/** Every verb, in `ptftp --help` order. A new group adds one line. */
export const verbs: readonly Verb[] = [
  {
    name: 'serve',
    term: 'serve [options]',
    summary: 'Run the proxy TFTP server (TFTP + HTTP + admin). Without -c or --root: the embedded demo.',
    load: () => import('./serve.js'),
  },
  {
    name: 'config',
    term: 'config',
    summary: 'Check ptftp configuration files',
    load: () => import('./config.js'),
  },
  {
    name: 'cache',
    term: 'cache',
    summary: "Manage the running server's cache of remote-cluster files",
    load: admin,
  },
  {
    name: 'status',
    term: 'status [options]',
    summary: 'Show the running server: addresses, transfers, cache, remote clusters',
    load: admin,
  },
  {
    name: 'reload',
    term: 'reload [options]',
    summary:
      'Make the running server re-read its configuration file (like SIGHUP). Transfers in progress continue; an invalid file is refused and the running configuration stays.',
    load: admin,
  },
  { name: 'get', term: 'get [options] <url>', summary: 'Download a file from a TFTP server', load: transfer },
  {
    name: 'put',
    term: 'put [options] <file> <url>',
    summary: 'Upload a file to a TFTP server (the server must allow writes)',
    load: transfer,
  },
  {
    name: 'dhcp',
    term: 'dhcp',
    summary: 'Encode, decode and plan the DHCP options that point phones at TFTP servers (150, 66, v6 17)',
    load: () => import('./dhcp.js'),
  },
  {
    name: 'sgn',
    term: 'sgn',
    summary: 'Cisco signed files (.sgn): sign, verify, strip, show',
    load: () => import('./security/sgn.js'),
  },
  {
    name: 'tlv',
    term: 'tlv',
    summary: 'Cisco trust lists (ITLFile.tlv, CTLFile.tlv, ITLSEP<MAC>.tlv): build, show, verify, add',
    load: () => import('./security/tlv.js'),
  },
  {
    name: 'enc',
    term: 'enc',
    summary:
      'encrypted phone configuration (.enc.sgn): encrypt for a phone certificate, decrypt with its key',
    load: () => import('./security/enc.js'),
  },
  {
    name: 'trust',
    term: 'trust',
    summary: 'explain whether a phone accepts a signed file, and what fixes it',
    load: () => import('./security/trust.js'),
  },
  {
    name: 'cert',
    term: 'cert',
    summary:
      'certificates: a TFTP signing (CallManager-style) or ITLRecovery certificate, bundles for moving trust',
    load: () => import('./security/cert.js'),
  },
  {
    name: 'phone',
    term: 'phone',
    summary: 'play a Cisco phone booting through a server: will my phones boot?',
    load: () => import('./phone.js'),
  },
];

/**
 * Add every verb to `program`: the modules in `loaded` register their real commands, the
 * others a placeholder carrying the name and summary (enough for --help and suggestions).
 */
export function registerCommands(
  program: Command,
  io: CliIo,
  loaded: ReadonlyMap<Verb['load'], VerbModule>,
): void {
  const done = new Set<VerbModule>();
  for (const verb of verbs) {
    const mod = loaded.get(verb.load);
    if (mod) {
      if (!done.has(mod)) mod.register(program, io);
      done.add(mod);
    } else {
      program.command(verb.name).description(verb.summary);
    }
  }
}

/** The verbs `argv` names (its first word, or the word after `help`); all verbs for `'all'`. */
export function verbsFor(argv: readonly string[] | 'all'): Verb[] {
  if (argv === 'all') return [...verbs];
  const words = argv.filter((a) => !a.startsWith('-'));
  const name = words[0] === 'help' ? words[1] : words[0];
  return verbs.filter((v) => v.name === name);
}

/** Load the modules of `wanted`, once each. */
export async function loadVerbs(wanted: readonly Verb[]): Promise<Map<Verb['load'], VerbModule>> {
  const out = new Map<Verb['load'], VerbModule>();
  const byLoader = new Map<Verb['load'], Promise<VerbModule>>();
  for (const v of wanted) if (!byLoader.has(v.load)) byLoader.set(v.load, v.load());
  // Verbs that share a module (cache/status/reload, get/put) share its loader.
  for (const [load, mod] of byLoader) out.set(load, await mod);
  return out;
}
