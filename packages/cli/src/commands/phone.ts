/**
 * `ptftp phone boot` and `ptftp phone storm`: play one Cisco phone's start-up through a
 * server (or a thousand of them) and say whether it would register, or the first reason it
 * would not with the remedies of `ptftp trust check`. The phone package loads on first use,
 * so other verbs start no slower for it.
 */
import type { BootResult, BootStep, Endpoint, HeldTrust, PhoneStormReport } from '@ptftp/phone';
import { isPtftpError, tryParseHostPort } from '@ptftp/protocol';
import { type Command, Option } from 'commander';
import { CliError, type CliIo } from '../io.js';

interface CommonFlags {
  tftp: string;
  /** A string from --http, false from --no-http, true (commander's default) from neither. */
  http?: string | boolean;
  model?: string;
  itl?: string;
  ctl?: string;
  tvsTrust: string[];
  json?: boolean;
  retries?: string;
  rexmt?: string;
}

/** `host:port` of a flag, or a usage error naming the flag. */
async function endpoint(flag: string, text: string, defaultPort: number): Promise<Endpoint> {
  const e = tryParseHostPort(text, { defaultPort, names: true, zone: true });
  if ('problem' in e) throw new CliError(`${flag}: ${e.problem}`, 2);
  return { host: e.host, port: e.port };
}

function whole(flag: string, value: string | undefined, min = 0): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]{1,9}$/.test(value) || Number(value) < min)
    throw new CliError(`${flag}: "${value}" is not a whole number${min ? ` of at least ${min}` : ''}`, 2);
  return Number(value);
}

/** Commander collector for a repeatable option (kept here: the file helpers load lazily). */
const collect = (value: string, previous: string[]): string[] => [...previous, value];

async function common(flags: CommonFlags) {
  const { PHONE_HTTP_PORT } = await import('@ptftp/phone');
  const { readBytes, readCertPem } = await import('./security/files.js');
  const tftp = await endpoint('--tftp', flags.tftp, 69);
  const http: Endpoint | false | undefined =
    flags.http === false
      ? false
      : typeof flags.http === 'string'
        ? await endpoint('--http', flags.http, PHONE_HTTP_PORT)
        : undefined;
  const trust: HeldTrust = {
    itl: flags.itl ? readBytes(flags.itl, '--itl') : undefined,
    ctl: flags.ctl ? readBytes(flags.ctl, '--ctl') : undefined,
    tvsTrust: flags.tvsTrust.length ? flags.tvsTrust.map((p) => readCertPem(p, '--tvs-trust')) : undefined,
  };
  const retries = whole('--retries', flags.retries);
  const rexmt = whole('--rexmt', flags.rexmt, 1);
  const tftpOptions = {
    ...(retries !== undefined && { retries }),
    ...(rexmt !== undefined && { retransmitTimeoutMs: rexmt }),
  };
  return { tftp, http, trust, tftpOptions };
}

/** Library argument errors (a bad MAC, a malformed trust list) are one line, exit 2 or 1. */
function cliError(err: unknown): unknown {
  if (err instanceof CliError) return err;
  // Ours by brand (security's and dhcp-options' errors carry it too), not by a code prefix.
  // The code of a branded error, not instanceof: @ptftp/phone arrives through import() (ESM)
  // while this bundle requires @ptftp/protocol (CommonJS), two copies of the class.
  if (isPtftpError(err)) return new CliError(err.message, err.code === 'PTFTP_ERR_INVALID_ARGUMENT' ? 2 : 1);
  return err;
}

const kib = (n: number) => (n < 10_240 ? `${n} B` : `${(n / 1024).toFixed(0)} KiB`);

function answerText(s: BootStep): string {
  return s.attempts.map((a) => `${a.transport} ${a.answer}`).join(' → ');
}

