// Owns `strand report [RUN]`: write one self-contained HTML report of a run (the last by default).
import { EXIT_FAILED, EXIT_OK, STATE_DIR_FLAG, type Command } from '../command.js';
import { stateFor } from '../open-workflow.js';
import { flag, positiveInteger, UsageError } from '../parse-args.js';
import { LEVELS } from '../../report/read-run.js';
import { CLUSTER_COLOURING } from '../../report/report-model.js';
import { DEFAULT_LEVEL, MAP_LIMIT, writeReport } from '../../report/write-report.js';

export const reportCommand: Command = {
  usage: 'strand report [RUN] [-o FILE] [--state-dir DIR] [--color-by LEVEL] [--embeddings STEP] [--sample N]',
  flags: [
    { name: 'output', short: 'o', value: 'FILE', description: 'where to write it (default out/reports/RUN.html)' },
    STATE_DIR_FLAG,
    {
      name: 'color-by',
      value: 'LEVEL',
      description: `taxonomy level, or ${CLUSTER_COLOURING} (cluster/hdbscan's), that colours the embedding map (default ${DEFAULT_LEVEL})`,
    },
    { name: 'embeddings', value: 'STEP', description: 'step whose embeddings are mapped (default: the last with an embeddings output)' },
    { name: 'sample', value: 'N', description: `vectors on the map at most (default ${MAP_LIMIT})` },
  ],
  async run(args, io) {
    const level = flag(args, 'color-by') ?? DEFAULT_LEVEL;
    const choices: readonly string[] = [...LEVELS, CLUSTER_COLOURING];
    if (!choices.includes(level)) throw new UsageError(`--color-by is one of ${choices.join(', ')}, not "${level}"`);
    const state = stateFor(args, io);
    const runId = args.positionals[0];
    const embeddings = flag(args, 'embeddings');
    const path = flag(args, 'output');
    const written = await writeReport(state, {
      ...(runId !== undefined ? { runId } : {}),
      ...(embeddings !== undefined ? { embeddingsStep: embeddings } : {}),
      ...(path !== undefined ? { path } : {}),
      level,
      limit: positiveInteger(args, 'sample', MAP_LIMIT),
    });
    if (!written.ok) {
      io.stderr(`error: ${written.error}\n`);
      return EXIT_FAILED;
    }
    io.stdout(`report: ${written.value.path} (${Math.round(written.value.bytes / 1024)} KB)\n`);
    return EXIT_OK;
  },
};
