// Owns producing a run's report file: read the run from the state directory, build the model,
// render it with Apache ECharts read from node_modules (so the file needs nothing at view time), and
// write it atomically. Shared by `strand report` and `strand run --report`.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import type { StrandState } from '../store/strand-state.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import { ok, type Result } from '../util/result.js';
import { buildReportModel } from './build-report-model.js';
import { readRun, type ReadRunOptions } from './read-run.js';
import type { ReportModel } from './report-model.js';
import { renderReport, type ChartLibrary } from './render-report.js';

/** Vectors the embedding map shows at most, by default (docs/reports.md). */
export const MAP_LIMIT = 5000;
export const DEFAULT_LEVEL = 'family';

export function loadChartLibrary(): ChartLibrary {
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve('echarts/package.json'));
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  return { name: 'Apache ECharts', version, source: readFileSync(join(root, 'dist', 'echarts.min.js'), 'utf8') };
}

/** Where a run's report goes unless told: out/reports/RUN.html under the working directory. */
export function defaultReportPath(runId: string): string {
  return join('out', 'reports', `${runId}.html`);
}

export async function writeReport(
  state: StrandState,
  options: ReadRunOptions & { path?: string },
): Promise<Result<{ path: string; model: ReportModel; bytes: number }, string>> {
  const facts = await readRun(state, options);
  if (!facts.ok) return facts;
  const model = buildReportModel(facts.value);
  const html = renderReport(model, loadChartLibrary());
  const path = options.path ?? defaultReportPath(model.run.runId);
  writeFileAtomic(resolve(state.workdir, path), html);
  return ok({ path, model, bytes: Buffer.byteLength(html) });
}
