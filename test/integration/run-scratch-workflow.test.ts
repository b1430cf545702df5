// A workflow built in memory, checked and run like `strand run` on a throwaway state directory.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { arrow, defineStep, StepError, type StepPlugin } from '../../engine/index.js';
import { runScratchWorkflow, type ScratchWorkflow } from '../../engine/run/run-scratch-workflow.js';

const lines = defineStep<{ path: string }>({
  id: 'test/lines',
  version: '1',
  description: 'one row per line of a file',
  with: { required: ['path'], properties: { path: { type: 'string', 'x-strand-path': 'input' } } },
  inputs: {},
  outputs: { lines: { type: 'lines' } },
  async run(ctx) {
    const text = readFileSync(ctx.resolvePath(ctx.params.path), 'utf8').trim().split('\n');
    await ctx.output('lines').shard(0, async () => new arrow.Table({ line: arrow.vectorFromArray(text, new arrow.Utf8()) }));
  },
});

const repeat = defineStep<{ times: number }>({
  id: 'test/repeat',
  version: '1',
  description: 'repeats each line',
  with: { properties: { times: { type: 'integer', minimum: 1 } } },
  inputs: { lines: { type: 'lines' } },
  outputs: { lines: { type: 'lines' } },
  async run(ctx) {
    const input = ctx.input('lines');
    const text = (await input.readShard(0)).getChild('line')!.toArray() as string[];
    if (text.includes('stop')) throw new StepError('found "stop"', 'remove the line');
    await ctx.output('lines').shard(
      0,
      async () =>
        new arrow.Table({
          line: arrow.vectorFromArray(
            text.map((t) => t.repeat(ctx.params.times)),
            new arrow.Utf8(),
          ),
        }),
    );
  },
});

const plugins: StepPlugin[] = [lines, repeat];
const workflow = (file: string, times: unknown): ScratchWorkflow => ({
  name: 'scratch',
  files: { 'in.txt': file },
  steps: { read: { uses: 'test/lines', with: { path: 'in.txt' } }, twice: { uses: 'test/repeat', needs: ['read'], with: { times } } },
});
const options = { plugins, now: () => new Date(0) };

describe('runScratchWorkflow', () => {
  it('runs the steps and hands over their outputs', async () => {
    const result = await runScratchWorkflow(workflow('ab\ncd\n', 2), options, async (output) =>
      (await output('twice', 'lines').readShard(0)).getChild('line')!.toArray(),
    );
    expect(result).toEqual({ ok: true, value: ['abab', 'cdcd'] });
  });

  it('returns the problems of a workflow that does not check, running nothing', async () => {
    const result = await runScratchWorkflow(workflow('ab\n', 0), options, async () => 'ran');
    expect(!result.ok && result.error).toMatchObject({
      kind: 'invalid-workflow',
      diagnostics: [{ code: 'invalid-value', message: 'steps.twice.with.times must be >= 1' }],
    });
  });

  it('returns the failed step with its message and hint', async () => {
    const result = await runScratchWorkflow(workflow('ab\nstop\n', 2), options, async () => 'read');
    expect(result).toEqual({ ok: false, error: { kind: 'step-failed', step: 'twice', message: 'found "stop"', hint: 'remove the line' } });
  });
});
