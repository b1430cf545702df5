// Owns the report's charts as Apache ECharts options (plain JSON, so they are built and tested here
// and only handed to the library in the page): the timeline, rates per counter, memory and CPU,
// training curves, the embedding map and the workflow graph. Each spec says how many data points it
// carries, so the page (and its tests) can check the chart drew what the run produced.
import { escapeHtml } from './escape-html.js';
import { layerGraph } from './layer-graph.js';
import { CLUSTER_COLOURING, NOISE_GROUP, type MetricPoint, type ReportModel, type StepOutcome, type StepReport } from './report-model.js';

export type ChartOption = Record<string, unknown>;

export interface ChartSpec {
  id: string;
  title: string;
  /** Data points in the option's series, helper series (ids starting with `_`) excluded. */
  points: number;
  height: number;
  option: ChartOption;
}

export const OUTCOME_COLOURS: Record<StepOutcome, string> = {
  cached: '#8fbc8f',
  ran: '#4477aa',
  resumed: '#aa3377',
  failed: '#cc3311',
  interrupted: '#ee7733',
  killed: '#882255',
  blocked: '#bbbbbb',
  'not-run': '#dddddd',
};

/** Taxa with their own colour on the map; the rest are drawn as `other`. */
export const MAP_TAXA = 12;
const PALETTE = [
  '#4477aa',
  '#ee6677',
  '#228833',
  '#ccbb44',
  '#66ccee',
  '#aa3377',
  '#ee7733',
  '#0077bb',
  '#33bbee',
  '#009988',
  '#cc3311',
  '#ee3377',
];

const round = (v: number, digits = 3): number => Number(v.toFixed(digits));
const base = { animation: false, grid: { left: 70, right: 30, top: 40, bottom: 50, containLabel: true } };
/** Hover text from each data item's prepared `tip`, kept inside the chart and wrapped. */
const tipTooltip = { trigger: 'item', formatter: 'tip', confine: true, extraCssText: 'max-width: 460px; white-space: normal;' };

function timeline(model: ReportModel): ChartSpec {
  const steps = model.steps;
  const categories = steps.map((s) => s.step);
  const spans = steps.filter((s) => s.start !== undefined && s.end !== undefined);
  const outcomes = [...new Set(spans.map((s) => s.outcome))];
  const marks = (pick: (s: StepReport) => { t: number; tip: string }[]) =>
    steps.flatMap((s) => pick(s).map((m) => ({ value: [round(m.t), s.step], tip: m.tip })));
  const done = marks((s) =>
    s.done.map((d) => ({
      t: d.t,
      tip: `${escapeHtml(s.step)}: ${escapeHtml(d.unit)} computed at ${d.t.toFixed(2)} s${d.rows !== undefined ? `, ${d.rows} rows` : ''}`,
    })),
  );
  const resumed = marks((s) =>
    s.resumed.map((d) => ({ t: d.t, tip: `${escapeHtml(s.step)}: ${escapeHtml(d.unit)} resumed (not recomputed)` })),
  );
  const attempts = marks((s) =>
    s.attempts.map((a) => ({ t: a.t, tip: `${escapeHtml(s.step)}: attempt ${a.attempt} on ${escapeHtml(a.node)} (${a.shards} shards)` })),
  );
  const preempted = marks((s) =>
    s.preemptions.map((p) => ({
      t: p.t,
      tip: `${escapeHtml(s.step)}: ${escapeHtml(p.node)} ${escapeHtml(p.state)} (attempt ${p.attempt})`,
    })),
  );
  const bar = (s: StepReport) => ({
    value: round(s.end! - s.start!),
    tip: `${escapeHtml(s.step)}: ${s.outcome}, ${s.start!.toFixed(2)}–${s.end!.toFixed(2)} s on ${escapeHtml(s.device.label)}`,
  });
  const series = [
    {
      id: '_offset',
      type: 'bar',
      stack: 'span',
      silent: true,
      itemStyle: { color: 'transparent' },
      data: steps.map((s) => (s.start === undefined ? '-' : round(s.start))),
    },
    ...outcomes.map((o) => ({
      id: `span-${o}`,
      name: o,
      type: 'bar',
      stack: 'span',
      barMinHeight: 4,
      barWidth: '55%',
      itemStyle: { color: OUTCOME_COLOURS[o] },
      data: steps.map((s) => (s.outcome === o && s.start !== undefined && s.end !== undefined ? bar(s) : '-')),
    })),
    {
      id: 'shard-done',
      name: 'shard computed',
      type: 'scatter',
      symbol: 'circle',
      symbolSize: 7,
      itemStyle: { color: '#222' },
      data: done,
    },
    {
      id: 'shard-resumed',
      name: 'shard resumed',
      type: 'scatter',
      symbol: 'diamond',
      symbolSize: 10,
      itemStyle: { color: OUTCOME_COLOURS.resumed },
      data: resumed,
    },
    { id: 'attempt', name: 'attempt', type: 'scatter', symbol: 'pin', symbolSize: 16, itemStyle: { color: '#0077bb' }, data: attempts },
    {
      id: 'preempted',
      name: 'preempted',
      type: 'scatter',
      symbol: 'triangle',
      symbolSize: 12,
      itemStyle: { color: OUTCOME_COLOURS.failed },
      data: preempted,
    },
  ];
  return {
    id: 'timeline',
    title: 'Timeline: steps and shards',
    points: spans.length + done.length + resumed.length + attempts.length + preempted.length,
    height: Math.max(220, 60 + 36 * steps.length),
    option: {
      ...base,
      tooltip: tipTooltip,
      legend: {
        top: 0,
        data: [
          ...outcomes,
          'shard computed',
          'shard resumed',
          ...(attempts.length ? ['attempt'] : []),
          ...(preempted.length ? ['preempted'] : []),
        ],
      },
      xAxis: { type: 'value', name: 'seconds since the run started', nameLocation: 'middle', nameGap: 28, min: 0 },
      yAxis: { type: 'category', data: categories, inverse: true },
      series,
    },
  };
}

