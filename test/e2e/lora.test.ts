// finetune/nt-lora end to end through the built CLI on the JAX runtime (runtime/jax/.venv) and the tiny NT
// model on 8 XLA host devices: workflows/lora.yaml from FASTA to a LanceDB table with predicted lineages from
// the fine-tuned model; a run killed by SIGKILL just after the journal records checkpoint 2 resumes from it
// and ends with adapters byte-identical to an uninterrupted run (fp32); the metrics output and the
// TensorBoard files are there; its report (headless Chromium) draws the metrics output's training curves
// against the optimizer step, one point per metrics row; a learning rate that makes the loss NaN stops the
// step at that step with the message a user can act on.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../engine/events/run-event.js';
import { journalPath, listRuns, readJournal } from '../../engine/run/journal.js';
import { jaxPython } from '../helpers/jax-runtime.js';
import { killAt } from '../helpers/journal-gate.js';
import { outputRows, type OutputRow } from '../helpers/output-rows.js';
import { copyFromRepo, exited, removeProjects, runCli, startCli, writeProject } from '../helpers/project.js';
import { openReport } from '../helpers/report-browser.js';

const ARGS = ['run', 'workflows/lora.yaml', '--param', 'steps=6', '--param', 'checkpoint_every=2', '--param', 'eval_every=2'];
const ADAPTERS = 'out/lora-adapters/adapter_model.safetensors';

let reference: string;
beforeAll(() => {
  jaxPython();
  reference = project();
  const run = runCli(ARGS, reference);
  expect(run.status, run.stderr).toBe(0);
}, 900_000);
afterAll(removeProjects);

function project(): string {
  const root = writeProject({});
  copyFromRepo(root, 'workflows/lora.yaml', 'workflows/data/sample.fasta.gz', 'models/tiny-nt');
  return root;
}

function journals(root: string): RunEvent[][] {
  const runs = join(root, '.strand/runs');
  return listRuns(runs).map((id) => readJournal(journalPath(runs, id)));
}

const logsOf = (events: RunEvent[]): string[] =>
  events.filter((e): e is Extract<RunEvent, { kind: 'step-log' }> => e.kind === 'step-log' && e.step === 'lora').map((e) => e.message);

