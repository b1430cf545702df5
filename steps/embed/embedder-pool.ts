// Owns a pool of embedding worker threads for local data parallelism: each embeds whole shards in its
// own onnxruntime session; `embed` goes to the next free worker. Results do not depend on which worker.
import { Worker } from 'node:worker_threads';
import { StepError } from '../../engine/index.js';
import type { EmbedReply, EmbedRequest } from './embed-worker.js';
import type { EmbedBatching, EmbeddedRows, RowEmbedder } from './onnx-embedder.js';

export class EmbedderPool implements RowEmbedder {
  private readonly idle: Worker[];
  private readonly waiting: ((worker: Worker) => void)[] = [];
  private nextId = 0;

  private constructor(private readonly workers: Worker[]) {
    this.idle = [...workers];
  }

  static open(size: number, model: string, label: string, options: { threads: number; output?: string }): EmbedderPool {
    const url = new URL('./embed-worker.js', import.meta.url);
    return new EmbedderPool(Array.from({ length: size }, () => new Worker(url, { workerData: { model, label, ...options } })));
  }

  private acquire(): Promise<Worker> {
    const worker = this.idle.pop();
    return worker ? Promise.resolve(worker) : new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(worker: Worker): void {
    const next = this.waiting.shift();
    if (next) next(worker);
    else this.idle.push(worker);
  }

  async embed(rows: readonly Int32Array[], batching: EmbedBatching): Promise<EmbeddedRows> {
    const worker = await this.acquire();
    try {
      const offsets = new Int32Array(rows.length + 1);
      rows.forEach((r, i) => (offsets[i + 1] = offsets[i]! + r.length));
      const flat = new Int32Array(offsets[rows.length]!);
      rows.forEach((r, i) => flat.set(r, offsets[i]));
      const id = this.nextId++;
      const reply = await new Promise<EmbedReply>((resolve, reject) => {
        const onMessage = (message: EmbedReply): void => {
          if (message.id !== id) return;
          worker.off('message', onMessage);
          worker.off('error', reject);
          resolve(message);
        };
        worker.on('message', onMessage);
        worker.once('error', reject);
        worker.postMessage({ id, flat, offsets, batching } satisfies EmbedRequest, [flat.buffer, offsets.buffer]);
      });
      if ('error' in reply) throw new StepError(reply.error.message, reply.error.hint);
      return reply;
    } finally {
      this.release(worker);
    }
  }

  async close(): Promise<void> {
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            w.once('exit', () => resolve());
            w.postMessage('close');
          }),
      ),
    );
  }
}
