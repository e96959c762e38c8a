import { ConfigError, type ConfigFinding, loadConfig, reviewConfig } from '@ptftp/server';
import type { Command } from 'commander';
import { CliError, type CliIo } from '../io.js';
import { configErrorText } from './serve.js';

function findingText(f: ConfigFinding): string {
  const where = f.path ? `${f.path}: ` : '';
  return `${f.severity.padEnd(7)} ${f.code}: ${where}${f.message}\n          fix: ${f.fix}\n`;
}

export function register(program: Command, io: CliIo): void {
  const config = program
    .command('config')
    .description('Check ptftp configuration files')
    .addHelpText('after', '\nExamples:\n  $ ptftp config check ptftp.config.json\n');
  config
    .command('check')
    .description(
      'Validate a configuration file (schema, remote-cluster topology, limits) and review it for the IPv4/IPv6 and DHCP traps. Exits 1 on any error.',
    )
    .argument('<file>', 'ptftp.config.json (or .yaml)')
    .option('--json', 'print the findings as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ ptftp config check ptftp.config.json
  $ ptftp config check /etc/ptftp/ptftp.yaml --json

Every problem is listed by its path in the file, e.g.
  clusters[2].tftp[3]: at most 3 TFTP addresses per cluster
`,
    )
    .action(async (file: string, opts: { json?: boolean }) => {
      let findings: ConfigFinding[];
      try {
        findings = reviewConfig(await loadConfig(file));
      } catch (err) {
        if (err instanceof ConfigError) {
          if (opts.json) {
            io.stdout(`${JSON.stringify({ valid: false, issues: err.issues }, null, 2)}\n`);
            throw new CliError('');
          }
          throw new CliError(configErrorText(err));
        }
        throw err;
      }
      const errors = findings.filter((f) => f.severity === 'error').length;
      if (opts.json) {
        io.stdout(`${JSON.stringify({ valid: true, findings }, null, 2)}\n`);
      } else {
        for (const f of findings) io.stdout(findingText(f));
        const warnings = findings.filter((f) => f.severity === 'warning').length;
        io.stdout(`${file}: valid configuration; ${errors} error(s), ${warnings} warning(s)\n`);
      }
      if (errors > 0) throw new CliError(`${file}: ${errors} error(s) in the review`);
    });
}
