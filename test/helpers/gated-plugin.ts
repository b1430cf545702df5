// A local plugin file (the user extension API) for end-to-end kill tests: it sums token ids per
// sequence, shard by shard, and after shard `block_after` waits until the file named by `release`
// exists — so a test can SIGKILL the run at a known point mid-step. With `fail_after`, it fails after
// that shard unless the file named by `release` exists: a failure at a known point, then a resume.
import { ENGINE_ENTRY } from './project.js';

export function gatedPluginSource(): string {
  return `import { existsSync } from 'node:fs';
import { arrow, defineStep } from ${JSON.stringify(ENGINE_ENTRY)};

export default defineStep({
  id: 'gated-sum',
  version: '1',
  description: 'sums token ids per sequence; blocks after a shard until released',
  with: { properties: { block_after: { type: 'integer' }, fail_after: { type: 'integer' }, release: { type: 'string' } } },
  inputs: { tokens: { type: 'tokens' } },
  outputs: { embeddings: { type: 'embeddings' } },
  async run(ctx) {
    const input = ctx.input('tokens');
    for (let i = 0; i < input.shardCount && !ctx.signal.aborted; i++) {
      await ctx.output('embeddings').shard(i, async () => {
        const table = await input.readShard(i);
        const ids = table.getChild('id').toArray();
        const sums = [];
        for (const row of table.getChild('tokens')) sums.push(row.toArray().reduce((a, b) => a + b, 0));
        const flat = Float32Array.from(sums);
        const child = arrow.makeData({ type: new arrow.Float32(), length: flat.length, nullCount: 0, data: flat });
        const vector = arrow.makeVector(arrow.makeData({ type: new arrow.FixedSizeList(1, new arrow.Field('item', new arrow.Float32(), false)), length: flat.length, nullCount: 0, child }));
        return new arrow.Table({ id: arrow.vectorFromArray(Array.from(ids), new arrow.Utf8()), vector });
      });
      if (i === ctx.params.fail_after && !existsSync(ctx.resolvePath(ctx.params.release))) throw new Error(\`gate closed after shard \${i}\`);
      if (i === ctx.params.block_after) {
        while (!existsSync(ctx.resolvePath(ctx.params.release)) && !ctx.signal.aborted) await new Promise((r) => setTimeout(r, 20));
      }
    }
    ctx.output('embeddings').setMeta({ kind: 'token-sum', dim: 1 });
  },
});
`;
}

/** The gated workflow: `sums` blocks after shard `blockAfter`, or with `failAfter` fails after that shard instead. */
export function gatedWorkflow(blockAfter: number, options: { failAfter?: number } = {}): string {
  const gate = options.failAfter === undefined ? `block_after: ${blockAfter}` : `fail_after: ${options.failAfter}`;
  return `version: 1
name: gated
steps:
  source: { uses: source/parquet, with: { path: workflows/data/sample.parquet, shard_rows: 100 } }
  tokens: { uses: tokenize/nucleotide-transformer, needs: [source] }
  sums: { uses: ./plugins/gated-sum.mjs, needs: [tokens], with: { ${gate}, release: release.flag } }
  table: { uses: export/parquet, needs: [sums, source], with: { path: out/sums.parquet } }
`;
}
