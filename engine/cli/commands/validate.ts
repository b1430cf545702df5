// Owns `strand validate FILE`: check a workflow and report every problem at once.
import { EXIT_FAILED, EXIT_OK, JSON_FLAG, PARAM_FLAG, type Command } from '../command.js';
import { openWorkflow } from '../open-workflow.js';
import { has } from '../parse-args.js';

export const validateCommand: Command = {
  usage: 'strand validate FILE [--param NAME=VALUE] [--json]',
  flags: [PARAM_FLAG, JSON_FLAG],
  async run(args, io) {
    const opened = await openWorkflow(args, io);
    if (opened === undefined) return EXIT_FAILED;
    const { workflow } = opened;
    if (has(args, 'json'))
      io.stdout(JSON.stringify({ ok: true, workflow: workflow.name, steps: workflow.steps.map((s) => s.id) }, null, 2) + '\n');
    else io.stdout(`${workflow.file}: ok (${workflow.steps.length} steps: ${workflow.steps.map((s) => s.id).join(', ')})\n`);
    return EXIT_OK;
  },
};
