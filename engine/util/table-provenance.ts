// Owns the provenance file written beside an exported table (`<table>.strand.json`): how its vectors
// were made (model digest, pooling, tokenizer), so `strand search` embeds queries the same way. The
// engine owns the format because an export step writes it and a CLI verb reads it. Beside a local table
// or a gs:// one alike, through DataAccess.
import type { DataAccess } from '../plugin-api/step-context.js';

export interface TableProvenance {
  /** The `meta` of the embeddings artifact the table holds (what the embed step recorded). */
  embeddings: Record<string, unknown>;
  rows: number;
  written_by: string;
}

/** `<db>/<table>.strand.json`, for a db that is a local path or a gs:// URI. */
export function provenancePath(db: string, table: string): string {
  return `${db.replace(/\/+$/, '')}/${table}.strand.json`;
}

/** Writes the provenance of table `table` in the LanceDB directory `db` beside it, atomically. */
export async function writeProvenance(data: DataAccess, db: string, table: string, provenance: TableProvenance): Promise<void> {
  await data.writeText(provenancePath(db, table), JSON.stringify(provenance, null, 2));
}

export async function readProvenance(data: DataAccess, db: string, table: string): Promise<TableProvenance | undefined> {
  const text = await data.readText(provenancePath(db, table));
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as TableProvenance;
  } catch {
    return undefined;
  }
}