describe('finetune/nt-lora', () => {
  it('classifies with the fine-tuned model into LanceDB, and exports peft adapters, metrics and TensorBoard files', async () => {
    const lancedb = await import('@lancedb/lancedb');
    const table = await (await lancedb.connect(join(reference, 'out/lora.lancedb'))).openTable('barcodes');
    expect(await table.countRows()).toBe(300);
    const [row] = await table.query().where("id = 'KY106088'").toArray();
    expect(row.genus).toBe('Zygotorulaspora');
    expect(typeof row.predicted_genus).toBe('string');
    expect(row.confidence_genus).toBeGreaterThan(0);
    expect(row.vector).toHaveLength(64);

    const config = JSON.parse(readFileSync(join(reference, 'out/lora-adapters/adapter_config.json'), 'utf8'));
    expect(config).toMatchObject({
      peft_type: 'LORA',
      r: 16,
      lora_alpha: 32,
      target_modules: ['attention.self.query', 'attention.self.value'],
    });
    expect(readdirSync(join(reference, 'out/tensorboard')).some((f) => f.startsWith('events.out.tfevents.'))).toBe(true);

    const [run] = journals(reference);
    const finished = run!.find((e): e is Extract<RunEvent, { kind: 'step-finished' }> => e.kind === 'step-finished' && e.step === 'lora')!;
    expect(finished.summary).toMatchObject({
      runtime: 'jax',
      steps: 6,
      mesh: '4x2x1',
      global_batch: 16,
      trainable_parameters: 2 * 2 * (64 * 16 + 16 * 64),
    });
    const progress = run!.filter((e): e is Extract<RunEvent, { kind: 'step-progress' }> => e.kind === 'step-progress' && e.step === 'lora');
    expect(progress.map((e) => e.done)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(progress.every((e) => e.total === 6 && e.unit === 'steps' && (e.counters?.tokens ?? 0) > 0)).toBe(true);
    // The embed step ran the adapters: its vectors are not the base model's.
    const embedded = run!.find((e): e is Extract<RunEvent, { kind: 'step-finished' }> => e.kind === 'step-finished' && e.step === 'embed')!;
    expect(embedded.summary).toMatchObject({ runtime: 'jax', sequences: 300 });

    const made = runCli(['report', '-o', 'lora.html'], reference);
    expect(made.status, made.stderr).toBe(0);
    const rows = outputRows(reference, run!, 'lora', 'metrics');
    const observed = (column: string): OutputRow[] => rows.filter((r) => r[column] !== null);
    const evalSteps = [...new Set(observed('accuracy').map((r) => r.step))];
    expect(observed('lr').map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(evalSteps).toEqual([2, 4, 6]);
    const report = await openReport(join(reference, 'lora.html'));
    try {
      await report.screenshot('lora');
      expect(report.errors).toEqual([]);
      expect(report.requests).toEqual([]);
      const points = await report.chartPoints();
      expect(points).toEqual(await report.declaredPoints());
      const curves = Object.fromEntries(Object.entries(points).filter(([id]) => id.startsWith('metric-lora-')));
      expect(curves).toEqual({
        // One point per optimizer step.
        'metric-lora-train_loss': observed('train_loss').length,
        'metric-lora-lr': observed('lr').length,
        'metric-lora-grad_norm': observed('grad_norm').length,
        'metric-lora-tokens_per_second': observed('tokens_per_second').length,
        // One point per evaluation and level (7 levels, 3 evaluations).
        'metric-lora-loss': observed('loss').length,
        'metric-lora-accuracy': observed('accuracy').length,
        'metric-lora-macro_f1': observed('macro_f1').length,
        // Equal on each level's row: drawn once per evaluation.
        ...(observed('memory_per_device_mib').length > 0 ? { 'metric-lora-memory_per_device_mib': evalSteps.length } : {}),
      });
      expect(observed('accuracy')).toHaveLength(7 * 3);
      const lr = await report.page.evaluate<{ axis: string; data: [number, number][] }>(`(() => {
        const option = echarts.getInstanceByDom(document.getElementById('chart-metric-lora-lr')).getOption();
        return { axis: option.xAxis[0].name, data: option.series.flatMap((s) => s.data) };
      })()`);
      expect(lr.axis).toBe('step');
      expect(lr.data.map(([step]) => step)).toEqual(observed('lr').map((r) => r.step));
      lr.data.forEach(([, value], i) =>
        expect(Math.abs(value - Number(observed('lr')[i]!.lr))).toBeLessThanOrEqual(1e-5 * Number(observed('lr')[i]!.lr)),
      );
      // Linear warmup over 5 of the 6 steps: the rate rises from the first step.
      expect(lr.data[0]![1]).toBeLessThan(Math.max(...lr.data.map(([, value]) => value)));
    } finally {
      await report.close();
    }
  });

  it('stops at the step whose loss or gradient is not a number, saying so, keeps the checkpoint before it, and writes no adapters', () => {
    const root = project();
    const flow = join(root, 'workflows/lora.yaml');
    writeFileSync(flow, readFileSync(flow, 'utf8').replace('learning_rate: 0.002', 'learning_rate: 1.0e+30'));
    const run = runCli(ARGS, root);
    expect(run.status).toBe(1);
    const diverged =
      /the training diverged at step (\d+): loss [^,]+, gradient norm [^;]+; nothing from step \1 on is saved and its last checkpoint \(step (\d+)\) is kept\n *hint: lower learning_rate \(now 1e\+30\) or raise warmup_steps\n/;
    expect(run.stdout + run.stderr).toMatch(diverged);
    const [at, kept] = diverged
      .exec(run.stdout + run.stderr)!
      .slice(1)
      .map(Number);
    const [events] = journals(root);
    const trained = events!.filter(
      (e): e is Extract<RunEvent, { kind: 'step-progress' }> => e.kind === 'step-progress' && e.step === 'lora',
    );
    expect(trained.map((e) => e.done)).toEqual(Array.from({ length: at! - 1 }, (_, i) => i + 1));
    expect(kept).toBe(2 * Math.floor((at! - 1) / 2)); // checkpoint_every=2: the last one before the NaN
    expect(events!.some((e) => e.kind === 'step-failed' && e.step === 'lora')).toBe(true);
    expect(existsSync(join(root, ADAPTERS))).toBe(false);
  });

  it('resumes a run killed just after the journal records checkpoint 2, to byte-identical adapters', async () => {
    const root = project();
    const at = { kind: 'step-log', step: 'lora', message: 'checkpoint at step 2' } as const;
    const child = startCli(ARGS, root, killAt(root, { at, when: 'after', signal: 'SIGKILL' }));
    expect(await exited(child)).toBe(null);
    expect(child.signalCode).toBe('SIGKILL');
    expect(existsSync(join(root, ADAPTERS))).toBe(false);
    expect(logsOf(journals(root)[0]!).filter((m) => m.startsWith('checkpoint'))).toEqual(['checkpoint at step 2']);

    const resumed = runCli(ARGS, root);
    expect(resumed.status, resumed.stderr).toBe(0);
    const logs = logsOf(journals(root)[1]!);
    expect(logs.filter((m) => m.startsWith('resuming'))).toEqual(['resuming from the checkpoint at step 2']);
    expect(logs.filter((m) => m.startsWith('checkpoint'))).toEqual(['checkpoint at step 4']);
    expect(readFileSync(join(root, ADAPTERS)).equals(readFileSync(join(reference, ADAPTERS)))).toBe(true);
  });
});
