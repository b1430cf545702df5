// Owns the ReportModel: everything a run report shows, as plain data. It is built from a run's
// journal and outputs (build-report-model.ts) and drawn by render-report.ts; times are seconds since
// the run started.
import type { StepSummary } from '../plugin-api/step-plugin.js';

/** `killed`: the step had started when the run's journal ends without the run finishing (SIGKILL, a crash). */
export type StepOutcome = 'cached' | 'ran' | 'resumed' | 'failed' | 'interrupted' | 'killed' | 'blocked' | 'not-run';
export type RunOutcome = 'ok' | 'failed' | 'interrupted' | 'killed';

/** A shard (unit) as the run met it: computed here (`done`) or taken from an earlier attempt (`resumed`). */
export interface ShardMark {
  unit: string;
  t: number;
  rows?: number;
}

/** A counter's rate over a step's time so far (the same figure the terminal view shows). */
export interface RatePoint {
  t: number;
  perSecond: number;
}

/** One value of a named metric at a point of training: the generic input of training curves. */
export interface MetricPoint {
  /** The x column the point was read against (`step`, `epoch`): the curve's axis. */
  axis: string;
  x: number;
  name: string;
  value: number;
}

export interface StepReport {
  step: string;
  uses: string;
  outcome: StepOutcome;
  start?: number;
  end?: number;
  durationMs?: number;
  /** Rows this run wrote (resumed shards not counted). */
  rows: number;
  reasons: string[];
  failure?: { message: string; hint?: string };
  blockedBy?: string;
  done: ShardMark[];
  resumed: ShardMark[];
  /** Rates by counter (`sequences`, `tokens`, `examples`, `steps`), from the step's progress events. */
  rates: Record<string, RatePoint[]>;
  peakRssBytes?: number;
  device: { label: string; kind: string };
  attempts: { attempt: number; node: string; shards: number; t: number }[];
  preemptions: { attempt: number; node: string; state: string; t: number }[];
  cost: { estimatedSeconds?: number; estimatedCost?: number; actualCost: number };
  summary: StepSummary;
  /** Per-step training curves, from the step's `metrics` outputs (empty for other steps). */
  metrics: MetricPoint[];
}

export interface ResourcePoint {
  t: number;
  rssBytes: number;
  cpuPercent: number;
}

/** What an earlier run did with a step this run resumed: the failure or stop the resume continued from. */
export interface PriorAttempt {
  step: string;
  runId: string;
  outcome: 'failed' | 'interrupted' | 'killed';
  message?: string;
  /** Units that attempt completed (this run resumed them rather than recompute them). */
  completed: string[];
}

/** `--color-by cluster`: the map is coloured by cluster/hdbscan's `cluster` column, -1 as NOISE_GROUP. */
export const CLUSTER_COLOURING = 'cluster';
export const NOISE_GROUP = 'noise';

export interface MapPoint {
  id: string;
  x: number;
  y: number;
  /** The taxon at the colour level (null when unlabelled); with CLUSTER_COLOURING, `cluster N` or NOISE_GROUP. */
  taxon: string | null;
  lineage: string;
  novel: boolean;
}

export interface EmbeddingMap {
  step: string;
  method: 'pca';
  level: string;
  /** Vectors in the artifact, and how many the map shows (a deterministic sample past the limit). */
  total: number;
  sampled: number;
  limit: number;
  dim: number;
  /** Set when the vectors were randomly projected to this many dimensions before the PCA. */
  sketchedTo?: number;
  /** Each component's share of the variance (of the sketch, when sketched). */
  explainedVariance: [number, number];
  points: MapPoint[];
}

export interface GraphNode {
  id: string;
  uses: string;
  outcome: StepOutcome;
}

export interface ReportModel {
  run: { runId: string; workflow: string; file: string; outcome: RunOutcome; startedAt: string; durationMs: number };
  steps: StepReport[];
  resources: ResourcePoint[];
  graph: { nodes: GraphNode[]; edges: { from: string; to: string; port?: string }[] };
  history: PriorAttempt[];
  map?: EmbeddingMap;
  /** Why a part is missing (no embeddings output, no lineage, an old journal without samples). */
  notes: string[];
}
