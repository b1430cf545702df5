// The pre-flight in `strand plan` and `strand run`: XLA compiles embed/nt's real program and
// finetune/nt-lora's train step for the TPU's topology (libtpu, no TPU), answers are cached in the state
// directory, a step that does not fit is refused at its batch: line with fixes the compiler checked, batch: auto is searched, and without the compiler the
// plan says it used the formula. Compiles take tens of seconds each on a loaded 2-core machine: the models
// are chosen small (tiny-nt; a one-layer model with a 2^24-wide feed-forward that fills a v5e chip at a
// handful of rows of 32 tokens), the timeouts are hang guards.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jaxPython } from '../helpers/jax-runtime.js';
import { CLI, copyFromRepo, removeProjects, runCli, writeProject } from '../helpers/project.js';

afterAll(removeProjects);

const WIDE_FFN = 2 ** 24;
const WIDE = {
  add_bias_fnn: false,
  hidden_size: 64,
  intermediate_size: WIDE_FFN,
  layer_norm_eps: 1e-12,
  mask_token_id: 2,
  max_position_embeddings: 2050,
  num_attention_heads: 4,
  num_hidden_layers: 1,
  pad_token_id: 1,
  position_embedding_type: 'rotary',
  token_dropout: false,
  vocab_size: 4107,
};

/** A model folder of shapes only: config.json and a safetensors header naming the tensors (no weights follow; nothing here loads them). */
function writeShapesOnlyModel(root: string): void {
  const folder = join(root, 'models/wide');
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'config.json'), JSON.stringify(WIDE));
  const header = JSON.stringify({
    'esm.embeddings.word_embeddings.weight': { dtype: 'F32', shape: [4107, 64], data_offsets: [0, 0] },
    'esm.encoder.layer.0.intermediate.dense.weight': { dtype: 'F32', shape: [2 * WIDE_FFN, 64], data_offsets: [0, 0] },
    'esm.encoder.layer.0.output.dense.weight': { dtype: 'F32', shape: [64, WIDE_FFN], data_offsets: [0, 0] },
  });
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(header.length));
  writeFileSync(join(folder, 'model.safetensors'), Buffer.concat([length, Buffer.from(header)]));
}

const FLOW = (device: string, embed: string, more = '') => `version: 1
name: preflight
devices:
  pod: ${device}
steps:
  source: { uses: source/parquet, with: { path: workflows/data/sample.parquet } }
  tokens: { uses: tokenize/nucleotide-transformer, needs: [source], with: { version: 2 } }
  embed: { uses: embed/nt, needs: [tokens], on: pod, ${embed} }
${more}`;
const V5E_1 = '{ kind: tpu, type: v5litepod-1, project: p, zone: us-west4-a }';

function project(device: string, embed: string, more = ''): string {
  const root = writeProject({ 'flow.yaml': FLOW(device, embed, more) });
  copyFromRepo(root, 'workflows/data/sample.parquet', 'models/tiny-nt');
  writeShapesOnlyModel(root);
  return root;
}

type PlanJson = {
  steps: {
    step: string;
    placement: {
      estimate?: Record<string, unknown> & {
        perDeviceBatch: number;
        sequences?: number;
        chipHours?: number;
        cost?: { onDemand: number; spot: number };
      };
      preflight?: Record<string, unknown> & { source: string };
    } | null;
  }[];
  preflight: { compiled: number; cached: number; compilerRuns: number };
};

function planJson(root: string, env: Record<string, string> = {}): PlanJson {
  const result = runCli(['plan', 'flow.yaml', '--json'], root, env);
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as PlanJson;
}

const embedOf = (plan: PlanJson) => plan.steps.find((s) => s.step === 'embed')!.placement!;

