// bench/taxonomy-eval: workflows/taxonomy.yaml on the full yeast ITS set (data/mycoai-yeast-its, 4,439
// barcodes, 6-mer profiles): per-level validation accuracy of the head against a 1-NN baseline on the
// same vectors and split, for a random split and for a split that holds out whole genera (where most
// held-out sequences should be flagged novel); training throughput; and the time to resume a killed run.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunEvent } from '../engine/events/run-event.js';
import { journalPath, listRuns, readJournal } from '../engine/run/journal.js';
import { splitExamples } from '../steps/finetune/split.js';
import type { BenchResult } from './bench-result.js';
import { copyIn, REPO, runStrand, tempProject } from './bench-tools.js';

const FASTA = join(REPO, 'data/mycoai-yeast-its/yeast_its_test1.fasta');
const LEVELS = ['kingdom', 'phylum', 'class', 'order', 'family', 'genus', 'species'];
const EPOCHS = Number(process.env.STRAND_EVAL_EPOCHS ?? 20);

interface Metric {
  epoch: number;
  model: string;
  level: string;
  accuracy: number;
}

function journal(root: string): RunEvent[][] {
  const runs = join(root, '.strand/runs');
  return listRuns(runs).map((id) => readJournal(journalPath(runs, id)));
}

export async function taxonomyEval(): Promise<BenchResult> {
  const result: BenchResult = { name: 'taxonomy', figures: [], ratios: [], notes: [] };
  if (!existsSync(FASTA)) {
    result.notes.push(`${FASTA} not found: evaluation skipped`);
    return result;
  }
  const args = (groupBy: string) => [
    'run',
    'workflows/taxonomy.yaml',
    '--param',
    `input=${FASTA}`,
    '--param',
    'k=6',
    '--param',
    `epochs=${EPOCHS}`,
    '--param',
    `group_by=${groupBy}`,
  ];
  for (const groupBy of ['none', 'genus']) {
    const { root, remove } = tempProject();
    copyIn(root, 'workflows/taxonomy.yaml');
    const run = runStrand(args(groupBy), root);
    if (run.status !== 0) throw new Error(`taxonomy run failed: ${run.stdout}${run.stderr}`);
    const metrics = JSON.parse(readFileSync(join(root, 'out/taxonomy-metrics.json'), 'utf8')) as {
      train: number;
      val: number;
      metrics: Metric[];
    };
    const split = groupBy === 'none' ? 'random split' : 'genera held out';
    for (const level of LEVELS) {
      const head = metrics.metrics.find((m) => m.model === 'head' && m.level === level && m.epoch === EPOCHS)!;
      const nn = metrics.metrics.find((m) => m.model === '1-nn' && m.level === level)!;
      result.figures.push({
        label: `${split}: ${level} accuracy, head / 1-NN`,
        value: head.accuracy * 100,
        unit: `% / ${(nn.accuracy * 100).toFixed(1)} %`,
      });
      if (level === 'genus' && groupBy === 'none')
        result.ratios.push({
          label: 'genus accuracy, head / 1-NN, random split',
          value: head.accuracy / nn.accuracy,
          target: '>= 1',
          better: 'higher',
        });
    }
    if (groupBy === 'genus') {
      const lancedb = await import('@lancedb/lancedb');
      const table = await (await lancedb.connect(join(root, 'out/taxonomy.lancedb'))).openTable('barcodes');
      const rows = (await table.query().select(['id', 'genus', 'confidence_genus']).limit(1_000_000).toArray()) as {
        id: string;
        genus: string | null;
        confidence_genus: number;
      }[];
      const { val, train } = splitExamples(
        rows.map((r) => r.genus),
        0.2,
        1,
      );
      const heldOut = [...new Set(val.map((i) => rows[i]!.genus))];
      for (const threshold of [0.5, 0.8, 0.9]) {
        const flagged = (i: number) => rows[i]!.confidence_genus < threshold;
        const rate = (idx: number[]) => idx.filter(flagged).length / Math.max(1, idx.length);
        const genera =
          heldOut.filter((g) => {
            const idx = val.filter((i) => rows[i]!.genus === g);
            return idx.filter(flagged).length * 2 > idx.length;
          }).length / heldOut.length;
        result.ratios.push({
          label: `novel at genus confidence < ${threshold}: held-out genera with most sequences flagged`,
          value: genera,
          ...(threshold === 0.8 ? { target: 'most (> 0.5)' } : {}),
        });
        result.figures.push({
          label: `novel at < ${threshold}: held-out sequences flagged / training sequences flagged`,
          value: rate(val) * 100,
          unit: `% / ${(rate(train) * 100).toFixed(1)} %`,
        });
      }
    }
    const events = journal(root)[0]!;
    const progress = events.filter(
      (e): e is Extract<RunEvent, { kind: 'step-progress' }> => e.kind === 'step-progress' && e.step === 'head',
    );
    if (groupBy === 'none' && progress.length > 1) {
      const first = progress[0]!;
      const last = progress[progress.length - 1]!;
      const seconds = (Date.parse(last.time) - Date.parse(first.time)) / 1000;
      result.figures.push({
        label: 'training throughput (6-mer profiles, hidden 128, batch 64)',
        value: (last.counters!.examples! - first.counters!.examples!) / seconds,
        unit: 'examples/s',
      });
      // Time to resume: kill a second run after its first checkpoint, then time the resumed run to its first training step.
      const again = tempProject();
      copyIn(again.root, 'workflows/taxonomy.yaml');
      const child = spawn(process.execPath, [join(REPO, 'dist/engine/cli/main.js'), ...args(groupBy)], {
        cwd: again.root,
        stdio: 'ignore',
      });
      for (;;) {
        await new Promise((r) => setTimeout(r, 200));
        if ((journal(again.root)[0] ?? []).some((e) => e.kind === 'step-log' && e.message.startsWith('checkpoint at step'))) break;
      }
      child.kill('SIGKILL');
      await new Promise((r) => child.on('exit', r));
      runStrand(args(groupBy), again.root);
      const resumed = journal(again.root)[1]!;
      const start = Date.parse(resumed[0]!.time);
      const back = resumed.find((e) => e.kind === 'step-log' && e.message.startsWith('resuming training'))!;
      const firstStep = resumed.find((e) => e.kind === 'step-progress' && e.step === 'head')!;
      result.figures.push(
        {
          label: 'time to resume a killed training (run start to first resumed step)',
          value: Date.parse(firstStep.time) - start,
          unit: 'ms',
        },
        { label: '... of which loading the checkpoint and data', value: Date.parse(firstStep.time) - Date.parse(back.time), unit: 'ms' },
      );
      again.remove();
    }
    remove();
  }
  result.notes.push(
    `Full yeast ITS set, 6-mer profiles (L2), head with a 128-unit hidden layer, ${EPOCHS} epochs, 20% validation; 1-NN on the same vectors and split.`,
  );
  return result;
}
