import { describe, expect, it } from 'vitest';
import { expandRecipes } from '../../engine/recipes/expand-recipes.js';
import { parseRecipe } from '../../engine/recipes/parse-recipe.js';
import { recipePaths } from '../../engine/recipes/recipe-paths.js';
import type { LoadedRecipe } from '../../engine/recipes/recipe.js';
import { checkWorkflow } from '../../engine/workflow/check-workflow.js';
import { yamlSource } from '../helpers/fake-source.js';
import { TEST_PLUGINS } from '../helpers/test-plugins.js';

const SEQS = `kind: recipe
version: 1
name: seqs
params:
  n: { type: integer, default: 3 }
  file: { type: string, default: "" }
outputs:
  sequences: "\${{ steps.make.outputs.sequences }}"
steps:
  make: { uses: test/make-seqs, with: { n: "\${{ params.n }}", file: data.fa } }
`;

const TOKENS = `kind: recipe
version: 1
name: tokens
params:
  k: { type: integer }
inputs:
  sequences: { type: sequences }
outputs:
  tokens: "\${{ steps.tok.outputs.tokens }}"
steps:
  tok: { uses: test/tokens, inputs: { sequences: "\${{ inputs.sequences }}" }, with: { k: "\${{ params.k }}" } }
`;

function recipe(ref: string, text: string): LoadedRecipe {
  const file = `/p/${ref.slice(2)}`;
  const parsed = parseRecipe(ref, file, ref.slice(2), text);
  if (parsed.recipe === undefined) throw new Error(parsed.diagnostics.map((d) => d.message).join('; '));
  return parsed.recipe;
}

function expand(flow: string, recipes: Record<string, string> = { './lib/seqs.yaml': SEQS, './tokens.yaml': TOKENS }) {
  const loaded = new Map(Object.entries(recipes).map(([ref, text]) => [ref, recipe(ref, text)]));
  return expandRecipes(yamlSource(flow), loaded, {
    paths: recipePaths('/p', 'flow.yaml', []),
    pathKeysOf: (uses) => (uses === 'test/make-seqs' ? ['file'] : []),
  });
}

const steps = (expansion: ReturnType<typeof expand>) => (expansion.source.value as { steps: Record<string, unknown> }).steps;
const problems = (expansion: ReturnType<typeof expand>) =>
  expansion.diagnostics.map((d) => `${d.location.file}:${d.location.line}:${d.location.column} ${d.code} ${d.message}`);

describe('expandRecipes', () => {
  it('expands a call into namespaced steps with its params, its needs and paths relative to the project', () => {
    const expansion = expand(
      'version: 1\nname: f\nsteps:\n  src: { uses: ./lib/seqs.yaml, with: { n: 5 } }\n  a: { uses: ./tokens.yaml, needs: [src], with: { k: "${{ params.k }}" } }\n',
    );
    expect(expansion.diagnostics).toEqual([]);
    expect(steps(expansion)).toEqual({
      'src.make': { uses: 'test/make-seqs', with: { n: 5, file: 'lib/data.fa' } },
      'a.tok': { uses: 'test/tokens', needs: ['src.make'], with: { k: '${{ params.k }}' } },
    });
    expect([...expansion.calls.keys()]).toEqual(['src', 'a']);
  });

  it('sends references to a calling step, from the workflow and from other calls, to the recipe step behind them', () => {
    const flow = `version: 1
name: f
steps:
  src: { uses: ./lib/seqs.yaml }
  a: { uses: ./tokens.yaml, inputs: { sequences: "\${{ steps.src.outputs.sequences }}" }, with: { k: 2 } }
  out: { uses: test/sink, inputs: { tokens: "\${{ steps.a.outputs.tokens }}" } }
  also: { uses: test/sink, needs: [a] }
`;
    const expansion = expand(flow);
    expect(steps(expansion)).toMatchObject({
      'a.tok': { inputs: { sequences: '${{ steps.src.make.outputs.sequences }}' } },
      out: { inputs: { tokens: '${{ steps.a.tok.outputs.tokens }}' } },
      also: { needs: ['a.tok'] },
    });
    const { workflow, diagnostics } = checkWorkflow({ source: expansion.source, plugins: TEST_PLUGINS });
    expect(diagnostics).toEqual([]);
    expect(workflow!.steps.map((s) => [s.id, s.inputs])).toEqual([
      ['src.make', {}],
      ['a.tok', { sequences: { step: 'src.make', port: 'sequences' } }],
      ['out', { tokens: { step: 'a.tok', port: 'tokens' } }],
      ['also', { tokens: { step: 'a.tok', port: 'tokens' } }],
    ]);
  });

  it('reports problems at their place in the recipe or in the call', () => {
    const tokens = TOKENS.replace('"${{ params.k }}"', '"${{ params.kk }}"')
      .replace('"${{ steps.tok.outputs.tokens }}"', '"${{ steps.tok.outputs.tokens }} "')
      .replace('inputs.sequences }}', 'inputs.seqs }}');
    const expansion = expand('version: 1\nname: f\nsteps:\n  a: { uses: ./tokens.yaml, with: { kay: 1 } }\n', { './tokens.yaml': tokens });
    expect(problems(expansion)).toEqual([
      'tokens.yaml:9:11 bad-expression output "tokens" of recipe tokens must be ${{ steps.ID.outputs.PORT }} of one of its steps',
      'flow.yaml:4:37 unknown-key recipe tokens has no param "kay" (did you mean "k"?)',
      'flow.yaml:4:3 missing-param recipe tokens needs param "k" (integer)',
      'tokens.yaml:11:86 unknown-param recipe tokens has no param "kk"',
      'tokens.yaml:11:50 bad-expression recipe tokens has no input "seqs"',
    ]);
    expect(steps(expansion)).toEqual({ 'a.tok': { uses: 'test/tokens', with: {} } });
  });

  it("refuses a recipe path that escapes the recipe's folder and the workflow's", () => {
    const expansion = expand('version: 1\nname: f\nsteps:\n  src: { uses: ./lib/seqs.yaml }\n', {
      './lib/seqs.yaml': SEQS.replace('file: data.fa', 'file: ../../x.fa'),
    });
    expect(problems(expansion)).toEqual([
      "lib/seqs.yaml:10:69 path-escapes-workspace recipe seqs reaches ../../x.fa, outside its folder and the workflow's",
    ]);
  });
});
