// Owns embedding one query sequence exactly as a table's vectors were made, from the provenance the
// embed step recorded (model and digest, pooling rule, tokenizer; or the k-mer profile settings).
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { StepError } from '../../engine/index.js';
import { cleanSequence } from '../source/sequence-hygiene.js';
import { applyLengthPolicy } from '../tokenize/length-policy.js';
import type { TokenizerFacts } from '../tokenize/token-shards.js';
import { tokenizerFor } from '../tokenize/tokenizer-for.js';
import { kmerProfile, type ProfileNorm } from './kmer-profile-vector.js';
import { OnnxEmbedder } from './onnx-embedder.js';
import { mergeWindows, type Pooling } from './pooling.js';

export async function embedQuery(meta: Record<string, unknown>, rawSequence: string, workdir: string): Promise<Float32Array> {
  const cleaned = cleanSequence(rawSequence, 'error');
  if (!cleaned.ok) throw new StepError(`the query ${cleaned.reason}`, 'give a DNA sequence (A, C, G, T, N or IUPAC codes)');
  if (meta.kind === 'kmer-profile') return kmerProfile(cleaned.sequence, meta.k as number, meta.canonical as boolean, meta.normalize as ProfileNorm);
  if (meta.kind !== 'onnx') throw new StepError(`the table's vectors were made by "${String(meta.kind)}", which search cannot reproduce`);
  const facts = meta.tokenizer as TokenizerFacts;
  const tokenizer = tokenizerFor(facts.tokenizer, { version: facts.version, max_tokens: facts.max_tokens });
  const policy = ((meta.tokenizer as { too_long?: string }).too_long ?? 'truncate') as 'truncate' | 'windows' | 'error';
  const rows = applyLengthPolicy(tokenizer.tokenize(cleaned.sequence), facts.max_tokens, policy === 'error' ? 'truncate' : policy, facts.prefix, facts.suffix);
  const embedder = await OnnxEmbedder.open(resolve(workdir, meta.model as string), meta.model as string, { threads: availableParallelism(), output: meta.output as string });
  try {
    const rule = { pooling: meta.pooling as Pooling, includeCls: meta.includeCls as boolean, prefix: facts.prefix, normalize: meta.normalize as boolean };
    const { flat, dim } = await embedder.embed(rows, facts.pad_id, rows.length, rule, false);
    return mergeWindows(rows.map(() => 'query'), flat, dim, rule.normalize).flat;
  } finally {
    await embedder.close();
  }
}
