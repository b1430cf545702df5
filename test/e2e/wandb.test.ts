// W&B logging end to end through the built CLI, offline (no network): a workflow trains finetune/nt-lora (JAX on
// 8 XLA host devices, the tiny NT) and finetune/taxonomy-head (TypeScript, on k-mer profiles) with `wandb:
// { mode: offline }`; each run folder W&B wrote is read back with W&B's own reader (`wandb leet inspect`, the
// .wandb transaction log) and holds the run's config and one history row per optimizer step carrying the
// same values as the step's metrics output. The API key in the environment is in no file Strand or W&B
// wrote, and `wandb:` is not in the cache key (another run name reuses the trained steps).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../engine/events/run-event.js';
import type { ArtifactManifest } from '../../engine/plan/step-record.js';
import { journalPath, listRuns, readJournal } from '../../engine/run/journal.js';
import { StrandState } from '../../engine/store/strand-state.js';
import { arrow } from '../../engine/util/arrow.js';
import type { Sha256Hex } from '../../engine/util/sha256.js';
import { JAX_RUNTIME, jaxPython } from '../helpers/jax-runtime.js';
import { copyFromRepo, removeProjects, runCli, writeProject } from '../helpers/project.js';

const KEY = 'wandb-test-key-0123456789abcdef0123456789abcdef';

const flow = (name: string) => `version: 1
name: wandb
devices:
  host: { kind: cpu, runtime: jax, devices: 8 }
steps:
  source: { uses: source/fasta, with: { path: workflows/data/sample.fasta.gz, lineage: unite, invalid: to-n, duplicates: skip } }
  tokens: { uses: tokenize/nucleotide-transformer, needs: [source], with: { version: 2, max_tokens: 256 } }
  lora:
    uses: finetune/nt-lora
    needs: [tokens, source]
    on: host
    mesh: { data: 4, fsdp: 2, tp: 1 }
    with:
      model: models/tiny-nt
      steps: 4
      eval_every: 2
      batch_size: 16
      rank: 8
      alpha: 16
      learning_rate: 0.002
      warmup_steps: 1
      wandb: { project: strand-e2e, name: ${name}, mode: offline, dir: out/wandb-lora }
  profile: { uses: embed/kmer-profile, needs: [source], with: { k: 4 } }
  head:
    uses: finetune/taxonomy-head
    needs: [profile, source]
    with: { epochs: 3, batch_size: 64, wandb: { project: strand-e2e, mode: offline } }
`;

interface Inspected {
  config: Record<string, unknown>;
  name: string;
  project: string;
  state: string;
  history: Record<string, number>[];
}

/** The run folder read back by W&B's own reader of the .wandb transaction log, no network. */
function inspect(folder: string): Inspected {
  const wandb = join(JAX_RUNTIME, '.venv/bin/wandb');
  const summary = JSON.parse(execFileSync(wandb, ['leet', 'inspect', '--summary', '--json', folder], { encoding: 'utf8' })) as Inspected;
  const records = execFileSync(wandb, ['leet', 'inspect', '--json', folder], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { type: string; history?: { item: Record<string, number> } });
  return { ...summary, history: records.filter((r) => r.type === 'history').map((r) => r.history!.item) };
}

function runFolders(dir: string): string[] {
  return readdirSync(join(dir, 'wandb'))
    .filter((n) => n.startsWith('offline-run-'))
    .map((n) => join(dir, 'wandb', n));
}

function journals(root: string): RunEvent[][] {
  const runs = join(root, '.strand/runs');
  return listRuns(runs).map((id) => readJournal(journalPath(runs, id)));
}

type Row = Record<string, number | string | null>;

function metricsRows(root: string, events: RunEvent[], step: string): Row[] {
  const state = new StrandState(join(root, '.strand'), root);
  const finished = events.find((e): e is Extract<RunEvent, { kind: 'step-finished' }> => e.kind === 'step-finished' && e.step === step)!;
  const manifest = state.objects.getJson<ArtifactManifest>(state.record(finished.key as Sha256Hex)!.outputs.metrics!);
  return manifest.shards.flatMap((shard) =>
    arrow
      .tableFromIPC(state.objects.get(shard.digest))
      .toArray()
      .map((row) => (row as { toJSON(): Row }).toJSON()),
  );
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((p) => join(dir, p))
    .filter((p) => statSync(p, { throwIfNoEntry: false })?.isFile() === true);
}

