// Owns the view-model of a plan: one row per step with its status, why it will run, placement and the
// parts of its cache key, ready for the terminal UI and the plain printer. Pure.
import type { PlanEntry } from '../plan/plan-run.js';
import { describeReason } from '../plan/rerun-reason.js';
import type { Workflow } from '../workflow/workflow.js';
import { describeNodes, describePlacement, type StepPlacementPlan } from '../devices/step-placement-plan.js';
import { preflightText } from '../devices/preflight-text.js';

export type PlanStatus = 'cached' | 'will run' | 'blocked' | 'invalid';

export interface PlanRow {
  step: string;
  uses: string;
  status: PlanStatus;
  why: string;
  placement: string;
  /** Memory estimate per device against its limit, when the step is placed on an accelerator. */
  memory?: { used: number; limit: number };
  estimate?: string;
  /** Why it will run (one `why` per reason), resolved `with:`, cache-key fields, input wiring and output ports, for the details pane. */
  details: { label: string; value: string }[];
}

export interface PlanModel {
  name: string;
  file: string;
  rows: PlanRow[];
  totals: string;
}

function placementFigures(plan: StepPlacementPlan | undefined): Pick<PlanRow, 'memory' | 'estimate'> {
  const e = plan?.estimate;
  if (e === undefined) return plan?.unknown?.length ? { estimate: `no estimate: ${plan.unknown.join(', ')} unknown (model_facts:)` } : {};
  const cost =
    e.seconds !== undefined && e.cost
      ? `${(e.seconds / 3600).toFixed(2)} h, $${e.cost.onDemand.toFixed(2)} / $${e.cost.spot.toFixed(2)} spot`
      : undefined;
  const unknown = plan?.unknown?.length ? `${plan.unknown.join(', ')} unknown (model_facts:)` : undefined;
  const source = plan?.preflight ? preflightText(plan.preflight) : undefined;
  const text = [unknown, describeNodes(e.nodes), cost, source].filter((t) => t !== undefined).join('; ');
  return {
    ...(e.memory.total !== undefined ? { memory: { used: e.memory.total, limit: e.memory.limit } } : {}),
    ...(text ? { estimate: text } : {}),
  };
}

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function planRows(
  workflow: Workflow,
  entries: readonly PlanEntry[],
  plans: ReadonlyMap<string, StepPlacementPlan> = new Map(),
): PlanModel {
  const rows = entries.map((entry): PlanRow => {
    const step = workflow.steps.find((s) => s.id === entry.step)!;
    const d = entry.decision;
    const details = [
      // In full, wrapped: the row is cut to the terminal's width, and a reason can name several files.
      ...(d.status === 'will-run' ? d.reasons.map((r) => ({ label: 'why', value: describeReason(r) })) : []),
      ...Object.entries(step.keyParams).map(([k, v]) => ({ label: `with.${k}`, value: show(v) })),
      ...Object.entries(entry.inputs).map(([port, w]) => ({ label: `input ${port}`, value: `${w.step}.${w.port}` })),
      ...Object.entries(step.plugin.outputs).map(([port, spec]) => ({ label: `output ${port}`, value: spec.type })),
      { label: 'plugin', value: `${step.plugin.id}@${step.plugin.version}` },
      ...(d.fingerprint ? Object.entries(d.fingerprint.files).map(([k, v]) => ({ label: `key file ${k}`, value: v.slice(0, 12) })) : []),
      ...(d.fingerprint ? Object.entries(d.fingerprint.inputs).map(([k, v]) => ({ label: `key input ${k}`, value: v.slice(0, 12) })) : []),
      { label: 'cache key', value: d.key?.slice(0, 16) ?? '(known once upstream steps have run)' },
    ];
    return {
      step: entry.step,
      uses: entry.uses,
      status: d.status === 'cached' ? 'cached' : 'will run',
      why: d.status === 'will-run' ? d.reasons.map(describeReason).join('; ') : '',
      placement: describePlacement(plans.get(entry.step)),
      ...placementFigures(plans.get(entry.step)),
      details,
    };
  });
  const running = rows.filter((r) => r.status === 'will run').length;
  const estimates = [...plans.values()].map((p) => p.estimate).filter((e) => e?.cost !== undefined && e.seconds !== undefined);
  const cost =
    estimates.length === 0
      ? ''
      : `; estimated ${(estimates.reduce((n, e) => n + e!.seconds!, 0) / 3600).toFixed(2)} h, $${estimates.reduce((n, e) => n + e!.cost!.onDemand, 0).toFixed(2)} on-demand / $${estimates.reduce((n, e) => n + e!.cost!.spot, 0).toFixed(2)} spot`;
  return {
    name: workflow.name,
    file: workflow.file,
    rows,
    totals: `${rows.length} steps: ${running} will run, ${rows.length - running} cached${cost}`,
  };
}
