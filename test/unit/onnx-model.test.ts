// The ONNX decoder, external-data checks and model facts, on models built in memory by the repository's
// encoder (steps/onnx-proto.ts). No files: external data sizes arrive as a function.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { factsFromGraph, parametersOf } from '../../engine/devices/graph-model-facts.js';
import { factsFromConfig, factsFromMetadata, mergeModelFacts, missingFacts } from '../../engine/devices/model-facts.js';
import { estimatePlacement } from '../../engine/devices/estimate-placement.js';
import { loadDeviceCatalog, resolvePlacement } from '../../engine/devices/device-catalog.js';
import { bytesSource, decodeOnnxModel, type OnnxModel } from '../../engine/onnx/decode-onnx-model.js';
import { externalDataFiles } from '../../engine/onnx/external-data-files.js';
import { encodeModel, TensorType } from '../../steps/onnx-proto.js';
import { optimumLikeExport, optimumLikeGraph, optimumLikeModel, shapelessModel, SMALL_ESM } from '../helpers/optimum-like-onnx.js';

function decode(bytes: Uint8Array): OnnxModel {
  const result = decodeOnnxModel(bytesSource(bytes));
  if ('error' in result) throw new Error(result.error);
  return result.model;
}

describe('decodeOnnxModel', () => {
  it('reads initializer shapes, metadata and small integer constants as the encoder wrote them', () => {
    const bytes = encodeModel(
      {
        name: 'g',
        nodes: [{ op: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'] }],
        initializers: [
          { name: 'w', dims: [3, 4], type: TensorType.FLOAT, data: new Float32Array(12) },
          { name: 'shape', dims: [4], type: TensorType.INT64, data: BigInt64Array.from([0n, -1n, 20n, 128n]) },
        ],
        inputs: [{ name: 'x', type: TensorType.FLOAT, shape: ['b', 12] }],
        outputs: [{ name: 'y', type: TensorType.FLOAT, shape: ['b', 3, 4] }],
      },
      17,
      'test',
      { 'strand.layers': '2' },
    );
    const model = decode(bytes);
    expect(model.initializers.map((t) => [t.name, t.dims, t.elements])).toEqual([
      ['w', [3, 4], 12],
      ['shape', [4], 4],
    ]);
    expect(model.initializers[1]!.values).toEqual([0, -1, 20, 128]);
    expect(model.metadata).toEqual({ 'strand.layers': '2' });
    expect(model.nodes[0]).toMatchObject({ op: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'] });
    expect(model.externalData).toEqual([]);
  });

  it('reads external data locations, offsets and lengths, one file or one per tensor', () => {
    const one = optimumLikeExport({ location: 'model.onnx_data' });
    const refs = decode(one.model).externalData;
    expect(new Set(refs.map((r) => r.location))).toEqual(new Set(['model.onnx_data']));
    expect(refs.find((r) => r.tensor === 'esm.embeddings.word_embeddings.weight')).toEqual({
      tensor: 'esm.embeddings.word_embeddings.weight',
      location: 'model.onnx_data',
      offset: 0,
      length: 4107 * 32 * 4,
    });
    const data = one.files.get('model.onnx_data')!;
    for (const ref of refs) {
      expect(ref.offset % 4096).toBe(0);
      expect(ref.offset + ref.length!).toBeLessThanOrEqual(data.length);
    }
    const perTensor = optimumLikeExport({ location: 'per-tensor' });
    const locations = decode(perTensor.model).externalData.map((r) => r.location);
    expect(locations).toContain('onnx__MatMul_1000');
    expect(new Set(locations)).toEqual(new Set(perTensor.files.keys()));
    // The parameter count is the same wherever the bytes live.
    expect(parametersOf(decode(one.model))).toBe(parametersOf(decode(optimumLikeModel())));
  });

  it('gives a reason, never a throw, for any truncation of a model', () => {
    const bytes = optimumLikeModel();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: bytes.length - 1 }), (end) => {
        const result = decodeOnnxModel(bytesSource(bytes.subarray(0, end)));
        return 'error' in result || 'model' in result;
      }),
      { numRuns: 300, seed: 11 },
    );
    expect(decodeOnnxModel(bytesSource(bytes.subarray(0, 100)))).toMatchObject({
      error: expect.stringMatching(/past the end|ends at byte/),
    });
  });
});

describe('externalDataFiles', () => {
  const refs = [
    { tensor: 'a', location: 'model.onnx_data', offset: 0, length: 100 },
    { tensor: 'b', location: 'model.onnx_data', offset: 4096, length: 100 },
    { tensor: 'c', location: 'weights/c.bin', offset: 0, length: 8 },
  ];

  it('lists each file once with the bytes the model reads from it', () => {
    const sizes: Record<string, number> = { '/m/model.onnx_data': 4196, '/m/weights/c.bin': 8 };
    expect(externalDataFiles('/m/model.onnx', refs, (p) => sizes[p])).toEqual({
      files: [
        { location: 'model.onnx_data', path: '/m/model.onnx_data', needs: 4196 },
        { location: 'weights/c.bin', path: '/m/weights/c.bin', needs: 8 },
      ],
      problems: [],
    });
  });

  it('reports missing, truncated and escaping files with the tensor that needs them', () => {
    const sizes: Record<string, number> = { '/m/model.onnx_data': 4100 };
    const escaping = [...refs, { tensor: 'd', location: '../secrets', offset: 0 }, { tensor: 'e', location: '/etc/passwd', offset: 0 }];
    expect(externalDataFiles('/m/model.onnx', escaping, (p) => sizes[p]).problems).toEqual([
      { kind: 'escapes', location: '../secrets', tensor: 'd' },
      { kind: 'escapes', location: '/etc/passwd', tensor: 'e' },
      { kind: 'short', location: 'model.onnx_data', path: '/m/model.onnx_data', size: 4100, needs: 4196, tensor: 'b' },
      { kind: 'missing', location: 'weights/c.bin', path: '/m/weights/c.bin', tensor: 'c' },
    ]);
  });
});

