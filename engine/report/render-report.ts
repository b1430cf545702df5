// Owns the report as one self-contained HTML page: the summary, resume history, per-step table and a
// container per chart, the charts' specs as JSON, and the charting library and page script inlined. A
// Content-Security-Policy forbids every fetch, so the page works offline and cannot leak. Pure: the
// library's source arrives as text.
import { chartOptions, OUTCOME_COLOURS, type ChartSpec } from './chart-options.js';
import { escapeHtml } from './escape-html.js';
import { PAGE_SCRIPT } from './page-script.js';
import type { ReportModel, RunOutcome, StepOutcome, StepReport } from './report-model.js';

export interface ChartLibrary {
  name: string;
  version: string;
  /** The library's browser build, defining a global. */
  source: string;
}

const CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:";

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 0 auto; max-width: 1200px; padding: 16px 24px 48px; color: #222; }
h1 { font-size: 22px; margin: 8px 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.meta { color: #555; } .meta span { margin-right: 18px; }
.outcome { display: inline-block; padding: 1px 8px; border-radius: 9px; color: #fff; font-weight: 600; font-size: 12px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; } th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #eee; vertical-align: top; }
th { background: #f6f6f6; font-weight: 600; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.chart { width: 100%; margin: 4px 0 18px; } .chart-title { font-weight: 600; margin-top: 12px; }
.banner { border-left: 4px solid; padding: 8px 12px; margin: 10px 0; background: #fafafa; }
.failure { border-color: ${OUTCOME_COLOURS.failed}; } .resume { border-color: ${OUTCOME_COLOURS.resumed}; }
code, .units { font: 12px ui-monospace, Menlo, monospace; } .units { color: #444; word-break: break-all; }
.note { color: #666; font-style: italic; } .reasons { color: #444; font-size: 12px; }
`;

function badge(text: string, colour: string): string {
  return `<span class="outcome" style="background:${colour}">${text}</span>`;
}

function outcomeBadge(outcome: StepOutcome): string {
  return badge(outcome, OUTCOME_COLOURS[outcome]);
}

const RUN_COLOURS: Record<RunOutcome, string> = {
  ok: '#228833',
  failed: OUTCOME_COLOURS.failed,
  interrupted: OUTCOME_COLOURS.interrupted,
  killed: OUTCOME_COLOURS.killed,
};

function seconds(ms: number | undefined): string {
  return ms === undefined ? '—' : ms < 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${(ms / 1000).toFixed(1)} s`;
}

function money(value: number | undefined): string {
  return value === undefined ? '—' : value === 0 ? '$0' : value < 0.01 ? `$${value.toFixed(4)}` : `$${value.toFixed(2)}`;
}

function lastRate(step: StepReport, counter: string): string {
  const points = step.rates[counter];
  const last = points?.[points.length - 1];
  return last === undefined ? '—' : last.perSecond >= 100 ? last.perSecond.toFixed(0) : last.perSecond.toFixed(1);
}

function mib(bytes: number | undefined): string {
  return bytes === undefined ? '—' : `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

function stepRow(s: StepReport): string {
  const why = s.failure
    ? `<b>failed:</b> ${escapeHtml(s.failure.message)}${s.failure.hint ? `<br>hint: ${escapeHtml(s.failure.hint)}` : ''}`
    : s.blockedBy !== undefined
      ? `blocked: ${escapeHtml(s.blockedBy)} did not finish`
      : s.outcome === 'cached'
        ? 'cached: nothing changed'
        : s.reasons.map(escapeHtml).join('<br>');
  const shards =
    s.resumed.length > 0 ? `${s.done.length} computed, ${s.resumed.length} resumed` : s.done.length > 0 ? `${s.done.length} computed` : '—';
  const attempts =
    s.attempts.length > 0 ? `<br>${s.attempts.length} attempt${s.attempts.length === 1 ? '' : 's'}, ${s.preemptions.length} preempted` : '';
  return `<tr data-step="${escapeHtml(s.step)}" data-outcome="${s.outcome}">
<td><b>${escapeHtml(s.step)}</b><br><code>${escapeHtml(s.uses)}</code></td><td>${outcomeBadge(s.outcome)}</td><td>${escapeHtml(s.device.label)}${attempts}</td>
<td class="num">${seconds(s.durationMs)}</td><td class="num">${s.rows || '—'}</td><td class="num">${shards}</td>
<td class="num">${lastRate(s, 'sequences')}</td><td class="num">${lastRate(s, 'tokens')}</td><td class="num">${mib(s.peakRssBytes)}</td>
<td class="num">${s.cost.estimatedSeconds !== undefined ? `${s.cost.estimatedSeconds.toFixed(0)} s, ${money(s.cost.estimatedCost)}` : '—'}</td><td class="num">${money(s.cost.actualCost)}</td>
<td class="reasons">${why}</td></tr>`;
}

function history(model: ReportModel): string {
  const failures = model.steps
    .filter((s) => s.failure)
    .map(
      (s) =>
        `<div class="banner failure" data-failure="${escapeHtml(s.step)}"><b>${escapeHtml(s.step)} failed</b>: ${escapeHtml(s.failure!.message)}${s.failure!.hint ? `<br>hint: ${escapeHtml(s.failure!.hint)}` : ''}</div>`,
    );
  const resumes = model.steps
    .filter((s) => s.resumed.length > 0)
    .map((s) => {
      const prior = model.history.filter((h) => h.step === s.step);
      const from = prior
        .map(
          (p) =>
            `run <code>${escapeHtml(p.runId)}</code> ${p.outcome}${p.message ? `: ${escapeHtml(p.message)}` : ''} (${p.completed.length} unit${p.completed.length === 1 ? '' : 's'} completed there)`,
        )
        .join('; ');
      return `<div class="banner resume" data-resumed="${escapeHtml(s.step)}"><b>${escapeHtml(s.step)} resumed</b>${from ? ` from ${from}` : ''}.<br>Not recomputed (${s.resumed.length}): <span class="units">${s.resumed.map((u) => escapeHtml(u.unit)).join(', ')}</span><br>Computed in this run (${s.done.length}): <span class="units">${s.done.map((u) => escapeHtml(u.unit)).join(', ') || 'none'}</span></div>`;
    });
  return [...failures, ...resumes].join('\n');
}

function chartBlock(spec: ChartSpec): string {
  return `<div class="chart-title">${escapeHtml(spec.title)}</div><div class="chart" id="chart-${escapeHtml(spec.id)}" data-chart="${escapeHtml(spec.id)}" data-points="${spec.points}" style="height:${spec.height}px"></div>`;
}

/** JSON inside a <script> element: `<` escaped so no string in it can close the element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

export function renderReport(model: ReportModel, library: ChartLibrary): string {
  const charts = chartOptions(model);
  const section = (title: string, prefix: string, intro = ''): string => {
    const specs = charts.filter((c) => c.id === prefix || c.id.startsWith(`${prefix}-`));
    return specs.length === 0 ? '' : `<h2>${title}</h2>${intro}${specs.map(chartBlock).join('\n')}`;
  };
  const run = model.run;
  const mapIntro = model.map
    ? `<p class="meta">${model.map.sampled === model.map.total ? `all ${model.map.total} vectors` : `a sample of ${model.map.sampled} of ${model.map.total} vectors (the ${model.map.limit} ids with the smallest SHA-256)`}, ${model.map.dim} dimensions${model.map.sketchedTo !== undefined ? ` (sketched to ${model.map.sketchedTo} by a seeded random projection)` : ''}, projected on the first two principal components.</p>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(run.workflow)} · run ${escapeHtml(run.runId)} · Strand report</title>
<style>${STYLE}</style></head>
<body data-run="${escapeHtml(run.runId)}" data-outcome="${run.outcome}">
<h1>${escapeHtml(run.workflow)} ${badge(run.outcome, RUN_COLOURS[run.outcome])}</h1>
<div class="meta"><span>run <code>${escapeHtml(run.runId)}</code></span><span>${escapeHtml(run.file)}</span><span>started ${escapeHtml(run.startedAt)}</span><span>${seconds(run.durationMs)}</span>
<span>${model.steps.filter((s) => s.outcome === 'ran' || s.outcome === 'resumed').length} ran, ${model.steps.filter((s) => s.outcome === 'cached').length} cached</span></div>
${history(model)}
${section('Timeline', 'timeline')}
<h2>Steps</h2>
<table id="steps"><thead><tr><th>step</th><th>outcome</th><th>device</th><th>duration</th><th>rows</th><th>shards</th><th>seq/s</th><th>tokens/s</th><th>peak RSS</th><th>estimate</th><th>cost</th><th>why it ran</th></tr></thead>
<tbody>${model.steps.map(stepRow).join('\n')}</tbody></table>
<p class="note">Rates are over each step's time so far; peak RSS is the engine process's (steps running at once share it), from the samples covering the step; the estimate is the plan's (accelerators only), for the sequences the step read.</p>
${section('Throughput', 'rate')}
${section('Memory and CPU', 'resources')}
${section('Training curves', 'metric')}
${section('Embedding map', 'map', mapIntro)}
${section('Workflow graph', 'graph')}
${model.notes.length > 0 ? `<h2>Notes</h2><ul>${model.notes.map((n) => `<li class="note">${escapeHtml(n)}</li>`).join('')}</ul>` : ''}
<p class="note">Made by <code>strand report</code> with ${escapeHtml(library.name)} ${escapeHtml(library.version)} (inlined; this page loads nothing).</p>
<script id="report-charts" type="application/json">${scriptJson(charts)}</script>
<script>${library.source.replace(/<\/script/gi, '<\\/script')}</script>
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
}
