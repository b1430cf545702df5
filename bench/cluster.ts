// bench/cluster: cluster/hdbscan (PCA to 16, then HDBSCAN in the Python runtime) on seeded synthetic vectors
// (50 Gaussian blobs; runtime/jax/bench/hdbscan_plain.py makes them) — 10k and 100k vectors of 64 and 2,560
// dimensions — against the same libraries called from a plain Python script on the same file (the step's
// overhead as a ratio: its wall time and peak memory over the script's); scikit-learn's HDBSCAN against
// fast-hdbscan on the same reduced vectors (why the step uses fast-hdbscan). bench/novelty: quality on the
// ITS data with genera held out (workflows/novelty.yaml, 4,439 barcodes): the fraction of held-out sequences
// that land in a novel cluster or in noise, against the fraction of those whose genus the head was trained on.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunEvent } from '../engine/events/run-event.js';
import { findPython } from '../engine/jax/jax-process.js';
import { journalPath, listRuns, readJournal } from '../engine/run/journal.js';
import { splitExamples } from '../steps/finetune/split.js';
import type { BenchResult } from './bench-result.js';
import { copyIn, REPO, runStrand, tempProject } from './bench-tools.js';

const PLAIN = join(REPO, 'runtime/jax/bench/hdbscan_plain.py');
const SIZES = (process.env.STRAND_CLUSTER_SIZES ?? '10000,100000').split(',').map(Number);
const DIMS = [64, 2560];
const MIN_CLUSTER_SIZE = 10;

/** A local plugin that emits the Arrow file's vectors as an embeddings artifact, 10,000 rows a shard. */
const PLUGIN = `import { readFileSync } from 'node:fs';
import { arrow, defineStep } from ${JSON.stringify(join(REPO, 'dist/engine/index.js'))};
export default defineStep({
  id: 'synthetic-vectors', version: '1', description: 'vectors from an Arrow file',
  with: { properties: { file: { type: 'string' } } }, inputs: {}, outputs: { embeddings: { type: 'embeddings' } },
  async run(ctx) {
    const table = arrow.tableFromIPC(readFileSync(ctx.resolvePath(ctx.params.file)));
    const ids = table.getChild('id').toArray();
    const column = table.getChild('vector');
    const dim = column.type.listSize;
    const flat = new Float32Array(ids.length * dim);
    let row = 0;
    for (const data of column.data) { flat.set(data.children[0].values.subarray(data.offset * dim, (data.offset + data.length) * dim), row * dim); row += data.length; }
    for (let i = 0, start = 0; start < ids.length; i++, start += 10000) {
      const end = Math.min(ids.length, start + 10000);
      await ctx.output('embeddings').shard(i, async () => {
        const child = arrow.makeData({ type: new arrow.Float32(), length: (end - start) * dim, nullCount: 0, data: flat.slice(start * dim, end * dim) });
        const vector = arrow.makeVector(arrow.makeData({ type: new arrow.FixedSizeList(dim, new arrow.Field('item', new arrow.Float32(), false)), length: end - start, nullCount: 0, child }));
        return new arrow.Table({ id: arrow.vectorFromArray(ids.slice(start, end), new arrow.Utf8()), vector });
      });
    }
  },
});
`;

const FLOW = `version: 1
name: clusterbench
steps:
  vectors: { uses: ./synthetic.mjs, with: { file: vectors.arrow } }
  cluster: { uses: cluster/hdbscan, needs: [vectors], with: { min_cluster_size: ${MIN_CLUSTER_SIZE}, reduce_to: 16 } }
`;

interface Plain {
  seconds: number;
  hdbscan_seconds: number;
  peak_rss_bytes: number;
  clusters: number;
  noise: number;
}

