// Real exports through the built CLI: a model with external data (model.onnx + model.onnx_data) is
// cached by all its files and refused, at its line, when a data file is missing; and a torch/optimum
// export with no strand.* metadata still gets model facts in the plan (from its graph or config.json),
// or a located warning that asks for model_facts: instead of an estimate built on zeros.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { copyFromRepo, removeProjects, runCli, writeProject } from '../helpers/project.js';
import { optimumLikeExport, optimumLikeModel, shapelessModel, SMALL_ESM } from '../helpers/optimum-like-onnx.js';

afterEach(removeProjects);

const flow = (embed: string, devices = '') => `version: 1
name: nt
${devices}steps:
  source: { uses: source/parquet, with: { path: workflows/data/sample.parquet, shard_rows: 500 } }
  tokens: { uses: tokenize/nucleotide-transformer, needs: [source], with: { version: 2 } }
  embed:
    uses: embed/onnx
    needs: [tokens]
    with: { model: nt/model.onnx }
${embed}`;

function exportProject(files: Record<string, string | Uint8Array>, embed = '', devices = ''): string {
  const { model, files: data } = optimumLikeExport({ location: 'model.onnx_data' });
  const root = writeProject({
    'flow.yaml': flow(embed, devices),
    'nt/model.onnx': model,
    'nt/model.onnx_data': data.get('model.onnx_data')!,
    ...files,
  });
  copyFromRepo(root, 'workflows/data/sample.parquet');
  return root;
}

const events = (stdout: string): { kind: string; step?: string }[] =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
const ran = (stdout: string): string[] =>
  events(stdout)
    .filter((e) => e.kind === 'step-finished')
    .map((e) => e.step!);

describe('embed/onnx with external data', () => {
  it('reruns embed when only the data file changes, and says which file', () => {
    const root = exportProject({});
    const first = runCli(['run', 'flow.yaml', '--json'], root);
    expect(first.stderr).toBe('');
    expect(ran(first.stdout)).toEqual(['source', 'tokens', 'embed']);
    expect(ran(runCli(['run', 'flow.yaml', '--json'], root).stdout)).toEqual([]);

    const { files } = optimumLikeExport({ location: 'model.onnx_data' }, { ...SMALL_ESM, seed: 8 });
    writeFileSync(join(root, 'nt/model.onnx_data'), files.get('model.onnx_data')!);
    const plan = JSON.parse(runCli(['plan', 'flow.yaml', '--json'], root).stdout);
    const embed = plan.steps.find((s: { step: string }) => s.step === 'embed');
    expect(embed.status).toBe('will-run');
    expect(embed.reasons.map((r: { text: string }) => r.text)).toEqual(['input file model:model.onnx_data changed']);
    expect(Object.keys(embed.fingerprint.files)).toEqual(['model', 'model:model.onnx_data']);
    expect(ran(runCli(['run', 'flow.yaml', '--json'], root).stdout)).toEqual(['embed']);
  });

  it('refuses a model whose data file is missing, at the model line, before anything runs', () => {
    const root = exportProject({});
    rmSync(join(root, 'nt/model.onnx_data'));
    const result = runCli(['run', 'flow.yaml'], root);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      'flow.yaml:9:20: error: step "embed": nt/model.onnx keeps tensor esm.embeddings.word_embeddings.weight in external data file model.onnx_data, which does not exist',
    );
    expect(result.stderr).toContain('[external-data-missing]');
    expect(result.stderr).toContain('hint: copy model.onnx_data beside the model');
    expect(result.stdout).not.toContain('embed');
  });

  it('refuses a truncated data file, naming the bytes it needs', () => {
    const root = exportProject({});
    const data = readFileSync(join(root, 'nt/model.onnx_data'));
    writeFileSync(join(root, 'nt/model.onnx_data'), data.subarray(0, data.length - 1));
    const result = runCli(['validate', 'flow.yaml'], root);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(
        `error: step "embed": nt/model.onnx reads external data file model.onnx_data up to byte ${data.length} \\(tensor [^)]+\\), but it has ${data.length - 1} bytes \\[external-data-truncated\\]`,
      ),
    );
  });
});

const GPU = 'devices:\n  gpu: { kind: gpu, type: a100-80gb, count: 1 }\n';
const ON_GPU = '    on: gpu\n    batch: { per_device: 8 }\n';

function planOf(root: string): {
  embed: { placement: { facts: unknown; unknown?: string[]; estimate: { memory: Record<string, number> } } };
  diagnostics: { code: string; severity: string; message: string; location: { line: number } }[];
  stderr: string;
  text: string;
} {
  const json = runCli(['plan', 'flow.yaml', '--json'], root);
  expect(json.status).toBe(0);
  const plan = JSON.parse(json.stdout) as {
    steps: ({ step: string } & ReturnType<typeof planOf>['embed'])[];
    diagnostics: ReturnType<typeof planOf>['diagnostics'];
  };
  const text = runCli(['plan', 'flow.yaml', '--plain'], root);
  // Planned on a GPU this machine has no executor for: estimated, and said at its on: that run refuses it.
  const refusal = plan.diagnostics.filter((d) => d.code === 'remote-step-not-runnable');
  const onLine = readFileSync(join(root, 'flow.yaml'), 'utf8').split('\n').indexOf('    on: gpu') + 1;
  expect(refusal.map((d) => [d.severity, d.location.line, d.message])).toEqual([
    ['warning', onLine, expect.stringContaining('step "embed" (on: gpu): this version has no GPU executor')],
  ]);
  return {
    embed: plan.steps.find((s) => s.step === 'embed')!,
    diagnostics: plan.diagnostics.filter((d) => d.code !== 'remote-step-not-runnable'),
    stderr: text.stderr,
    text: text.stdout,
  };
}

