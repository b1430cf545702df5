// How an embedding step splits the local CPU among onnxruntime sessions (steps/embed/onnx-cpu-layout.ts).
import { describe, expect, it } from 'vitest';
import { MAX_CHOSEN_SESSIONS, MIN_SHARDS_PER_CHOSEN_SESSION, onnxCpuLayout, SMALL_MODEL_BYTES } from '../../steps/embed/onnx-cpu-layout.js';

const MiB = 1024 * 1024;
const layout = (declaredSessions: number | undefined, threads: number, cores: number, shards: number, modelBytes: number) =>
  onnxCpuLayout({ declaredSessions, threads, cores, shards, modelBytes });

describe('onnxCpuLayout', () => {
  it('gives a small model one single-threaded session per core when the workflow declares none', () => {
    expect(layout(undefined, 4, 4, 36, 2 * MiB)).toEqual({ sessions: 4, threadsPerSession: 1 });
    expect(layout(undefined, 2, 2, 36, SMALL_MODEL_BYTES)).toEqual({ sessions: 2, threadsPerSession: 1 });
  });

  it('gives a larger model one session over all the cores', () => {
    expect(layout(undefined, 4, 4, 36, SMALL_MODEL_BYTES + 1)).toEqual({ sessions: 1, threadsPerSession: 4 });
  });

  it('opens no more chosen sessions than the step may use cores, the machine has, or the cap allows', () => {
    // threads: 2 on 8 cores: two sessions; threads: 64 on 2 cores: two sessions, 32 threads each, as asked.
    expect(layout(undefined, 2, 8, 36, MiB)).toEqual({ sessions: 2, threadsPerSession: 1 });
    expect(layout(undefined, 64, 2, 36, MiB)).toEqual({ sessions: 2, threadsPerSession: 32 });
    expect(layout(undefined, 64, 64, 100, MiB)).toEqual({ sessions: MAX_CHOSEN_SESSIONS, threadsPerSession: 64 / MAX_CHOSEN_SESSIONS });
  });

  it('keeps the sessions the workflow declares, sharing the cores among them, whatever the model', () => {
    expect(layout(2, 8, 8, 36, 10_000 * MiB)).toEqual({ sessions: 2, threadsPerSession: 4 });
    expect(layout(1, 8, 8, 36, MiB)).toEqual({ sessions: 1, threadsPerSession: 8 });
    expect(layout(12, 2, 2, 36, MiB)).toEqual({ sessions: 12, threadsPerSession: 1 });
  });

  it('opens a session unasked only for every 4 shards, and never more sessions than shards', () => {
    expect(layout(undefined, 8, 8, 4 * MIN_SHARDS_PER_CHOSEN_SESSION - 1, MiB)).toEqual({ sessions: 3, threadsPerSession: 2 });
    expect(layout(undefined, 2, 2, 2 * MIN_SHARDS_PER_CHOSEN_SESSION, MiB)).toEqual({ sessions: 2, threadsPerSession: 1 });
    expect(layout(undefined, 2, 2, 2 * MIN_SHARDS_PER_CHOSEN_SESSION - 1, MiB)).toEqual({ sessions: 1, threadsPerSession: 2 });
    expect(layout(undefined, 2, 2, 3, MiB)).toEqual({ sessions: 1, threadsPerSession: 2 });
    expect(layout(3, 2, 2, 2, MiB)).toEqual({ sessions: 2, threadsPerSession: 1 });
  });

  it('never opens fewer sessions or threads than one', () => {
    expect(layout(4, 2, 2, 36, MiB)).toEqual({ sessions: 4, threadsPerSession: 1 });
    expect(layout(undefined, 2, 2, 0, MiB)).toEqual({ sessions: 1, threadsPerSession: 2 });
  });
});
