// Owns loading a workflow: one staged pipeline, each stage its own module —
//   read (read-workflow-source) → recipes (expand-workflow-recipes) → plugins (load-local-plugins)
//   → check (the pure checkWorkflow) → paths (check-path-params) → objects (list-gcs-objects)
//   → place (placeWorkflow + remote targets, and URIs only remote hosts read: check-remote-uris)
//   → preflight (XLA compiles TPU steps' programs, preflight-placements)
// — giving a `CheckedWorkflow` that carries everything commands need (placement plans, remote targets and
// the gs:// listing included), so no command places or lists again. The file system, Cloud Storage and the
// machine reach the stages as facts.
import { resolveRemoteTargets, type RemoteProblem, type RemoteTarget } from '../cloud/remote-target.js';
import { placeWorkflow, type PlaceOptions } from '../devices/place-workflow.js';
import type { StepPlacementPlan } from '../devices/step-placement-plan.js';
import { preflightPlacements, type PreflightFacts } from '../devices/preflight-placements.js';
import type { ObjectSnapshot } from '../data/object-snapshot.js';
import { warningAt, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { StepPlugin } from '../plugin-api/step-plugin.js';
import type { LoadedRecipe } from '../recipes/recipe.js';
import { fail, ok, type Result } from '../util/result.js';
import { checkWorkflow } from '../workflow/check-workflow.js';
import type { Workflow } from '../workflow/workflow.js';
import type { YamlSource } from '../workflow/yaml-source.js';
import { checkPathParams, localPathFacts, type PathFacts } from './check-path-params.js';
import { checkRemoteUris } from './check-remote-uris.js';
import { allowPathsOf, expandWorkflowRecipes, withCallSite } from './expand-workflow-recipes.js';
import { listGcsObjects, type ObjectFacts } from './list-gcs-objects.js';
import { loadLocalPlugins } from './load-local-plugins.js';
import { localMachineFacts } from './machine-facts.js';
import { readWorkflowSource } from './read-workflow-source.js';

export interface LoadOptions {
  builtins: readonly StepPlugin[];
  overrides?: Record<string, string>;
  env?: Record<string, string | undefined>;
  /** Relative data paths resolve against this directory. */
  workdir: string;
  /** Skip comparing recipes with strand.lock (for `strand lock --update`). */
  ignoreLock?: boolean;
  /** The file system as the path checks see it (default: this machine's, under `workdir`). */
  paths?: PathFacts;
  /** The machine and model files as placement sees them (default: this machine's). */
  machine?: PlaceOptions;
  /**
   * Cloud Storage as the listing stage sees it (gcsObjectFacts for commands that plan or run). Absent: gs://
   * paths are checked for their scheme only and never listed, so `validate` stays offline.
   */
  objects?: ObjectFacts;
  /**
   * The XLA compiler and its cache as the pre-flight stage sees them (commands that plan or run). Absent:
   * TPU steps keep the formula's estimate (and the plan says the pre-flight did not run).
   */
  preflight?: PreflightFacts;
}

/** A workflow that passed every check, with what loading learnt about it. */
export interface CheckedWorkflow {
  workflow: Workflow;
  source: YamlSource;
  /** Warnings only: any error fails the load. */
  diagnostics: Diagnostic[];
  /** Source texts by file name (the workflow, its recipes), for code frames. */
  texts: Map<string, string>;
  /** Recipes the workflow uses, by the path they are locked under (relative to the workdir). */
  recipes: Map<string, LoadedRecipe>;
  /** Where each step runs and what it is estimated to need. */
  plans: ReadonlyMap<string, StepPlacementPlan>;
  /** Steps that run on a remote device; `problems` are steps placed where this version cannot run them. */
  remote: { targets: ReadonlyMap<string, RemoteTarget>; problems: RemoteProblem[] };
  /** Every gs:// path the workflow names, as listed before planning; undefined when it names none or was not listed. */
  listing: ObjectSnapshot | undefined;
  /** How the pre-flight stage got its answers, when it ran: compiled now, or read from the cache. */
  preflight?: { compiled: number; cached: number };
}

/** Why a load failed: every problem found, sorted by place, and the texts to frame them. */
export interface LoadFailure {
  diagnostics: Diagnostic[];
  texts: Map<string, string>;
}

export async function loadWorkflow(file: string, options: LoadOptions): Promise<Result<CheckedWorkflow, LoadFailure>> {
  const env = options.env ?? {};
  const read = readWorkflowSource(file);
  if (!read.ok) return fail({ diagnostics: read.error, texts: new Map() });
  const texts = new Map([[file, read.value.text]]);
  const builtins = new Map(options.builtins.map((p) => [p.id, p]));
  const expanded = expandWorkflowRecipes(read.value.source, {
    file,
    workdir: options.workdir,
    env,
    ignoreLock: options.ignoreLock ?? false,
    plugins: builtins,
  });
  if (!expanded.ok) return fail({ diagnostics: expanded.error, texts });
  const { source, callSites, recipes } = expanded.value;
  for (const [name, text] of expanded.value.texts) texts.set(name, text);
  const plugins = await loadLocalPlugins(file, source, options.builtins);
  const checked = checkWorkflow({
    source,
    plugins: plugins.plugins,
    failedPlugins: plugins.failed,
    overrides: options.overrides ?? {},
    env,
  });
  const diagnostics = [...expanded.value.diagnostics, ...plugins.diagnostics, ...checked.diagnostics];
  const located = (): Diagnostic[] =>
    diagnostics
      .map((d) => withCallSite(d, callSites))
      .sort(
        (a, b) =>
          a.location.file.localeCompare(b.location.file) || a.location.line - b.location.line || a.location.column - b.location.column,
      );
  const failed = (): boolean => diagnostics.some((d) => d.severity === 'error');
  if (checked.workflow === undefined || failed()) return fail({ diagnostics: located(), texts });
  const workflow = checked.workflow;

  diagnostics.push(...checkPathParams(workflow, source, options.paths ?? localPathFacts(options.workdir), allowPathsOf(source.value)));
  if (failed()) return fail({ diagnostics: located(), texts });

  let listing: ObjectSnapshot | undefined;
  if (options.objects !== undefined) {
    const listed = await listGcsObjects(workflow, source, options.objects);
    if (!listed.ok) diagnostics.push(...listed.error);
    else listing = listed.value;
    if (failed()) return fail({ diagnostics: located(), texts });
  }

  const placed = placeWorkflow(workflow, source, options.machine ?? localMachineFacts(options.workdir, listing));
  diagnostics.push(...placed.diagnostics);
  let plans: ReadonlyMap<string, StepPlacementPlan> = placed.plans;
  let preflight: CheckedWorkflow['preflight'];
  if (options.preflight !== undefined && !failed()) {
    const checked = await preflightPlacements(workflow, source, placed.plans, options.preflight);
    plans = checked.plans;
    diagnostics.push(...checked.diagnostics);
    preflight = { compiled: checked.compiled, cached: checked.cached };
  }
  // The formula's memory verdict stands where XLA did not give its own, and says so when XLA was asked.
  for (const [step, diagnostic] of placed.memory) {
    const outcome = plans.get(step)?.preflight;
    if (outcome?.source === 'xla') continue;
    diagnostics.push(
      outcome === undefined
        ? diagnostic
        : { ...diagnostic, message: `${diagnostic.message}; the formula's estimate: XLA gave no answer (${outcome.why})` },
    );
  }
  if (failed()) return fail({ diagnostics: located(), texts });
  const remote = resolveRemoteTargets(workflow, plans, options.builtins);
  // A warning, not an error: `plan` still shows such a step's placement and estimate (a GPU placement is
  // planned on a machine without one); `run` and `watch` refuse it before anything starts.
  for (const problem of remote.problems)
    diagnostics.push(
      warningAt(
        'remote-step-not-runnable',
        source.locate(['steps', problem.step, 'on']),
        problem.message,
        '`strand run` refuses this step as placed; `strand plan` still estimates it',
      ),
    );
  diagnostics.push(...checkRemoteUris(workflow, source, new Set(remote.targets.keys())));
  if (failed()) return fail({ diagnostics: located(), texts });
  return ok({ workflow, source, diagnostics: located(), texts, recipes, plans, remote, listing, ...(preflight ? { preflight } : {}) });
}
