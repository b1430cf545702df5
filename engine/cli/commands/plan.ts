// Owns `strand plan FILE`: what would run and why, as text or JSON; `--check` for CI.
import { planRun, type PlanEntry } from '../../plan/plan-run.js';
import { describeReason } from '../../plan/rerun-reason.js';
import { redact } from '../../events/run-event.js';
import { planRows } from '../../tui/plan-rows.js';
import { EXIT_FAILED, EXIT_OK, JSON_FLAG, PARAM_FLAG, PLAIN_FLAG, STATE_DIR_FLAG, type Command } from '../command.js';
import { openWorkflow } from '../open-workflow.js';
import { has } from '../parse-args.js';

function toJson(entry: PlanEntry): object {
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
  };
}

export function formatPlan(name: string, file: string, entries: readonly PlanEntry[]): string {
  const width = Math.max(...entries.map((e) => e.step.length), 4);
  const usesWidth = Math.max(...entries.map((e) => e.uses.length), 4);
  const lines = [`plan: ${name} (${file})`];
  for (const entry of entries) {
    const d = entry.decision;
    const why = d.status === 'will-run' ? d.reasons.map(describeReason).join('; ') : '';
    lines.push(`  ${d.status === 'cached' ? 'cached  ' : 'will run'}  ${entry.step.padEnd(width)}  ${entry.uses.padEnd(usesWidth)}  ${why}`.trimEnd());
  }
  const running = entries.filter((e) => e.decision.status === 'will-run').length;
  lines.push(`${running} will run, ${entries.length - running} cached`);
  return lines.join('\n') + '\n';
}

export const planCommand: Command = {
  name: 'plan',
  usage: 'strand plan FILE [--param NAME=VALUE] [--state-dir DIR] [--json | --plain] [--check]',
  summary: 'Show, per step in order, whether it is cached or will run and why (interactive on a terminal).',
  flags: [PARAM_FLAG, STATE_DIR_FLAG, JSON_FLAG, PLAIN_FLAG, { name: 'check', description: 'exit 1 if anything would run' }],
  async run(args, io) {
    const opened = await openWorkflow(args, io);
    if (opened === undefined) return EXIT_FAILED;
    const { workflow, state } = opened;
    const entries = planRun(workflow, state);
    state.files.save();
    const interactive = io.isTTY && !has(args, 'json') && !has(args, 'plain') && !has(args, 'check');
    if (interactive) {
      const { showPlan } = await import('../../tui/show-plan.js');
      await showPlan(planRows(workflow, entries));
      return EXIT_OK;
    }
    const text = has(args, 'json')
      ? JSON.stringify({ workflow: workflow.name, file: workflow.file, steps: entries.map(toJson) }, null, 2) + '\n'
      : formatPlan(workflow.name, workflow.file, entries);
    io.stdout(redact(text, workflow.secrets));
    return has(args, 'check') && entries.some((e) => e.decision.status === 'will-run') ? EXIT_FAILED : EXIT_OK;
  },
};
