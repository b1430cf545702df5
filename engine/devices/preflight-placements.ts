// Owns the pre-flight stage of loading (for `plan` and `run`): for each step placed on a TPU whose plugin
// has a compiled program, ask XLA — through `PreflightFacts`, the cache then the compiler — what the
// step's real program needs on one host's topology at its mesh and per-device batch, at every length
// bucket; replace the formula's memory, batch (`batch: auto`) and FLOPs with XLA's; and turn "does not fit"
// into a located diagnostic listing the fixes the compiler checked. Where XLA cannot answer (no libtpu,
// no Python, a GPU, a plugin without a program, or with one but not computing with JAX there) the formula
// stands and the plan says why. Pure but for the facts.
import type { StepPreflight } from '../plugin-api/step-plugin.js';
import { errorAt, warningAt, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { PreflightAnswer, PreflightReply, PreflightRequest } from '../jax/preflight-contract.js';
import type { Result } from '../util/result.js';
import { pathParams } from '../workflow/path-params.js';
import type { StepSpec, Workflow } from '../workflow/workflow.js';
import type { YamlSource } from '../workflow/yaml-source.js';
import { UTILISATION, type Mesh, type PlacementEstimate } from './estimate-placement.js';
import type { StepPlacementPlan } from './step-placement-plan.js';
import { runPlacement } from './run-placement.js';
import { hostProgram } from './tpu-topology.js';
import type { DeviceSpec } from './device-catalog.js';

export interface PreflightFacts {
  /** The parsed config.json of the model a step names (a folder, or beside a file), or why there is none. */
  modelConfig(path: string): Result<Record<string, unknown>, string>;
  cached(request: PreflightRequest): PreflightAnswer | undefined;
  /** One compiler process for all the requests; an error when it cannot run at all. */
  compile(requests: readonly PreflightRequest[]): Promise<Result<PreflightReply[], string>>;
  remember(request: PreflightRequest, answer: PreflightAnswer): void;
}

export interface PreflightResult {
  plans: Map<string, StepPlacementPlan>;
  diagnostics: Diagnostic[];
  /** Requests answered by compiling this time, and from the cache. */
  compiled: number;
  cached: number;
}

type Asked = { step: StepSpec; plan: StepPlacementPlan; request: PreflightRequest; topology: string; hosts: number };

function requestFor(step: StepSpec, plan: StepPlacementPlan, facts: PreflightFacts): Result<Omit<Asked, 'step' | 'plan'>, string> {
  const program = step.plugin.jax?.program;
  if (program === undefined) return { ok: false, error: `${step.uses} has no compiled program to check` };
  // A plugin with a program computes with JAX on a TPU unless it does not list the jax runtime (none built in).
  if (plan.tokens === undefined) return { ok: false, error: `${step.uses} does not compute on XLA devices here` };
  const placed = plan.run;
  // A training step is one program over the whole slice (jax.distributed); others one per host.
  const host = hostProgram(plan.placement, placed.mesh, step.plugin.remoteTraining === true);
  if (!host.ok) return { ok: false, error: host.why };
  const model = pathParams(step).find((p) => p.direction === 'input' && p.format !== undefined);
  if (model === undefined) return { ok: false, error: 'the step names no model' };
  const config = facts.modelConfig(model.path);
  if (!config.ok) return { ok: false, error: config.error };
  const p = step.params;
  let own: StepPreflight | undefined;
  try {
    own = step.plugin.jax?.preflight?.(p, placed.mesh);
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
  const pooling = {
    ...(typeof p.pooling === 'string' ? { pooling: p.pooling as 'mean' | 'cls' | 'max' } : {}),
    ...(typeof p.include_cls === 'boolean' ? { include_cls: p.include_cls } : {}),
    ...(typeof p.normalize === 'boolean' ? { normalize: p.normalize } : {}),
  };
  const request: PreflightRequest = {
    program,
    topology: host.topology,
    mesh: host.mesh,
    batch: own?.perDeviceBatch ?? (step.placement.batch === 'auto' ? 'auto' : placed.perDeviceBatch),
    max_length: plan.tokens,
    precision: plan.precision,
    model: { config: config.value },
    ...(Object.keys(pooling).length > 0 ? { pooling } : {}),
    // A step's own batch settings are not `batch:` or a per-device figure: fixes in those terms would mislead.
    ...(own !== undefined ? { options: own.options, fixes: false } : {}),
  };
  return { ok: true, value: { request, topology: host.topology, hosts: host.hosts } };
}

export async function preflightPlacements(
  workflow: Workflow,
  source: YamlSource,
  plans: ReadonlyMap<string, StepPlacementPlan>,
  facts: PreflightFacts,
): Promise<PreflightResult> {
  const out = new Map(plans);
  const diagnostics: Diagnostic[] = [];
  const asked: Asked[] = [];
  for (const step of workflow.steps) {
    const plan = plans.get(step.id);
    if (plan === undefined || plan.placement.kind === 'cpu') continue;
    const made = requestFor(step, plan, facts);
    if (made.ok) asked.push({ step, plan, ...made.value });
    else out.set(step.id, { ...plan, preflight: { source: 'formula', why: made.error } });
  }
  let cached = 0;
  const answers = new Map<Asked, PreflightAnswer>();
  const toCompile: Asked[] = [];
  for (const a of asked) {
    const hit = facts.cached(a.request);
    if (hit !== undefined) {
      answers.set(a, hit);
      cached += 1;
    } else toCompile.push(a);
  }
  const fellBack = new Map<Asked, string>();
  if (toCompile.length > 0) {
    const replies = await facts.compile(toCompile.map((a) => a.request));
    toCompile.forEach((a, i) => {
      if (!replies.ok) return void fellBack.set(a, replies.error);
      const reply = replies.value[i]!;
      if (reply.kind === 'preflight-answer') {
        facts.remember(a.request, reply);
        answers.set(a, reply);
        return;
      }
      fellBack.set(a, reply.message);
      if (reply.reason === 'bad-request' || reply.reason === 'compile-error') {
        diagnostics.push(
          warningAt(
            'preflight-failed',
            source.locate(['steps', a.step.id, 'on']),
            `step "${a.step.id}": XLA could not compile its program for ${a.topology}: ${reply.message}`,
            'the plan uses the formula estimate for this step',
          ),
        );
      }
    });
  }
  for (const a of asked) {
    const answer = answers.get(a);
    if (answer === undefined) {
      out.set(a.step.id, { ...a.plan, preflight: { source: 'formula', why: fellBack.get(a) ?? 'no answer' } });
      continue;
    }
    const estimate = estimateFromAnswer(a.plan, answer, a.hosts, a.request.program === 'train-step');
    const answered = {
      ...a.plan,
      ...(estimate ? { estimate } : {}),
      preflight: { source: 'xla' as const, cached: !toCompile.includes(a), topology: a.topology, hosts: a.hosts, answer },
    };
    // XLA's batch (batch: auto) is the one the step runs with.
    out.set(a.step.id, { ...answered, run: runPlacement(a.step, answered, deviceOf(a.step, workflow)) });
    if (!answer.fits) diagnostics.push(doesNotFit(a, answer, source));
  }
  return { plans: out, diagnostics, compiled: toCompile.length - fellBack.size, cached };
}

function deviceOf(step: StepSpec, workflow: Workflow): DeviceSpec | undefined {
  return step.placement.on === undefined ? undefined : workflow.devices[step.placement.on];
}

const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

function meshText(mesh: Mesh): string {
  return `{ data: ${mesh.data}, fsdp: ${mesh.fsdp}, tp: ${mesh.tp} }`;
}

/** The formula's estimate with XLA's figures in place of its guesses (memory at the longest bucket). */
function estimateFromAnswer(
  plan: StepPlacementPlan,
  answer: PreflightAnswer,
  hosts: number,
  training: boolean,
): PlacementEstimate | undefined {
  const base = plan.estimate;
  const longest = answer.buckets.at(-1)!;
  const mesh = { ...answer.mesh, data: answer.mesh.data * hosts };
  const replicas = mesh.data * mesh.fsdp;
  const problems = (base?.problems ?? []).filter((p) => p.code !== 'memory-exceeded');
  const limit = longest.xla?.available_bytes ?? plan.placement.memoryBytesPerDevice;
  const memory = longest.memory
    ? {
        parameters: longest.memory.argument_bytes,
        activations: longest.memory.temp_bytes + longest.memory.output_bytes,
        optimizer: 0,
        total: longest.memory.total_bytes,
        limit,
      }
    : {
        parameters: base?.memory.parameters ?? 0,
        optimizer: 0,
        ...(longest.xla?.required_bytes !== undefined ? { total: longest.xla.required_bytes } : {}),
        limit,
      };
  const flopsPerSequence = longest.flops?.per_sequence ?? base?.flopsPerSequence;
  if (flopsPerSequence === undefined) return base;
  const estimate: PlacementEstimate = {
    mesh,
    perDeviceBatch: answer.per_device_batch,
    globalBatch: answer.per_device_batch * replicas,
    memory,
    flopsPerSequence,
    problems,
  };
  if (plan.placement.flopsPerDevice > 0)
    estimate.secondsPerSequence =
      flopsPerSequence / (plan.placement.flopsPerDevice * plan.placement.devices * UTILISATION[training ? 'training' : 'inference']);
  return estimate;
}

function doesNotFit(a: Asked, answer: PreflightAnswer, source: YamlSource): Diagnostic {
  const spec = a.step.placement;
  const key = spec.batch !== undefined ? 'batch' : spec.mesh !== undefined ? 'mesh' : 'on';
  // The longest refused bucket: the binding one (activations grow with the length), the figure a fix must beat.
  const refused = answer.buckets.findLast((b) => !b.fits)!;
  const xla = refused.xla
    ? `XLA: ${refused.xla.message}`
    : `XLA compiled it at ${gib(refused.memory?.total_bytes ?? 0)} per device, over the limit`;
  const what =
    answer.batch_search && !answer.batch_search.tried.some((t) => t.fits)
      ? 'even per-device batch 1'
      : `per-device batch ${answer.per_device_batch}`;
  const fixes = answer.fixes.map((f) => {
    const c = f.change;
    const change =
      c.per_device_batch !== undefined
        ? `batch: { per_device: ${c.per_device_batch} }`
        : c.precision !== undefined
          ? `precision: ${c.precision}`
          : `mesh: ${meshText({ ...c.mesh!, data: c.mesh!.data * a.hosts })}`;
    return `fits with ${change} (${gib(f.total_bytes)} per chip)`;
  });
  const hint =
    a.request.fixes === false
      ? `no fixes were compiled (the step sets its own batch): lower its per-device batch ${answer.per_device_batch} (its own batch settings), or use another mesh or a generation with more HBM per chip`
      : fixes.length > 0
        ? `checked by compiling: ${fixes.join('; ')}`
        : 'no smaller batch, precision or mesh over these chips compiles within memory: use a generation with more HBM per chip';
  return errorAt(
    'preflight-does-not-fit',
    source.locate(['steps', a.step.id, key]),
    `step "${a.step.id}": ${what} does not fit on ${a.topology} (${answer.device_kind}, mesh ${meshText(answer.mesh)} per host) at length ${refused.length}: ${xla}`,
    hint,
  );
}
