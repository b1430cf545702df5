// `strand run --report` and `strand report` as a user runs them, checked in headless Chromium: the
// page opens with no console error and no request, each chart carries the points the run produced
// (counted here from the journal and outputs, read from the page through ECharts), the map has one
// point per sampled vector, and a failed-then-resumed run shows the failure and what was not redone.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../engine/events/run-event.js';
import { journalPath, listRuns, readJournal } from '../../engine/run/journal.js';
import { gatedPluginSource, gatedWorkflow } from '../helpers/gated-plugin.js';
import { copyFromRepo, removeProjects, runCli, writeProject } from '../helpers/project.js';
import { openReport } from '../helpers/report-browser.js';

afterAll(removeProjects);

function journals(root: string): { runId: string; events: RunEvent[] }[] {
  const runs = join(root, '.strand', 'runs');
  return listRuns(runs).map((runId) => ({ runId, events: readJournal(journalPath(runs, runId)) }));
}

const count = (events: RunEvent[], ...kinds: RunEvent['kind'][]): number => events.filter((e) => kinds.includes(e.kind)).length;

/** Points the timeline, rate, resource and graph charts should carry, counted from the journal alone. */
function journalPoints(events: RunEvent[]): Record<string, number> {
  const steps = events.find((e) => e.kind === 'run-started')!;
  const expected: Record<string, number> = {
    timeline: count(events, 'step-started', 'step-cached') + count(events, 'shard-done', 'shard-resumed', 'step-attempt', 'step-preempted'),
    resources: 2 * count(events, 'resource-sample'),
    graph: steps.steps.length,
  };
  for (const e of events) {
    if (e.kind !== 'step-progress') continue;
    for (const counter of [e.unit, ...Object.keys(e.counters ?? {})].filter((c) => c !== 'shards'))
      expected[`rate-${counter}`] = (expected[`rate-${counter}`] ?? 0) + 1;
  }
  return expected;
}

function reportPath(stdout: string): string {
  const match = /^report: (\S+)/m.exec(stdout);
  if (match === null) throw new Error(`no report line in:\n${stdout}`);
  return match[1]!;
}

