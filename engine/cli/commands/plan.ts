// Owns `strand plan FILE`: what would run and why, as text or JSON; `--check` for CI.
import { planRun, type PlanEntry } from '../../plan/plan-run.js';
import { describeReason } from '../../plan/rerun-reason.js';
import { redact } from '../../events/redact.js';
import { planRows } from '../../tui/plan-rows.js';
import { countStepSequences } from '../../plan/count-step-sequences.js';
import { createDataAccess } from '../../data/data-access.js';
import { estimateRunTime } from '../../devices/estimate-placement.js';
import { describeNodes, describePlacement, type StepPlacementPlan } from '../../devices/step-placement-plan.js';
import { preflightText } from '../../devices/preflight-text.js';
import type { ArtifactManifest } from '../../plan/step-record.js';
import { EXIT_FAILED, EXIT_OK, PARAM_FLAG, STATE_DIR_FLAG, type Command } from '../command.js';
import { openWorkflow } from '../open-workflow.js';
import { OUTPUT_FLAGS, outputMode } from '../output-mode.js';
import { has } from '../parse-args.js';
import { prettyJsonChunks } from '../pretty-json-chunks.js';

/** Two decimals, or two significant digits below 0.01 (a small run is not free). */
function figure(value: number): string {
  return value >= 0.01 || value === 0 ? value.toFixed(2) : value.toPrecision(2);
}

function estimateText(plan: StepPlacementPlan | undefined): string {
  const e = plan?.estimate;
  const unknown = plan?.unknown?.join(', ');
  if (e === undefined) return unknown ? `no estimate: ${unknown} unknown (model_facts:)` : '';
  const gib = (b: number): string => (b / 2 ** 30).toFixed(1);
  // An estimate missing a part says so rather than counting it as zero.
  const parts = [
    e.memory.total === undefined
      ? `mem ?/${gib(e.memory.limit)} GiB (${unknown} unknown; parameters alone ${gib(e.memory.parameters)} GiB)`
      : `mem ${gib(e.memory.total)}/${gib(e.memory.limit)} GiB${unknown ? ` (${unknown} unknown)` : ''}`,
  ];
  if (e.sequences !== undefined)
    parts.push(`${e.sequences.toLocaleString('en-US')} sequences${plan?.sequences ? ` (${plan.sequences.how})` : ''}`);
  const nodes = describeNodes(e.nodes);
  if (nodes !== undefined) parts.push(nodes);
  if (e.seconds !== undefined && e.cost)
    parts.push(
      `${figure(e.seconds / 3600)} h`,
      `${figure(e.chipHours ?? 0)} chip-h`,
      `$${figure(e.cost.onDemand)} on-demand / $${figure(e.cost.spot)} spot`,
    );
  const pre = plan?.preflight;
  if (pre !== undefined) parts.push(preflightText(pre));
  return parts.join(', ');
}

function toJson(entry: PlanEntry, plan: StepPlacementPlan | undefined): object {
  const d = entry.decision;
  return {
    step: entry.step,
    uses: entry.uses,
    status: d.status,
    reasons: d.status === 'will-run' ? d.reasons.map((r) => ({ ...r, text: describeReason(r) })) : [],
    key: d.key ?? null,
    fingerprint: d.fingerprint ?? null,
    inputs: entry.inputs,
    needs: entry.needs,
    placement: plan ? placementJson(plan) : null,
  };
}

/** By placement plan, its JSON: steps placed alike share one plan (placeWorkflow), and so one of these. */
const placementJsonOf = new WeakMap<StepPlacementPlan, object>();

function placementJson(plan: StepPlacementPlan): object {
  let json = placementJsonOf.get(plan);
  if (json === undefined)
    placementJsonOf.set(
      plan,
      (json = {
        device: plan.placement.label,
        devices: plan.placement.devices,
        // What the step computes with: the resolved placement run, the step context and a JAX job read.
        run: plan.run,
        ...(plan.facts ? { facts: plan.facts } : {}),
        ...(plan.unknown ? { unknown: plan.unknown } : {}),
        ...(plan.estimate ? { estimate: plan.estimate } : {}),
        ...(plan.preflight ? { preflight: plan.preflight } : {}),
        ...(plan.sequences ? { sequences: plan.sequences } : {}),
      }),
    );
  return json;
}

