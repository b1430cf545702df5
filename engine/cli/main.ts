#!/usr/bin/env node
// Owns the `strand` process: dispatch to a command, map outcomes to exit codes, and turn an
// unexpected exception into an `internal-error` report (the stack only with --verbose).
import { commands } from './commands/index.js';
import { EXIT_FAILED, EXIT_USAGE, type CliIo } from './command.js';
import { commandHelp, overviewHelp } from './help.js';
import { parseArgs, UsageError } from './parse-args.js';

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const verbose = argv.includes('--verbose');
  const rest = argv.filter((a) => a !== '--verbose');
  const [name, ...args] = rest;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(overviewHelp(commands));
    return name === undefined ? EXIT_USAGE : 0;
  }
  if (name === '--version') {
    io.stdout('strand 0.1.0\n');
    return 0;
  }
  const entry = commands.find((c) => c.name === name);
  if (entry === undefined) {
    io.stderr(`error: unknown command "${name}"\nhint: strand --help lists the commands\n`);
    return EXIT_USAGE;
  }
  const command = await entry.load();
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(commandHelp(entry, command));
    return 0;
  }
  try {
    return await command.run(parseArgs(args, command.flags), io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`error: ${error.message}\nusage: ${command.usage}\n`);
      return EXIT_USAGE;
    }
    io.stderr(`internal-error: ${(error as Error).message}\nThis is a bug in Strand; please report it with the command you ran.\n`);
    if (verbose) io.stderr(`${(error as Error).stack}\n`);
    else io.stderr('(run again with --verbose for the stack trace)\n');
    return EXIT_FAILED;
  }
}

// `strand tokenize big.fasta | head` closes the pipe early: that is a normal end, not a crash.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const io: CliIo = {
  stdout: (text) => void process.stdout.write(text),
  drain: () =>
    process.stdout.writableNeedDrain
      ? new Promise<void>((resolve) => {
          // A closed or failed stdout ends the wait too (EPIPE ends the process, above).
          const done = (): void => {
            process.stdout.off('drain', done).off('close', done).off('error', done);
            resolve();
          };
          process.stdout.on('drain', done).on('close', done).on('error', done);
        })
      : Promise.resolve(),
  stderr: (text) => void process.stderr.write(text),
  cwd: process.cwd(),
  env: process.env,
  // CI services set CI even when they allocate a terminal: they get plain output, as a pipe would.
  // isTTY is undefined (not false, whatever @types/node says) when the stream is not a terminal.
  /* eslint-disable @typescript-eslint/no-unnecessary-boolean-literal-compare */
  isTTY:
    process.stdout.isTTY === true &&
    process.stdin.isTTY === true &&
    !['CI', 'CONTINUOUS_INTEGRATION'].some((k) => k in process.env && process.env[k] !== '0' && process.env[k] !== 'false'),
  /* eslint-enable @typescript-eslint/no-unnecessary-boolean-literal-compare */
};

process.exitCode = await main(process.argv.slice(2), io);
