// The report's pure core: journal events (inline) to a ReportModel, metrics tables to curves, the
// embedding sample and map, the graph layout, resource samples and the chart specs' point counts.
import { describe, expect, it } from 'vitest';
import type { PlannedStep, RunEvent } from '../../engine/events/run-event.js';
import { buildReportModel, type RunFacts } from '../../engine/report/build-report-model.js';
import { chartOptions } from '../../engine/report/chart-options.js';
import { embeddingMap } from '../../engine/report/embedding-map.js';
import { EmbeddingSample } from '../../engine/report/embedding-sample.js';
import { layerGraph } from '../../engine/report/layer-graph.js';
import { metricPoints } from '../../engine/report/metric-points.js';
import { renderReport } from '../../engine/report/render-report.js';
import { resourceSample, startResourceSampler, type ResourceReading } from '../../engine/run/resource-sampler.js';

const at = (s: number): string => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

const PLAN: PlannedStep[] = [
  { step: 'source', uses: 'source/parquet', upstream: [], device: { label: 'local cpu', kind: 'cpu', chips: 1, pricePerHour: 0 } },
  {
    step: 'embed',
    uses: 'embed/onnx',
    upstream: [{ step: 'source', port: 'tokens' }],
    device: { label: 'v4-8 (spot)', kind: 'tpu', chips: 4, pricePerHour: 3.6 },
    estimate: { secondsPerSequence: 0.01, memoryBytesPerDevice: 1, memoryLimitBytesPerDevice: 2 },
  },
  {
    step: 'table',
    uses: 'export/lancedb',
    upstream: [{ step: 'embed', port: 'embeddings' }, { step: 'source' }],
    device: { label: 'local cpu', kind: 'cpu', chips: 1, pricePerHour: 0 },
  },
];

function facts(events: RunEvent[], earlier: RunFacts['earlier'] = []): RunFacts {
  return { events, earlier, metrics: new Map(), notes: [] };
}

const started = (runId: string): RunEvent[] => [
  { kind: 'run-planned', steps: PLAN, time: at(0) },
  { kind: 'run-started', runId, workflow: 'w', file: 'w.yaml', steps: ['source', 'embed', 'table'], time: at(0) },
];