export function formatPlan(
  name: string,
  file: string,
  entries: readonly PlanEntry[],
  plans: ReadonlyMap<string, StepPlacementPlan>,
): string {
  const width = Math.max(...entries.map((e) => e.step.length), 4);
  const usesWidth = Math.max(...entries.map((e) => e.uses.length), 4);
  const lines = [`plan: ${name} (${file})`];
  for (const entry of entries) {
    const d = entry.decision;
    const why = d.status === 'will-run' ? d.reasons.map(describeReason).join('; ') : '';
    const plan = plans.get(entry.step);
    const estimate = plan === undefined ? '' : estimateText(plan);
    const placed =
      plan && (plan.placement.kind !== 'cpu' || plan.runtime === 'jax')
        ? `  [${[describePlacement(plan), estimate].filter((part) => part !== '').join('; ')}]`
        : '';
    lines.push(
      `  ${d.status === 'cached' ? 'cached  ' : 'will run'}  ${entry.step.padEnd(width)}  ${entry.uses.padEnd(usesWidth)}  ${why}${placed}`.trimEnd(),
    );
  }
  const running = entries.filter((e) => e.decision.status === 'will-run').length;
  lines.push(`${running} will run, ${entries.length - running} cached`);
  return lines.join('\n') + '\n';
}

export const planCommand: Command = {
  usage: 'strand plan FILE [--param NAME=VALUE] [--state-dir DIR] [--json | --plain] [--check]',
  flags: [PARAM_FLAG, STATE_DIR_FLAG, ...OUTPUT_FLAGS, { name: 'check', description: 'exit 1 if anything would run' }],
  async run(args, io) {
    const mode = outputMode(args, io);
    const opened = await openWorkflow(args, io, { listObjects: true, preflight: true });
    if (opened === undefined) return EXIT_FAILED;
    const { workflow, state, diagnostics } = opened;
    const entries = planRun(workflow, state);
    const sequencesOf = (step: string): { rows: number; shards: number } | undefined => {
      const inputs = entries.find((e) => e.step === step)?.decision.fingerprint?.inputs;
      const manifest = inputs ? Object.values(inputs)[0] : undefined;
      if (manifest === undefined || !state.objects.has(manifest)) return undefined;
      const { shards } = state.objects.getJson<ArtifactManifest>(manifest);
      return { rows: shards.reduce((n, s) => n + s.rows, 0), shards: shards.length };
    };
    // Loading placed every step; the sequences each will see (the store's, or its source's count) add time and cost.
    const data = createDataAccess(io.cwd, state.listing);
    const plans = new Map<string, StepPlacementPlan>();
    for (const [step, plan] of opened.plans) {
      const sequences = plan.estimate && (await countStepSequences(workflow, step, sequencesOf, data));
      plans.set(
        step,
        plan.estimate && sequences !== undefined
          ? { ...plan, sequences, estimate: estimateRunTime(plan.estimate, plan.placement, sequences) }
          : plan,
      );
    }
    state.files.save();
    if (mode === 'live' && !has(args, 'check')) {
      const { showPlan } = await import('../../tui/show-plan.js');
      await showPlan(planRows(workflow, entries, plans));
      return EXIT_OK;
    }
    if (mode === 'json') {
      const envelope = {
        workflow: workflow.name,
        file: workflow.file,
        steps: entries,
        diagnostics,
        preflight: { ...(opened.preflight ?? { compiled: 0, cached: 0 }), compilerRuns: opened.compilerRuns },
      };
      const stepJson = (e: PlanEntry): object => toJson(e, plans.get(e.step));
      // Secrets are masked in the whole text at once (a secret could span two chunks); otherwise the same
      // text goes out in chunks, so 100,000 steps never build one 90 MB string and its encoded copy, nor
      // all their JSON objects at once.
      if (workflow.secrets.length > 0)
        io.stdout(redact(JSON.stringify({ ...envelope, steps: entries.map(stepJson) }, null, 2) + '\n', workflow.secrets));
      else
        for (const chunk of prettyJsonChunks(envelope, stepJson)) {
          io.stdout(chunk);
          await io.drain?.();
        }
    } else io.stdout(redact(formatPlan(workflow.name, workflow.file, entries, plans), workflow.secrets));
    return has(args, 'check') && entries.some((e) => e.decision.status === 'will-run') ? EXIT_FAILED : EXIT_OK;
  },
};
