// The bare onnxruntime loop that bench/whole-run.ts holds `strand run` of the quickstart against, as a whole
// process of its own (node start, module loading and the model's load count, as they do for strand):
// `node dist/bench/bare-onnx-loop.js INPUT.parquet MODEL.onnx SHARD_ROWS BATCH_SIZE [SESSIONS]`.
// It does what the workflow's steps do to the sequences and nothing else: read the sequence column, clean
// and tokenize it as source/parquet and tokenize/nucleotide-transformer do (NT v2, truncated at 2,048
// tokens), and embed it (shards of SHARD_ROWS in file order, batches of BATCH_SIZE formed by length within a
// shard, padded to the longest, mean pooling with CLS); it writes nothing. SESSIONS 1 (the default) is the
// loop as onnxruntime is commonly written: one session whose intra-op threads are all the cores. SESSIONS N
// is N worker threads, each with its own session and a share of the cores as embed/onnx splits them
// (onnx-cpu-layout.ts), taking the next shard when free. Written against onnxruntime directly, not through
// OnnxEmbedder: what the engine's own embedder costs counts against the engine.
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import * as ort from 'onnxruntime-node';
import { onnxCpuLayout } from '../steps/embed/onnx-cpu-layout.js';
import { poolHidden } from '../steps/embed/pooling.js';
import { cleanSequence } from '../steps/source/sequence-hygiene.js';
import { applyLengthPolicy } from '../steps/tokenize/length-policy.js';
import { tokenizerFor } from '../steps/tokenize/tokenizer-for.js';

const { facts } = tokenizerFor({ name: 'nucleotide-transformer', version: 2 });
const rule = { pooling: 'mean', includeCls: true, prefix: facts.prefix, normalize: false } as const;

/** Embeds one shard's token rows in length-ordered batches; answers the vectors made and their width. */
async function embedShard(
  session: ort.InferenceSession,
  shard: readonly Int32Array[],
  batchSize: number,
): Promise<{ vectors: number; dim: number }> {
  let vectors = 0;
  let dim = 0;
  const order = shard.map((_, i) => i).sort((a, b) => shard[a]!.length - shard[b]!.length || a - b);
  for (let first = 0; first < order.length; first += batchSize) {
    const batch = order.slice(first, first + batchSize).map((i) => shard[i]!);
    const width = Math.max(...batch.map((r) => r.length));
    const ids = new BigInt64Array(batch.length * width).fill(BigInt(facts.pad_id));
    const mask = new BigInt64Array(batch.length * width);
    batch.forEach((tokens, b) => {
      for (let t = 0; t < tokens.length; t++) {
        ids[b * width + t] = BigInt(tokens[t]!);
        mask[b * width + t] = 1n;
      }
    });
    const dims = [batch.length, width];
    const result = await session.run(
      { input_ids: new ort.Tensor('int64', ids, dims), attention_mask: new ort.Tensor('int64', mask, dims) },
      ['last_hidden_state'],
    );
    const hidden = result.last_hidden_state!;
    dim = hidden.dims[2]!;
    const pooled = poolHidden(
      hidden.data as Float32Array,
      batch.length,
      width,
      dim,
      batch.map((r) => r.length),
      rule,
    );
    vectors += pooled.length / dim;
    hidden.dispose();
  }
  return { vectors, dim };
}

function openSession(model: string, threads: number): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(model, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
}

if (!isMainThread) {
  // A worker: its own session; embeds each shard the main thread sends, answers when done.
  const { model, threads, batchSize } = workerData as { model: string; threads: number; batchSize: number };
  const session = await openSession(model, threads);
  parentPort!.on('message', (shard: Int32Array[] | null) => {
    if (shard === null) void session.release().then(() => parentPort!.close());
    else void embedShard(session, shard, batchSize).then((done) => parentPort!.postMessage(done));
  });
  parentPort!.postMessage('ready');
} else {
  const [input, model, shardRowsText, batchSizeText, sessionsText = '1'] = process.argv.slice(2);
  if (input === undefined || model === undefined || shardRowsText === undefined || batchSizeText === undefined) {
    process.stderr.write('usage: node dist/bench/bare-onnx-loop.js INPUT.parquet MODEL.onnx SHARD_ROWS BATCH_SIZE [SESSIONS]\n');
    process.exit(2);
  }
  const shardRows = Number(shardRowsText);
  const batchSize = Number(batchSizeText);
  const sessions = Number(sessionsText);
  if (!Number.isInteger(sessions) || sessions < 1) {
    process.stderr.write(`SESSIONS must be a whole number from 1, not ${sessionsText}\n`);
    process.exit(2);
  }

  const { tokenize } = tokenizerFor({ name: 'nucleotide-transformer', version: 2 });
  const records = await parquetReadObjects({ file: await asyncBufferFromFile(input), columns: ['sequence'] });
  const rows = records.map((r) => {
    const cleaned = cleanSequence(String(r.sequence), 'error');
    if (!cleaned.ok) throw new Error(cleaned.reason);
    return applyLengthPolicy(tokenize(cleaned.sequence), facts.max_tokens, 'truncate', facts.prefix, facts.suffix)[0]!;
  });
  const shards: Int32Array[][] = [];
  for (let start = 0; start < rows.length; start += shardRows) shards.push(rows.slice(start, start + shardRows));
  const cores = availableParallelism();
  const { threadsPerSession: threads } = onnxCpuLayout({
    declaredSessions: sessions,
    threads: cores,
    cores,
    shards: shards.length,
    modelBytes: 0,
  });

  let vectors = 0;
  let dim = 0;
  if (sessions === 1) {
    const session = await openSession(model, threads);
    for (const shard of shards) {
      const done = await embedShard(session, shard, batchSize);
      vectors += done.vectors;
      dim = done.dim;
    }
    await session.release();
  } else {
    let next = 0;
    await Promise.all(
      Array.from({ length: sessions }, () => {
        const worker = new Worker(new URL(import.meta.url), { workerData: { model, threads, batchSize } });
        return new Promise<void>((resolve, reject) => {
          worker.on('error', reject);
          worker.on('exit', () => resolve());
          worker.on('message', (message: 'ready' | { vectors: number; dim: number }) => {
            if (message !== 'ready') {
              vectors += message.vectors;
              dim = message.dim;
            }
            worker.postMessage(next < shards.length ? shards[next++]! : null);
          });
        });
      }),
    );
  }
  process.stdout.write(`${vectors} vectors of ${dim}\n`);
}
