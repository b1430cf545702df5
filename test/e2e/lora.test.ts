// finetune/nt-lora end to end through the built CLI on the JAX runtime (runtime/jax/.venv) and the tiny NT
// model on 8 XLA host devices: workflows/lora.yaml from FASTA to a LanceDB table with predicted lineages from
// the fine-tuned model; a run killed by SIGKILL just after the journal records checkpoint 2 resumes from it
// and ends with adapters byte-identical to an uninterrupted run (fp32); the metrics output and the
// TensorBoard files are there.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../engine/events/run-event.js';
import { journalPath, listRuns, readJournal } from '../../engine/run/journal.js';
import { jaxPython } from '../helpers/jax-runtime.js';
import { killAt } from '../helpers/journal-gate.js';
import { copyFromRepo, exited, removeProjects, runCli, startCli, writeProject } from '../helpers/project.js';

const ARGS = ['run', 'workflows/lora.yaml', '--param', 'steps=6', '--param', 'checkpoint_every=2'];
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

const logsOf = (events: RunEvent[]): string[] => events.filter((e): e is Extract<RunEvent, { kind: 'step-log' }> => e.kind === 'step-log' && e.step === 'lora').map((e) => e.message);

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
    expect(config).toMatchObject({ peft_type: 'LORA', r: 16, lora_alpha: 32, target_modules: ['attention.self.query', 'attention.self.value'] });
    expect(readdirSync(join(reference, 'out/tensorboard')).some((f) => f.startsWith('events.out.tfevents.'))).toBe(true);

    const [run] = journals(reference);
    const finished = run!.find((e): e is Extract<RunEvent, { kind: 'step-finished' }> => e.kind === 'step-finished' && e.step === 'lora')!;
    expect(finished.summary).toMatchObject({ runtime: 'jax', steps: 6, mesh: '4x2x1', global_batch: 16, trainable_parameters: 2 * 2 * (64 * 16 + 16 * 64) });
    const progress = run!.filter((e): e is Extract<RunEvent, { kind: 'step-progress' }> => e.kind === 'step-progress' && e.step === 'lora');
    expect(progress.map((e) => e.done)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(progress.every((e) => e.total === 6 && e.unit === 'steps' && (e.counters?.tokens ?? 0) > 0)).toBe(true);
    // The embed step ran the adapters: its vectors are not the base model's.
    const embedded = run!.find((e): e is Extract<RunEvent, { kind: 'step-finished' }> => e.kind === 'step-finished' && e.step === 'embed')!;
    expect(embedded.summary).toMatchObject({ runtime: 'jax', sequences: 300 });
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