describe('run reports in a browser', () => {
  it("quickstart: run --report prints the path; the page loads nothing, logs no error, and every chart has the run's points", async () => {
    const root = writeProject({});
    copyFromRepo(root, 'workflows/quickstart.yaml', 'workflows/data/sample.parquet', 'models/tiny-nt.onnx');
    const run = runCli(['run', 'workflows/quickstart.yaml', '--report'], root);
    expect(run.status).toBe(0);
    const [{ runId, events }] = journals(root) as [{ runId: string; events: RunEvent[] }];
    expect(reportPath(run.stdout)).toBe(`out/reports/${runId}.html`);
    expect(events.at(-1)).toMatchObject({ kind: 'report-written', path: `out/reports/${runId}.html` });

    const report = await openReport(join(root, reportPath(run.stdout)));
    try {
      await report.screenshot('quickstart');
      expect(report.errors).toEqual([]);
      expect(report.requests).toEqual([]);
      const points = await report.chartPoints();
      expect(points).toEqual(await report.declaredPoints());
      expect(points).toEqual({ ...journalPoints(events), map: 1000 });
      expect(points.resources).toBeGreaterThan(0);
      expect(await report.page.locator('#steps tbody tr[data-outcome="ran"]').count()).toBe(4);
    } finally {
      await report.close();
    }
  });

  it('taxonomy: training curves have one point per metrics row, and the map marks novel candidates', async () => {
    const root = writeProject({});
    copyFromRepo(root, 'workflows/taxonomy.yaml', 'workflows/data/sample.fasta.gz');
    expect(runCli(['run', 'workflows/taxonomy.yaml'], root).status).toBe(0);
    const made = runCli(['report', '-o', 'taxonomy.html', '--color-by', 'order', '--sample', '200'], root);
    expect(made.stdout).toMatch(/^report: taxonomy.html \(\d+ KB\)\n$/);
    const [{ events }] = journals(root) as [{ runId: string; events: RunEvent[] }];
    const metrics = (
      JSON.parse(readFileSync(join(root, 'out/taxonomy-metrics.json'), 'utf8')) as {
        metrics: { epoch: number; model: string; loss: number | null; lr: number | null; accuracy: number; macro_f1: number }[];
      }
    ).metrics;

    const report = await openReport(join(root, 'taxonomy.html'));
    try {
      await report.screenshot('taxonomy');
      expect(report.errors).toEqual([]);
      expect(report.requests).toEqual([]);
      const points = await report.chartPoints();
      expect(points).toEqual(await report.declaredPoints());
      expect(points).toEqual({
        ...journalPoints(events),
        // The loss is per epoch, repeated on each level's row: drawn once per epoch.
        'metric-head-loss': new Set(metrics.filter((m) => m.loss !== null).map((m) => m.epoch)).size,
        'metric-head-accuracy': metrics.length,
        'metric-head-macro_f1': metrics.length,
        // The learning rate, like the loss, is one value per epoch: one curve, one point per epoch.
        'metric-head-lr': new Set(metrics.filter((m) => m.lr !== null).map((m) => m.epoch)).size,
        map: 200,
      });
      const drawnLr = await report.page.evaluate<[number, number][]>(
        `echarts.getInstanceByDom(document.getElementById('chart-metric-head-lr')).getOption().series.flatMap((s) => s.data)`,
      );
      const perEpoch = [...new Map(metrics.filter((m) => m.lr !== null).map((m) => [m.epoch, m.lr!])).entries()];
      expect(drawnLr.map(([epoch]) => epoch)).toEqual(perEpoch.map(([epoch]) => epoch));
      drawnLr.forEach(([, lr], i) => expect(lr).toBeCloseTo(perEpoch[i]![1], 5));
      // Warmup then cosine decay: the peak is inside the run and the last epoch's rate is below it.
      const rates = perEpoch.map(([, lr]) => lr);
      expect(Math.max(...rates)).toBeGreaterThan(rates.at(-1)!);
      const novel = events.find((e) => e.kind === 'step-finished' && e.step === 'classify');
      expect(novel).toMatchObject({ summary: { novel_candidates: expect.any(Number) } });
      const triangles = await report.page.evaluate<number>(
        `echarts.getInstanceByDom(document.getElementById('chart-map')).getOption().series.flatMap((s) => s.data).filter((d) => d.symbol === 'triangle').length`,
      );
      expect(triangles).toBeGreaterThan(0);
      expect(triangles).toBeLessThanOrEqual(200);
      expect(await report.page.textContent('body')).toContain('a sample of 200 of 300 vectors');
      // Hover: ECharts' own showTip on the first point, then the tooltip must show its id and lineage.
      const tip = await report.page.evaluate<string>(`(() => {
        const chart = echarts.getInstanceByDom(document.getElementById('chart-map'));
        chart.dispatchAction({ type: 'showTip', seriesIndex: 0, dataIndex: 0 });
        return chart.getOption().series[0].data[0].tip;
      })()`);
      const text = tip
        .replace(/<br>/g, '\n')
        .replace(/<\/?b>/g, '')
        .replace(/&#8250;/g, '›');
      await report.page.waitForFunction(
        (expected) =>
          (globalThis as unknown as { document: { getElementById(id: string): { innerText: string } } }).document
            .getElementById('chart-map')
            .innerText.trim() === expected,
        text,
      );
      expect(text).toMatch(/^\S+\nFungi › \S+ › /);
    } finally {
      await report.close();
    }
  });

  it("shows a failed run's failure, and in the resumed run the failure it continued from and the shards it did not recompute", async () => {
    const root = writeProject({ 'flow.yaml': gatedWorkflow(-1, { failAfter: 4 }), 'plugins/gated-sum.mjs': gatedPluginSource() });
    copyFromRepo(root, 'workflows/data/sample.parquet');
    expect(runCli(['run', 'flow.yaml', '--report'], root).status).toBe(1);
    writeFileSync(join(root, 'release.flag'), '');
    const resumed = runCli(['run', 'flow.yaml', '--report'], root);
    expect(resumed.status).toBe(0);
    const [failed, second] = journals(root) as [{ runId: string; events: RunEvent[] }, { runId: string; events: RunEvent[] }];
    const units = (events: RunEvent[], kind: 'shard-done' | 'shard-resumed') =>
      events.filter((e) => e.kind === kind && e.step === 'sums').map((e) => (e as { unit: string }).unit);
    expect(units(second.events, 'shard-resumed')).toEqual([0, 1, 2, 3, 4].map((i) => `output:embeddings:${i}`));

    const first = await openReport(join(root, `out/reports/${failed.runId}.html`));
    try {
      await first.screenshot('failed-run');
      expect(first.errors).toEqual([]);
      expect(await first.page.getAttribute('body', 'data-outcome')).toBe('failed');
      expect(await first.page.textContent('[data-failure="sums"]')).toContain('gate closed after shard 4');
      expect(await first.page.getAttribute('#steps tr[data-step="sums"]', 'data-outcome')).toBe('failed');
      expect(await first.page.getAttribute('#steps tr[data-step="table"]', 'data-outcome')).toBe('blocked');
    } finally {
      await first.close();
    }

    const report = await openReport(join(root, reportPath(resumed.stdout)));
    try {
      await report.screenshot('resumed-run');
      expect(report.errors).toEqual([]);
      expect(report.requests).toEqual([]);
      expect(await report.chartPoints()).toEqual({ ...journalPoints(second.events), map: 1000 });
      const banner = (await report.page.textContent('[data-resumed="sums"]'))!;
      expect(banner).toContain(`run ${failed.runId} failed: gate closed after shard 4 (5 units completed there)`);
      expect(banner).toContain(`Not recomputed (5): ${units(second.events, 'shard-resumed').join(', ')}`);
      expect(banner).toContain(`Computed in this run (5): ${units(second.events, 'shard-done').join(', ')}`);
      expect(await report.page.getAttribute('#steps tr[data-step="sums"]', 'data-outcome')).toBe('resumed');
      const resumedMarks = await report.page.evaluate<number>(
        `echarts.getInstanceByDom(document.getElementById('chart-timeline')).getOption().series.find((s) => s.id === 'shard-resumed').data.length`,
      );
      expect(resumedMarks).toBe(5);
    } finally {
      await report.close();
    }
  });
});
