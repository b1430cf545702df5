// Owns the provenance file written beside an exported table (`<table>.strand.json`): how its vectors
// were made (model digest, pooling, tokenizer), so `strand search` embeds queries the same way. The
// engine owns the format because an export step writes it and a CLI verb reads it.
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../store/atomic-write.js';

export interface TableProvenance {
  /** The `meta` of the embeddings artifact the table holds (what the embed step recorded). */
  embeddings: Record<string, unknown>;
  rows: number;
  written_by: string;
}

export function provenancePath(tablePath: string): string {
  return `${tablePath}.strand.json`;
}

/** Writes the provenance of the table at `tablePath` beside it, atomically. */
export function writeProvenance(tablePath: string, provenance: TableProvenance): void {
  writeFileAtomic(provenancePath(tablePath), JSON.stringify(provenance, null, 2));
}

export function readProvenance(tablePath: string): TableProvenance | undefined {
  try {
    return JSON.parse(readFileSync(provenancePath(tablePath), 'utf8')) as TableProvenance;
  } catch {
    return undefined;
  }
}
