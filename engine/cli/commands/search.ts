// Owns `strand search URI --table T`: nearest neighbours of a sequence (embedded the way the table was
// built, from its provenance) or of a row already in the table, with their metadata.
import { embedQuery } from '../../../steps/embed/embed-query.js';
import { readProvenance } from '../../../steps/export/table-provenance.js';
import { StepError } from '../../index.js';
import { EXIT_FAILED, EXIT_OK, JSON_FLAG, type Command } from '../command.js';
import { openDataAccess } from '../open-data-access.js';
import { flag, has, positiveInteger, UsageError } from '../parse-args.js';

export const searchCommand: Command = {
  name: 'search',
  usage: 'strand search URI [--table NAME] (--sequence ACGT... | --id ID) [--k 10] [--json]',
  summary: 'Nearest neighbours in a LanceDB table written by export/lancedb.',
  flags: [
    { name: 'table', value: 'NAME', description: 'table name (default sequences)' },
    { name: 'sequence', value: 'DNA', description: 'query sequence, embedded like the table was' },
    { name: 'id', value: 'ID', description: 'use the vector of this row as the query' },
    { name: 'k', value: 'N', description: 'neighbours to show (default 10)' },
    JSON_FLAG,
  ],
  async run(args, io) {
    const uri = args.positionals[0];
    if (uri === undefined) throw new UsageError('missing URI (the LanceDB directory, e.g. out/quickstart.lancedb or gs://bucket/vectors.lancedb)');
    const tableName = flag(args, 'table') ?? 'sequences';
    const sequence = flag(args, 'sequence');
    const id = flag(args, 'id');
    if ((sequence === undefined) === (id === undefined)) throw new UsageError('give exactly one of --sequence or --id');
    const k = positiveInteger(args, 'k', 10);
    process.env.LANCEDB_LOG ??= 'error';
    const lancedb = await import('@lancedb/lancedb');
    const data = await openDataAccess(uri, io);
    if (data === undefined) return EXIT_FAILED;
    const location = data.lanceLocation(uri);
    const db = await lancedb.connect(location.uri, { storageOptions: location.storageOptions });
    if (!(await db.tableNames()).includes(tableName)) {
      io.stderr(`error: no table "${tableName}" in ${uri}\nhint: tables there: ${(await db.tableNames()).join(', ') || 'none'}\n`);
      return EXIT_FAILED;
    }
    const table = await db.openTable(tableName);
    try {
      let query: Float32Array;
      if (id !== undefined) {
        const rows = await table.query().where(`id = '${id.replace(/'/g, "''")}'`).limit(1).toArray();
        if (rows.length === 0) {
          io.stderr(`error: no row with id ${id} in ${tableName}\n`);
          return EXIT_FAILED;
        }
        query = Float32Array.from(rows[0].vector as ArrayLike<number>);
      } else {
        const provenance = await readProvenance(data, uri, tableName);
        if (provenance === undefined) {
          io.stderr(`error: ${uri}/${tableName} has no Strand provenance, so a sequence cannot be embedded the same way\nhint: search by --id, or write the table with export/lancedb\n`);
          return EXIT_FAILED;
        }
        query = await embedQuery(provenance.embeddings, sequence!, io.cwd);
      }
      const hits = await table.search(Array.from(query)).limit(k).toArray();
      const shown = hits.map((h) => {
        const { vector: _vector, sequence: _sequence, ...rest } = h as Record<string, unknown>;
        return rest;
      });
      if (has(args, 'json')) io.stdout(JSON.stringify(shown, null, 2) + '\n');
      else {
        for (const hit of shown) {
          const { id: hitId, _distance, ...meta } = hit;
          const info = Object.values(meta).filter((v) => v !== null && v !== undefined).join(' ');
          io.stdout(`${Number(_distance).toFixed(4)}  ${String(hitId)}  ${info}\n`);
        }
      }
      return EXIT_OK;
    } catch (error) {
      if (error instanceof StepError) {
        io.stderr(`error: ${error.message}\n${error.hint ? `hint: ${error.hint}\n` : ''}`);
        return EXIT_FAILED;
      }
      throw error;
    } finally {
      table.close();
      db.close();
    }
  },
};
