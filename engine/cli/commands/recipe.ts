// Owns `strand recipe list|show|new`: the recipes on the search path, one recipe's interface, and a
// new recipe to start from.
import { existsSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadRecipe } from '../../recipes/load-recipe.js';
import { recipeSearchPath, resolveRecipe } from '../../recipes/resolve-recipe.js';
import { formatDiagnostics } from '../../diagnostics/format-diagnostic.js';
import { EXIT_FAILED, EXIT_OK, type Command } from '../command.js';
import { UsageError } from '../parse-args.js';

const TEMPLATE = (name: string) => `# yaml-language-server: $schema=../schemas/recipe.schema.json
kind: recipe
version: 1
name: ${name}
description: What this recipe does, in one line.
params:
  k: { type: integer, default: 4, description: k-mer length }
inputs:
  sequences: { type: sequences }
outputs:
  embeddings: "\${{ steps.profile.outputs.embeddings }}"
steps:
  profile:
    uses: embed/kmer-profile
    inputs: { sequences: "\${{ inputs.sequences }}" }
    with: { k: "\${{ params.k }}" }
`;

export const recipeCommand: Command = {
  usage: 'strand recipe list | show NAME | new NAME',
  flags: [],
  async run(args, io) {
    const [action, name] = args.positionals;
    switch (action) {
      case 'list': {
        const seen = new Set<string>();
        for (const dir of recipeSearchPath(io.cwd, io.env)) {
          if (!existsSync(dir)) continue;
          for (const file of readdirSync(dir)
            .filter((f) => /\.ya?ml$/.test(f))
            .sort()) {
            const recipeName = file.replace(/\.ya?ml$/, '');
            if (seen.has(recipeName)) continue;
            seen.add(recipeName);
            const loaded = loadRecipe(`recipe:${recipeName}`, join(dir, file), relative(io.cwd, join(dir, file)));
            io.stdout(`recipe:${recipeName}  ${loaded.recipe?.spec.description ?? '(invalid: strand recipe show ' + recipeName + ')'}\n`);
          }
        }
        if (seen.size === 0) io.stdout('no recipes found (recipes/ and STRAND_RECIPE_PATH)\n');
        return EXIT_OK;
      }
      case 'show': {
        if (name === undefined) throw new UsageError('strand recipe show NAME');
        const path = resolveRecipe(
          name.startsWith('recipe:') || name.includes('/') ? name : `recipe:${name}`,
          join(io.cwd, 'x'),
          io.cwd,
          io.env,
        );
        if (path === undefined) {
          io.stderr(`error: recipe ${name} not found\nhint: strand recipe list\n`);
          return EXIT_FAILED;
        }
        const loaded = loadRecipe(name, path, relative(io.cwd, path));
        if (loaded.recipe === undefined) {
          io.stderr(formatDiagnostics(loaded.diagnostics, () => loaded.text) + '\n');
          return EXIT_FAILED;
        }
        const spec = loaded.recipe.spec;
        io.stdout(`${spec.name} (${relative(io.cwd, path)}, sha256 ${loaded.recipe.digest.slice(0, 12)})\n${spec.description ?? ''}\n`);
        io.stdout(
          `params:\n${
            Object.entries(spec.params)
              .map(
                ([k, p]) =>
                  `  ${k}: ${p.type}${p.default !== undefined ? ` = ${JSON.stringify(p.default)}` : ' (required)'}${p.description ? ` — ${p.description}` : ''}`,
              )
              .join('\n') || '  none'
          }\n`,
        );
        io.stdout(
          `inputs:\n${
            Object.entries(spec.inputs)
              .map(([k, p]) => `  ${k}: ${p.type}`)
              .join('\n') || '  none'
          }\n`,
        );
        io.stdout(
          `outputs:\n${
            Object.entries(spec.outputs)
              .map(([k, v]) => `  ${k}: ${v}`)
              .join('\n') || '  none'
          }\n`,
        );
        io.stdout(
          `steps:\n${Object.entries(spec.steps)
            .map(([k, s]) => `  ${k}: ${s.uses}`)
            .join('\n')}\n`,
        );
        return EXIT_OK;
      }
      case 'new': {
        if (name === undefined || !/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name))
          throw new UsageError('strand recipe new NAME (letters, digits, _ and -)');
        const path = join(io.cwd, 'recipes', `${name}.yaml`);
        if (existsSync(path)) {
          io.stderr(`error: ${relative(io.cwd, path)} already exists\n`);
          return EXIT_FAILED;
        }
        mkdirSync(join(io.cwd, 'recipes'), { recursive: true });
        writeFileSync(path, TEMPLATE(name));
        io.stdout(`wrote ${relative(io.cwd, path)}; use it as uses: recipe:${name}\n`);
        return EXIT_OK;
      }
      default:
        throw new UsageError(`strand recipe takes list, show or new${action ? `, not "${action}"` : ''}`);
    }
  },
};
