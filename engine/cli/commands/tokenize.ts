// Owns `strand tokenize FILE`: print each record's id, a tab and its token ids, for checking a
// tokenizer by eye and against other tools. Reads FASTA/FASTQ (plain or gzip) or Parquet.
import { builtinSteps } from '../../../steps/index.js';
import { readFastaRecords } from '../../../steps/source/fasta-records.js';
import { headerId } from '../../../steps/source/lineage.js';
import { cleanSequence } from '../../../steps/source/sequence-hygiene.js';
import { tokenizerFor } from '../../../steps/tokenize/tokenizer-for.js';
import { applyLengthPolicy } from '../../../steps/tokenize/length-policy.js';
import { StepError } from '../../index.js';
import { EXIT_FAILED, EXIT_OK, type Command } from '../command.js';
import { flag, keyValues, positiveInteger, UsageError } from '../parse-args.js';

async function* parquetRecords(path: string): AsyncGenerator<{ id: string; sequence: string }> {
  const { asyncBufferFromFile, parquetReadObjects } = await import('hyparquet');
  const rows = await parquetReadObjects({ file: await asyncBufferFromFile(path), columns: ['id', 'sequence'] });
  for (const row of rows) yield { id: String(row.id), sequence: String(row.sequence) };
}

async function* fastaRecords(path: string): AsyncGenerator<{ id: string; sequence: string }> {
  for await (const r of readFastaRecords(path, path)) yield { id: headerId(r.header), sequence: r.sequence };
}

export const tokenizeCommand: Command = {
  name: 'tokenize',
  usage: 'strand tokenize FILE [--tokenizer nucleotide-transformer|kmer|char] [--with KEY=VALUE] [--max-tokens N]',
  summary: 'Print id <tab> token ids for each record of a FASTA/FASTQ/Parquet file.',
  flags: [
    { name: 'tokenizer', value: 'NAME', description: 'nucleotide-transformer (default), kmer or char' },
    { name: 'with', value: 'KEY=VALUE', repeatable: true, description: 'tokenizer settings, e.g. version=1 or k=4' },
    { name: 'max-tokens', value: 'N', description: 'truncate to N tokens (default: the tokenizer\'s own maximum)' },
  ],
  async run(args, io) {
    const file = args.positionals[0];
    if (file === undefined) throw new UsageError('missing FILE');
    const name = flag(args, 'tokenizer') ?? 'nucleotide-transformer';
    if (!builtinSteps.some((s) => s.id === `tokenize/${name}`)) throw new UsageError(`unknown tokenizer "${name}"`);
    const settings = Object.fromEntries(Object.entries(keyValues(args, 'with')).map(([k, v]) => [k, /^\d+$/.test(v) ? Number(v) : v]));
    const tokenizer = tokenizerFor(name, settings);
    const maxTokens = positiveInteger(args, 'max-tokens', tokenizer.facts.max_tokens);
    const records = /\.parquet$/i.test(file) ? parquetRecords(file) : fastaRecords(file);
    try {
      for await (const record of records) {
        const cleaned = cleanSequence(record.sequence, 'to-n');
        const tokens = applyLengthPolicy(tokenizer.tokenize(cleaned.ok ? cleaned.sequence : ''), maxTokens, 'truncate', tokenizer.facts.prefix, tokenizer.facts.suffix)[0]!;
        io.stdout(`${record.id}\t${Array.from(tokens).join(' ')}\n`);
      }
    } catch (error) {
      if (error instanceof StepError) {
        io.stderr(`error: ${error.message}\n${error.hint ? `hint: ${error.hint}\n` : ''}`);
        return EXIT_FAILED;
      }
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        io.stderr(`error: cannot read ${file}: no such file\n`);
        return EXIT_FAILED;
      }
      throw error;
    }
    return EXIT_OK;
  },
};