let root: string;
let first: RunEvent[];
beforeAll(() => {
  jaxPython();
  root = writeProject({ 'flow.yaml': flow('lora-first') });
  copyFromRepo(root, 'workflows/data/sample.fasta.gz', 'models/tiny-nt');
  const run = runCli(['run', 'flow.yaml'], root, { WANDB_API_KEY: KEY });
  expect(run.status, run.stderr).toBe(0);
  first = journals(root)[0]!;
}, 900_000);
afterAll(removeProjects);

describe('wandb: offline', () => {
  it('writes the nt-lora run folder: the run config, and one row per step with the metrics output values', () => {
    const [folder, ...others] = runFolders(join(root, 'out/wandb-lora'));
    expect(others).toEqual([]);
    const run = inspect(folder!);
    expect(run).toMatchObject({ project: 'strand-e2e', name: 'lora-first', state: 'finished' });
    expect(run.config).toMatchObject({ model: 'models/tiny-nt', rank: 8, alpha: 16, batch_size: 16, learning_rate: 0.002, mesh: '4x2x1' });
    const steps = metricsRows(root, first, 'lora').filter((r) => r.level === null);
    expect(run.history.map((h) => h._step)).toEqual([1, 2, 3, 4]);
    for (const row of steps) {
      const logged = run.history.find((h) => h._step === row.step)!;
      expect(logged['train/loss']).toBeCloseTo(row.train_loss as number, 5);
      expect(logged['train/lr']).toBeCloseTo(row.lr as number, 9);
    }
    for (const row of metricsRows(root, first, 'lora').filter((r) => r.level !== null)) {
      const logged = run.history.find((h) => h._step === row.step)!;
      expect(logged[`eval/accuracy/${String(row.level)}`]).toBeCloseTo(row.accuracy as number, 9);
    }
    const log = first.find((e) => e.kind === 'step-log' && e.step === 'lora' && e.message.startsWith('W&B offline run'));
    expect(log).toBeDefined();
  });

  it('writes the taxonomy head run folder under the default dir: a row per step, and each epoch as the metrics output has it', () => {
    const [folder] = runFolders(root);
    const run = inspect(folder!);
    expect(run).toMatchObject({ project: 'strand-e2e', state: 'finished' });
    expect(run.config).toMatchObject({ model: 'taxonomy-head', batch_size: 64, learning_rate: 0.01, epochs: 3 });
    const metrics = metricsRows(root, first, 'head');
    const steps = run.history.map((h) => h._step!);
    const total = Math.max(...steps);
    expect(steps).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(run.history.every((h) => typeof h['train/loss'] === 'number')).toBe(true);
    const epochs = run.history.filter((h) => h.epoch !== undefined);
    expect(epochs.map((h) => h.epoch)).toEqual([1, 2, 3]);
    for (const row of metrics.filter((m) => m.model === 'head'))
      expect(epochs[(row.epoch as number) - 1]![`eval/accuracy/${String(row.level)}`]).toBeCloseTo(row.accuracy as number, 9);
    const genus = metrics.find((m) => m.model === '1-nn' && m.level === 'genus')!;
    expect(run.history.at(-1)!['baseline_1nn/accuracy/genus']).toBeCloseTo(genus.accuracy as number, 9);
  });

  it('never writes the API key from the environment into the store, the journal or the W&B folders', () => {
    const files = [...filesUnder(join(root, '.strand')), ...filesUnder(join(root, 'out')), ...filesUnder(join(root, 'wandb'))];
    expect(files.length).toBeGreaterThan(10);
    expect(files.filter((f) => readFileSync(f).includes(KEY))).toEqual([]);
  });

  it('keeps the trained steps cached when only the wandb settings change', () => {
    writeFileSync(
      join(root, 'renamed.yaml'),
      flow('lora-renamed').replace('{ project: strand-e2e, mode: offline }', '{ project: strand-e2e, mode: online, name: head }'),
    );
    const plan = runCli(['plan', 'renamed.yaml', '--json'], root);
    expect(plan.status, plan.stderr).toBe(0);
    const entries = (JSON.parse(plan.stdout) as { steps: { step: string; status: string }[] }).steps;
    expect(entries.filter((s) => s.step === 'lora' || s.step === 'head').map((s) => s.status)).toEqual(['cached', 'cached']);
  });
});