function rates(model: ReportModel): ChartSpec[] {
  const counters = [...new Set(model.steps.flatMap((s) => Object.keys(s.rates)))];
  return counters.map((counter) => {
    const series = model.steps
      .filter((s) => (s.rates[counter]?.length ?? 0) > 0)
      .map((s) => ({
        id: s.step,
        name: s.step,
        type: 'line',
        showSymbol: true,
        symbolSize: 5,
        data: s.rates[counter]!.map((p) => [round(p.t), round(p.perSecond, 1)]),
      }));
    return {
      id: `rate-${counter}`,
      title: `${counter}/s over time (since each step started)`,
      points: series.reduce((n, s) => n + s.data.length, 0),
      height: 280,
      option: {
        ...base,
        tooltip: { trigger: 'axis' },
        legend: { top: 0 },
        xAxis: { type: 'value', name: 'seconds', nameLocation: 'middle', nameGap: 28 },
        yAxis: { type: 'value', name: `${counter}/s` },
        series,
      },
    };
  });
}

function resources(model: ReportModel): ChartSpec[] {
  if (model.resources.length === 0) return [];
  const mib = model.resources.map((r) => [round(r.t), round(r.rssBytes / 2 ** 20, 1)]);
  const cpu = model.resources.map((r) => [round(r.t), r.cpuPercent]);
  const steps = model.steps.filter((s) => s.start !== undefined && s.end !== undefined && s.outcome !== 'cached');
  return [
    {
      id: 'resources',
      title: 'Memory (RSS) and CPU of the engine process',
      points: mib.length + cpu.length,
      height: 300,
      option: {
        ...base,
        tooltip: { trigger: 'axis' },
        legend: { top: 0 },
        xAxis: { type: 'value', name: 'seconds', nameLocation: 'middle', nameGap: 28, min: 0 },
        yAxis: [
          { type: 'value', name: 'RSS MiB' },
          { type: 'value', name: 'CPU % of a core', splitLine: { show: false } },
        ],
        series: [
          {
            id: 'rss',
            name: 'RSS MiB',
            type: 'line',
            showSymbol: false,
            data: mib,
            markArea: {
              silent: true,
              itemStyle: { color: 'rgba(68,119,170,0.06)' },
              label: { fontSize: 10 },
              data: steps.map((s) => [{ name: s.step, xAxis: round(s.start!) }, { xAxis: round(s.end!) }]),
            },
          },
          { id: 'cpu', name: 'CPU %', type: 'line', yAxisIndex: 1, showSymbol: false, data: cpu },
        ],
      },
    },
  ];
}

// Values to 6 significant digits, not decimals: a learning rate of 2e-5 must not round to 0.00002 or 0.
function training(model: ReportModel): ChartSpec[] {
  return model.steps.flatMap((s) => {
    const byMetric = new Map<string, MetricPoint[]>();
    for (const p of s.metrics) {
      const metric = p.name.split('/')[0]!;
      byMetric.set(metric, [...(byMetric.get(metric) ?? []), p]);
    }
    return [...byMetric].map(([metric, points]) => {
      const names = [...new Set(points.map((p) => p.name))];
      const series = names.map((name) => ({
        id: name,
        name: name.slice(metric.length + 1) || metric,
        type: 'line',
        showSymbol: true,
        symbolSize: 5,
        data: points.filter((p) => p.name === name).map((p) => [p.x, Number(p.value.toPrecision(6))]),
      }));
      const axis = [...new Set(points.map((p) => p.axis))].join(' / ');
      return {
        id: `metric-${s.step}-${metric}`,
        title: `${s.step}: ${metric}`,
        points: points.length,
        height: 300,
        option: {
          ...base,
          tooltip: { trigger: 'axis' },
          legend: { top: 0, type: 'scroll' },
          xAxis: { type: 'value', name: axis, nameLocation: 'middle', nameGap: 28, minInterval: 1 },
          yAxis: { type: 'value', name: metric, scale: true },
          series,
        },
      };
    });
  });
}

