// Owns the rows every export writes: id, vector and the metadata of each sequence, joined shard by
// shard (embeddings shard i with sequences shard i, matched by id).
import type { Table as ArrowTable, Vector } from 'apache-arrow';
import { StepError, type InputArtifact, arrow } from '../../engine/index.js';
import { readText } from '../arrow-columns.js';

export async function exportShard(
  embeddings: InputArtifact,
  metadata: InputArtifact | undefined,
  index: number,
  includeSequence: boolean,
): Promise<ArrowTable> {
  const vectors = await embeddings.readShard(index);
  const columns: Record<string, Vector> = { id: vectors.getChild('id')!, vector: vectors.getChild('vector')! };
  if (metadata === undefined) return new arrow.Table(columns);
  if (metadata.shardCount !== embeddings.shardCount) {
    throw new StepError(
      `metadata has ${metadata.shardCount} shards but embeddings have ${embeddings.shardCount}`,
      'wire the metadata input to the source the embeddings were made from',
    );
  }
  const meta = await metadata.readShard(index);
  const ids = readText(vectors, 'id');
  const metaIds = readText(meta, 'id');
  const sameOrder = ids.length === metaIds.length && ids.every((id, i) => id === metaIds[i]);
  if (!sameOrder)
    throw new StepError(
      `shard ${index}: the embeddings and metadata ids differ`,
      'wire the metadata input to the source the embeddings were made from',
    );
  for (const field of meta.schema.fields) {
    if (field.name === 'id' || (field.name === 'sequence' && !includeSequence)) continue;
    columns[field.name] = meta.getChild(field.name)!;
  }
  return new arrow.Table(columns);
}

export const EXPORT_INPUTS = {
  embeddings: { type: 'embeddings' },
  metadata: { type: 'sequences', optional: true, description: 'the source, for metadata columns' },
} as const;
