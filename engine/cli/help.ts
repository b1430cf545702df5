// Owns help text: the overview of every command and each command's own --help.
import type { Command, CommandEntry } from './command.js';

export function overviewHelp(commands: readonly CommandEntry[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return (
    [
      'strand — declarative workflows for genomic language models',
      '',
      'usage: strand COMMAND [ARGS] [--help]',
      '',
      'commands:',
      ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
      '',
      'exit codes: 0 ok, 1 invalid workflow or failed step, 2 usage error, 130 interrupted',
    ].join('\n') + '\n'
  );
}

export function commandHelp(entry: CommandEntry, command: Command): string {
  const flags = command.flags.map(
    (f) => `  ${f.short ? `-${f.short}, ` : ''}--${f.name}${f.value ? ` ${f.value}` : ''}`.padEnd(28) + f.description,
  );
  return [`usage: ${command.usage}`, '', entry.summary, ...(flags.length ? ['', 'options:', ...flags] : [])].join('\n') + '\n';
}
