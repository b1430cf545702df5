// Small step plugins for testing the engine's wiring and checks. They are real plugins through the
// public API (defineStep), not stand-ins for engine code.
import { defineStep, type StepPlugin } from '../../engine/index.js';

const noop = async (): Promise<void> => {};

export const makeSeqs = defineStep({
  id: 'test/make-seqs',
  version: '1',
  description: 'makes sequences',
  with: { properties: { n: { type: 'integer' }, file: { type: 'string', 'x-strand-path': 'input' } } },
  inputs: {},
  outputs: { sequences: { type: 'sequences' } },
  run: noop,
});
export const countTokens = defineStep({
  id: 'test/tokens',
  version: '1',
  description: 'tokens',
  with: { properties: { k: { type: 'integer' }, threads: { type: 'integer' }, precision: { enum: ['fp32', 'bf16'] } } },
  execution: ['threads'],
  numerics: ['precision'],
  inputs: { sequences: { type: 'sequences' } },
  outputs: { tokens: { type: 'tokens' } },
  run: noop,
});
export const twoOutputs = defineStep({
  id: 'test/two',
  version: '1',
  description: 'two sequence outputs',
  with: {},
  inputs: {},
  outputs: { left: { type: 'sequences' }, right: { type: 'sequences' } },
  run: noop,
});
export const sink = defineStep({
  id: 'test/sink',
  version: '1',
  description: 'takes tokens',
  with: {},
  inputs: { tokens: { type: 'tokens' } },
  outputs: {},
  run: noop,
});

/** The test plugins by id, as a workflow's `uses:` finds them. */
export const TEST_PLUGINS = new Map<string, StepPlugin>([makeSeqs, countTokens, twoOutputs, sink].map((p) => [p.id, p]));

/** A checked `test/make-seqs` step whose `file` param names `file`, as loading would hand it to planning. */
export function makeSeqsStep(file: string) {
  return {
    id: 's',
    uses: 'test/make-seqs',
    plugin: makeSeqs,
    needs: [],
    with: {},
    params: { file },
    keyParams: { file },
    inputs: {},
    placement: {},
  };
}
