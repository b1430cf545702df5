// Owns placing a workflow's steps before anything runs: resolve each step's device, read or take its
// model facts, and estimate memory, time and cost; problems become located diagnostics. The file and
// catalog reads arrive as functions, so this stays testable with inline data.
import { errorAt, warningAt, type Diagnostic, type SourceLocation } from '../diagnostics/diagnostic.js';
import type { Workflow } from '../workflow/workflow.js';
import type { YamlSource } from '../workflow/yaml-source.js';
import { resolvePlacement, type DeviceCatalog } from './device-catalog.js';
import { DEFAULT_PER_DEVICE_BATCH, estimatePlacement, type Mesh } from './estimate-placement.js';
import { loraTrainedParameters } from './lora-trained-parameters.js';
import { mergeModelFacts, missingFacts, type FactName } from './model-facts.js';
import type { ModelFactsReading } from './onnx-model-facts.js';
import { checkDeviceRuntimes, checkStepRuntime } from './check-runtimes.js';
import { stepPrecision, stepRuntime } from './step-runtime.js';
import { ownPerDeviceBatch, runPlacement } from './run-placement.js';
import type { StepPlacementPlan } from './step-placement-plan.js';
import { tokensPerSequence } from './tokens-per-sequence.js';

/** What the file a step's model param names says about the model (read at the edge). */
export interface ModelFactsOfStep {
  /** The `with:` key naming the model, where diagnostics point. */
  param: string;
  path: string;
  reading: ModelFactsReading;
}

export interface PlaceOptions {
  catalog: DeviceCatalog;
  cpu: { cores: number; memoryBytes: number };
  /** What the model file a step names says, when it names one. */
  modelFactsOf(step: Workflow['steps'][number]): ModelFactsOfStep | undefined;
}

const PROBLEM_PATH = {
  'mesh-device-mismatch': 'mesh',
  'mesh-heads-mismatch': 'mesh',
  'mesh-model-mismatch': 'mesh',
  'batch-mesh-mismatch': 'batch',
  'memory-exceeded': 'batch',
} as const;

/**
 * `memory`: the formula's memory-exceeded diagnostics by step, apart, since the pre-flight replaces them
 * with XLA's verdict where it can compile the step's program.
 */