describe('buildReportModel', () => {
  it('reports a killed run: the started step is killed, later steps did not run', () => {
    const model = buildReportModel(
      facts([
        ...started('r1'),
        { kind: 'step-cached', step: 'source', key: 'k0', time: at(1) },
        { kind: 'step-started', step: 'embed', key: 'k1', reasons: [{ kind: 'no-previous-result' }], time: at(1) },
        { kind: 'shard-done', step: 'embed', unit: 'output:embeddings:0', rows: 10, time: at(3) },
      ]),
    );
    expect(model.run).toMatchObject({ outcome: 'killed', durationMs: 3000 });
    expect(model.steps.map((s) => [s.step, s.outcome])).toEqual([
      ['source', 'cached'],
      ['embed', 'killed'],
      ['table', 'not-run'],
    ]);
    expect(model.steps[1]).toMatchObject({ start: 1, end: 3, durationMs: 2000, rows: 10, reasons: ['no previous result'] });
  });

  it('links a resumed step to the failed attempt it continued from, with the units not recomputed', () => {
    const first = [
      ...started('r1'),
      { kind: 'step-started', step: 'embed', key: 'k1', reasons: [{ kind: 'no-previous-result' }], time: at(1) },
      { kind: 'shard-done', step: 'embed', unit: 'output:embeddings:0', rows: 10, time: at(2) },
      { kind: 'step-failed', step: 'embed', message: 'out of memory', time: at(3) },
      { kind: 'run-finished', status: 'failed', durationMs: 3000, time: at(3) },
    ] satisfies RunEvent[];
    const second = buildReportModel(
      facts(
        [
          ...started('r2'),
          { kind: 'step-started', step: 'embed', key: 'k1', reasons: [{ kind: 'no-previous-result' }], time: at(1) },
          { kind: 'shard-resumed', step: 'embed', unit: 'output:embeddings:0', time: at(1) },
          { kind: 'shard-done', step: 'embed', unit: 'output:embeddings:1', rows: 10, time: at(2) },
          {
            kind: 'step-finished',
            step: 'embed',
            key: 'k1',
            durationMs: 1000,
            summary: { sequences: 20 },
            outputs: [],
            external: [],
            time: at(2),
          },
          { kind: 'run-finished', status: 'ok', durationMs: 2000, time: at(2) },
        ],
        [{ runId: 'r1', events: first }],
      ),
    );
    expect(second.steps[1]).toMatchObject({
      outcome: 'resumed',
      rows: 10,
      resumed: [{ unit: 'output:embeddings:0', t: 1 }],
      done: [{ unit: 'output:embeddings:1', t: 2, rows: 10 }],
    });
    expect(second.history).toEqual([
      { step: 'embed', runId: 'r1', outcome: 'failed', message: 'out of memory', completed: ['output:embeddings:0'] },
    ]);
  });

  it('takes rates from progress counters, peak memory from the samples covering a step, and cost from the plan', () => {
    const model = buildReportModel(
      facts([
        ...started('r1'),
        { kind: 'resource-sample', rssBytes: 100, cpuPercent: 10, time: at(1) },
        { kind: 'step-started', step: 'embed', key: 'k1', reasons: [], time: at(1) },
        { kind: 'step-attempt', step: 'embed', attempt: 1, node: 'n-1', shards: 2, time: at(1) },
        { kind: 'step-preempted', step: 'embed', attempt: 1, node: 'n-1', state: 'PREEMPTED', time: at(2) },
        { kind: 'step-progress', step: 'embed', done: 1, total: 2, unit: 'shards', counters: { sequences: 50, tokens: 500 }, time: at(3) },
        { kind: 'resource-sample', rssBytes: 300, cpuPercent: 90, time: at(3) },
        {
          kind: 'step-progress',
          step: 'embed',
          done: 2,
          total: 2,
          unit: 'shards',
          counters: { sequences: 100, tokens: 1000 },
          time: at(5),
        },
        {
          kind: 'step-finished',
          step: 'embed',
          key: 'k1',
          durationMs: 3_600_000,
          summary: { sequences: 100 },
          outputs: [],
          external: [],
          time: at(5),
        },
        { kind: 'resource-sample', rssBytes: 200, cpuPercent: 50, time: at(6) },
        { kind: 'resource-sample', rssBytes: 900, cpuPercent: 50, time: at(7) },
      ]),
    );
    const embed = model.steps[1]!;
    expect(embed.rates).toEqual({
      sequences: [
        { t: 3, perSecond: 25 },
        { t: 5, perSecond: 25 },
      ],
      tokens: [
        { t: 3, perSecond: 250 },
        { t: 5, perSecond: 250 },
      ],
    });
    expect(embed.peakRssBytes).toBe(300);
    expect(embed.cost).toEqual({ estimatedSeconds: 1, estimatedCost: 0.001, actualCost: 3.6 });
    expect(embed.attempts).toEqual([{ attempt: 1, node: 'n-1', shards: 2, t: 1 }]);
    expect(embed.preemptions).toEqual([{ attempt: 1, node: 'n-1', state: 'PREEMPTED', t: 2 }]);
    expect(model.graph.edges).toEqual([
      { from: 'source', to: 'embed', port: 'tokens' },
      { from: 'embed', to: 'table', port: 'embeddings' },
      { from: 'source', to: 'table' },
    ]);
  });

  it('notes what an old journal lacks instead of failing', () => {
    const model = buildReportModel(facts([{ kind: 'run-started', runId: 'r0', workflow: 'w', file: 'w.yaml', steps: ['a'], time: at(0) }]));
    expect(model.steps).toMatchObject([{ step: 'a', uses: '?', outcome: 'not-run' }]);
    expect(model.notes).toEqual([expect.stringContaining('no run-planned event'), expect.stringContaining('no resource samples')]);
  });
});

