// The process surface a command touches, passed in so commands can be run in-process by tests.

export interface CliIO {
  env: NodeJS.ProcessEnv;
  /** One line to stdout (the newline is added). */
  out(line: string): void;
  /** One line to stderr (the newline is added). */
  err(line: string): void;
}

export const processIO: CliIO = {
  env: process.env,
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};
