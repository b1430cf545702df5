// How an embedding step splits the local CPU among onnxruntime sessions (steps/embed/onnx-cpu-layout.ts).
import { describe, expect, it } from 'vitest';
import { onnxCpuLayout, SMALL_MODEL_BYTES } from '../../steps/embed/onnx-cpu-layout.js';

const MiB = 1024 * 1024;

describe('onnxCpuLayout', () => {
  it('gives a small model one single-threaded session per core when the workflow declares none', () => {
    expect(onnxCpuLayout({ declaredSessions: undefined, cores: 4, shards: 36, modelBytes: 2 * MiB })).toEqual({
      sessions: 4,
      threadsPerSession: 1,
    });
    expect(onnxCpuLayout({ declaredSessions: undefined, cores: 2, shards: 36, modelBytes: SMALL_MODEL_BYTES })).toEqual({
      sessions: 2,
      threadsPerSession: 1,
    });
  });

  it('gives a larger model one session over all the cores', () => {
    expect(onnxCpuLayout({ declaredSessions: undefined, cores: 4, shards: 36, modelBytes: SMALL_MODEL_BYTES + 1 })).toEqual({
      sessions: 1,
      threadsPerSession: 4,
    });
  });

  it('keeps the sessions the workflow declares, sharing the cores among them, whatever the model', () => {
    expect(onnxCpuLayout({ declaredSessions: 2, cores: 8, shards: 36, modelBytes: 10_000 * MiB })).toEqual({
      sessions: 2,
      threadsPerSession: 4,
    });
    expect(onnxCpuLayout({ declaredSessions: 1, cores: 8, shards: 36, modelBytes: MiB })).toEqual({
      sessions: 1,
      threadsPerSession: 8,
    });
  });

  it('never opens more sessions than shards, and never fewer threads than one', () => {
    expect(onnxCpuLayout({ declaredSessions: undefined, cores: 8, shards: 3, modelBytes: MiB })).toEqual({
      sessions: 3,
      threadsPerSession: 2,
    });
    expect(onnxCpuLayout({ declaredSessions: 4, cores: 2, shards: 36, modelBytes: MiB })).toEqual({
      sessions: 4,
      threadsPerSession: 1,
    });
    expect(onnxCpuLayout({ declaredSessions: undefined, cores: 2, shards: 0, modelBytes: MiB })).toEqual({
      sessions: 1,
      threadsPerSession: 2,
    });
  });
});
