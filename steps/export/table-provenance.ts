// Owns the provenance file written beside an exported table (`<table>.strand.json`): how its vectors
// were made (model digest, pooling, tokenizer), so `strand search` embeds queries the same way.
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../../engine/index.js';

export interface TableProvenance {
  embeddings: Record<string, unknown>;
  rows: number;
  written_by: string;
}

export function provenancePath(tablePath: string): string {
  return `${tablePath}.strand.json`;
}

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