describe('model facts of real exports in the plan', () => {
  it('reads layers, hidden and heads from an optimum-shaped graph with no strand.* metadata', () => {
    const root = exportProject({}, ON_GPU, GPU);
    const { embed, diagnostics, stderr, text } = planOf(root);
    expect(embed.placement.facts).toMatchObject({
      layers: 3,
      hidden: 32,
      heads: 4,
      ffn: 96,
      sources: { layers: 'graph', hidden: 'graph', parameters: 'initializers' },
    });
    // embed/onnx computes in the export's precision (fp32, 4 bytes) wherever it is placed: one layer's float32
    // attention scores (8 x 4 heads x 1,000^2), its feed-forward block and hidden state (estimate-placement.ts)
    expect(embed.placement.estimate.memory.activations).toBeCloseTo(8 * 4 * 1000 ** 2 * 4 + 8 * 1000 * (96 * 1.25 + 32 * 0.3) * 4, 0);
    expect(embed.placement).not.toHaveProperty('unknown');
    expect(diagnostics).toEqual([]);
    expect(stderr).toMatch(/\n0 errors, 1 warning\n$/); // the GPU refusal planOf checks, nothing else
    expect(text).toMatch(
      /\[gpu a100-80gb .*; mem 0\.1\/68\.0 GiB, 1,000 sequences \(counted from Parquet footers.*, formula estimate \(no XLA pre-flight: (embed\/onnx has no compiled program to check|GPUs have no deviceless compile here \(XLA needs the GPU itself\))\)\]/,
    );
  });

  it('takes them from a config.json beside the model', () => {
    const config = { num_hidden_layers: 32, hidden_size: 2560, num_attention_heads: 20, intermediate_size: 10240, vocab_size: 4107 };
    const root = writeProject({
      'flow.yaml': flow(ON_GPU, GPU),
      'nt/model.onnx': shapelessModel(),
      'nt/config.json': JSON.stringify(config),
    });
    copyFromRepo(root, 'workflows/data/sample.parquet');
    const { embed, diagnostics } = planOf(root);
    expect(embed.placement.facts).toMatchObject({
      layers: 32,
      hidden: 2560,
      heads: 20,
      ffn: 10240,
      sources: { layers: 'config.json', hidden: 'config.json', heads: 'config.json' },
    });
    expect(embed.placement.estimate.memory.activations).toBeCloseTo(8 * 20 * 1000 ** 2 * 4 + 8 * 1000 * (10240 * 1.25 + 2560 * 0.3) * 4, 0);
    expect(diagnostics).toEqual([]);
  });

  it('says what it cannot know, at the model line, and prints no estimate built on zeros', () => {
    const root = writeProject({ 'flow.yaml': flow(ON_GPU, GPU), 'nt/model.onnx': shapelessModel() });
    copyFromRepo(root, 'workflows/data/sample.parquet');
    const { embed, diagnostics, stderr, text } = planOf(root);
    expect(embed.placement.unknown).toEqual(['layers', 'hidden']);
    expect(embed.placement.estimate.memory).not.toHaveProperty('activations');
    expect(embed.placement.estimate.memory).not.toHaveProperty('total');
    expect(diagnostics.map((d) => [d.severity, d.code, d.location.line])).toEqual([['warning', 'model-facts-unknown', 11]]);
    expect(stderr).toContain(
      'flow.yaml:11:20: warning: step "embed": the model\'s layers and hidden size are unknown (nt/model.onnx has no strand.* metadata for them, no config.json beside it gives them, and its graph does not show them); the memory estimate leaves out activations',
    );
    expect(stderr).toContain('hint: add to the step model_facts: { layers: N, hidden: N, heads: N, ffn: N }');
    expect(text).toContain('mem ?/68.0 GiB (layers, hidden unknown; parameters alone 0.0 GiB)');
    expect(text).not.toMatch(/mem \d/);
  });

  it('takes what model_facts: gives over the file, and warns no more', () => {
    const root = writeProject({
      'flow.yaml': flow(`${ON_GPU}    model_facts: { layers: 29, hidden: 1024, heads: 16, ffn: 4096 }\n`, GPU),
      'nt/model.onnx': shapelessModel(),
    });
    copyFromRepo(root, 'workflows/data/sample.parquet');
    const { embed, diagnostics } = planOf(root);
    expect(embed.placement.facts).toMatchObject({
      layers: 29,
      hidden: 1024,
      heads: 16,
      ffn: 4096,
      parameters: 9,
      sources: { layers: 'model_facts', parameters: 'initializers' },
    });
    expect(diagnostics).toEqual([]);
  });

  it('reads the committed-style single-file export too', () => {
    const root = writeProject({ 'flow.yaml': flow(ON_GPU, GPU), 'nt/model.onnx': optimumLikeModel() });
    copyFromRepo(root, 'workflows/data/sample.parquet');
    expect(planOf(root).embed.placement.facts).toMatchObject({ layers: 3, hidden: 32, heads: 4 });
  });
});
