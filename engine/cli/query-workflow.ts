// Owns turning a table's recorded embedding settings (the embeddings meta in its provenance) back into
// the steps that made its vectors, run on one query: source/fasta, then embed/kmer-profile, or
// tokenize/NAME and embed/onnx with the recorded tokenizer, model, output and pooling, or — for vectors a JAX
// job made (`nt-jax`, on a TPU slice, a GPU or XLA host devices) — embed/nt with JAX on this machine's CPU,
// in the recorded precision. Pure.
import type { ScratchWorkflow } from '../run/run-scratch-workflow.js';
import { fail, ok, type Result } from '../util/result.js';

/** The step that reads the query; its failures are about the query text. */
export const QUERY_STEP = 'query';
/** The step whose `embeddings` output holds the query's one vector. */
export const EMBED_STEP = 'embed';
/** The device a JAX-made table's query is embedded on. */
const JAX_HERE = 'here';

/** The tokenizer facts the onnx embedding records (as the tokenize steps wrote them). */
interface RecordedTokenizer {
  tokenizer: string;
  version: string;
  max_tokens: number;
  too_long?: string;
}

function tokenizeWith(facts: RecordedTokenizer): Record<string, unknown> | undefined {
  // A query longer than the model takes is truncated even where the table refused such sequences.
  const length = { max_tokens: facts.max_tokens, too_long: facts.too_long === 'windows' ? 'windows' : 'truncate' };
  switch (facts.tokenizer) {
    case 'nucleotide-transformer':
      return { version: Number(facts.version), ...length };
    case 'kmer':
      return { k: Number(facts.version.replace(/^k/, '')), ...length };
    case 'char':
      return length;
    default:
      return undefined;
  }
}

/** `resolveModel` turns the recorded model path (relative to where the table was built) into one to open. */
export function queryWorkflow(
  meta: Record<string, unknown>,
  sequence: string,
  resolveModel: (path: string) => string,
): Result<ScratchWorkflow, string> {
  const files = { 'query.fasta': `>query\n${sequence}\n` };
  const query = { uses: 'source/fasta', with: { path: 'query.fasta', empty: 'error' } };
  if (meta.kind === 'kmer-profile') {
    return ok({
      name: 'search',
      files,
      steps: {
        [QUERY_STEP]: query,
        [EMBED_STEP]: {
          uses: 'embed/kmer-profile',
          needs: [QUERY_STEP],
          with: { k: meta.k, canonical: meta.canonical, normalize: meta.normalize },
        },
      },
    });
  }
  if (meta.kind !== 'onnx' && meta.kind !== 'nt-jax')
    return fail(`the table's vectors were made by "${String(meta.kind)}", which search cannot reproduce`);
  if (meta.adapters !== undefined)
    return fail("the table's vectors were made with LoRA adapters (finetune/nt-lora), which search does not apply to a query yet");
  const facts = meta.tokenizer as RecordedTokenizer;
  const tokenize = tokenizeWith(facts);
  if (tokenize === undefined) return fail(`the table's tokens were made by tokenizer "${facts.tokenizer}", which search cannot reproduce`);
  const pooling = { pooling: meta.pooling, include_cls: meta.includeCls, normalize: meta.normalize };
  const model = resolveModel(meta.model as string);
  const embed =
    meta.kind === 'onnx'
      ? { uses: 'embed/onnx', needs: ['tokens'], with: { model, output: meta.output, ...pooling } }
      : // One query is small: JAX on one XLA device of this CPU computes what the devices did (to ~1e-6).
        { uses: 'embed/nt', needs: ['tokens'], with: { model, ...pooling }, on: JAX_HERE, precision: meta.precision as 'fp32' | 'bf16' };
  return ok({
    name: 'search',
    files,
    ...(meta.kind === 'nt-jax' ? { devices: { [JAX_HERE]: { kind: 'cpu', runtime: 'jax', devices: 1 } } } : {}),
    steps: {
      [QUERY_STEP]: query,
      tokens: { uses: `tokenize/${facts.tokenizer}`, needs: [QUERY_STEP], with: tokenize },
      [EMBED_STEP]: embed,
    },
  });
}