describe('metricPoints', () => {
  const pointOn = (axis: string) => (x: number, name: string, value: number) => ({ axis, x, name, value });

  it('reads any metrics table: x from step or epoch, text columns name the series, equal series collapse, integers are left out', () => {
    const points = metricPoints([
      { name: 'epoch', type: 'integer', values: [1, 1, 2, 2] },
      { name: 'level', type: 'text', values: ['genus', 'species', 'genus', 'species'] },
      { name: 'loss', type: 'float', values: [2, 2, 1, 1] },
      { name: 'accuracy', type: 'float', values: [0.5, 0.25, 0.75, null] },
      { name: 'examples', type: 'integer', values: [10, 10, 10, 10] },
    ]);
    const at = pointOn('epoch');
    expect(points).toEqual([
      at(1, 'loss', 2),
      at(2, 'loss', 1),
      at(1, 'accuracy/genus', 0.5),
      at(2, 'accuracy/genus', 0.75),
      at(1, 'accuracy/species', 0.25),
    ]);
  });

  it('reads per-step rows and per-evaluation rows of one table against `step`: a null cell is no observation', () => {
    // finetune/nt-lora's shape: steps 1-3 carry lr (no level), the evaluation at step 3 carries accuracy per level.
    const points = metricPoints([
      { name: 'step', type: 'integer', values: [1, 2, 3, 3, 3] },
      { name: 'epoch', type: 'integer', values: [0, 0, 0, 0, 0] },
      { name: 'level', type: 'text', values: [null, null, null, 'genus', 'species'] },
      { name: 'lr', type: 'float', values: [0.001, 0.002, 0.0015, null, null] },
      { name: 'accuracy', type: 'float', values: [null, null, null, 0.5, 0.25] },
    ]);
    const at = pointOn('step');
    expect(points).toEqual([
      at(1, 'lr', 0.001),
      at(2, 'lr', 0.002),
      at(3, 'lr', 0.0015),
      at(3, 'accuracy/genus', 0.5),
      at(3, 'accuracy/species', 0.25),
    ]);
  });
});

describe('the embedding map', () => {
  const vectors = Array.from({ length: 40 }, (_, i) => ({ id: `s${i}`, vector: Float32Array.from([i, i % 3, (i * 7) % 5]) }));

  it('samples the same ids whatever order the vectors stream in', () => {
    const forward = new EmbeddingSample(10);
    const backward = new EmbeddingSample(10);
    for (const v of vectors) forward.add(v.id, v.vector);
    for (const v of [...vectors].reverse()) backward.add(v.id, v.vector);
    expect(forward.rows().map((r) => r.id)).toEqual(backward.rows().map((r) => r.id));
    expect(forward.rows()).toHaveLength(10);
    expect(forward.total).toBe(40);
  });

  it('projects every sampled vector with its taxon, lineage and novelty', () => {
    const lineage = new Map([['s1', { levels: { genus: 'Candida', species: 'Candida_albicans' }, novel: true }]]);
    const map = embeddingMap({
      step: 'embed',
      rows: vectors,
      total: 40,
      limit: 100,
      level: 'genus',
      levels: ['genus', 'species'],
      lineage,
    });
    expect(map.points).toHaveLength(40);
    expect(map.points[1]).toMatchObject({ id: 's1', taxon: 'Candida', lineage: 'Candida › Candida_albicans', novel: true });
    expect(map.points[0]).toMatchObject({ taxon: null, lineage: '(no lineage)', novel: false });
    expect(map.explainedVariance[0]).toBeGreaterThan(0.9);
    expect(map.explainedVariance[0] + map.explainedVariance[1]).toBeLessThanOrEqual(1);
  });
});

describe('layerGraph', () => {
  it('puts a step one column right of its deepest upstream step', () => {
    expect(
      layerGraph(
        ['a', 'b', 'c', 'd'],
        [
          { from: 'a', to: 'b' },
          { from: 'b', to: 'd' },
          { from: 'a', to: 'd' },
          { from: 'a', to: 'c' },
        ],
      ),
    ).toEqual([
      { id: 'a', column: 0, row: 0 },
      { id: 'b', column: 1, row: 0 },
      { id: 'c', column: 1, row: 1 },
      { id: 'd', column: 2, row: 0 },
    ]);
  });
});

