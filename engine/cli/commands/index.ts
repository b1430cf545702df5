// Owns the command table: one list serves dispatch, `--help` and the CLI reference in docs/cli.md.
import type { Command } from '../command.js';
import { cacheCommand } from './cache.js';
import { doctorCommand } from './doctor.js';
import { graphCommand } from './graph.js';
import { lockCommand } from './lock.js';
import { planCommand } from './plan.js';
import { recipeCommand } from './recipe.js';
import { reportCommand } from './report.js';
import { runCommand } from './run.js';
import { runsCommand } from './runs.js';
import { schemaCommand } from './schema.js';
import { searchCommand } from './search.js';
import { stepsCommand } from './steps.js';
import { tokenizeCommand } from './tokenize.js';
import { tpuCommand } from './tpu.js';
import { validateCommand } from './validate.js';
import { watchCommand } from './watch.js';
import { workerCommand } from './worker.js';

export const commands: readonly Command[] = [
  validateCommand,
  planCommand,
  runCommand,
  watchCommand,
  graphCommand,
  cacheCommand,
  runsCommand,
  reportCommand,
  schemaCommand,
  doctorCommand,
  stepsCommand,
  tokenizeCommand,
  searchCommand,
  recipeCommand,
  lockCommand,
  tpuCommand,
  workerCommand,
];
