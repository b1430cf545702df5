// bench/pipeline (issue: real pipeline steps), all ratios measured in this run:
// - engine efficiency: `strand run` of Parquet -> NT tokens -> ONNX -> LanceDB, against a bare
//   session.run loop over the same pre-tokenized, length-bucketed batches with the same threads;
// - length bucketing: embedding throughput with and without it, on the real ITS lengths;
// - tokenizer throughput in MB of sequence per second on one core (all 4,439 ITS barcodes in data/);
// - peak memory of a streaming run at 1x, 10x and 100x the sample (it must stay flat).
import { availableParallelism } from 'node:os';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { OnnxEmbedder } from '../steps/embed/onnx-embedder.js';
import { cleanSequence } from '../steps/source/sequence-hygiene.js';
import { tokenizeNt } from '../steps/tokenize/nucleotide-transformer-tokenizer.js';
import { buildTinyNt, TINY_NT } from '../scripts/build-tiny-nt.js';
import type { BenchResult } from './bench-result.js';
import { REPO, repeatedSample, runStrand, tempProject, timeIt } from './bench-tools.js';

const SHARD_ROWS = 2000;

// One session over all cores (mesh data 1), as the bare loop: the ratio is the engine's overhead alone.
const FLOW = (input: string) => `version: 1
name: bench
devices:
  laptop: { kind: cpu }
steps:
  source: { uses: source/parquet, with: { path: ${input}, shard_rows: ${SHARD_ROWS} } }
  tokens: { uses: tokenize/nucleotide-transformer, needs: [source] }
  embed: { uses: embed/onnx, needs: [tokens], with: { model: models/tiny-nt.onnx, batch_size: 32 }, on: laptop, mesh: { data: 1 } }
  vectors: { uses: export/lancedb, needs: [embed, source], with: { uri: out/bench.lancedb, table: t } }
`;

async function sampleTokens(times: number): Promise<Int32Array[]> {
  const rows = await parquetReadObjects({
    file: await asyncBufferFromFile(join(REPO, 'workflows/data/sample.parquet')),
    columns: ['sequence'],
  });
  const one = rows.map((r) => {
    const c = cleanSequence(String(r.sequence), 'to-n');
    return tokenizeNt(c.ok ? c.sequence : '', 2);
  });
  return Array.from({ length: times }, () => one).flat();
}

export async function pipeline(): Promise<BenchResult> {
  const result: BenchResult = { name: 'pipeline', figures: [], ratios: [], notes: [] };
  const threads = availableParallelism();
  const rule = { pooling: 'mean', includeCls: true, prefix: 1, normalize: false } as const;

  // Engine efficiency on 4x the sample (4,000 sequences, 2 shards), with the repository's tiny model and
  // with a larger one of the same shape family (hidden 256, 4 layers), whose inference weighs more like
  // a real NT model's. The bare loop embeds the same shards with the same batching and threads.
  const tokens = await sampleTokens(4);
  for (const [label, shape] of [
    ['tiny-nt (hidden 64, 2 layers)', TINY_NT],
    ['small-nt (hidden 256, 4 layers)', { ...TINY_NT, hidden: 256, heads: 8, layers: 4, ffn: 1024 }],
  ] as const) {
    const { root, remove } = tempProject();
    mkdirSync(join(root, 'models'));
    writeFileSync(join(root, 'models/tiny-nt.onnx'), buildTinyNt(shape));
    const count = await repeatedSample(join(root, 'x4.parquet'), 4);
    writeFileSync(join(root, 'flow.yaml'), FLOW('x4.parquet'));
    const run = runStrand(['run', 'flow.yaml'], root);
    if (run.status !== 0) throw new Error(`pipeline run failed: ${run.stdout}${run.stderr}`);
    const embedder = await OnnxEmbedder.open(join(root, 'models/tiny-nt.onnx'), label, { threads });
    const bareMs = await timeIt(async () => {
      for (let start = 0; start < tokens.length; start += SHARD_ROWS)
        await embedder.embed(tokens.slice(start, start + SHARD_ROWS), { padId: 1, batchSize: 32, rule, bucket: true });
    }, 1);
    const pipelineRate = count / (run.ms / 1000);
    const bareRate = count / (bareMs / 1000);
    result.figures.push(
      { label: `${label}: pipeline (strand run, 4 steps, process start included)`, value: pipelineRate, unit: 'seq/s' },
      { label: `${label}: bare session.run loop, same batches and threads`, value: bareRate, unit: 'seq/s' },
    );
    result.ratios.push({
      label: `engine efficiency, ${label}: pipeline / bare ONNX loop`,
      value: pipelineRate / bareRate,
      target: '>= 0.9',
      better: 'higher',
    });
    if (shape === TINY_NT) {
      // Length bucketing on real lengths (the bare loop, with and without).
      const unbucketedMs = await timeIt(async () => {
        for (let start = 0; start < tokens.length; start += SHARD_ROWS)
          await embedder.embed(tokens.slice(start, start + SHARD_ROWS), { padId: 1, batchSize: 32, rule, bucket: false });
      }, 1);
      result.ratios.push({ label: 'length bucketing: throughput with / without', value: unbucketedMs / bareMs, better: 'higher' });
    }
    await embedder.close();
    remove();
  }
  result.notes.push(
    'Engine efficiency counts the whole `strand run` (process start, Parquet, tokenizer, LanceDB, fsyncs) against session.run alone; the heavier the model, the more inference dominates, as with real NT models.',
  );

  // Tokenizer throughput on the ITS barcodes.
  const fasta = join(REPO, 'data/mycoai-yeast-its/yeast_its_test1.fasta');
  if (existsSync(fasta)) {
    const seqs = readFileSync(fasta, 'utf8')
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('>'));
    const bytes = seqs.reduce((n, s) => n + s.length, 0);
    const ms = await timeIt(() => {
      for (let r = 0; r < 10; r++) for (const s of seqs) tokenizeNt(s, 2);
    });
    result.figures.push({ label: 'NT tokenizer, one core', value: (bytes * 10) / 1e6 / (ms / 1000), unit: 'MB/s' });
  }

  // Peak memory while streaming 1x, 10x and 100x the sample through source -> tokens -> k-mer profiles -> Parquet.
  const memory: number[] = [];
  for (const times of [1, 10, 100]) {
    const p = tempProject();
    await repeatedSample(join(p.root, 'in.parquet'), times);
    writeFileSync(
      join(p.root, 'flow.yaml'),
      `version: 1\nname: mem\nsteps:\n  source: { uses: source/parquet, with: { path: in.parquet, shard_rows: 1000 } }\n  tokens: { uses: tokenize/nucleotide-transformer, needs: [source] }\n  profile: { uses: embed/kmer-profile, needs: [source], with: { k: 4 } }\n  out: { uses: export/parquet, needs: [profile, source], with: { path: out/p.parquet, include_sequence: false } }\n`,
    );
    const r = runStrand(['run', 'flow.yaml'], p.root);
    if (r.status !== 0) throw new Error(`memory run failed: ${r.stdout}${r.stderr}`);
    memory.push(r.maxRssMiB);
    result.figures.push({ label: `peak RSS streaming ${times}x sample (${times * 1000} sequences)`, value: r.maxRssMiB, unit: 'MiB' });
    p.remove();
  }
  result.ratios.push(
    { label: 'peak memory 10x / 1x', value: memory[1]! / memory[0]!, better: 'lower' },
    { label: 'peak memory 100x / 10x', value: memory[2]! / memory[1]!, target: 'flat (about 1)', better: 'lower' },
  );
  return result;
}
