// Owns `strand search URI --table T`: nearest neighbours of a sequence (embedded by the steps and
// settings the table's provenance records) or of a row already in the table, with their metadata. The
// table may be local or on gs:// (opened through DataAccess, credentials checked first).
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Float, FixedSizeList, Vector } from 'apache-arrow';
import { builtinSteps } from '../../../steps/index.js';
import { runScratchWorkflow } from '../../run/run-scratch-workflow.js';
import { isGcsUri } from '../../data/object-snapshot.js';
import { readProvenance } from '../../util/table-provenance.js';
import { fail, type Result } from '../../util/result.js';
import { EXIT_FAILED, EXIT_OK, JSON_FLAG, type Command } from '../command.js';
import { openDataAccess } from '../open-data-access.js';
import { nearestRows } from '../nearest-rows.js';
import { flag, has, positiveInteger, UsageError } from '../parse-args.js';
import { EMBED_STEP, QUERY_STEP, queryWorkflow } from '../query-workflow.js';
import { scratchFailureText } from '../scratch-failure-text.js';

/** Why a local path cannot be a LanceDB directory, or undefined when it can. */
function missingDirectory(path: string): string | undefined {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (stat === undefined) return 'does not exist';
  return stat.isDirectory() ? undefined : 'is a file, not a LanceDB directory';
}

/** The query's vector, made by running the table's embedding steps on it; or the error text. */
async function embedQuery(meta: Record<string, unknown>, sequence: string, cwd: string): Promise<Result<Float32Array, string>> {
  const workflow = queryWorkflow(meta, sequence, (model) => resolve(cwd, model));
  if (!workflow.ok) return fail(`error: ${workflow.error}\n`);
  const embedded = await runScratchWorkflow(workflow.value, { plugins: builtinSteps, now: () => new Date() }, async (output) => {
    const table = await output(EMBED_STEP, 'embeddings').readShard(0);
    return Float32Array.from((table.getChild('vector') as Vector<FixedSizeList<Float>>).get(0)!);
  });
  if (embedded.ok) return embedded;
  const failure = embedded.error;
  const aboutQuery = failure.kind === 'step-failed' && failure.step === QUERY_STEP;
  return fail(scratchFailureText(aboutQuery ? { ...failure, hint: 'give a DNA sequence (A, C, G, T, N or IUPAC codes)' } : failure));
}

export const searchCommand: Command = {
  usage: 'strand search URI [--table NAME] (--sequence ACGT... | --id ID) [--where SQL] [--k 10] [--json]',
  flags: [
    { name: 'table', value: 'NAME', description: 'table name (default sequences)' },
    { name: 'sequence', value: 'DNA', description: 'query sequence, embedded like the table was' },
    { name: 'id', value: 'ID', description: 'use the vector of this row as the query' },
    {
      name: 'where',
      value: 'SQL',
      description:
        'only rows that pass this filter (LanceDB SQL, e.g. "depth_m > 200 AND site = \'NZ-07\'"), applied before the nearest-neighbour search',
    },
    { name: 'k', value: 'N', description: 'neighbours to show (default 10)' },
    JSON_FLAG,
  ],
  async run(args, io) {
    const uri = args.positionals[0];
    if (uri === undefined)
      throw new UsageError('missing URI (the LanceDB directory, e.g. out/quickstart.lancedb or gs://bucket/vectors.lancedb)');
    const tableName = flag(args, 'table') ?? 'sequences';
    const sequence = flag(args, 'sequence');
    const id = flag(args, 'id');
    if ((sequence === undefined) === (id === undefined)) throw new UsageError('give exactly one of --sequence or --id');
    const k = positiveInteger(args, 'k', 10);
    const where = flag(args, 'where');
    process.env.LANCEDB_LOG ??= 'error';
    const lancedb = await import('@lancedb/lancedb');
    const missing = isGcsUri(uri) ? undefined : missingDirectory(resolve(io.cwd, uri));
    if (missing !== undefined) {
      io.stderr(`error: ${uri} ${missing}\nhint: give the directory export/lancedb wrote (its uri:), e.g. out/quickstart.lancedb\n`);
      return EXIT_FAILED;
    }
    const data = await openDataAccess(uri, io);
    if (data === undefined) return EXIT_FAILED;
    const location = data.lanceLocation(uri);
    const db = await lancedb.connect(location.uri, { storageOptions: location.storageOptions });
    const tables = await db.tableNames();
    if (!tables.includes(tableName)) {
      io.stderr(
        tables.length === 0
          ? `error: ${uri} holds no LanceDB table\nhint: give the directory export/lancedb wrote (its uri:), e.g. out/quickstart.lancedb\n`
          : `error: no table "${tableName}" in ${uri}\nhint: tables there: ${tables.join(', ')} (choose one with --table)\n`,
      );
      return EXIT_FAILED;
    }
    const table = await db.openTable(tableName);
    try {
      if (where !== undefined) {
        // The filter is checked on its own first, so a mistake is named with the columns the table has.
        const problem = await table
          .query()
          .where(where)
          .limit(1)
          .toArray()
          .then(
            () => undefined,
            (error: unknown) => (error as Error).message.split('\n')[0],
          );
        if (problem !== undefined) {
          const columns = (await table.schema()).fields.map((f) => f.name).filter((n) => n !== 'vector');
          io.stderr(
            `error: --where "${where}" does not apply to table ${tableName}: ${problem}\nhint: its columns: ${columns.join(', ')}\n`,
          );
          return EXIT_FAILED;
        }
      }
      let query: Float32Array;
      if (id !== undefined) {
        const rows = await table
          .query()
          .where(`id = '${id.replace(/'/g, "''")}'`)
          .limit(1)
          .toArray();
        if (rows.length === 0) {
          io.stderr(`error: no row with id ${id} in ${tableName}\n`);
          return EXIT_FAILED;
        }
        query = Float32Array.from((rows[0] as { vector: ArrayLike<number> }).vector);
      } else {
        const provenance = await readProvenance(data, uri, tableName);
        if (provenance === undefined) {
          io.stderr(
            `error: ${uri}/${tableName} has no Strand provenance, so a sequence cannot be embedded the same way\nhint: search by --id, or write the table with export/lancedb\n`,
          );
          return EXIT_FAILED;
        }
        const embedded = await embedQuery(provenance.embeddings, sequence!, io.cwd);
        if (!embedded.ok) {
          io.stderr(embedded.error);
          return EXIT_FAILED;
        }
        query = embedded.value;
      }
      const hits = await nearestRows(table, query, k, where);
      const shown = hits.map((h) => {
        const { vector: _vector, sequence: _sequence, ...rest } = h;
        return rest;
      });
      if (has(args, 'json')) io.stdout(JSON.stringify(shown, null, 2) + '\n');
      else {
        for (const hit of shown) {
          const { id: hitId, _distance, ...meta } = hit;
          const info = Object.values(meta)
            .filter((v) => v !== null && v !== undefined)
            .map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v as string | number | boolean)))
            .join(' ');
          io.stdout(`${Number(_distance).toFixed(4)}  ${String(hitId)}  ${info}\n`);
        }
      }
      return EXIT_OK;
    } finally {
      table.close();
      db.close();
    }
  },
};
