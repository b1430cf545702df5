// Owns reading the lineage columns of a training set's labels input (the source's sequences, with one text
// column per taxonomic level), matched to the examples by id; an id with no row has no labels.
import { StepError, type InputArtifact } from '../../engine/index.js';
import { readText } from '../arrow-columns.js';

/** Per level, the label of each id (null when missing), in the order of `ids`. */
export async function readLineage(
  labelsInput: InputArtifact,
  ids: readonly string[],
  levels: readonly string[],
): Promise<(string | null)[][]> {
  const lineage = new Map<string, (string | null)[]>();
  for (let i = 0; i < labelsInput.shardCount; i++) {
    const table = await labelsInput.readShard(i);
    const missing = levels.filter((l) => table.getChild(l) === null);
    if (missing.length > 0)
      throw new StepError(
        `the labels input has no column ${missing.join(', ')}`,
        'give the source lineage columns (lineage: unite, a taxonomy TSV, or Parquet columns), or set levels:',
      );
    const rowIds = readText(table, 'id');
    const columns = levels.map((l) => readText(table, l));
    rowIds.forEach((id, r) =>
      lineage.set(
        id,
        columns.map((c) => c[r] ?? null),
      ),
    );
  }
  return levels.map((_, l) => ids.map((id) => lineage.get(id)?.[l] ?? null));
}
