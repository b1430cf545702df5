// The public plugin API of Strand. A step plugin — built-in or a user's `./plugins/my-step.js` — is
// `defineStep({...})` and uses nothing but what this module exports. Built-in steps import only this.
// Only re-exports: engine modules never import this file (eslint.config.js), so the public surface cannot
// pull the engine into a cycle.
export type { PortSpec, PortType } from './plugin-api/port.js';
export {
  defineStep,
  type JsonSchema,
  type JaxFacts,
  type SequenceCount,
  type StepPlugin,
  type StepPreflight,
  type StepSummary,
} from './plugin-api/step-plugin.js';
export type {
  ArtifactMeta,
  DataAccess,
  DataFile,
  DataOutput,
  InputArtifact,
  OutputWriter,
  ProgressUpdate,
  StepContext,
} from './plugin-api/step-context.js';
export type { RunPlacement, Runtime } from './plugin-api/run-placement.js';
export { StepError } from './plugin-api/step-error.js';

export { openAtomicFile, writeFileAtomic, type AtomicFile } from './store/atomic-write.js';
export { globFiles } from './util/glob-files.js';
export { streamDataFile } from './data/stream-data-file.js';
/** The external data files an ONNX model loads besides itself, what is wrong with them, and the bytes it loads. */
export { onnxModelBytes, onnxModelFiles, type OnnxModelFiles } from './onnx/onnx-model-files.js';
export { describeExternalDataProblem, type ExternalDataFile, type ExternalDataProblem } from './onnx/external-data-files.js';
export { writeProvenance, type TableProvenance } from './util/table-provenance.js';
/** Quote input in a message with invisible characters escaped (`"\uFEFF>seq"`), and read through a leading byte-order mark. */
export { quoteText, showInvisible } from './util/show-invisible.js';
export { withoutByteOrderMark } from './util/byte-order-mark.js';
/**
 * Runs one JAX job (runtime/jax) on this machine: `python -m strand_jax run`, one JSON line per durable
 * shard or training event, then a summary; a missing Python environment is a StepError with the setup hint.
 */
export { runJaxJob, type JaxEmbedSummary, type JaxEvent, type JaxShardDone } from './jax/jax-process.js';
/**
 * A Weights & Biases run for a step that trains in TypeScript: rows of metrics to the official wandb client
 * (`python -m strand_jax wandb-log`), online or to W&B's offline run folder.
 */
export { startWandbLog, type WandbLog, type WandbLogOptions } from './jax/wandb-log.js';
/** The one JAX job (jax_job.schema.json) a step placed on JAX builds, and the placement part of it. */
export {
  jaxPlacement,
  type ClusterJob,
  type ClusterPaths,
  type EmbedJob,
  type EmbedPaths,
  type JaxJob,
  type JaxPlacement,
  type TrainJob,
  type TrainPaths,
  type TrainSettings,
  type WandbSettings,
} from './jax/jax-job.js';
/** The apache-arrow module instance to build tables with (the one LanceDB understands). */
export { arrow } from './util/arrow.js';
