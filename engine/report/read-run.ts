// Owns gathering what a report is built from, out of a state directory: the run's journal (the last
// run by default), the journals of earlier runs (for what a resume continued from), each step's
// `metrics` outputs, a sample of one `embeddings` output and the lineage of the sampled ids from the
// run's `sequences` outputs. The I/O edge of reports; buildReportModel does the rest.
import type { Table } from 'apache-arrow';
import type { RunEvent } from '../events/run-event.js';
import { journalPath, listRuns, readJournal } from '../run/journal.js';
import type { ArtifactManifest } from '../plan/step-record.js';
import type { StrandState } from '../store/strand-state.js';
import { readText, readVectors } from '../../steps/arrow-columns.js';
import { arrow } from '../util/arrow.js';
import { fail, ok, type Result } from '../util/result.js';
import type { RunFacts } from './build-report-model.js';
import { embeddingMap, type LineageFacts } from './embedding-map.js';
import { EmbeddingSample } from './embedding-sample.js';
import { metricPoints, type MetricsColumn } from './metric-points.js';
import { CLUSTER_COLOURING, NOISE_GROUP, type EmbeddingMap, type MetricPoint } from './report-model.js';

export const LEVELS = ['kingdom', 'phylum', 'class', 'order', 'family', 'genus', 'species'] as const;
/** Earlier journals read for a run's resume history (the newest ones). */
const EARLIER_RUNS = 50;

export interface ReadRunOptions {
  /** A run id (or a unique prefix); the last run when absent. */
  runId?: string;
  /** The taxonomy level the map is coloured by. */
  level: string;
  /** Vectors shown in the map at most (a deterministic sample past it). */
  limit: number;
  /** The step whose embeddings are mapped; the last step with an embeddings output when absent. */
  embeddingsStep?: string;
}

interface Output {
  step: string;
  port: string;
  manifest: ArtifactManifest;
}

export function findRun(runs: readonly string[], wanted: string | undefined): Result<string, string> {
  if (runs.length === 0) return fail('no runs recorded in this state directory');
  if (wanted === undefined) return ok(runs[runs.length - 1]!);
  const matches = runs.filter((r) => r.startsWith(wanted));
  if (matches.length === 1) return ok(matches[0]!);
  return fail(
    matches.length === 0
      ? `no run ${wanted} (\`strand runs\` lists them)`
      : `${wanted} matches ${matches.length} runs: ${matches.join(', ')}`,
  );
}

export async function readRun(state: StrandState, options: ReadRunOptions): Promise<Result<RunFacts, string>> {
  const runs = listRuns(state.layout.runs);
  const found = findRun(runs, options.runId);
  if (!found.ok) return found;
  const runId = found.value;
  const events = readJournal(journalPath(state.layout.runs, runId));
  if (!events.some((e) => e.kind === 'run-started')) return fail(`the journal of run ${runId} is empty`);
  const earlier = runs
    .slice(0, runs.indexOf(runId))
    .slice(-EARLIER_RUNS)
    .map((id) => ({ runId: id, events: readJournal(journalPath(state.layout.runs, id)) }));
  const outputs = outputsOf(events, state);
  const notes: string[] = [];

  const metrics = new Map<string, MetricPoint[]>();
  for (const output of outputs.filter((o) => o.manifest.type === 'metrics')) {
    const points: MetricPoint[] = [];
    for (const table of tablesOf(state, output.manifest)) points.push(...metricPoints(metricsColumns(table)));
    metrics.set(output.step, [...(metrics.get(output.step) ?? []), ...points]);
  }
  const map = readMap(state, outputs, options, notes);
  return ok({ events, earlier, metrics, ...(map ? { map } : {}), notes });
}

/** The outputs of every step that ran or was cached in the run, from their committed records. */
function outputsOf(events: readonly RunEvent[], state: StrandState): Output[] {
  const outputs: Output[] = [];
  for (const event of events) {
    if (event.kind !== 'step-finished' && event.kind !== 'step-cached') continue;
    const record = state.record(event.key as never);
    if (record === undefined) continue; // collected since (`strand cache gc`)
    for (const [port, digest] of Object.entries(record.outputs)) {
      if (state.objects.has(digest)) outputs.push({ step: event.step, port, manifest: state.objects.getJson<ArtifactManifest>(digest) });
    }
  }
  return outputs;
}

function* tablesOf(state: StrandState, manifest: ArtifactManifest): Generator<Table> {
  for (const shard of manifest.shards) yield arrow.tableFromIPC(state.objects.get(shard.digest));
}

