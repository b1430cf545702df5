// Owns reading training curves out of a `metrics` artifact, whatever step wrote it. The convention
// (docs/reports.md): one row per observation; the x column is `step`, else `epoch` (each point
// keeps its name, the chart's axis); null cells are no observation (a row kind without that metric); text columns
// qualify the series (`head genus`); every other floating-point column is a metric, integer columns
// are counts and are left out. A metric whose series are all equal (a per-epoch loss repeated on each
// level's row) is drawn once.
import type { MetricPoint } from './report-model.js';

export interface MetricsColumn {
  name: string;
  type: 'text' | 'integer' | 'float' | 'other';
  values: readonly (string | number | null)[];
}

const X_COLUMNS = ['step', 'epoch'];

export function metricPoints(columns: readonly MetricsColumn[]): MetricPoint[] {
  const x = X_COLUMNS.map((name) => columns.find((c) => c.name === name)).find((c) => c !== undefined);
  if (x === undefined) return [];
  const qualifiers = columns.filter((c) => c.type === 'text');
  const points: MetricPoint[] = [];
  for (const metric of columns.filter((c) => c.type === 'float' && c !== x)) {
    const series = new Map<string, MetricPoint[]>();
    metric.values.forEach((value, row) => {
      const at = x.values[row];
      if (typeof value !== 'number' || !Number.isFinite(value) || typeof at !== 'number') return;
      const qualifier = qualifiers
        .map((q) => q.values[row] ?? '')
        .filter((v) => v !== '')
        .join(' ');
      const name = qualifier === '' ? metric.name : `${metric.name}/${qualifier}`;
      const list = series.get(name) ?? [];
      list.push({ axis: x.name, x: at, name, value });
      series.set(name, list);
    });
    points.push(...collapseEqual(metric.name, [...series.values()]));
  }
  return points;
}

function collapseEqual(metric: string, series: MetricPoint[][]): MetricPoint[] {
  const [first, ...rest] = series;
  if (first === undefined) return [];
  const same = (a: MetricPoint[]): boolean =>
    a.length === first.length && a.every((p, i) => p.x === first[i]!.x && p.value === first[i]!.value);
  if (rest.length === 0 || !rest.every(same)) return series.flat();
  return first.map((p) => ({ ...p, name: metric }));
}
