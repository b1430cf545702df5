// The tokens per sequence a device step is estimated and pre-flighted at, over workflows of small real plugins
// (defineStep): `tokens:` or the default, capped by the largest cap among the tokenizers wired to the step's
// `tokens` inputs, and no cap at all when one of them has none, answers with something other than a whole
// number of tokens, or cannot answer from its params.
import { describe, expect, it } from 'vitest';
import { DEFAULT_TOKENS, tokensPerSequence } from '../../engine/devices/tokens-per-sequence.js';
import { defineStep, type StepPlugin } from '../../engine/index.js';
import { checkWorkflow } from '../../engine/workflow/check-workflow.js';
import { yamlSource } from '../helpers/fake-source.js';
import { countTokens, makeSeqs } from '../helpers/test-plugins.js';

const noop = async (): Promise<void> => {};

/** A tokenizer whose cap is its `cap` param: a number as given, `throw` when it cannot say, none when unset. */
const cappedTokens = defineStep({
  id: 'test/capped-tokens',
  version: '1',
  description: 'tokens with a cap',
  with: { properties: { cap: {} } },
  inputs: { sequences: { type: 'sequences' } },
  outputs: { tokens: { type: 'tokens' } },
  maxTokens: (params: Record<string, unknown>) => {
    if (params.cap === 'throw') throw new Error('no cap from these params');
    return params.cap as number;
  },
  run: noop,
});
const twoTokenInputs = defineStep({
  id: 'test/two-token-inputs',
  version: '1',
  description: 'takes two token inputs',
  with: {},
  inputs: { left: { type: 'tokens' }, right: { type: 'tokens' } },
  outputs: {},
  run: noop,
});
const PLUGINS = new Map<string, StepPlugin>([makeSeqs, countTokens, cappedTokens, twoTokenInputs].map((p) => [p.id, p as StepPlugin]));

/** The consumer's tokens per sequence when its two inputs come from tokenizers `left` and `right` (step bodies). */
function consumerTokens(left: string, right: string, tokens = ''): number {
  const text = `version: 1
name: t
steps:
  seqs: { uses: test/make-seqs }
  left: ${left}
  right: ${right}
  both: { uses: test/two-token-inputs${tokens}, inputs: { left: "\${{ steps.left.outputs.tokens }}", right: "\${{ steps.right.outputs.tokens }}" } }
`;
  const { workflow, diagnostics } = checkWorkflow({ source: yamlSource(text), plugins: PLUGINS, overrides: {}, env: {} });
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return tokensPerSequence(
    workflow!.steps.find((s) => s.id === 'both')!,
    workflow!,
  );
}
const capped = (cap: string) => `{ uses: test/capped-tokens, needs: [seqs], with: { cap: ${cap} } }`;
const uncapped = '{ uses: test/tokens, needs: [seqs] }';

describe('tokens per sequence', () => {
  it('is the largest cap among the tokenizers of every tokens input, under tokens: or the default', () => {
    expect(consumerTokens(capped('128'), capped('300'))).toBe(300);
    expect(consumerTokens(capped('300'), capped('128'))).toBe(300);
    expect(consumerTokens(capped('128'), capped('300'), ', tokens: 200')).toBe(200);
    expect(consumerTokens(capped('5000'), capped('128'))).toBe(DEFAULT_TOKENS);
  });

  it('has no cap when one tokenizer has none, answers with no whole number of tokens, or cannot answer', () => {
    for (const other of [uncapped, capped('12.5'), capped('0'), capped('"many"'), capped('throw')]) {
      expect(consumerTokens(capped('128'), other)).toBe(DEFAULT_TOKENS);
      expect(consumerTokens(other, capped('128'), ', tokens: 400')).toBe(400);
    }
  });
});