describe('model facts', () => {
  it('reads layers, hidden, heads, FFN width and vocabulary from an optimum-shaped graph', () => {
    expect(factsFromGraph(decode(optimumLikeModel()))).toEqual({ layers: 3, hidden: 32, heads: 4, ffn: 96, vocab: 4107 });
    const wider = { ...SMALL_ESM, hidden: 48, heads: 6, layers: 5, ffn: 192 };
    expect(factsFromGraph(decode(optimumLikeModel(wider)))).toEqual({ layers: 5, hidden: 48, heads: 6, ffn: 192, vocab: 4107 });
  });

  it('reads the same facts when the weights are in external data', () => {
    expect(factsFromGraph(decode(optimumLikeExport({ location: 'model.onnx_data' }).model))).toEqual(
      factsFromGraph(decode(optimumLikeModel())),
    );
  });

  it('counts the layers by attention when names say nothing', () => {
    const graph = optimumLikeGraph();
    let n = 0;
    const renamed = new Map(graph.initializers.map((t) => [t.name, `t${n++}`]));
    const anonymous = {
      ...graph,
      initializers: graph.initializers.map((t) => ({ ...t, name: renamed.get(t.name)! })),
      nodes: graph.nodes.map(({ name: _name, ...node }) => ({ ...node, inputs: node.inputs.map((i) => renamed.get(i) ?? i) })),
    };
    expect(factsFromGraph(decode(encodeModel(anonymous, 17, 'test')))).toEqual({ layers: 3, hidden: 32, heads: 4, ffn: 96, vocab: 4107 });
  });

  it('leaves out what the graph does not show', () => {
    expect(factsFromGraph(decode(shapelessModel()))).toEqual({});
  });

  it('reads a Hugging Face config.json and strand.* metadata', () => {
    const config = {
      model_type: 'esm',
      num_hidden_layers: 32,
      hidden_size: 2560,
      num_attention_heads: 20,
      intermediate_size: 10240,
      vocab_size: 4107,
      layer_norm_eps: 1e-12,
    };
    expect(factsFromConfig(config)).toEqual({ layers: 32, hidden: 2560, heads: 20, ffn: 10240, vocab: 4107 });
    expect(factsFromConfig({ n_layer: 12, n_embd: 768, n_head: 12 })).toEqual({ layers: 12, hidden: 768, heads: 12 });
    expect(factsFromConfig(['not', 'a', 'config'])).toEqual({});
    expect(factsFromMetadata({ 'strand.layers': '2', 'strand.hidden': '64', 'strand.heads': 'four' })).toEqual({ layers: 2, hidden: 64 });
  });

  it('lets model_facts win over metadata over config.json over the graph, naming each source', () => {
    const facts = mergeModelFacts(
      { from: 'model_facts', values: { heads: 16 } },
      { from: 'metadata', values: {} },
      { from: 'config.json', values: { layers: 29, heads: 20 } },
      { from: 'initializers', values: { parameters: 5e8 } },
      { from: 'graph', values: { layers: 3, hidden: 1024 } },
    );
    expect(facts).toEqual({
      heads: 16,
      layers: 29,
      parameters: 5e8,
      hidden: 1024,
      sources: { heads: 'model_facts', layers: 'config.json', parameters: 'initializers', hidden: 'graph' },
    });
  });

  it('derives parameters from the shape when only the shape is given', () => {
    const facts = mergeModelFacts({ from: 'model_facts', values: { layers: 32, hidden: 2560, heads: 20, ffn: 10240 } });
    expect(facts.parameters).toBe(32 * (4 * 2560 ** 2 + 2 * 2560 * 10240));
    expect(facts.sources?.parameters).toBe('derived');
    expect(missingFacts(facts, 4)).toEqual([]);
    expect(missingFacts(mergeModelFacts({ from: 'initializers', values: { parameters: 1e6 } }), 2)).toEqual(['layers', 'hidden', 'heads']);
  });
});

describe('estimates without layers or hidden size', () => {
  const catalog = loadDeviceCatalog();
  const resolved = resolvePlacement({ kind: 'gpu', type: 'a100-80gb', count: 1 }, catalog, { cores: 2, memoryBytes: 2 ** 34 });
  if (!resolved.ok) throw new Error(resolved.error);
  const a100 = resolved.value;
  const base = { placement: a100, precision: 'bf16' as const, tokens: 1000, training: false };

  it('leave activations and the total out rather than counting them as zero', () => {
    const e = estimatePlacement({ ...base, batch: { per_device: 8 }, model: { parameters: 5e7 } });
    expect(e.memory.parameters).toBe(1e8);
    expect(e.memory).not.toHaveProperty('activations');
    expect(e.memory).not.toHaveProperty('total');
    expect(e.problems).toEqual([]);
  });

  it('still refuse what cannot fit on parameters alone, saying it is a lower bound', () => {
    const e = estimatePlacement({ ...base, batch: { per_device: 8 }, model: { parameters: 5e10 } });
    expect(e.problems[0]).toMatchObject({
      code: 'memory-exceeded',
      message: expect.stringMatching(/^needs at least 93\.13 GiB per device before activations/),
    });
  });

  it('do not size batch: auto on a guess', () => {
    expect(estimatePlacement({ ...base, batch: 'auto', model: { parameters: 5e7 } }).perDeviceBatch).toBe(8);
  });
});
