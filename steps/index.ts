// Lists the built-in step plugins explicitly. A plugin id is its path: `embed/onnx` is steps/embed/onnx.ts.
// Heavy libraries (onnxruntime, LanceDB) are imported inside `run`, so listing steps stays cheap.
import type { StepPlugin } from '../engine/index.js';
import { classifyTaxonomy } from './classify/taxonomy.js';
import { hdbscanCluster } from './cluster/hdbscan.js';
import { kmerProfileEmbed } from './embed/kmer-profile.js';
import { ntEmbed } from './embed/nt.js';
import { onnxEmbed } from './embed/onnx.js';
import { lancedbExport } from './export/lancedb.js';
import { parquetExport } from './export/parquet.js';
import { ntLora } from './finetune/nt-lora.js';
import { taxonomyHead } from './finetune/taxonomy-head.js';
import { fastaSource } from './source/fasta.js';
import { parquetSource } from './source/parquet.js';
import { charTokenize } from './tokenize/char.js';
import { kmerTokenize } from './tokenize/kmer.js';
import { ntTokenize } from './tokenize/nucleotide-transformer.js';

export const builtinSteps: readonly StepPlugin[] = [
  parquetSource,
  fastaSource,
  ntTokenize,
  kmerTokenize,
  charTokenize,
  onnxEmbed,
  ntEmbed,
  kmerProfileEmbed,
  taxonomyHead,
  ntLora,
  classifyTaxonomy,
  hdbscanCluster,
  lancedbExport,
  parquetExport,
];