describe('pre-flight by compiling', () => {
  jaxPython();

  it('shows XLA memory, sequences, hours and dollars on a fresh plan, and a second plan reads the cache without the compiler', () => {
    const root = project(V5E_1, 'with: { model: models/tiny-nt }, batch: { per_device: 8 }, tokens: 64');
    const first = planJson(root);
    const embed = embedOf(first);
    expect(embed.preflight).toMatchObject({
      source: 'xla',
      cached: false,
      topology: 'v5e:1x1',
      hosts: 1,
      answer: { fits: true, device_kind: 'TPU v5 lite', per_device_batch: 8 },
    });
    expect(first.preflight).toEqual({ compiled: 1, cached: 0, compilerRuns: 1 });
    // Nothing has run: the sequence count comes from the Parquet footer, time and cost from XLA's FLOPs.
    expect(embed.estimate!.sequences).toBe(1000);
    expect(embed.estimate!.chipHours).toBeGreaterThan(0);
    expect(embed.estimate!.cost!.onDemand).toBeGreaterThan(embed.estimate!.cost!.spot);
    const answer = embed.preflight!.answer as {
      buckets: { length: number; memory: { total_bytes: number }; flops?: { per_sequence: number } }[];
    };
    expect(answer.buckets.map((b) => b.length)).toEqual([32, 64]);
    expect(embed.estimate!.flopsPerSequence).toBe(answer.buckets.at(-1)!.flops!.per_sequence);

    const second = planJson(root);
    expect(second.preflight).toEqual({ compiled: 0, cached: 1, compilerRuns: 0 });
    expect(embedOf(second).preflight).toMatchObject({ source: 'xla', cached: true });
    const text = runCli(['plan', 'flow.yaml', '--plain'], root);
    expect(text.stdout).toMatch(
      /1,000 sequences \(counted from Parquet footers.*\), [\d.e-]+ h, [\d.e-]+ chip-h, \$[\d.e-]+ on-demand \/ \$[\d.e-]+ spot, XLA pre-flight on v5e:1x1 \(cached, buckets 32\/64\)/,
    );

    // The tokenizer's cap bounds the lengths: with max_tokens: 32 no row is longer, so 64 is not compiled.
    const flow = join(root, 'flow.yaml');
    writeFileSync(flow, readFileSync(flow, 'utf8').replace('with: { version: 2 }', 'with: { version: 2, max_tokens: 32 }'));
    const capped = embedOf(planJson(root));
    expect(capped.preflight).toMatchObject({ source: 'xla', cached: false });
    expect((capped.preflight!.answer as { buckets: { length: number }[] }).buckets.map((b) => b.length)).toEqual([32]);
  }, 900_000);

  it('refuses a batch that does not fit at its batch: line with XLA figures and compiled fixes, in plan and in run', () => {
    const embed = 'with: { model: models/wide }, batch: { per_device: 32 }, tokens: 32';
    const root = project(V5E_1, embed);
    const plan = runCli(['plan', 'flow.yaml'], root);
    expect(plan.status).toBe(1);
    const column = FLOW(V5E_1, embed).split('\n')[7]!.indexOf('{ per_device: 32 }') + 1; // the batch: value
    expect(plan.stderr).toContain(`flow.yaml:8:${column}: error: step "embed"`);
    expect(plan.stderr).toMatch(
      /error: step "embed": per-device batch 32 does not fit on v5e:1x1 \(TPU v5 lite, mesh \{ data: 1, fsdp: 1, tp: 1 \} per host\) at length 32: XLA: RESOURCE_EXHAUSTED: Ran out of memory .*\(\d+\.\d+G\).*\(15\.75G\)/,
    );
    const fix = /hint: checked by compiling: fits with batch: \{ per_device: (\d+) \} \((\d+\.\d) GiB per chip\)/.exec(plan.stderr);
    expect(fix, plan.stderr).not.toBeNull();
    const run = runCli(['run', 'flow.yaml'], root);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('[preflight-does-not-fit]');
    expect(run.stderr).not.toContain('nothing was started'); // refused while loading, before any remote check

    // The suggested batch plans clean.
    writeFileSync(join(root, 'flow.yaml'), FLOW(V5E_1, `with: { model: models/wide }, batch: { per_device: ${fix![1]} }, tokens: 32`));
    expect(embedOf(planJson(root)).preflight).toMatchObject({ source: 'xla', answer: { fits: true, per_device_batch: Number(fix![1]) } });
  }, 900_000);

  it('batch: auto takes the largest per-device batch that compiled and fit, and says how it searched', () => {
    const root = project(V5E_1, 'with: { model: models/wide }, batch: auto, tokens: 32');
    const embed = embedOf(planJson(root));
    const answer = embed.preflight!.answer as {
      per_device_batch: number;
      batch_search: { tried: { per_device_batch: number; fits: boolean }[] };
    };
    const tried = new Map(answer.batch_search.tried.map((t) => [t.per_device_batch, t.fits]));
    expect(tried.get(answer.per_device_batch)).toBe(true);
    expect(tried.get(answer.per_device_batch + 1)).toBe(false);
    expect(embed.estimate!.perDeviceBatch).toBe(answer.per_device_batch);
    expect(runCli(['plan', 'flow.yaml', '--plain'], root).stdout).toContain(
      `batch: auto chose ${answer.per_device_batch}/dev by doubling then bisection`,
    );
  }, 900_000);

  it("compiles finetune/nt-lora's real train step at its per-device batch, beside the forward at the same batch", () => {
    const lora = (batchSize: number) =>
      `  lora: { uses: finetune/nt-lora, needs: [tokens, source], on: pod, tokens: 64, with: { model: models/tiny-nt, batch_size: ${batchSize}, grad_accum: 2 } }`;
    // embed at per-device 4, lora at 8 / (data 1 x fsdp 1 x grad_accum 2) = 4: the same micro-batch.
    const embed = 'with: { model: models/tiny-nt }, batch: { per_device: 4 }, tokens: 64';
    const root = project(V5E_1, embed, lora(8));
    const plan = planJson(root);
    const trained = plan.steps.find((s) => s.step === 'lora')!.placement!;
    expect(trained.preflight).toMatchObject({
      source: 'xla',
      topology: 'v5e:1x1',
      answer: { program: 'train-step', fits: true, per_device_batch: 4 },
    });
    type Answer = { buckets: { length: number; memory: { total_bytes: number; alias_bytes: number }; flops?: { per_sequence: number } }[] };
    const train = (trained.preflight!.answer as Answer).buckets.at(-1)!;
    const forward = (embedOf(plan).preflight!.answer as Answer).buckets.at(-1)!;
    expect(train.length).toBe(64);
    expect(train.memory.total_bytes).toBeGreaterThan(forward.memory.total_bytes);
    expect(train.memory.alias_bytes).toBeGreaterThan(0); // the donated optimizer state
    expect(train.flops!.per_sequence).toBeGreaterThan(2.5 * forward.flops!.per_sequence); // forward, remat, backward
    expect(trained.estimate!.flopsPerSequence).toBe(train.flops!.per_sequence);
    expect(runCli(['plan', 'flow.yaml', '--plain'], root).stdout).toMatch(
      /lora +finetune\/nt-lora .*batch 4\/dev.*XLA pre-flight on v5e:1x1 \(cached, buckets 32\/64\)/,
    );

    // A batch_size that does not split over the mesh: refused at plan time, at the step's with:, with the fix.
    writeFileSync(join(root, 'flow.yaml'), FLOW(V5E_1, embed, lora(7)));
    const unsplit = runCli(['plan', 'flow.yaml', '--plain'], root);
    expect(unsplit.status).toBe(1);
    expect(unsplit.stderr).toMatch(
      /flow\.yaml:\d+:\d+: error: step "lora": batch_size 7 does not split over data 1 x fsdp 1 x grad_accum 2 = 2 \[batch-mesh-mismatch\]/,
    );
    expect(unsplit.stderr).toContain('hint: use a multiple of 2');
  }, 900_000);

  it('falls back to the formula and says so without the compiler, and for GPUs', () => {
    const root = project(V5E_1, 'with: { model: models/tiny-nt }, batch: { per_device: 8 }, tokens: 64');
    const noJax = embedOf(planJson(root, { STRAND_PYTHON: '/usr/bin/false' }));
    expect(noJax.preflight).toMatchObject({ source: 'formula', why: expect.stringContaining('the pre-flight compiler did not answer') });
    expect(runCli(['plan', 'flow.yaml', '--plain'], root, { STRAND_PYTHON: '/usr/bin/false' }).stdout).toContain(
      'formula estimate (no XLA pre-flight: the pre-flight compiler did not answer',
    );
    const gpu = project('{ kind: gpu, type: h100 }', 'with: { model: models/tiny-nt }, batch: { per_device: 8 }, tokens: 64');
    expect(embedOf(planJson(gpu)).preflight).toEqual({
      source: 'formula',
      why: 'GPUs have no deviceless compile here (XLA needs the GPU itself)',
    });
    // A refusal from the formula says that it is the formula's, and why XLA gave no answer.
    const huge = project(
      V5E_1,
      'with: { model: models/tiny-nt }, batch: { per_device: 8 }, tokens: 64, model_facts: { parameters: 5.0e10 }',
    );
    const refused = runCli(['plan', 'flow.yaml', '--plain'], huge, { STRAND_PYTHON: '/usr/bin/false' });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(
      /error: step "embed": needs [\d.]+ GiB per device .*; the formula's estimate: XLA gave no answer \(the pre-flight compiler did not answer .*\) \[memory-exceeded\]/,
    );
  }, 300_000);

  it('says at the step that XLA crashed, and on what, when the compiler dies', () => {
    // A real crash: libtpu overflows an 8 MiB stack compiling the tiny NT at per-device 960 x 1,000 tokens
    // (runtime/jax tests/test_compiler_stack.py), here with the compiler kept from raising its limit. The
    // formula, which stands instead, finds 960 too many, and its refusal says why XLA gave no answer.
    const root = project(V5E_1, 'with: { model: models/tiny-nt }, batch: { per_device: 960 }, tokens: 1000');
    const plan = spawnSync(
      'bash',
      ['-c', 'ulimit -S -s 8192 && ulimit -c 0 && exec "$0" "$@"', process.execPath, CLI, 'plan', 'flow.yaml', '--json'],
      { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', STRAND_COMPILER_STACK_REEXECUTED: '1' } },
    );
    expect(plan.status, plan.stderr).toBe(1);
    const { diagnostics } = JSON.parse(plan.stdout) as { diagnostics: { code: string; message: string; location: { line: number } }[] };
    expect(diagnostics).toEqual([
      expect.objectContaining({
        code: 'memory-exceeded',
        location: expect.objectContaining({ line: 8 }) as unknown,
        message: expect.stringMatching(
          /; the formula's estimate: XLA gave no answer \(XLA crashed \(the compiler was killed by SIGSEGV\) compiling per-device 960 up to length 1000\)$/,
        ) as unknown,
      }),
    ]);
  }, 600_000);
});