function metricsColumns(table: Table): MetricsColumn[] {
  return table.schema.fields.map((field) => {
    const type = arrow.DataType.isUtf8(field.type)
      ? 'text'
      : arrow.DataType.isInt(field.type)
        ? 'integer'
        : arrow.DataType.isFloat(field.type)
          ? 'float'
          : 'other';
    // Iterated rather than toArray(): a numeric column's typed array turns nulls into zeros.
    const values = type === 'other' ? [] : [...(table.getChild(field.name)! as Iterable<string | number | bigint | null>)];
    return { name: field.name, type, values: values.map((v) => (typeof v === 'bigint' ? Number(v) : v)) };
  });
}

function readMap(state: StrandState, outputs: readonly Output[], options: ReadRunOptions, notes: string[]): EmbeddingMap | undefined {
  const candidates = outputs.filter(
    (o) => o.manifest.type === 'embeddings' && (options.embeddingsStep === undefined || o.step === options.embeddingsStep),
  );
  const chosen = candidates[candidates.length - 1];
  if (chosen === undefined) {
    notes.push(
      options.embeddingsStep === undefined
        ? 'no embeddings output in this run: no map'
        : `step ${options.embeddingsStep} has no embeddings output in this run: no map`,
    );
    return undefined;
  }
  const sample = new EmbeddingSample(options.limit);
  for (const table of tablesOf(state, chosen.manifest)) {
    const ids = readText(table, 'id');
    const { flat, dim } = readVectors(table, 'vector');
    ids.forEach((id, i) => sample.add(id, flat.slice(i * dim, (i + 1) * dim)));
  }
  const rows = sample.rows();
  const lineage = readLineage(state, outputs, new Set(rows.map((r) => r.id)));
  if (lineage.size === 0) notes.push('no sequences output with lineage columns: the map is not coloured');
  return embeddingMap({
    step: chosen.step,
    rows,
    total: sample.total,
    limit: options.limit,
    level: options.level,
    levels: LEVELS,
    lineage,
  });
}

/**
 * Lineage of the sampled ids: the labelled levels of any sequences output (the source's), else the
 * `predicted_LEVEL` columns (classify/taxonomy), `novel_candidate` where a step flagged it, and the
 * `cluster` of cluster/hdbscan (as the CLUSTER_COLOURING level: `cluster N`, or NOISE_GROUP for -1).
 */
function readLineage(state: StrandState, outputs: readonly Output[], ids: ReadonlySet<string>): Map<string, LineageFacts> {
  const lineage = new Map<string, LineageFacts>();
  for (const output of outputs.filter((o) => o.manifest.type === 'sequences')) {
    for (const table of tablesOf(state, output.manifest)) {
      const names = new Set(table.schema.fields.map((f) => f.name));
      const labelled = LEVELS.filter((l) => names.has(l));
      const predicted = LEVELS.filter((l) => names.has(`predicted_${l}`));
      if (labelled.length === 0 && predicted.length === 0 && !names.has('novel_candidate') && !names.has('cluster')) continue;
      const idColumn = table.getChild('id')!.toArray() as string[];
      const column = (name: string): (string | null)[] => table.getChild(name)!.toArray() as (string | null)[];
      const labels = Object.fromEntries(labelled.map((l) => [l, column(l)]));
      const predictions = Object.fromEntries(predicted.map((l) => [l, column(`predicted_${l}`)]));
      const novel = names.has('novel_candidate') ? (table.getChild('novel_candidate')!.toArray() as (boolean | null)[]) : undefined;
      const cluster = names.has('cluster') ? (table.getChild('cluster')!.toArray() as Int32Array) : undefined;
      idColumn.forEach((id, row) => {
        if (!ids.has(id)) return;
        const facts = lineage.get(id) ?? { levels: {}, novel: false };
        for (const level of LEVELS) {
          const value = labels[level]?.[row] ?? predictions[level]?.[row] ?? null;
          if (value !== null && (facts.levels[level] === undefined || labels[level] !== undefined)) facts.levels[level] = value;
        }
        if (novel?.[row] === true) facts.novel = true;
        if (cluster !== undefined) facts.levels[CLUSTER_COLOURING] = cluster[row] === -1 ? NOISE_GROUP : `cluster ${cluster[row]}`;
        lineage.set(id, facts);
      });
    }
  }
  return lineage;
}
