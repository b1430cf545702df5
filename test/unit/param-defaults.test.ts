import { describe, expect, it } from 'vitest';
import { checkWorkflow } from '../../engine/workflow/check-workflow.js';
import { withParamDefaults } from '../../engine/workflow/param-defaults.js';
import { builtinSteps } from '../../steps/index.js';
import { yamlSource } from '../helpers/fake-source.js';

const plugins = new Map(builtinSteps.map((p) => [p.id, p]));

function steps(text: string) {
  const { workflow, diagnostics } = checkWorkflow({ source: yamlSource(text), plugins });
  expect(diagnostics).toEqual([]);
  return Object.fromEntries(workflow!.steps.map((s) => [s.id, s]));
}

const FLOW = `version: 1
name: flow
params:
  k: { type: integer, default: 4 }
steps:
  seqs: { uses: source/fasta, with: { path: a.fasta, invalid: skip } }
  toks: { uses: tokenize/kmer, needs: [seqs], with: { k: "\${{ params.k }}" } }
  head: { uses: finetune/taxonomy-head, with: {}, inputs: { embeddings: "\${{ steps.prof.outputs.embeddings }}", labels: "\${{ steps.seqs.outputs.sequences }}" } }
  prof: { uses: embed/kmer-profile, needs: [seqs] }
`;

describe('schema defaults', () => {
  it('fills every default of the plugin schema into the params a step receives, keeping what is written', () => {
    const s = steps(FLOW);
    expect(s.seqs!.params).toEqual({
      path: 'a.fasta',
      invalid: 'skip',
      empty: 'skip',
      duplicates: 'error',
      shard_rows: 10000,
      lineage: 'none',
    });
    expect(s.toks!.params).toEqual({ k: 4, too_long: 'truncate' });
    expect(s.prof!.params).toEqual({ k: 4, canonical: false, normalize: 'l2' });
    expect(s.head!.params).toMatchObject({
      levels: ['kingdom', 'phylum', 'class', 'order', 'family', 'genus', 'species'],
      epochs: 20,
      lr: 0.01,
      baseline: true,
    });
    expect(s.head!.params).not.toHaveProperty('warmup_steps');
  });

  it('keeps the cache key params as written, so existing keys do not change', () => {
    const s = steps(FLOW);
    expect(s.seqs!.keyParams).toEqual({ path: 'a.fasta', invalid: 'skip' });
    expect(s.toks!.keyParams).toEqual({ k: 4 });
    expect(s.prof!.keyParams).toEqual({});
  });

  it('gives each step its own copy of a list default and leaves the input untouched', () => {
    const head = builtinSteps.find((p) => p.id === 'finetune/taxonomy-head')!;
    const written = { epochs: 3 };
    const a = withParamDefaults(head.with, written);
    const b = withParamDefaults(head.with, written);
    (a.levels as string[]).push('strain');
    expect(b.levels).toHaveLength(7);
    expect(written).toEqual({ epochs: 3 });
  });
});
