// The bare onnxruntime loop that bench/whole-run.ts holds `strand run` of the quickstart against, as a whole
// process of its own (node start, module loading and the model's load count, as they do for strand):
// `node dist/bench/bare-onnx-loop.js INPUT.parquet MODEL.onnx SHARD_ROWS BATCH_SIZE`.
// It does what the workflow's steps do to the sequences and nothing else: read the sequence column, clean
// and tokenize it as source/parquet and tokenize/nucleotide-transformer do (NT v2, truncated at 2,048
// tokens), and embed it as embed/onnx does (shards of SHARD_ROWS in file order, batches of BATCH_SIZE formed
// by length within a shard, padded to the longest, intra-op threads = cores, mean pooling with CLS); it
// writes nothing. Written against onnxruntime directly, not through OnnxEmbedder: what the engine's own
// embedder costs counts against the engine.
import { availableParallelism } from 'node:os';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import * as ort from 'onnxruntime-node';
import { poolHidden } from '../steps/embed/pooling.js';
import { cleanSequence } from '../steps/source/sequence-hygiene.js';
import { applyLengthPolicy } from '../steps/tokenize/length-policy.js';
import { tokenizerFor } from '../steps/tokenize/tokenizer-for.js';

const [input, model, shardRowsText, batchSizeText] = process.argv.slice(2);
if (input === undefined || model === undefined || shardRowsText === undefined || batchSizeText === undefined) {
  process.stderr.write('usage: node dist/bench/bare-onnx-loop.js INPUT.parquet MODEL.onnx SHARD_ROWS BATCH_SIZE\n');
  process.exit(2);
}
const shardRows = Number(shardRowsText);
const batchSize = Number(batchSizeText);

const { tokenize, facts } = tokenizerFor({ name: 'nucleotide-transformer', version: 2 });
const records = await parquetReadObjects({ file: await asyncBufferFromFile(input), columns: ['sequence'] });
const rows = records.map((r) => {
  const cleaned = cleanSequence(String(r.sequence), 'error');
  if (!cleaned.ok) throw new Error(cleaned.reason);
  return applyLengthPolicy(tokenize(cleaned.sequence), facts.max_tokens, 'truncate', facts.prefix, facts.suffix)[0]!;
});

const session = await ort.InferenceSession.create(model, {
  intraOpNumThreads: availableParallelism(),
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
});
const rule = { pooling: 'mean', includeCls: true, prefix: facts.prefix, normalize: false } as const;
let vectors = 0;
let dim = 0;
for (let start = 0; start < rows.length; start += shardRows) {
  const shard = rows.slice(start, start + shardRows);
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
}
await session.release();
process.stdout.write(`${vectors} vectors of ${dim}\n`);
