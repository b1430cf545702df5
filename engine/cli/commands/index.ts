// Owns the command table: one list serves dispatch, `--help` and the CLI reference in docs/cli.md. Each
// command's module (and what it imports: the workflow loader, ink, LanceDB, onnxruntime, the cloud
// clients) loads only when that command runs, so `strand --version` and `strand --help` load none.
import type { CommandEntry } from '../command.js';

export const commands: readonly CommandEntry[] = [
  {
    name: 'validate',
    summary: 'Check a workflow file; print every problem as file:line:column.',
    load: async () => (await import('./validate.js')).validateCommand,
  },
  {
    name: 'plan',
    summary: 'Show, per step in order, whether it is cached or will run and why (interactive on a terminal).',
    load: async () => (await import('./plan.js')).planCommand,
  },
  {
    name: 'run',
    summary: 'Run the steps that are not cached; resume interrupted steps from their last completed shard.',
    load: async () => (await import('./run.js')).runCommand,
  },
  {
    name: 'watch',
    summary: 'Run, then re-run what changed whenever the workflow, its recipes, its local files or its gs:// inputs change.',
    load: async () => (await import('./watch.js')).watchCommand,
  },
  {
    name: 'graph',
    summary: 'Print the step graph as Mermaid or Graphviz DOT.',
    load: async () => (await import('./graph.js')).graphCommand,
  },
  {
    name: 'cache',
    summary: 'List cached step results, verify the store, or remove what no latest result uses.',
    load: async () => (await import('./cache.js')).cacheCommand,
  },
  {
    name: 'runs',
    summary: 'List past runs with their status and what ran or was cached.',
    load: async () => (await import('./runs.js')).runsCommand,
  },
  {
    name: 'report',
    summary:
      'Write a self-contained HTML report of a run (the last one by default): timeline, rates, memory, training curves, embedding map, graph.',
    load: async () => (await import('./report.js')).reportCommand,
  },
  {
    name: 'schema',
    summary: 'Print the workflow JSON Schema (schemas/workflow.schema.json), or the recipe one.',
    load: async () => (await import('./schema.js')).schemaCommand,
  },
  {
    name: 'doctor',
    summary: 'Say which runtimes are ready here (onnxruntime, JAX and its TPU/GPU plugins) and how to get the others.',
    load: async () => (await import('./doctor.js')).doctorCommand,
  },
  {
    name: 'steps',
    summary: "List the built-in steps, or show one step's ports and parameters.",
    load: async () => (await import('./steps.js')).stepsCommand,
  },
  {
    name: 'tokenize',
    summary: 'Print id <tab> token ids for each record of a FASTA/FASTQ/Parquet file.',
    load: async () => (await import('./tokenize.js')).tokenizeCommand,
  },
  {
    name: 'search',
    summary: 'Nearest neighbours in a LanceDB table written by export/lancedb.',
    load: async () => (await import('./search.js')).searchCommand,
  },
  {
    name: 'recipe',
    summary: 'List the recipes on the search path (recipes/, STRAND_RECIPE_PATH), show one, or start a new one.',
    load: async () => (await import('./recipe.js')).recipeCommand,
  },
  {
    name: 'lock',
    summary: 'Pin the recipes a workflow uses in strand.lock; --update accepts recipes that changed.',
    load: async () => (await import('./lock.js')).lockCommand,
  },
  {
    name: 'tpu',
    summary: "List, inspect or delete the Cloud TPU nodes Strand created in a workflow's projects and zones.",
    load: async () => (await import('./tpu.js')).tpuCommand,
  },
  {
    name: 'worker',
    summary: 'Run this host\'s shards of a remote step (started by a TPU node\'s startup script; see "Worker contract").',
    load: async () => (await import('./worker.js')).workerCommand,
  },
];
