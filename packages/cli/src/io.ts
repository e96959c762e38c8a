/** Where the CLI writes; tests pass their own to capture output. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** True when stdout/stderr is an interactive terminal (progress bars only then). */
  readonly isTTY: boolean;
  /** Set by a command that wants a non-zero exit without an error message (e.g. a failed verify). */
  exitCode?: number;
}

export const defaultIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  get isTTY() {
    return Boolean(process.stderr.isTTY);
  },
};

/** Create an io that records output, for tests. */
export function captureIo(): CliIo & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    isTTY: false,
    exitCode: undefined as number | undefined,
    stdout(text: string) {
      io.out += text;
    },
    stderr(text: string) {
      io.err += text;
    },
  };
  return io;
}

/**
 * An expected failure: printed as one line `ptftp: <message>` on stderr, exit code 1
 * (or the given code; 2 is for usage errors).
 */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}
