// Owns `strand steps [ID]`: the built-in step plugins, their ports and their parameters.
import { builtinSteps } from '../../../steps/index.js';
import { EXIT_FAILED, EXIT_OK, JSON_FLAG, type Command } from '../command.js';
import { has } from '../parse-args.js';

function describeParams(schema: Record<string, unknown>): string[] {
  const properties = (schema.properties ?? {}) as Record<
    string,
    { type?: string | string[]; default?: unknown; description?: string; enum?: unknown[] }
  >;
  const required = new Set((schema.required as string[] | undefined) ?? []);
  return Object.entries(properties).map(([name, p]) => {
    const type = p.enum ? p.enum.map((v) => JSON.stringify(v)).join('|') : String(p.type ?? 'any');
    const extra = [
      required.has(name) ? 'required' : undefined,
      p.default !== undefined ? `default ${JSON.stringify(p.default)}` : undefined,
    ]
      .filter(Boolean)
      .join(', ');
    return `    ${name}: ${type}${extra ? ` (${extra})` : ''}${p.description ? ` — ${p.description}` : ''}`;
  });
}

export const stepsCommand: Command = {
  usage: 'strand steps [ID] [--json]',
  flags: [JSON_FLAG],
  async run(args, io) {
    const id = args.positionals[0];
    const chosen = id === undefined ? builtinSteps : builtinSteps.filter((s) => s.id === id);
    if (chosen.length === 0) {
      io.stderr(`error: no built-in step "${id}"\nhint: strand steps lists them\n`);
      return EXIT_FAILED;
    }
    if (has(args, 'json')) {
      io.stdout(
        JSON.stringify(
          chosen.map((step) => ({ ...step, run: undefined })),
          null,
          2,
        ) + '\n',
      );
      return EXIT_OK;
    }
    for (const step of chosen) {
      io.stdout(`${step.id} @${step.version} — ${step.description}\n`);
      const ports = (ports: Record<string, { type: string; optional?: boolean }>): string =>
        Object.entries(ports)
          .map(([n, p]) => `${n}: ${p.type}${p.optional ? '?' : ''}`)
          .join(', ') || 'none';
      io.stdout(`  inputs:  ${ports(step.inputs)}\n  outputs: ${ports(step.outputs)}\n`);
      if (id !== undefined) io.stdout(`  with:\n${describeParams(step.with).join('\n')}\n`);
    }
    return EXIT_OK;
  },
};
