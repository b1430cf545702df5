// Owns turning a parsed workflow file into a checked `Workflow`, collecting every problem in one pass:
// schema errors, unknown plugins and steps, bad expressions, unknown params, port wiring, cycles.
// Pure: plugins, overrides and the environment arrive as arguments.
import { errorAt, type Diagnostic, type SourceLocation } from '../diagnostics/diagnostic.js';
import { findCycle } from '../graph/find-cycle.js';
import { topoSortPositions } from '../graph/topo-sort.js';
import type { StepPlugin } from '../plugin-api/step-plugin.js';
import { didYouMean } from '../util/did-you-mean.js';
import { fitsWorkflowSchema } from './fits-workflow-schema.js';
import { expressionsIn, locateExpression, resolveParams } from './expressions.js';
import { fillParamDefaults } from './param-defaults.js';
import { resolveParamValues } from './param-values.js';
import { checkAgainstSchema } from './schema-diagnostics.js';
import type { ParamSpec, StepPlacement, StepSpec, Workflow } from './workflow.js';
import { buildWorkflowSchema } from './workflow-schema.js';
import type { StepTable } from './step-table.js';
import { wirePorts } from './wire-ports.js';
import type { YamlPath, YamlSource } from './yaml-source.js';

export interface CheckInput {
  source: YamlSource;
  /** Plugins by the `uses:` string that named them (built-ins and loaded local plugins). */
  plugins: ReadonlyMap<string, StepPlugin>;
  /** `uses:` strings whose local plugin failed to load (already reported). */
  failedPlugins?: ReadonlySet<string>;
  overrides?: Record<string, string>;
  env?: Record<string, string | undefined>;
}

