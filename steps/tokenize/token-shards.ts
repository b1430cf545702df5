// Owns what every tokenize step shares: sequences shards in, `tokens` shards out (id, tokens, length),
// one output shard per input shard, long sequences handled by the length policy.
import { StepError, type StepContext, type StepSummary, arrow } from '../../engine/index.js';
import { readText, textColumn, tokenListColumn } from '../arrow-columns.js';
import { applyLengthPolicy, TooLongError, type LengthPolicy } from './length-policy.js';

/** Facts the embed step needs about token ids; recorded with the tokens artifact. */
export interface TokenizerFacts {
  tokenizer: string;
  version: string;
  pad_id: number;
  /** Leading special tokens (CLS) before the sequence's own tokens. */
  prefix: number;
  /** Trailing special tokens (SEP). */
  suffix: number;
  max_tokens: number;
}

export const LENGTH_SCHEMA = {
  max_tokens: { type: 'integer', minimum: 2, description: 'tokens per sequence including special tokens' },
  too_long: { enum: ['truncate', 'error', 'windows'], default: 'truncate', description: 'what to do with longer sequences' },
} as const;

export async function writeTokenShards<P extends object>(
  ctx: StepContext<P>,
  tokenize: (sequence: string) => Int32Array,
  facts: TokenizerFacts,
  policy: LengthPolicy,
): Promise<StepSummary> {
  const input = ctx.input('sequences');
  const output = ctx.output('tokens');
  let sequences = 0;
  let rows = 0;
  let tokens = 0;
  let longer = 0;
  for (let index = 0; index < input.shardCount && !ctx.signal.aborted; index++) {
    await output.shard(index, async () => {
      const table = await input.readShard(index);
      const ids = readText(table, 'id');
      const seqs = readText(table, 'sequence');
      const outIds: string[] = [];
      const outTokens: Int32Array[] = [];
      for (let i = 0; i < ids.length; i++) {
        const full = tokenize(seqs[i]!);
        let parts: Int32Array[];
        try {
          parts = applyLengthPolicy(full, facts.max_tokens, policy, facts.prefix, facts.suffix);
        } catch (error) {
          if (error instanceof TooLongError)
            throw new StepError(
              `sequence ${ids[i]}: ${error.message}`,
              'set too_long: truncate or windows, or raise max_tokens if the model allows',
            );
          throw error;
        }
        if (full.length > facts.max_tokens) longer++;
        for (const part of parts) {
          outIds.push(ids[i]!);
          outTokens.push(part);
          tokens += part.length;
        }
      }
      sequences += ids.length;
      rows += outIds.length;
      const lengths = Int32Array.from(outTokens, (t) => t.length);
      return new arrow.Table({
        id: textColumn(outIds),
        tokens: tokenListColumn(outTokens),
        length: arrow.makeVector(arrow.makeData({ type: new arrow.Int32(), length: lengths.length, nullCount: 0, data: lengths })),
      });
    });
    ctx.progress({ done: index + 1, total: input.shardCount, unit: 'shards', counters: { tokens } });
  }
  output.setMeta({ ...facts, too_long: policy });
  return { sequences, rows, tokens, over_max_tokens: longer };
}
