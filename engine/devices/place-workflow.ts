// Owns placing a workflow's steps before anything runs: resolve each step's device, read or take its
// model facts, and estimate memory, time and cost; problems become located diagnostics. The file and
// catalog reads arrive as functions, so this stays testable with inline data.
import { errorAt, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { Workflow } from '../workflow/workflow.js';
import type { YamlSource } from '../workflow/yaml-source.js';
import { resolvePlacement, type DeviceCatalog, type Placement } from './device-catalog.js';
import { estimatePlacement, type PlacementEstimate } from './estimate-placement.js';
import type { ModelFacts } from './onnx-model-facts.js';

export interface StepPlacementPlan {
  placement: Placement;
  estimate?: PlacementEstimate;
}

export interface PlaceOptions {
  catalog: DeviceCatalog;
  cpu: { cores: number; memoryBytes: number };
  /** Facts of the model a step runs, when it has one Strand can read. */
  modelFactsOf(step: Workflow['steps'][number]): ModelFacts | undefined;
  sequencesOf?(step: string): number | undefined;
}

const PROBLEM_PATH = { 'mesh-device-mismatch': 'mesh', 'mesh-heads-mismatch': 'mesh', 'batch-mesh-mismatch': 'batch', 'memory-exceeded': 'batch' } as const;

export function placeWorkflow(workflow: Workflow, source: YamlSource | undefined, options: PlaceOptions): { plans: Map<string, StepPlacementPlan>; diagnostics: Diagnostic[] } {
  const plans = new Map<string, StepPlacementPlan>();
  const diagnostics: Diagnostic[] = [];
  const local = resolvePlacement({ kind: 'cpu' }, options.catalog, options.cpu);
  for (const step of workflow.steps) {
    const spec = step.placement;
    const device = spec.on === undefined ? undefined : workflow.devices[spec.on];
    const resolved = device === undefined ? local : resolvePlacement(device, options.catalog, options.cpu);
    if (!resolved.ok) {
      if (source) diagnostics.push(errorAt('invalid-value', source.locate(['devices', spec.on!, 'type']), resolved.error, 'see the device catalog in README'));
      continue;
    }
    const placement = resolved.value;
    // Reading a model's facts means reading its file: only for steps placed on an accelerator.
    const facts = placement.kind === 'cpu' ? undefined : (spec.modelFacts ?? options.modelFactsOf(step));
    if (facts === undefined) {
      plans.set(step.id, { placement });
      continue;
    }
    const sequences = options.sequencesOf?.(step.id);
    const estimate = estimatePlacement({
      placement,
      ...(spec.mesh ? { mesh: spec.mesh } : {}),
      batch: spec.batch ?? { per_device: 8 },
      precision: spec.precision ?? 'bf16',
      model: facts,
      tokens: spec.tokens ?? 1000,
      training: step.plugin.id.startsWith('finetune/'),
      ...(spec.modelFacts?.trained_parameters !== undefined ? { trainedParameters: spec.modelFacts.trained_parameters } : {}),
      ...(sequences !== undefined ? { sequences } : {}),
    });
    plans.set(step.id, { placement, estimate });
    if (source) {
      for (const problem of estimate.problems) {
        const key = PROBLEM_PATH[problem.code];
        diagnostics.push(errorAt(problem.code, source.locate(['steps', step.id, spec[key] === undefined ? 'on' : key]), `step "${step.id}": ${problem.message}`, problem.hint));
      }
    }
  }
  return { plans, diagnostics };
}

export function describePlacement(plan: StepPlacementPlan | undefined): string {
  if (plan === undefined) return 'local cpu';
  const e = plan.estimate;
  if (e === undefined) return plan.placement.label;
  return `${plan.placement.label} mesh ${e.mesh.data}x${e.mesh.fsdp}x${e.mesh.tp} batch ${e.perDeviceBatch}/dev`;
}
