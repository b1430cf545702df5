// Owns one data-parallel embedding worker (a worker thread): it opens its own onnxruntime session and
// embeds the shards its pool sends it. onnxruntime-node runs a session on the calling thread, so
// sessions only run side by side in separate threads.
import { parentPort, workerData } from 'node:worker_threads';
import { StepError } from '../../engine/index.js';
import { OnnxEmbedder, type EmbedBatching } from './onnx-embedder.js';

export interface EmbedRequest {
  id: number;
  flat: Int32Array;
  offsets: Int32Array;
  batching: EmbedBatching;
}

export type EmbedReply = { id: number; flat: Float32Array; dim: number } | { id: number; error: { message: string; hint?: string } };

const { model, label, threads, output } = workerData as { model: string; label: string; threads: number; output?: string };
const opening = OnnxEmbedder.open(model, label, { threads, ...(output ? { output } : {}) });
// A session that fails to open is answered to each request (below); until one comes, the failure is not an
// unhandled rejection that would end the worker (the engine's own check reports a bad model first).
opening.catch(() => undefined);

// Never rejects: a failed request is answered with its error, and a session that failed to open (already
// answered that way) has nothing to close.
async function handle(request: EmbedRequest | 'close'): Promise<void> {
  if (request === 'close') {
    await opening.then(
      (embedder) => embedder.close(),
      () => undefined,
    );
    parentPort!.close();
    return;
  }
  try {
    const embedder = await opening;
    const rows = Array.from({ length: request.offsets.length - 1 }, (_, i) =>
      request.flat.subarray(request.offsets[i], request.offsets[i + 1]),
    );
    const { flat, dim } = await embedder.embed(rows, request.batching);
    parentPort!.postMessage({ id: request.id, flat, dim } satisfies EmbedReply, [flat.buffer as ArrayBuffer]);
  } catch (error) {
    const hint = error instanceof StepError ? error.hint : undefined;
    parentPort!.postMessage({
      id: request.id,
      error: { message: (error as Error).message, ...(hint ? { hint } : {}) },
    } satisfies EmbedReply);
  }
}

parentPort!.on('message', (request: EmbedRequest | 'close') => void handle(request));
