// Owns how many sequences a step will see, known at plan time: its input artifact's rows when the store
// has it, else the count its upstream source gives without running (StepPlugin.countSequences: Parquet
// footers, a FASTA scan), followed through the steps between (tokenize keeps one row per sequence; a
// windowing tokenizer can make more rows, which the count does not see), and the shards they come in when
// known (a shard-parallel step keeps its input's shards).
import type { DataAccess } from '../plugin-api/step-context.js';
import type { SequenceCount } from '../plugin-api/step-plugin.js';
import type { Workflow } from '../workflow/workflow.js';

export async function countStepSequences(
  workflow: Workflow,
  stepId: string,
  stored: (step: string) => { rows: number; shards: number } | undefined,
  data: DataAccess,
): Promise<SequenceCount | undefined> {
  const known = stored(stepId);
  if (known !== undefined) return { count: known.rows, how: 'rows of its input in the store', shards: known.shards };
  const seen = new Set<string>();
  let current = workflow.steps.find((s) => s.id === stepId);
  while (current !== undefined && !seen.has(current.id)) {
    seen.add(current.id);
    const wire = Object.values(current.inputs)[0];
    const upstream = wire === undefined ? undefined : workflow.steps.find((s) => s.id === wire.step);
    if (upstream?.plugin.countSequences !== undefined) {
      try {
        const counted = await upstream.plugin.countSequences(upstream.params, data);
        return { ...counted, how: `${counted.how}, source ${upstream.id}` };
      } catch {
        return undefined; // the source's own run reports what is wrong with its files
      }
    }
    current = upstream;
  }
  return undefined;
}