export function placeWorkflow(
  workflow: Workflow,
  source: YamlSource | undefined,
  options: PlaceOptions,
): { plans: Map<string, StepPlacementPlan>; diagnostics: Diagnostic[]; memory: Map<string, Diagnostic> } {
  const plans = new Map<string, StepPlacementPlan>();
  const diagnostics: Diagnostic[] = [];
  const memory = new Map<string, Diagnostic>();
  const local = resolvePlacement({ kind: 'cpu' }, options.catalog, options.cpu);
  const localPlans = new Map<string, StepPlacementPlan>();
  if (source) diagnostics.push(...checkDeviceRuntimes(workflow, source));
  for (const step of workflow.steps) {
    const spec = step.placement;
    const device = spec.on === undefined ? undefined : workflow.devices[spec.on];
    const resolved = device === undefined ? local : resolvePlacement(device, options.catalog, options.cpu);
    if (!resolved.ok) {
      if (source)
        diagnostics.push(
          errorAt(
            'invalid-value',
            // replicas: on a device other than a TPU is the one refusal that is not about its type.
            source.locate(['devices', spec.on!, device?.kind !== 'tpu' && device?.replicas !== undefined ? 'replicas' : 'type']),
            resolved.error,
            'see the device catalog in docs/placement.md',
          ),
        );
      continue;
    }
    const placement = resolved.value;
    const place = (plan: Omit<StepPlacementPlan, 'run'>): void => {
      const run = runPlacement(step, plan, device);
      plans.set(step.id, { ...plan, run });
      // A step whose own batch settings do not split over its mesh (nt-lora's batch_size) is refused here.
      const own = ownPerDeviceBatch(step, run.mesh);
      if (source && own !== undefined && 'problem' in own)
        diagnostics.push(
          errorAt('batch-mesh-mismatch', source.locate(['steps', step.id, 'with']), `step "${step.id}": ${own.problem}`, own.hint),
        );
      if (source && run.runtime === 'jax' && run.hosts > 1 && run.mesh.data % run.hosts !== 0)
        diagnostics.push(
          errorAt(
            'mesh-hosts-mismatch',
            source.locate(['steps', step.id, spec.mesh === undefined ? 'on' : 'mesh']),
            `step "${step.id}": mesh data ${run.mesh.data} does not divide over the ${run.hosts} hosts of ${placement.label}; each host runs data / ${run.hosts} of the mesh on its own chips (fsdp and tp stay within a host)`,
            `make data a multiple of ${run.hosts}, e.g. mesh: ${meshOverHosts(run.mesh, run.hosts, placement.devices)}`,
          ),
        );
    };
    const runtime = stepRuntime(step.plugin, device);
    const precision = stepPrecision(step.plugin, spec, device);
    // Model facts matter for steps that compute on XLA devices (JAX, on an accelerator or the CPU), and the
    // model's layout for steps that choose a runtime. A step without JAX on a TPU computes on the hosts'
    // CPUs: the chips' memory, FLOP/s and prices say nothing about it. On a GPU such a step does not run at
    // all (run refuses it, plan warns), and its estimate is what the model would need there: a what-if.
    const onXla = runtime === 'jax' || placement.kind === 'gpu';
    // The tokens per sequence the step is estimated and pre-flighted at, for a step on XLA devices.
    const tokens = onXla ? tokensPerSequence(step, workflow) : undefined;
    const read = onXla || step.plugin.runtimes !== undefined ? options.modelFactsOf(step) : undefined;
    if (source)
      diagnostics.push(
        ...checkStepRuntime(step, workflow, read && { param: read.param, path: read.path, layout: read.reading.layout }, source),
      );
    if (tokens === undefined || (read === undefined && spec.modelFacts === undefined)) {
      // On the local CPU, a step not on XLA devices (no tokens per sequence), without a mesh, batch or batch hook
      // of its own, is placed as any other of its runtime and precision: those share one plan (plans are only
      // read), not 100,000 equal objects.
      const alike =
        device === undefined &&
        tokens === undefined &&
        spec.mesh === undefined &&
        spec.batch === undefined &&
        step.plugin.jax?.preflight === undefined;
      const shared = alike ? localPlans.get(`${runtime} ${precision}`) : undefined;
      if (shared !== undefined) plans.set(step.id, shared);
      else {
        place({ placement, runtime, precision, ...(tokens === undefined ? {} : { tokens }) });
        if (alike) localPlans.set(`${runtime} ${precision}`, plans.get(step.id)!);
      }
      continue;
    }
    const { trained_parameters: _trained, ...given } = spec.modelFacts ?? {};
    const facts = mergeModelFacts({ from: 'model_facts', values: given }, ...(read?.reading.sources ?? []));
    const unknown = missingFacts(facts, spec.mesh?.tp ?? 1);
    const at: SourceLocation | undefined = source?.locate(
      read ? ['steps', step.id, 'with', read.param] : ['steps', step.id, 'model_facts'],
    );
    if (at !== undefined && read?.reading.configError) {
      const { path, message } = read.reading.configError;
      diagnostics.push(
        warningAt(
          'model-config-unreadable',
          at,
          `step "${step.id}": ${path} is not valid JSON (${message}); its model facts were not used`,
          'fix or remove it, or give the facts with model_facts:',
        ),
      );
    }
    if (at !== undefined && unknown.length > 0) diagnostics.push(unknownFactsWarning(step.id, read, unknown, spec, at));
    if (facts.parameters === undefined) {
      place({ placement, runtime, precision, tokens, facts, unknown });
      continue;
    }
    const input = {
      placement,
      ...(spec.mesh ? { mesh: spec.mesh } : {}),
      batch: spec.batch ?? { per_device: DEFAULT_PER_DEVICE_BATCH },
      precision,
      model: { ...facts, parameters: facts.parameters },
      tokens,
      training: step.plugin.id.startsWith('finetune/'),
      ...(spec.modelFacts?.trained_parameters !== undefined ? { trainedParameters: spec.modelFacts.trained_parameters } : {}),
    };
    let estimate = estimatePlacement(input);
    // A step that sets its own per-device batch (StepPlugin.jax.preflight: nt-lora's batch_size over the mesh)
    // is estimated at that batch, not at `batch:`, which it does not read, and with what its settings train
    // (LoRA: the adapters), unless model_facts says.
    const own = ownPerDeviceBatch(step, estimate.mesh);
    if (own !== undefined && 'perDeviceBatch' in own) {
      const trained = input.trainedParameters ?? loraTrainedParameters(own.options.lora, facts);
      estimate = estimatePlacement({
        ...input,
        batch: { per_device: own.perDeviceBatch },
        ...(trained !== undefined ? { trainedParameters: trained } : {}),
      });
    }
    place({ placement, runtime, precision, tokens, facts, ...(unknown.length > 0 ? { unknown } : {}), estimate });
    if (source) {
      for (const problem of estimate.problems) {
        const key = PROBLEM_PATH[problem.code];
        const hint =
          problem.code === 'mesh-device-mismatch' && placement.kind === 'cpu'
            ? `${problem.hint}, or declare devices: ${product(spec.mesh)} on device "${spec.on}"`
            : problem.hint;
        const diagnostic = errorAt(
          problem.code,
          source.locate(['steps', step.id, spec[key] === undefined ? 'on' : key]),
          `step "${step.id}": ${problem.message}`,
          hint,
        );
        if (problem.code === 'memory-exceeded') memory.set(step.id, diagnostic);
        else diagnostics.push(diagnostic);
      }
    }
  }
  return { plans, diagnostics, memory };
}