function map(model: ReportModel): ChartSpec[] {
  const m = model.map;
  if (m === undefined) return [];
  const counts = new Map<string, number>();
  for (const p of m.points) if (p.taxon !== null) counts.set(p.taxon, (counts.get(p.taxon) ?? 0) + 1);
  const top = [...counts]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, MAP_TAXA)
    .map(([t]) => t);
  const group = (taxon: string | null): string => (taxon === null ? 'unlabelled' : top.includes(taxon) ? taxon : 'other');
  const groups = [...top, 'other', 'unlabelled'].filter((g) => m.points.some((p) => group(p.taxon) === g));
  const colour = (g: string): string =>
    g === 'other' ? '#999999' : g === 'unlabelled' || g === NOISE_GROUP ? '#cccccc' : PALETTE[top.indexOf(g) % PALETTE.length]!;
  const byCluster = m.level === CLUSTER_COLOURING;
  const series = groups.map((g) => ({
    id: `taxon-${g}`,
    name: g,
    type: 'scatter',
    symbolSize: 7,
    // Noise (cluster -1) is marked as hollow grey circles, behind the clusters.
    ...(byCluster && g === NOISE_GROUP ? { symbol: 'emptyCircle', z: 1 } : {}),
    itemStyle: { color: colour(g), opacity: 0.8 },
    data: m.points
      .filter((p) => group(p.taxon) === g)
      .map((p) => ({
        value: [p.x, p.y],
        tip: `<b>${escapeHtml(p.id)}</b><br>${escapeHtml(p.lineage)}${p.novel ? '<br><b>novel candidate</b>' : ''}`,
        ...(p.novel ? { symbol: 'triangle', symbolSize: 10, itemStyle: { borderColor: '#333', borderWidth: 0.6 } } : {}),
      })),
  }));
  const pct = (v: number): string => `${(100 * v).toFixed(1)}%`;
  return [
    {
      id: 'map',
      title: `Embeddings of ${m.step}: PCA, coloured by ${m.level} (${byCluster ? '○ noise, ' : ''}▲ novel candidate)`,
      points: m.points.length,
      height: 560,
      option: {
        ...base,
        grid: { left: 60, right: 200, top: 30, bottom: 50 },
        tooltip: tipTooltip,
        legend: { type: 'scroll', orient: 'vertical', right: 0, top: 20, bottom: 20 },
        xAxis: {
          type: 'value',
          name: `PC1 (${pct(m.explainedVariance[0])} of variance)`,
          nameLocation: 'middle',
          nameGap: 28,
          scale: true,
        },
        yAxis: { type: 'value', name: `PC2 (${pct(m.explainedVariance[1])})`, nameLocation: 'middle', nameGap: 45, scale: true },
        series,
      },
    },
  ];
}

function graph(model: ReportModel): ChartSpec {
  const { nodes, edges } = model.graph;
  const placed = layerGraph(
    nodes.map((n) => n.id),
    edges,
  );
  const rows = Math.max(1, ...placed.map((p) => p.row + 1));
  const columns = Math.max(1, ...placed.map((p) => p.column + 1));
  // On a hidden cartesian grid with fixed ranges: a view coordinate system (layout 'none') cannot
  // invert its transform when every node sits on one line, as in a chain of steps.
  const hidden = { show: false };
  return {
    id: 'graph',
    title: 'Workflow graph (colour: what this run did)',
    points: nodes.length,
    height: Math.max(200, 90 * rows + 60),
    option: {
      animation: false,
      tooltip: tipTooltip,
      grid: { left: 20, right: 20, top: 20, bottom: 20 },
      xAxis: { type: 'value', min: -0.5, max: columns - 0.5, axisLine: hidden, axisTick: hidden, axisLabel: hidden, splitLine: hidden },
      yAxis: {
        type: 'value',
        min: -0.5,
        max: rows - 0.5,
        inverse: true,
        axisLine: hidden,
        axisTick: hidden,
        axisLabel: hidden,
        splitLine: hidden,
      },
      series: [
        {
          id: 'steps',
          type: 'graph',
          coordinateSystem: 'cartesian2d',
          symbol: 'roundRect',
          symbolSize: [150, 40],
          edgeSymbol: ['none', 'arrow'],
          edgeSymbolSize: 9,
          label: { show: true, formatter: '{b}', fontSize: 12, color: '#fff' },
          edgeLabel: { show: true, formatter: '{c}', fontSize: 10, color: '#555' },
          lineStyle: { color: '#888', width: 1.5, curveness: 0.15 },
          data: nodes.map((n) => {
            const at = placed.find((p) => p.id === n.id)!;
            return {
              name: n.id,
              value: [at.column, at.row],
              itemStyle: { color: OUTCOME_COLOURS[n.outcome] },
              tip: `<b>${escapeHtml(n.id)}</b><br>${escapeHtml(n.uses)}<br>${n.outcome}`,
            };
          }),
          links: edges.map((e) => ({
            source: e.from,
            target: e.to,
            value: e.port ?? '',
            tip: `${escapeHtml(e.from)} → ${escapeHtml(e.to)}${e.port ? ` (${escapeHtml(e.port)})` : ''}`,
          })),
        },
      ],
    },
  };
}

export function chartOptions(model: ReportModel): ChartSpec[] {
  return [timeline(model), ...rates(model), ...resources(model), ...training(model), ...map(model), graph(model)];
}
