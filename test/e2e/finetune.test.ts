// Fine-tuning end to end on the shipped ITS sample: a run killed mid-training resumes from its last
// checkpoint and ends with exactly the weights of an uninterrupted run; the head classifies in
// onnxruntime and its columns reach LanceDB.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../engine/events/run-event.js';
import { journalPath, listRuns, readJournal } from '../../engine/run/journal.js';
import { killAt } from '../helpers/journal-gate.js';
import { copyFromRepo, exited, removeProjects, runCli, startCli, writeProject } from '../helpers/project.js';

let reference: string;
beforeAll(() => {
  reference = project();
  expect(runCli(ARGS, reference).status).toBe(0);
});
afterAll(removeProjects);

const ARGS = ['run', 'workflows/taxonomy.yaml', '--param', 'epochs=30', '--param', 'k=4'];

function project(): string {
  const root = writeProject({});
  copyFromRepo(root, 'workflows/taxonomy.yaml', 'workflows/data/sample.fasta.gz');
  return root;
}

function logs(root: string): string[][] {
  const runs = join(root, '.strand/runs');
  return listRuns(runs).map((id) =>
    readJournal(journalPath(runs, id))
      .filter((e): e is Extract<RunEvent, { kind: 'step-log' }> => e.kind === 'step-log')
      .map((e) => e.message),
  );
}

const REFERENCE_FLOW = `version: 1
name: novelty
steps:
  known: { uses: source/fasta, with: { path: workflows/data/sample.fasta.gz, lineage: unite, invalid: to-n } }
  known_profile: { uses: embed/kmer-profile, needs: [known], with: { k: 4 } }
  head: { uses: finetune/taxonomy-head, needs: [known_profile, known], with: { epochs: 2, hidden: 0, baseline: false } }
  query: { uses: source/fasta, with: { path: query.fa } }
  query_profile: { uses: embed/kmer-profile, needs: [query], with: { k: 4 } }
  classify:
    uses: classify/taxonomy
    needs: [query_profile, head, query]
    inputs: { reference: "\${{ steps.known_profile.outputs.embeddings }}" }
    with: { novel_threshold: 0, novel_distance: 0.5 }
  out: { uses: export/parquet, needs: [query_profile, classify], with: { path: out/novelty.parquet } }
`;

describe('finetune/taxonomy-head and classify/taxonomy', () => {
  it('flags a sequence far from every labelled reference as novel', async () => {
    const root = project();
    const known = (await import('node:zlib'))
      .gunzipSync(readFileSync(join(root, 'workflows/data/sample.fasta.gz')))
      .toString()
      .split('\n');
    const poly = 'AC'.repeat(300);
    writeFileSync(join(root, 'query.fa'), `>copy\n${known[1]}\n>poly\n${poly}\n`);
    writeFileSync(join(root, 'novelty.yaml'), REFERENCE_FLOW);
    const run = runCli(['run', 'novelty.yaml'], root);
    expect(run.status).toBe(0);
    const { asyncBufferFromFile, parquetReadObjects } = await import('hyparquet');
    const rows = (await parquetReadObjects({
      file: await asyncBufferFromFile(join(root, 'out/novelty.parquet')),
      columns: ['id', 'nearest_reference_distance', 'novel_candidate'],
    })) as { id: string; nearest_reference_distance: number; novel_candidate: boolean }[];
    expect(rows.map((r) => [r.id, r.novel_candidate])).toEqual([
      ['copy', false],
      ['poly', true],
    ]);
    expect(rows[0]!.nearest_reference_distance).toBe(0);
    expect(rows[1]!.nearest_reference_distance).toBeGreaterThan(0.5);
  });

  // The run is killed by SIGKILL at a known line of its journal: just after the log of the checkpoint at
  // step 50, or between the durable checkpoint at step 100 and its log line (the journal then says 50,
  // the checkpoint log 100: resumption must trust the checkpoint).
  it.each([
    ['after', 50],
    ['before', 100],
  ] as const)(
    'resumes a training killed %s the log of its checkpoint at step %i from exactly that step, to the uninterrupted weights',
    async (when, checkpoint) => {
      const referenceHead = readFileSync(join(reference, 'out/taxonomy-head.onnx'));

      const root = project();
      const at = { kind: 'step-log', step: 'head', message: `checkpoint at step ${checkpoint}` } as const;
      const child = startCli(ARGS, root, killAt(root, { at, when, signal: 'SIGKILL' }));
      expect(await exited(child)).toBe(null);
      expect(child.signalCode).toBe('SIGKILL');
      const killed = logs(root)[0]!;
      expect(killed.filter((m) => m.startsWith('checkpoint at step'))).toEqual(['checkpoint at step 50']); // in both cases

      const resumed = runCli(ARGS, root);
      expect(resumed.status).toBe(0);
      expect(logs(root)[1]!.filter((m) => m.startsWith('resuming'))).toEqual([`resuming training from step ${checkpoint} of 120`]);
      expect(readFileSync(join(root, 'out/taxonomy-head.onnx')).equals(referenceHead)).toBe(true);
    },
  );

  it('reports per-level metrics per epoch beside a 1-NN baseline', () => {
    const root = reference;
    const metrics = JSON.parse(readFileSync(join(root, 'out/taxonomy-metrics.json'), 'utf8'));
    expect(metrics.train + metrics.val).toBe(300);
    const levels = ['kingdom', 'phylum', 'class', 'order', 'family', 'genus', 'species'];
    const head = metrics.metrics.filter((m: { model: string; epoch: number }) => m.model === 'head' && m.epoch === 30);
    expect(head.map((m: { level: string }) => m.level)).toEqual(levels);
    expect(metrics.metrics.filter((m: { model: string }) => m.model === '1-nn')).toHaveLength(7);
    expect(head.find((m: { level: string }) => m.level === 'kingdom').accuracy).toBe(1);
    for (const m of metrics.metrics) {
      expect(m.accuracy).toBeGreaterThanOrEqual(0);
      expect(m.macro_f1).toBeLessThanOrEqual(1);
    }
  });

  it('writes predicted lineages, confidences and novel flags with the vectors', async () => {
    const root = reference;
    const lancedb = await import('@lancedb/lancedb');
    const table = await (await lancedb.connect(join(root, 'out/taxonomy.lancedb'))).openTable('barcodes');
    expect(await table.countRows()).toBe(300);
    const [row] = await table.query().where("id = 'KY106088'").toArray();
    expect(row.genus).toBe('Zygotorulaspora');
    expect(typeof row.predicted_genus).toBe('string');
    expect(row.confidence_genus).toBeGreaterThan(0);
    expect(row.confidence_genus).toBeLessThanOrEqual(1);
    expect(typeof row.novel_candidate).toBe('boolean');
    expect(row.novel_candidate).toBe(row.confidence_genus < 0.8);
  });
});
