// Owns running a token model with onnxruntime-node: discovering its inputs and the hidden-state
// output, batching rows by length (minimal padding), and pooling. Used by `embed/onnx` and
// `strand search` so a query is embedded exactly like the table was.
import { StepError } from '../../engine/index.js';
import { poolHidden, type PoolingRule } from './pooling.js';

type Ort = typeof import('onnxruntime-node');
type Session = Awaited<ReturnType<Ort['InferenceSession']['create']>>;

export interface EmbedderOptions {
  threads: number;
  /** Output name; default `last_hidden_state`, else the only output. */
  output?: string;
}

/** How rows are embedded: the pad id, rows per batch, pooling, and whether batches are formed by length. */
export interface EmbedBatching {
  padId: number;
  batchSize: number;
  rule: PoolingRule;
  bucket: boolean;
}

/** One pooled vector per row, `dim` floats each, in the rows' order. */
export interface EmbeddedRows {
  flat: Float32Array;
  dim: number;
}

/** What embeds rows: an OnnxEmbedder in this thread, or an EmbedderPool of worker threads. */
export interface RowEmbedder {
  embed(rows: readonly Int32Array[], batching: EmbedBatching): Promise<EmbeddedRows>;
}

export class OnnxEmbedder implements RowEmbedder {
  private constructor(
    private readonly ort: Ort,
    private readonly session: Session,
    readonly output: string,
    private readonly feedsMask: boolean,
    private readonly feedsTypeIds: boolean,
  ) {}

  static async open(modelPath: string, label: string, options: EmbedderOptions): Promise<OnnxEmbedder> {
    const ort = await import('onnxruntime-node');
    let session: Session;
    try {
      session = await ort.InferenceSession.create(modelPath, {
        intraOpNumThreads: options.threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
      });
    } catch (error) {
      throw new StepError(
        `cannot load ONNX model ${label}: ${(error as Error).message.split('\n')[0]}`,
        'the file is corrupt, truncated or not an ONNX model; re-export it',
      );
    }
    const inputs = session.inputNames;
    const known = ['input_ids', 'attention_mask', 'token_type_ids'];
    const unknown = inputs.filter((n) => !known.includes(n));
    if (!inputs.includes('input_ids') || unknown.length > 0) {
      throw new StepError(
        `model ${label} takes inputs ${inputs.join(', ')}; Strand feeds input_ids, attention_mask and token_type_ids`,
        'export the model with input names input_ids and attention_mask (int64)',
      );
    }
    const output =
      options.output ??
      (session.outputNames.includes('last_hidden_state')
        ? 'last_hidden_state'
        : session.outputNames.length === 1
          ? session.outputNames[0]!
          : undefined);
    if (output === undefined || !session.outputNames.includes(output)) {
      throw new StepError(
        `model ${label} has outputs ${session.outputNames.join(', ')}; ${options.output ? `no output "${options.output}"` : 'none is last_hidden_state'}`,
        'choose one with output: NAME',
      );
    }
    return new OnnxEmbedder(ort, session, output, inputs.includes('attention_mask'), inputs.includes('token_type_ids'));
  }

  /** Embeds rows of token ids in the given order; batches are formed by length inside. */
  async embed(rows: readonly Int32Array[], { padId, batchSize, rule, bucket }: EmbedBatching): Promise<EmbeddedRows> {
    const order = rows.map((_, i) => i);
    if (bucket) order.sort((a, b) => rows[a]!.length - rows[b]!.length || a - b);
    let out: Float32Array | undefined;
    let dim = 0;
    for (let start = 0; start < order.length; start += batchSize) {
      const batch = order.slice(start, start + batchSize);
      const width = Math.max(...batch.map((i) => rows[i]!.length));
      const ids = new BigInt64Array(batch.length * width).fill(BigInt(padId));
      const mask = new BigInt64Array(batch.length * width);
      batch.forEach((row, b) => {
        const tokens = rows[row]!;
        for (let t = 0; t < tokens.length; t++) {
          ids[b * width + t] = BigInt(tokens[t]!);
          mask[b * width + t] = 1n;
        }
      });
      const dims = [batch.length, width];
      const feeds: Record<string, InstanceType<Ort['Tensor']>> = { input_ids: new this.ort.Tensor('int64', ids, dims) };
      if (this.feedsMask) feeds.attention_mask = new this.ort.Tensor('int64', mask, dims);
      if (this.feedsTypeIds) feeds.token_type_ids = new this.ort.Tensor('int64', new BigInt64Array(ids.length), dims);
      const result = await this.session.run(feeds, [this.output]);
      const hidden = result[this.output]!;
      if (hidden.dims.length !== 3)
        throw new StepError(
          `output ${this.output} has shape [${hidden.dims.join(', ')}], not [batch, tokens, hidden]`,
          'choose the hidden-state output with output: NAME',
        );
      dim = hidden.dims[2]!;
      out ??= new Float32Array(rows.length * dim);
      const pooled = poolHidden(
        hidden.data as Float32Array,
        batch.length,
        width,
        dim,
        batch.map((i) => rows[i]!.length),
        rule,
      );
      batch.forEach((row, b) => out!.set(pooled.subarray(b * dim, (b + 1) * dim), row * dim));
      hidden.dispose();
    }
    return { flat: out ?? new Float32Array(0), dim };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
