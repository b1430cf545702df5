// bench/data-parallel: embedding throughput with local data-parallel workers (`mesh: { data: N }` on a
// cpu device) for N = 1 (one thread) and N = 2 (one thread each), against one session with 2 intra-op
// threads, on 4,000 sequences (8 shards) and the small-nt shape (hidden 256, 4 layers).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunEvent } from '../engine/events/run-event.js';
import { buildTinyNt, TINY_NT } from '../scripts/build-tiny-nt.js';
import type { BenchResult } from './bench-result.js';
import { repeatedSample, runStrand, tempProject } from './bench-tools.js';

const FLOW = (workers: number, threads: number) => `version: 1
name: dp
devices:
  laptop: { kind: cpu }
steps:
  source: { uses: source/parquet, with: { path: in.parquet, shard_rows: 500 } }
  tokens: { uses: tokenize/nucleotide-transformer, needs: [source] }
  embed: { uses: embed/onnx, needs: [tokens], with: { model: model.onnx, threads: ${threads} }, on: laptop, mesh: { data: ${workers} } }
`;

export async function dataParallel(): Promise<BenchResult> {
  const result: BenchResult = { name: 'data-parallel', figures: [], ratios: [], notes: [] };
  const { root, remove } = tempProject();
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'model.onnx'), buildTinyNt({ ...TINY_NT, hidden: 256, heads: 8, layers: 4, ffn: 1024 }));
  const count = await repeatedSample(join(root, 'in.parquet'), 4);
  const rate = (workers: number, threads: number): number => {
    writeFileSync(join(root, 'flow.yaml'), FLOW(workers, threads));
    // The same cache key whatever the workers: a fresh state directory per measurement.
    const run = runStrand(['run', 'flow.yaml', '--json', '--state-dir', `.state-${workers}-${threads}`], root);
    if (run.status !== 0) throw new Error(`data-parallel run failed: ${run.stdout}${run.stderr}`);
    const finished = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as RunEvent)
      .find((e) => e.kind === 'step-finished' && e.step === 'embed');
    return count / ((finished as { durationMs: number }).durationMs / 1000);
  };
  const baseline = rate(1, 2);
  const one = rate(1, 1);
  const two = rate(2, 2);
  result.figures.push(
    { label: 'one session, 2 intra-op threads (baseline)', value: baseline, unit: 'seq/s' },
    { label: 'N = 1 worker, 1 thread', value: one, unit: 'seq/s' },
    { label: 'N = 2 workers, 1 thread each', value: two, unit: 'seq/s' },
  );
  result.ratios.push(
    { label: 'N = 2 / baseline', value: two / baseline, better: 'higher' },
    { label: 'N = 2 / N = 1', value: two / one, better: 'higher' },
  );
  remove();
  return result;
}
