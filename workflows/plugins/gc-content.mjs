// workflows/plugins/gc-content.mjs — the plugin example of README.md, used by workflows/gc-content.yaml.
import { arrow, defineStep } from 'strand';

export default defineStep({
  id: 'gc-content',
  version: '1',                        // part of the cache key: bump it when results change
  description: 'GC fraction per sequence, as a 1-dimensional embedding',
  with: { properties: { round: { type: 'integer', default: 3 } } },   // JSON Schema of `with:`
  inputs: { sequences: { type: 'sequences' } },
  outputs: { embeddings: { type: 'embeddings' } },
  async run(ctx) {
    const input = ctx.input('sequences');
    for (let i = 0; i < input.shardCount && !ctx.signal.aborted; i++) {
      await ctx.output('embeddings').shard(i, async () => {        // skipped on resume if done
        const table = await input.readShard(i);                     // an Arrow table, digest-verified
        const seqs = table.getChild('sequence').toArray();
        const gc = Float32Array.from(seqs, (s) => (s.match(/[GC]/g)?.length ?? 0) / s.length);
        const child = arrow.makeData({ type: new arrow.Float32(), length: gc.length, nullCount: 0, data: gc });
        const vector = arrow.makeVector(arrow.makeData({ type: new arrow.FixedSizeList(1, new arrow.Field('item', new arrow.Float32(), false)), length: gc.length, nullCount: 0, child }));
        return new arrow.Table({ id: table.getChild('id'), vector });
      });
      ctx.progress({ done: i + 1, total: input.shardCount, unit: 'shards' });
    }
    ctx.output('embeddings').setMeta({ kind: 'gc-content', dim: 1 });
    return { sequences: input.rows };                               // the step's summary
  },
});
