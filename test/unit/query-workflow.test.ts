import { describe, expect, it } from 'vitest';
import { queryWorkflow } from '../../engine/cli/query-workflow.js';

const model = (path: string): string => `/project/${path}`;
const onnx = (tokenizer: Record<string, unknown>) => ({
  kind: 'onnx',
  model: 'models/m.onnx',
  output: 'last_hidden_state',
  pooling: 'mean',
  includeCls: false,
  normalize: true,
  tokenizer,
  dim: 64,
});

describe('queryWorkflow', () => {
  it('reads the query as FASTA and rebuilds a k-mer profile from its recorded settings', () => {
    expect(queryWorkflow({ kind: 'kmer-profile', k: 4, canonical: true, normalize: 'l1', dim: 256 }, 'ACGT', model)).toEqual({
      ok: true,
      value: {
        name: 'search',
        files: { 'query.fasta': '>query\nACGT\n' },
        steps: {
          query: { uses: 'source/fasta', with: { path: 'query.fasta', empty: 'error' } },
          embed: { uses: 'embed/kmer-profile', needs: ['query'], with: { k: 4, canonical: true, normalize: 'l1' } },
        },
      },
    });
  });

  it('rebuilds the tokenize and onnx steps, truncating a long query where the table refused long sequences', () => {
    const result = queryWorkflow(
      onnx({ tokenizer: 'kmer', version: 'k5', max_tokens: 100, too_long: 'error', pad_id: 0, prefix: 1, suffix: 1 }),
      'ACGT',
      model,
    );
    expect(result.ok && result.value.steps).toEqual({
      query: { uses: 'source/fasta', with: { path: 'query.fasta', empty: 'error' } },
      tokens: { uses: 'tokenize/kmer', needs: ['query'], with: { k: 5, max_tokens: 100, too_long: 'truncate' } },
      embed: {
        uses: 'embed/onnx',
        needs: ['tokens'],
        with: { model: '/project/models/m.onnx', output: 'last_hidden_state', pooling: 'mean', include_cls: false, normalize: true },
      },
    });
    const nt = queryWorkflow(
      onnx({ tokenizer: 'nucleotide-transformer', version: '1', max_tokens: 1000, too_long: 'windows' }),
      'ACGT',
      model,
    );
    expect(nt.ok && nt.value.steps.tokens).toEqual({
      uses: 'tokenize/nucleotide-transformer',
      needs: ['query'],
      with: { version: 1, max_tokens: 1000, too_long: 'windows' },
    });
  });

  it('refuses vectors or tokens it cannot reproduce', () => {
    expect(queryWorkflow({ kind: 'external' }, 'ACGT', model)).toEqual({
      ok: false,
      error: 'the table\'s vectors were made by "external", which search cannot reproduce',
    });
    expect(queryWorkflow(onnx({ tokenizer: 'bpe', version: '1', max_tokens: 10 }), 'ACGT', model)).toEqual({
      ok: false,
      error: 'the table\'s tokens were made by tokenizer "bpe", which search cannot reproduce',
    });
  });
});
