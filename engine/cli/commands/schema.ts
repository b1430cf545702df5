// Owns `strand schema`: the combined workflow JSON Schema (base + every built-in step's `with:`).
import { builtinSteps } from '../../../steps/index.js';
import { buildRecipeSchema, buildWorkflowSchema } from '../../workflow/workflow-schema.js';
import { EXIT_OK, type Command } from '../command.js';
import { has } from '../parse-args.js';

export function workflowSchemaText(): string {
  return JSON.stringify(buildWorkflowSchema(builtinSteps), null, 2) + '\n';
}

export function recipeSchemaText(): string {
  return JSON.stringify(buildRecipeSchema(), null, 2) + '\n';
}

export const schemaCommand: Command = {
  usage: 'strand schema [--recipe]',
  flags: [{ name: 'recipe', description: 'the recipe schema (schemas/recipe.schema.json)' }],
  async run(args, io) {
    io.stdout(has(args, 'recipe') ? recipeSchemaText() : workflowSchemaText());
    return EXIT_OK;
  },
};