function python(args: string[]): string {
  const found = findPython(process.env);
  if ('error' in found) throw new Error(found.error);
  const run = spawnSync(found.python, [PLAIN, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (run.status !== 0) throw new Error(`hdbscan_plain.py ${args.join(' ')} failed: ${run.stderr}`);
  return run.stdout;
}

function finished(root: string, step: string): Extract<RunEvent, { kind: 'step-finished' }> {
  const runs = join(root, '.strand/runs');
  const events = listRuns(runs).flatMap((id) => readJournal(journalPath(runs, id)));
  const done = events.find((e): e is Extract<RunEvent, { kind: 'step-finished' }> => e.kind === 'step-finished' && e.step === step);
  if (done === undefined) throw new Error(`no step-finished for ${step}`);
  return done;
}

export async function clusterBench(): Promise<BenchResult> {
  const result: BenchResult = { name: 'cluster', figures: [], ratios: [], notes: [] };
  for (const n of SIZES)
    for (const dim of DIMS) {
      const { root, remove } = tempProject();
      try {
        const label = `${n / 1000}k x ${dim}`;
        python(['make', join(root, 'vectors.arrow'), String(n), String(dim)]);
        writeFileSync(join(root, 'synthetic.mjs'), PLUGIN);
        writeFileSync(join(root, 'flow.yaml'), FLOW);
        const plain = JSON.parse(python(['fast', join(root, 'vectors.arrow'), '16', String(MIN_CLUSTER_SIZE)])) as Plain;
        const run = runStrand(['run', 'flow.yaml'], root);
        if (run.status !== 0) throw new Error(`cluster bench run failed: ${run.stdout}${run.stderr}`);
        const step = finished(root, 'cluster');
        const stepSeconds = step.durationMs / 1000;
        const stepPeak = Number(step.summary.peak_rss_mib);
        const plainPeak = plain.peak_rss_bytes / 2 ** 20;
        result.figures.push(
          { label: `${label}: cluster/hdbscan step / plain script`, value: stepSeconds, unit: `s / ${plain.seconds.toFixed(1)} s` },
          { label: `${label}: runtime peak memory, step / plain script`, value: stepPeak, unit: `MiB / ${plainPeak.toFixed(0)} MiB` },
          { label: `${label}: clusters / noise (step)`, value: Number(step.summary.clusters), unit: `/ ${String(step.summary.noise)}` },
        );
        result.ratios.push({ label: `${label}: step seconds / plain script seconds`, value: stepSeconds / plain.seconds, better: 'lower' });
        if (dim === DIMS[0]) {
          const sklearn = JSON.parse(python(['sklearn', join(root, 'vectors.arrow'), '16', String(MIN_CLUSTER_SIZE)])) as Plain;
          result.figures.push({
            label: `${label}: HDBSCAN call, fast-hdbscan / scikit-learn (same PCA output)`,
            value: plain.hdbscan_seconds,
            unit: `s / ${sklearn.hdbscan_seconds.toFixed(1)} s; peak ${plainPeak.toFixed(0)} / ${(sklearn.peak_rss_bytes / 2 ** 20).toFixed(0)} MiB`,
          });
        }
      } finally {
        remove();
      }
    }
  result.notes.push(
    '1M vectors: not run (HDBSCAN alone took about 100 s at 100k on 2 shared cores and grows faster than n; see docs/benchmarks.md)',
  );
  return result;
}

/** bench/novelty: workflows/novelty.yaml on all 4,439 barcodes with genera held out of the head's training. */
export async function noveltyBench(): Promise<BenchResult> {
  const result: BenchResult = { name: 'novelty', figures: [], ratios: [], notes: [] };
  const { root, remove } = tempProject();
  try {
    copyIn(root, 'workflows/novelty.yaml', 'data/mycoai-yeast-its/yeast_its_test1.fasta');
    const args = [
      '--param',
      'input=data/mycoai-yeast-its/yeast_its_test1.fasta',
      '--param',
      'group_by=genus',
      '--param',
      'min_cluster_size=10',
    ];
    const run = runStrand(['run', 'workflows/novelty.yaml', ...args], root);
    if (run.status !== 0) throw new Error(`novelty run failed: ${run.stdout}${run.stderr}`);
    const lancedb = await import('@lancedb/lancedb');
    const table = await (await lancedb.connect(join(root, 'out/novelty.lancedb'))).openTable('barcodes');
    const rows = (await table
      .query()
      .select(['id', 'genus', 'cluster', 'novel_cluster', 'novel_candidate'])
      .limit(1_000_000)
      .toArray()) as {
      genus: string | null;
      cluster: number;
      novel_cluster: boolean;
      novel_candidate: boolean;
    }[];
    // The head's split (finetune/taxonomy-head, group_by genus, val_fraction 0.2, seed 1): the same hash of the genus.
    const { val, train } = splitExamples(
      rows.map((r) => r.genus),
      0.2,
      1,
    );
    const rate = (idx: number[], flagged: (i: number) => boolean) => idx.filter(flagged).length / Math.max(1, idx.length);
    const measures: [string, (i: number) => boolean][] = [
      ['in a novel cluster or noise', (i) => rows[i]!.novel_cluster || rows[i]!.cluster === -1],
      ['in a novel cluster', (i) => rows[i]!.novel_cluster],
      ['in noise', (i) => rows[i]!.cluster === -1],
      ['novel candidate (classify/taxonomy alone)', (i) => rows[i]!.novel_candidate],
    ];
    for (const [what, flagged] of measures) {
      const held = rate(val, flagged);
      const seen = rate(train, flagged);
      result.figures.push({
        label: `ITS, genera held out (k-mer profiles): ${what}, held-out / seen`,
        value: held * 100,
        unit: `% / ${(seen * 100).toFixed(1)} %`,
      });
      if (what === 'in a novel cluster or noise')
        result.ratios.push({
          label: `ITS genera held out: held-out / seen fraction ${what}`,
          value: held / seen,
          target: '> 1',
          better: 'higher',
        });
    }
    const step = finished(root, 'cluster');
    result.figures.push({
      label: 'ITS 4,439 x 1,024 (5-mer profiles): cluster/hdbscan step',
      value: step.durationMs / 1000,
      unit: `s (${String(step.summary.clusters)} clusters, ${String(step.summary.novel_clusters)} novel, ${String(step.summary.noise)} noise)`,
    });
  } finally {
    remove();
  }
  return result;
}
