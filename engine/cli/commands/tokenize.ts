// Owns `strand tokenize FILE`: print each record's id, a tab and its token ids, for checking a
// tokenizer by eye and against other tools. It runs the real steps — source/fasta or source/parquet,
// then tokenize/NAME — so it prints what a workflow would feed a model (a gs:// FILE included).
import type { Int32, List, Utf8, Vector } from 'apache-arrow';
import { builtinSteps } from '../../../steps/index.js';
import { gcsObjectFacts } from '../../load/gcs-object-facts.js';
import { runScratchWorkflow } from '../../run/run-scratch-workflow.js';
import { EXIT_FAILED, EXIT_OK, type Command } from '../command.js';
import { flag, keyValues, positiveInteger, UsageError } from '../parse-args.js';
import { scratchFailureText } from '../scratch-failure-text.js';

function stepNamed(id: string): (typeof builtinSteps)[number] | undefined {
  return builtinSteps.find((s) => s.id === id);
}

export const tokenizeCommand: Command = {
  usage: 'strand tokenize FILE [--tokenizer nucleotide-transformer|kmer|char] [--with KEY=VALUE] [--max-tokens N]',
  flags: [
    { name: 'tokenizer', value: 'NAME', description: 'nucleotide-transformer (default), kmer or char' },
    {
      name: 'with',
      value: 'KEY=VALUE',
      repeatable: true,
      description: 'source or tokenize step settings, e.g. version=1, k=4, sequence_column=seq',
    },
    { name: 'max-tokens', value: 'N', description: "truncate to N tokens (default: the tokenizer's own maximum)" },
  ],
  async run(args, io) {
    const file = args.positionals[0];
    if (file === undefined) throw new UsageError('missing FILE');
    const name = flag(args, 'tokenizer') ?? 'nucleotide-transformer';
    const tokenizer = stepNamed(`tokenize/${name}`);
    if (tokenizer === undefined) throw new UsageError(`unknown tokenizer "${name}"`);
    const source = stepNamed(/\.parquet$/i.test(file) ? 'source/parquet' : 'source/fasta')!;
    const settings = Object.entries(keyValues(args, 'with')).map(([k, v]) => [k, /^\d+$/.test(v) ? Number(v) : v] as const);
    const sourceKeys = Object.keys(source.with.properties ?? {});
    const isSourceKey = (key: string): boolean => sourceKeys.includes(key);
    const maxTokens = flag(args, 'max-tokens') === undefined ? {} : { max_tokens: positiveInteger(args, 'max-tokens', 0) };
    const workflow = {
      name: 'tokenize',
      steps: {
        // Letters that are not nucleotides become N rather than stop the check.
        source: { uses: source.id, with: { path: file, invalid: 'to-n', ...Object.fromEntries(settings.filter(([k]) => isSourceKey(k))) } },
        tokenize: {
          uses: tokenizer.id,
          needs: ['source'],
          with: { ...Object.fromEntries(settings.filter(([k]) => !isSourceKey(k))), ...maxTokens },
        },
      },
    };
    const printed = await runScratchWorkflow(
      workflow,
      { plugins: builtinSteps, workdir: io.cwd, objects: gcsObjectFacts(io.env), now: () => new Date() },
      async (output) => {
        const tokens = output('tokenize', 'tokens');
        for (let index = 0; index < tokens.shardCount; index++) {
          const table = await tokens.readShard(index);
          const ids = table.getChild('id') as Vector<Utf8>;
          const lists = table.getChild('tokens') as Vector<List<Int32>>;
          for (let row = 0; row < table.numRows; row++) io.stdout(`${ids.get(row)}\t${Array.from(lists.get(row)!).join(' ')}\n`);
        }
      },
    );
    if (printed.ok) return EXIT_OK;
    io.stderr(scratchFailureText(printed.error));
    return EXIT_FAILED;
  },
};
