// bench/lancedb-where: `strand search --where` latency on 1M synthetic rows (seeded; 64 dimensions; a
// depth_m float and a site string per row), k = 10, through the function the CLI queries with
// (engine/cli/nearest-rows.ts) on tables indexed by export/lancedb's own calls (steps/export/lancedb-indexes.ts):
// p50 and p95 of QUERIES queries with no filter and with `depth_m > 200 AND site = 'NZ-07'` (1.6% of rows pass),
// first with no index (a flat scan), then with BTree indexes on the filtered columns, then with the IVF-PQ
// ANN index as well. Then the built CLI itself (`strand search --id ... --where ...`, a process per query:
// start-up, opening the table, the id lookup and the query) on the indexed table.
// STRAND_WHERE_ROWS=N for another size.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Table } from 'apache-arrow';
import { arrow } from '../engine/index.js';
import { nearestRows } from '../engine/cli/nearest-rows.js';
import { textColumn, vectorColumn } from '../steps/arrow-columns.js';
import { createAnnIndex, createScalarIndexes } from '../steps/export/lancedb-indexes.js';
import { seededRandom } from '../steps/seeded-random.js';
import type { BenchResult, Figure } from './bench-result.js';
import { runStrand, tempProject } from './bench-tools.js';

const ROWS = Number(process.env.STRAND_WHERE_ROWS ?? 1_000_000);
const DIM = 64;
const SITES = 50;
const QUERIES = 50;
const CLI_RUNS = 5;
const BATCH = 100_000;
const WHERE = "depth_m > 200 AND site = 'NZ-07'";

function batchOf(start: number, count: number, random: () => number): Table {
  const vectors = new Float32Array(count * DIM);
  for (let i = 0; i < vectors.length; i++) vectors[i] = random() * 2 - 1;
  return new arrow.Table({
    id: textColumn(Array.from({ length: count }, (_, i) => `s${start + i}`)),
    vector: vectorColumn(vectors, DIM),
    depth_m: arrow.vectorFromArray(Float64Array.from({ length: count }, () => random() * 1000)),
    site: textColumn(Array.from({ length: count }, () => `NZ-${String(Math.floor(random() * SITES)).padStart(2, '0')}`)),
  });
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function latencies(run: (query: Float32Array) => Promise<unknown>, queries: Float32Array[]): Promise<{ p50: number; p95: number }> {
  for (const q of queries.slice(0, 3)) await run(q); // warm the table's caches
  const times: number[] = [];
  for (const q of queries) {
    const start = performance.now();
    await run(q);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 0.5), p95: percentile(times, 0.95) };
}

export async function lancedbWhere(): Promise<BenchResult> {
  process.env.LANCEDB_LOG ??= 'error';
  const lancedb = await import('@lancedb/lancedb');
  const project = tempProject();
  try {
    const uri = join(project.root, 'out/where.lancedb');
    mkdirSync(uri, { recursive: true });
    const db = await lancedb.connect(uri);
    const random = seededRandom(26);
    let table = await db.createTable('sequences', batchOf(0, Math.min(BATCH, ROWS), random));
    for (let start = BATCH; start < ROWS; start += BATCH) await table.add(batchOf(start, Math.min(BATCH, ROWS - start), random));
    const queryRandom = seededRandom(2026);
    const queries = Array.from({ length: QUERIES }, () => Float32Array.from({ length: DIM }, () => queryRandom() * 2 - 1));
    const figures: Figure[] = [];
    const measure = async (label: string, where?: string): Promise<{ p50: number; p95: number }> => {
      const r = await latencies(async (q) => {
        const hits = await nearestRows(table, q, 10, where);
        if (hits.length !== 10) throw new Error(`${label}: ${hits.length} hits, not 10`);
      }, queries);
      figures.push({ label: `${label}, p50`, value: r.p50, unit: 'ms' }, { label: `${label}, p95`, value: r.p95, unit: 'ms' });
      return r;
    };
    const plain = await measure('no filter, no index (flat)');
    const scan = await measure('--where, no scalar index (flat)', WHERE);
    let started = performance.now();
    await createScalarIndexes(table, ['id', 'depth_m', 'site']);
    const scalarSeconds = (performance.now() - started) / 1000;
    const indexed = await measure('--where, BTree on depth_m and site (flat)', WHERE);
    started = performance.now();
    await createAnnIndex(table, ROWS, DIM, undefined);
    const annSeconds = (performance.now() - started) / 1000;
    table.close();
    table = await db.openTable('sequences');
    const ann = await measure('no filter, IVF-PQ');
    const annWhere = await measure('--where, BTree + IVF-PQ', WHERE);
    table.close();
    db.close();
    const cli: number[] = [];
    for (let i = 0; i < CLI_RUNS; i++) {
      const run = runStrand(
        ['search', 'out/where.lancedb', '--id', `s${(i * 7919) % ROWS}`, '--where', WHERE, '--k', '10', '--json'],
        project.root,
      );
      if (run.status !== 0) throw new Error(`strand search failed: ${run.stderr}`);
      cli.push(run.ms);
    }
    cli.sort((a, b) => a - b);
    figures.push(
      { label: '`strand search --id --where`, BTree + IVF-PQ, whole process, p50', value: percentile(cli, 0.5), unit: 'ms' },
      { label: 'BTree indexes on id, depth_m, site: build', value: scalarSeconds, unit: 's' },
      { label: 'IVF-PQ index: build', value: annSeconds, unit: 's' },
    );
    return {
      name: 'lancedb-where',
      figures,
      ratios: [
        { label: '--where flat scan p50 / no filter p50', value: scan.p50 / plain.p50 },
        { label: '--where with BTree p50 / without p50', value: indexed.p50 / scan.p50, better: 'lower' },
        { label: '--where BTree + IVF-PQ p50 / no filter IVF-PQ p50', value: annWhere.p50 / ann.p50 },
      ],
      notes: [
        `${ROWS} rows of ${DIM} dimensions (seeded uniform), k = 10, ${QUERIES} queries per figure after 3 warm-up queries; filter: ${WHERE}.`,
      ],
    };
  } finally {
    project.remove();
  }
}
