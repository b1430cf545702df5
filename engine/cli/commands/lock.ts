// Owns `strand lock FILE`: pin the recipes a workflow uses in strand.lock by content digest.
import { formatDiagnostics } from '../../diagnostics/format-diagnostic.js';
import { readLock, writeLock } from '../../recipes/recipe-lock.js';
import { EXIT_FAILED, EXIT_OK, PARAM_FLAG, type Command } from '../command.js';
import { openWorkflow } from '../open-workflow.js';
import { has } from '../parse-args.js';

export const lockCommand: Command = {
  usage: 'strand lock FILE [--update]',
  flags: [PARAM_FLAG, { name: 'update', description: 'replace the digests of recipes that changed' }],
  async run(args, io) {
    const update = has(args, 'update');
    const read = readLock(io.cwd);
    if (!read.ok) {
      io.stderr(formatDiagnostics([read.error], () => undefined) + '\n');
      return EXIT_FAILED;
    }
    const lock = read.value;
    // With --update, a changed recipe must not stop loading.
    const opened = await openWorkflow(args, io, { ignoreLock: update });
    if (opened === undefined) return EXIT_FAILED;
    for (const [path, recipe] of opened.recipes) {
      const before = lock.recipes[path];
      lock.recipes[path] = recipe.digest;
      io.stdout(
        `${before === undefined ? 'locked ' : before === recipe.digest ? 'same   ' : 'updated'} ${path} ${recipe.digest.slice(0, 12)}\n`,
      );
    }
    writeLock(io.cwd, lock);
    return EXIT_OK;
  },
};