/** A mesh like `mesh` whose data axis divides over `hosts` and whose product is still `devices`. */
function meshOverHosts(mesh: Mesh, hosts: number, devices: number): string {
  const data = hosts * Math.max(1, Math.floor(mesh.data / hosts));
  const fsdp = devices / (data * mesh.tp);
  return Number.isInteger(fsdp) && fsdp >= 1 ? `{ data: ${data}, fsdp: ${fsdp}, tp: ${mesh.tp} }` : `{ data: ${devices} }`;
}

function product(mesh: Workflow['steps'][number]['placement']['mesh']): number {
  return (mesh?.data ?? 1) * (mesh?.fsdp ?? 1) * (mesh?.tp ?? 1);
}

const FACT_WORDS: Record<FactName, string> = {
  parameters: 'parameter count',
  layers: 'layers',
  hidden: 'hidden size',
  heads: 'attention heads',
  ffn: 'FFN width',
  vocab: 'vocabulary',
};

function unknownFactsWarning(
  step: string,
  read: ModelFactsOfStep | undefined,
  unknown: readonly FactName[],
  spec: Workflow['steps'][number]['placement'],
  at: SourceLocation,
): Diagnostic {
  const words = unknown.map((n) => FACT_WORDS[n]);
  const list = words.length === 1 ? words[0]! : `${words.slice(0, -1).join(', ')} and ${words.at(-1)!}`;
  const looked =
    read === undefined
      ? 'the step names no model file'
      : read.reading.unreadable !== undefined
        ? `${read.path} cannot be decoded (${read.reading.unreadable})`
        : `${read.path} has no strand.* metadata for them, no config.json beside it gives them, and its graph does not show them`;
  const consequences = [
    ...(unknown.includes('parameters') ? ['there is no memory, time or cost estimate'] : []),
    ...(unknown.includes('layers') || unknown.includes('hidden')
      ? [
          `the memory estimate leaves out activations${spec.batch === 'auto' ? ` (batch: auto cannot size the batch; it uses ${DEFAULT_PER_DEVICE_BATCH} per device)` : ''}`,
        ]
      : []),
    ...(unknown.includes('heads') ? [`tp ${spec.mesh?.tp ?? 1} cannot be checked against the heads`] : []),
  ];
  const hint =
    "add to the step model_facts: { layers: N, hidden: N, heads: N, ffn: N } (NT-2.5B: layers 32, hidden 2560, heads 20, ffn 10240), or put the export's config.json beside the model";
  return warningAt(
    'model-facts-unknown',
    at,
    `step "${step}": the model's ${list} ${unknown.length === 1 ? 'is' : 'are'} unknown (${looked}); ${consequences.join('; ')}`,
    hint,
  );
}