/** The timeline as a table and the verdict, for a person. */
export function renderBoot(r: BootResult): string {
  const lines = [`phone SEP${r.mac} (model ${r.model})`];
  const rows = r.steps.map((s, i) => [
    String(i + 1),
    s.name,
    s.status === 'ok' ? s.transport : '-',
    answerText(s),
    s.status === 'ok' ? kib(s.size) : '-',
    `${s.ms.toFixed(0)} ms`,
    s.verdict === 'none' ? s.status : s.verdict,
  ]);
  const head = ['#', 'file', 'via', 'answer', 'size', 'time', 'verdict'];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const fmt = (row: string[]) =>
    row.map((v, c) => (c === row.length - 1 ? v : v.padEnd(widths[c]!))).join('  ');
  lines.push(fmt(head), ...rows.map(fmt));
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  if (r.registered) {
    const cm = r.callManager!;
    lines.push(
      `would register with ${cm.name}${cm.processNodeName && cm.processNodeName !== cm.name ? ` (${cm.processNodeName})` : ''}`,
    );
  } else {
    const f = r.failure!;
    lines.push(`would NOT register (${f.code}): ${f.file}: ${f.reason}`);
    if (f.remedies.length) {
      lines.push('remedies:');
      f.remedies.forEach((m, i) => {
        lines.push(`  ${i + 1}. [${m.action}] ${m.summary}`);
      });
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The storm's report, for a person. */
export function renderStorm(r: PhoneStormReport): string {
  const failures = Object.entries(r.failures);
  const lines = [
    `${r.phones} phones, ${r.registered} would register, ${r.phones - r.registered} would not; ${r.upgraded} fetched firmware`,
    `boot time: p50 ${r.bootMs.p50.toFixed(0)} ms, p99 ${r.bootMs.p99.toFixed(0)} ms, max ${r.bootMs.max.toFixed(0)} ms (storm ${(r.wallMs / 1000).toFixed(1)} s)`,
    `bytes by transport: http ${kib(r.bytesByTransport.http)}, tftp ${kib(r.bytesByTransport.tftp)}`,
    `bytes by file: ${Object.entries(r.bytesByPurpose)
      .map(([k, v]) => `${k} ${kib(v ?? 0)}`)
      .join(', ')}`,
    `generator CPU: user ${r.cpuMs.user.toFixed(0)} ms, system ${r.cpuMs.system.toFixed(0)} ms`,
  ];
  if (failures.length) {
    lines.push('failures:');
    for (const [code, n] of failures)
      lines.push(`  ${code}: ${n} (e.g. ${r.failureExamples[code as keyof typeof r.failureExamples]})`);
  }
  return `${lines.join('\n')}\n`;
}

function commonOptions(cmd: Command): Command {
  return cmd
    .requiredOption(
      '--tftp <host:port>',
      'the TFTP server the phones are given (DHCP option 150); port 69 unless given',
    )
    .option(
      '--http <host:port>',
      'HTTP endpoint tried first by HTTP-first models (default: the TFTP host, port 6970)',
    )
    .option('--no-http', 'TFTP only')
    .option('--model <model>', 'phone model: 8845, 8865, 7841, 7965, ... (default 8845)')
    .option('--itl <file>', 'the ITL the phone holds before it boots (none: a factory-fresh phone)')
    .option('--ctl <file>', 'the CTL the phone holds before it boots')
    .option('--tvs-trust <certs.pem>', 'PEM certificates the home TVS vouches for (repeatable)', collect, [])
    .option('--retries <n>', 'TFTP retransmissions before a file counts as failed (default 2)')
    .option('--rexmt <ms>', 'TFTP retransmit timeout in milliseconds (default 1000)')
    .option('--json', 'print the result as JSON');
}

export function register(program: Command, io: CliIo): void {
  const phone = program
    .command('phone')
    .description('play a Cisco phone booting through a server: will my phones boot?')
    .addHelpText(
      'after',
      '\nExamples:\n  $ ptftp phone boot --mac 001122334455 --tftp 10.0.0.5\n  $ ptftp phone storm --count 1000 --tftp 10.0.0.5\n',
    );

  commonOptions(
    phone
      .command('boot')
      .description('boot one phone and print its timeline; exit 0 when it would register, 1 when not')
      .requiredOption('--mac <mac>', "the phone's MAC (001122334455, 00:11:22:33:44:55 or SEP001122334455)")
      .option('--load <id>', 'the firmware load the phone runs (the configured load is then not fetched)'),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ ptftp phone boot --mac 001122334455 --tftp 10.0.0.5
  $ ptftp phone boot --mac 001122334455 --model 7965 --itl ITLSEP001122334455.tlv --tftp 10.0.0.5:69
  $ ptftp phone boot --mac 001122334455 --tftp 127.0.0.1:6969 --http 127.0.0.1:6970 --json`,
    )
    .action(async (flags: CommonFlags & { mac: string; load?: string }) => {
      try {
        const { bootPhone } = await import('@ptftp/phone');
        const c = await common(flags);
        const r = await bootPhone({ mac: flags.mac, model: flags.model, runningLoad: flags.load, ...c });
        io.stdout(flags.json ? `${JSON.stringify(r, null, 2)}\n` : renderBoot(r));
        if (!r.registered) io.exitCode = 1;
      } catch (err) {
        throw cliError(err);
      }
    });

  commonOptions(
    phone
      .command('storm')
      .description('boot N phones at once; exit 0 when every one would register, 1 when not')
      .requiredOption('--count <n>', 'how many phones')
      .option('--mac-prefix <hex>', 'hex digits the MACs start with (default 0011)', '0011')
      .option('--concurrency <n>', 'phones booting at once (default 100)')
      .addOption(
        new Option(
          '--upgrade-share <0..1>',
          'share of phones that fetch the firmware load (default 0.1)',
        ).default('0.1'),
      ),
  )
    .addHelpText(
      'after',
      `
Example:
  $ ptftp phone storm --count 1000 --mac-prefix 0011 --tftp 10.0.0.5 --concurrency 200`,
    )
    .action(
      async (
        flags: CommonFlags & { count: string; macPrefix: string; concurrency?: string; upgradeShare: string },
      ) => {
        try {
          const { runPhoneStorm } = await import('@ptftp/phone');
          const c = await common(flags);
          const share = Number(flags.upgradeShare);
          if (!/^[0-9.]+$/.test(flags.upgradeShare) || !(share >= 0 && share <= 1))
            throw new CliError(`--upgrade-share: "${flags.upgradeShare}" is not a number within 0..1`, 2);
          const r = await runPhoneStorm({
            count: whole('--count', flags.count, 1)!,
            macPrefix: flags.macPrefix,
            concurrency: whole('--concurrency', flags.concurrency, 1),
            upgradeShare: share,
            model: flags.model,
            ...c,
          });
          io.stdout(flags.json ? `${JSON.stringify(r, null, 2)}\n` : renderStorm(r));
          if (r.registered < r.phones) io.exitCode = 1;
        } catch (err) {
          throw cliError(err);
        }
      },
    );
}