type RawStep = {
  uses?: unknown;
  needs?: unknown;
  with?: unknown;
  inputs?: unknown;
  on?: unknown;
  mesh?: unknown;
  batch?: unknown;
  precision?: unknown;
  tokens?: unknown;
  model_facts?: unknown;
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The document with `with:` params substituted (unknown params stay as written, reported elsewhere). */
function withParamsResolved(root: Record<string, unknown>, values: Record<string, string | number | boolean>): unknown {
  // Without values every string stays as written: the document itself is what the schema sees.
  if (!isRecord(root.steps) || Object.keys(values).length === 0) return root;
  const steps = Object.fromEntries(
    Object.entries(root.steps).map(([id, step]) => [
      id,
      isRecord(step) && 'with' in step ? { ...step, with: resolveParams(step.with, values) } : step,
    ]),
  );
  return { ...root, steps };
}

export function checkWorkflow(input: CheckInput): { workflow?: Workflow; diagnostics: Diagnostic[] } {
  const { source, plugins } = input;
  const root = isRecord(source.value) ? source.value : {};
  const paramSpecs = (isRecord(root.params) ? root.params : {}) as Record<string, ParamSpec>;
  const validParamSpecs = Object.fromEntries(
    Object.entries(paramSpecs).filter(([, s]) => isRecord(s) && ['string', 'number', 'integer', 'boolean'].includes(s.type as string)),
  );
  const params = resolveParamValues(source, validParamSpecs, input.overrides ?? {}, input.env ?? {});
  const schemaValue = withParamsResolved(root, params.values);
  const diagnostics = [
    // The full schema's errors make the diagnostics; a valid file is told valid without its per-plugin chain.
    ...(fitsWorkflowSchema(schemaValue, plugins)
      ? []
      : checkAgainstSchema(source, buildWorkflowSchema([...plugins].map(([uses, plugin]) => ({ ...plugin, id: uses }))), schemaValue)),
    ...params.diagnostics,
  ];

  const rawSteps = (isRecord(root.steps) ? root.steps : {}) as Record<string, RawStep>;
  const devices = (isRecord(root.devices) ? root.devices : {}) as Workflow['devices'];
  // By position from here on: a name costs a lookup only where a step refers to another.
  const stepIds = Object.keys(rawSteps);
  const raws = stepIds.map((id) => rawSteps[id]);
  const positions = new Map<string, number>();
  stepIds.forEach((id, i) => positions.set(id, i));
  const stepPlugins = new Array<StepPlugin | undefined>(stepIds.length).fill(undefined);
  const table: StepTable = {
    ids: stepIds,
    raws,
    plugins: stepPlugins,
    positions,
    isStep: (name) => positions.has(name) || name in rawSteps,
  };
  // What each step depends on, by position.
  const edges = new Array<number[] | undefined>(stepIds.length).fill(undefined);
  const addEdge = (from: number, to: string): void => {
    const at = positions.get(to);
    // A name `in` the mapping that is not one of its keys (`toString`) names no step: no edge.
    if (at !== undefined) addEdgeTo(from, at);
  };
  const addEdgeTo = (from: number, at: number): void => {
    const list = edges[from];
    if (list === undefined) edges[from] = [at];
    else if (!list.includes(at)) list.push(at);
  };

  for (let position = 0; position < stepIds.length; position++) {
    const id = stepIds[position]!;
    const step = raws[position];
    if (!isRecord(step)) continue;
    if (typeof step.uses === 'string') {
      const plugin = plugins.get(step.uses);
      if (plugin) stepPlugins[position] = plugin;
      else if (!input.failedPlugins?.has(step.uses)) {
        const known = [...plugins.keys()].filter((k) => !k.startsWith('.'));
        const suggestion = didYouMean(step.uses, known);
        diagnostics.push(
          errorAt(
            'unknown-plugin',
            source.locate(['steps', id, 'uses']),
            `step "${id}" uses unknown plugin "${step.uses}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`,
            `built-in steps: ${known.join(', ')}; a local plugin is a path starting with ./`,
          ),
        );
      }
    }
    if (typeof step.on === 'string' && !(step.on in devices)) {
      const suggestion = didYouMean(step.on, Object.keys(devices));
      diagnostics.push(
        errorAt(
          'unknown-device',
          source.locate(['steps', id, 'on']),
          `step "${id}" runs on "${step.on}", which is not declared${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`,
          `declare it under devices:, e.g. devices: { ${step.on}: { kind: tpu, type: v3-8 } }`,
        ),
      );
    }
    (Array.isArray(step.needs) ? step.needs : []).forEach((need, i) => {
      if (typeof need !== 'string') return;
      const at = positions.get(need);
      if (at !== undefined) addEdgeTo(position, at);
      else if (!(need in rawSteps)) {
        const suggestion = didYouMean(need, stepIds);
        diagnostics.push(
          errorAt(
            'unknown-step',
            source.locate(['steps', id, 'needs', i]),
            `step "${id}" needs "${need}", which is not a step${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`,
            `steps in this workflow: ${stepIds.join(', ')}`,
          ),
        );
      }
    });
    for (const { path, match } of expressionsIn(step.with, ['steps', id, 'with'])) {
      // Located only for a diagnostic: a valid file then never builds the positioned YAML document.
      const location = (): SourceLocation => locateExpression(source, path, match);
      if (match.expression === undefined) {
        diagnostics.push(
          errorAt(
            'bad-expression',
            location(),
            `bad expression ${match.source}`,
            'write ${{ params.NAME }}; step outputs are wired with inputs: or needs:',
          ),
        );
      } else if (match.expression.kind === 'recipe-input') {
        diagnostics.push(
          errorAt('bad-expression', location(), `${match.source} is only meaningful inside a recipe's inputs:`, 'write ${{ params.NAME }}'),
        );
      } else if (match.expression.kind === 'step-output') {
        diagnostics.push(
          errorAt(
            'bad-expression',
            location(),
            `${match.source} cannot be used in with:`,
            `step outputs are artifacts: wire them under inputs:, e.g. inputs: { PORT: "${match.source}" }`,
          ),
        );
      } else if (!Object.hasOwn(paramSpecs, match.expression.name)) {
        const suggestion = didYouMean(match.expression.name, Object.keys(paramSpecs));
        diagnostics.push(
          errorAt(
            'unknown-param',
            location(),
            `unknown param "${match.expression.name}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`,
            `declare it under params:, e.g. params: { ${match.expression.name}: { type: string } }`,
          ),
        );
      }
    }
  }

  const wiring = wirePorts(source, table);
  diagnostics.push(...wiring.diagnostics);
  wiring.inputs.forEach((wires, position) => {
    if (wires !== undefined) for (const port of Object.keys(wires)) addEdge(position, wires[port]!.step);
  });
  // Where the edge from -> to was first written (its needs entry, else its input), found again only for a
  // cycle: keeping a location beside each of 100,000s of edges would cost more than this search.
  const edgePath = (from: string, to: string): YamlPath => {
    const needs = rawSteps[from]?.needs;
    const i = Array.isArray(needs) ? needs.indexOf(to) : -1;
    if (i !== -1) return ['steps', from, 'needs', i];
    const wires = wiring.inputs[positions.get(from)!] ?? {};
    return ['steps', from, 'inputs', Object.keys(wires).find((port) => wires[port]!.step === to)!];
  };

  // Ordering leaves out the steps of a cycle, and only then is one looked for (to report its edges).
  const order = topoSortPositions(edges);
  const cycle =
    order.length < stepIds.length
      ? findCycle(stepIds, new Map(stepIds.map((id, i) => [id, (edges[i] ?? []).map((at) => stepIds[at]!)])))
      : undefined;
  if (cycle) {
    const first = edgePath(cycle[0]!, cycle[1]!);
    diagnostics.push({
      ...errorAt('needs-cycle', source.locate(first), `steps form a cycle: ${cycle.join(' -> ')}`, 'remove one of these dependencies'),
      related: cycle.slice(0, -1).map((from, i) => ({
        message: `"${from}" depends on "${cycle[i + 1]}" here`,
        location: source.locate(edgePath(from, cycle[i + 1]!)),
      })),
    });
  }

  // A step whose local plugin failed to load was reported by the loader; there is no workflow without it.
  if (diagnostics.some((d) => d.severity === 'error') || stepPlugins.includes(undefined)) return { diagnostics };

  const keyValues = { ...params.values };
  for (const [name, spec] of Object.entries(validParamSpecs)) if (spec.secret) keyValues[name] = `[secret:${name}]`;
  const steps: StepSpec[] = order.map((position) => {
    const id = stepIds[position]!;
    const raw = raws[position]!;
    const plugin = stepPlugins[position]!;
    const withValue = isRecord(raw.with) ? raw.with : {};
    const placement: StepPlacement = {};
    if (typeof raw.on === 'string') placement.on = raw.on;
    if (isRecord(raw.mesh)) placement.mesh = raw.mesh;
    if (raw.batch !== undefined) placement.batch = raw.batch as NonNullable<StepPlacement['batch']>;
    if (raw.precision === 'fp32' || raw.precision === 'bf16') placement.precision = raw.precision;
    if (typeof raw.tokens === 'number') placement.tokens = raw.tokens;
    if (isRecord(raw.model_facts)) placement.modelFacts = raw.model_facts;
    return {
      id,
      uses: raw.uses as string,
      plugin,
      needs: (raw.needs as string[] | undefined) ?? [],
      with: withValue,
      // resolveParams gives a new value, which the defaults are filled into.
      params: fillParamDefaults(plugin.with, resolveParams(withValue, params.values) as Record<string, unknown>),
      // The key keeps `with:` as written, without the schema's defaults: filling them in here would change
      // every existing cache key; a changed default comes with a new plugin version, which is in the key.
      keyParams: resolveParams(withValue, keyValues) as Record<string, unknown>,
      inputs: wiring.inputs[position] ?? {},
      placement,
    };
  });
  return {
    workflow: {
      file: source.file,
      name: root.name as string,
      params: validParamSpecs,
      paramValues: params.values,
      secrets: params.secrets,
      devices,
      steps,
    },
    diagnostics,
  };
}
