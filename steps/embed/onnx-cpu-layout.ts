// Owns how an embedding step splits the local CPU among onnxruntime sessions. The cores it uses are
// `threads` (default: all). A workflow that declares `mesh: { data: N }` gets N sessions sharing them. One
// that declares none gets, for a small model, one single-threaded session per core it uses (at most
// MAX_CHOSEN_SESSIONS, and each with MIN_SHARDS_PER_CHOSEN_SESSION shards to embed), and for a larger one a
// single session over all of them: a small model's ops are too short for intra-op threads to keep busy (on 2
// cores a bare loop embeds 8,878 ITS barcodes with the tiny NT in 4.71 s as 2 sessions x 1 thread against
// 5.20 s as 1 x 2: docs/benchmarks.md), while a larger model's matrices do, and every session holds its own
// copy of the weights. Never more sessions than shards: a session embeds whole shards. Pure.

/** Models up to this size (the ONNX file and its external data) get one single-threaded session per core. */
export const SMALL_MODEL_BYTES = 32 * 1024 * 1024;
/** The most sessions a step opens unasked: each has its own activations arena (~90 MiB at the quickstart's). */
export const MAX_CHOSEN_SESSIONS = 8;
/**
 * The shards a session it opens unasked must have to embed: a worker's start (a thread, onnxruntime, a
 * session) pays back only over several. The quickstart's 4 shards ran 0.1-0.2 s slower as 2 sessions.
 */
export const MIN_SHARDS_PER_CHOSEN_SESSION = 4;

export interface OnnxCpuLayout {
  sessions: number;
  threadsPerSession: number;
}

export function onnxCpuLayout(input: {
  /** `mesh: { data: N }` as the workflow declares it; undefined when it declares none. */
  declaredSessions: number | undefined;
  /** The cores the step uses: its `threads`, else all of the machine's. */
  threads: number;
  /** The machine's cores. */
  cores: number;
  shards: number;
  modelBytes: number;
}): OnnxCpuLayout {
  const chosen =
    input.modelBytes <= SMALL_MODEL_BYTES
      ? Math.min(input.threads, input.cores, MAX_CHOSEN_SESSIONS, Math.floor(input.shards / MIN_SHARDS_PER_CHOSEN_SESSION))
      : 1;
  const sessions = Math.max(1, Math.min(input.declaredSessions ?? chosen, input.shards));
  return { sessions, threadsPerSession: Math.max(1, Math.floor(input.threads / sessions)) };
}