describe('resource samples', () => {
  it('turns two readings into RSS and CPU percent of a core over the time between them', () => {
    expect(resourceSample({ rssBytes: 1, cpuMicros: 0, atMs: 0 }, { rssBytes: 5, cpuMicros: 1_500_000, atMs: 1000 })).toEqual({
      kind: 'resource-sample',
      rssBytes: 5,
      cpuPercent: 150,
      time: new Date(1000).toISOString(),
    });
  });

  it('samples before a step starts or ends, so every step has samples at both ends', () => {
    const readings: ResourceReading[] = [0, 1, 2].map((i) => ({ rssBytes: 10 * (i + 1), cpuMicros: 0, atMs: Date.now() + i }));
    const seen: RunEvent[] = [];
    const sampler = startResourceSampler(
      (e) => seen.push(e),
      3_600_000,
      () => readings.shift()!,
    );
    sampler.emit({ kind: 'step-started', step: 'a', key: 'k', reasons: [], time: at(0) });
    sampler.emit({ kind: 'step-log', step: 'a', message: 'hi', time: at(0) });
    sampler.emit({ kind: 'step-finished', step: 'a', key: 'k', durationMs: 1, summary: {}, outputs: [], external: [], time: at(1) });
    sampler.stop();
    expect(seen.map((e) => (e.kind === 'resource-sample' ? `sample ${e.rssBytes}` : e.kind))).toEqual([
      'sample 20',
      'step-started',
      'step-log',
      'sample 30',
      'step-finished',
    ]);
  });

  it('passes events after stop through unsampled, so a report built at the end has every sample', () => {
    const readings: ResourceReading[] = [0, 1].map((i) => ({ rssBytes: 10 * (i + 1), cpuMicros: 0, atMs: 0 }));
    const seen: RunEvent[] = [];
    // An interval of 0: any event would be past it, and so sampled, while the sampler runs.
    const sampler = startResourceSampler(
      (e) => seen.push(e),
      0,
      () => readings.shift()!,
    );
    sampler.emit({ kind: 'step-log', step: 'a', message: 'hi', time: at(0) });
    sampler.stop();
    sampler.emit({ kind: 'report-written', path: 'r.html', time: at(1) });
    sampler.emit({ kind: 'run-finished', status: 'ok', durationMs: 1, time: at(1) });
    expect(seen.map((e) => e.kind)).toEqual(['resource-sample', 'step-log', 'report-written', 'run-finished']);
  });
});

describe('charts and page', () => {
  const model = buildReportModel(
    facts([
      ...started('r1'),
      { kind: 'step-started', step: 'source', key: 'k0', reasons: [], time: at(0) },
      { kind: 'shard-done', step: 'source', unit: 'output:sequences:0', rows: 5, time: at(1) },
      { kind: 'step-progress', step: 'source', done: 5, unit: 'sequences', time: at(1) },
      { kind: 'step-finished', step: 'source', key: 'k0', durationMs: 1000, summary: {}, outputs: [], external: [], time: at(1) },
      { kind: 'resource-sample', rssBytes: 1, cpuPercent: 1, time: at(1) },
      { kind: 'step-failed', step: 'embed', message: 'bad </script> input', time: at(2) },
      { kind: 'step-blocked', step: 'table', by: 'embed', time: at(2) },
      { kind: 'run-finished', status: 'failed', durationMs: 2000, time: at(2) },
    ]),
  );

  it('declares as many points per chart as the model holds', () => {
    expect(Object.fromEntries(chartOptions(model).map((c) => [c.id, c.points]))).toEqual({
      timeline: 2,
      'rate-sequences': 1,
      resources: 2,
      graph: 3,
    });
  });

  it('renders one page that fetches nothing, with text escaped', () => {
    const html = renderReport(model, { name: 'Lib', version: '1', source: 'window.echarts = {};' });
    expect(html).toContain(`content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"`);
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/);
    expect(html).toContain('bad &#60;/script&#62; input');
    expect(html).toContain('data-failure="embed"');
  });
});
