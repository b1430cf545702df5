// Owns `strand schema`: the combined workflow JSON Schema (base + every built-in step's `with:`).
import { builtinSteps } from '../../../steps/index.js';
import { buildWorkflowSchema } from '../../workflow/workflow-schema.js';
import { EXIT_OK, type Command } from '../command.js';

export function workflowSchemaText(): string {
  return JSON.stringify(buildWorkflowSchema(builtinSteps), null, 2) + '\n';
}

export const schemaCommand: Command = {
  name: 'schema',
  usage: 'strand schema',
  summary: 'Print the workflow JSON Schema (the committed schemas/workflow.schema.json).',
  flags: [],
  async run(_args, io) {
    io.stdout(workflowSchemaText());
    return EXIT_OK;
  },
};
