// ONNX models with external data on disk: onnxruntime loads what the encoder writes, the cache key
// follows the data files, and model facts come from the graph or a config.json beside the model.
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterEach, describe, expect, it } from 'vitest';
import { readModelFacts } from '../../engine/devices/onnx-model-facts.js';
import { mergeModelFacts } from '../../engine/devices/model-facts.js';
import { onnxModelBytes, onnxModelFiles } from '../../engine/onnx/onnx-model-files.js';
import { StrandState } from '../../engine/store/strand-state.js';
import { removeProjects, writeProject } from '../helpers/project.js';
import { optimumLikeExport, optimumLikeModel, shapelessModel, SMALL_ESM } from '../helpers/optimum-like-onnx.js';

afterEach(removeProjects);

function exportTo(root: string, folder: string, layout: Parameters<typeof optimumLikeExport>[0], shape = SMALL_ESM): string {
  const { model, files } = optimumLikeExport(layout, shape);
  mkdirSync(join(root, folder), { recursive: true });
  writeFileSync(join(root, folder, 'model.onnx'), model);
  for (const [location, bytes] of files) writeFileSync(join(root, folder, location), bytes);
  return join(root, folder, 'model.onnx');
}

async function hiddenStates(path: string): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(path);
  try {
    const ids = BigInt64Array.from([3n, 7n, 11n, 4106n, 0n, 5n]);
    const dims = [2, 3];
    const out = await session.run({
      input_ids: new ort.Tensor('int64', ids, dims),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(6).fill(1n), dims),
    });
    return out.last_hidden_state!.data as Float32Array;
  } finally {
    await session.release();
  }
}

describe('ONNX external data', () => {
  it('is loaded by onnxruntime, one data file or one file per tensor, with the same outputs as inline weights', async () => {
    const root = writeProject({ 'inline/model.onnx': optimumLikeModel() });
    const inline = await hiddenStates(join(root, 'inline/model.onnx'));
    expect(inline.length).toBe(2 * 3 * SMALL_ESM.hidden);
    expect(await hiddenStates(exportTo(root, 'one', { location: 'model.onnx_data' }))).toEqual(inline);
    expect(await hiddenStates(exportTo(root, 'many', { location: 'per-tensor' }))).toEqual(inline);
  });

  it('is part of the cache key: new weights in the data file change the key field, model.onnx unchanged', () => {
    const root = writeProject({});
    exportTo(root, 'm', { location: 'model.onnx_data' });
    const state = new StrandState(join(root, '.strand'), root);
    const model = state.inputPath('m/model.onnx').digest;
    const before = state.externalDataDigests('m/model.onnx');
    expect(Object.keys(before)).toEqual(['model.onnx_data']);
    const { files } = optimumLikeExport({ location: 'model.onnx_data' }, { ...SMALL_ESM, seed: 8 });
    writeFileSync(join(root, 'm/model.onnx_data'), files.get('model.onnx_data')!);
    const fresh = new StrandState(join(root, '.strand'), root);
    expect(fresh.inputPath('m/model.onnx').digest).toBe(model);
    expect(fresh.externalDataDigests('m/model.onnx')['model.onnx_data']).not.toBe(before['model.onnx_data']);
  });

  it('lists every data file a per-tensor export loads, and finds a missing one', () => {
    const root = writeProject({});
    const path = exportTo(root, 'm', { location: 'per-tensor' });
    const listed = onnxModelFiles(path);
    if ('error' in listed) throw new Error(listed.error);
    expect(listed.problems).toEqual([]);
    expect(listed.files.length).toBe(optimumLikeExport({ location: 'per-tensor' }).files.size);
    writeFileSync(join(root, 'm/onnx__MatMul_1000'), new Uint8Array(10));
    const short = onnxModelFiles(path);
    expect('error' in short ? [] : short.problems).toEqual([
      {
        kind: 'short',
        location: 'onnx__MatMul_1000',
        path: join(root, 'm/onnx__MatMul_1000'),
        size: 10,
        needs: 32 * 32 * 4,
        tensor: 'onnx::MatMul_1000',
      },
    ]);
  });
});

describe('onnxModelBytes', () => {
  it('counts the ONNX file and the external data it reads, for a file or a folder; only the file where it cannot decode it, 0 where none', () => {
    const root = writeProject({ 'inline/model.onnx': optimumLikeModel() });
    const inline = join(root, 'inline/model.onnx');
    expect(onnxModelBytes(inline, onnxModelFiles(inline))).toBe(statSync(inline).size);
    const path = exportTo(root, 'm', { location: 'model.onnx_data' });
    const data = optimumLikeExport({ location: 'model.onnx_data' }).files.get('model.onnx_data')!;
    const both = statSync(path).size + data.length;
    expect(onnxModelBytes(path, onnxModelFiles(path))).toBe(both);
    expect(onnxModelBytes(join(root, 'm'), onnxModelFiles(join(root, 'm')))).toBe(both);
    writeFileSync(join(root, 'garbage.onnx'), 'not a model');
    const garbage = join(root, 'garbage.onnx');
    expect(onnxModelBytes(garbage, onnxModelFiles(garbage))).toBe('not a model'.length);
    expect(onnxModelBytes(join(root, 'absent.onnx'), { files: [], problems: [] })).toBe(0);
  });
});

describe('model facts from files', () => {
  const merged = (path: string) => mergeModelFacts(...readModelFacts(path).sources);

  it('come from the graph of an export with no strand.* metadata, weights in external data', () => {
    const root = writeProject({});
    const facts = merged(exportTo(root, 'm', { location: 'model.onnx_data' }));
    expect(facts).toMatchObject({
      layers: 3,
      hidden: 32,
      heads: 4,
      ffn: 96,
      vocab: 4107,
      sources: { parameters: 'initializers', layers: 'graph', hidden: 'graph', heads: 'graph' },
    });
    expect(facts.parameters).toBeGreaterThan(4107 * 32);
  });

  it('come from a config.json beside the model, over the graph', () => {
    const config = { num_hidden_layers: 29, hidden_size: 1024, num_attention_heads: 16, intermediate_size: 4096, vocab_size: 4107 };
    const root = writeProject({ 'm/model.onnx': shapelessModel(), 'm/config.json': JSON.stringify(config) });
    expect(merged(join(root, 'm/model.onnx'))).toMatchObject({
      layers: 29,
      hidden: 1024,
      heads: 16,
      ffn: 4096,
      sources: { layers: 'config.json', parameters: 'initializers' },
    });
  });

  it('are missing, not zero, with neither; a broken config.json is reported', () => {
    const root = writeProject({ 'm/model.onnx': shapelessModel(), 'm/config.json': '{ "num_hidden_layers": 29,' });
    const reading = readModelFacts(join(root, 'm/model.onnx'));
    expect(reading.configError?.path).toBe(join(root, 'm/config.json'));
    const facts = mergeModelFacts(...reading.sources);
    expect(facts).toEqual({ parameters: 9, sources: { parameters: 'initializers' } });
  });
});
