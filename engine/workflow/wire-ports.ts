// Owns wiring step inputs to upstream outputs: explicit `inputs:` references first, then by type
// among the `needs` steps. No candidate or several candidates are errors that name the choices.
import { errorAt, type Diagnostic, type SourceLocation } from '../diagnostics/diagnostic.js';
import type { PortSpec } from '../plugin-api/port.js';
import type { StepPlugin } from '../plugin-api/step-plugin.js';
import { didYouMean } from '../util/did-you-mean.js';
import { formatStepOutput, parseReference } from './expressions.js';
import type { StepTable } from './step-table.js';
import type { PortWire } from './workflow.js';
import type { YamlSource } from './yaml-source.js';

type RawStep = { needs?: unknown; inputs?: unknown };

/** By a plugin's `inputs` or `outputs`, its ports (declared once; every step of the plugin walks them). */
const portEntriesOf = new WeakMap<object, [string, PortSpec][]>();

function portEntries(ports: Record<string, PortSpec>): [string, PortSpec][] {
  let entries = portEntriesOf.get(ports);
  if (entries === undefined) portEntriesOf.set(ports, (entries = Object.entries(ports)));
  return entries;
}

/** Wires of each step by position (undefined for a step without a plugin or not a mapping). */
export function wirePorts(
  source: YamlSource,
  steps: StepTable,
): { inputs: (Record<string, PortWire> | undefined)[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const inputs: (Record<string, PortWire> | undefined)[] = new Array<Record<string, PortWire> | undefined>(steps.ids.length).fill(
    undefined,
  );
  const pluginOf = (name: string): StepPlugin | undefined => {
    const at = steps.positions.get(name);
    return at === undefined ? undefined : steps.plugins[at];
  };
  for (let i = 0; i < steps.ids.length; i++) {
    const plugin = steps.plugins[i];
    if (plugin === undefined) continue;
    const id = steps.ids[i]!;
    const step = steps.raws[i] as RawStep | null | undefined;
    // YAML can hold anything where a step is expected (reported by the schema check).
    if (step === undefined || step === null || typeof step !== 'object') continue;
    const wires: Record<string, PortWire> = {};
    const explicit = (step.inputs !== null && typeof step.inputs === 'object' ? step.inputs : {}) as Record<string, unknown>;
    for (const port of Object.keys(explicit)) {
      const ref = explicit[port];
      const location = (): SourceLocation => source.locate(['steps', id, 'inputs', port]);
      const spec = plugin.inputs[port];
      if (spec === undefined) {
        const suggestion = didYouMean(port, Object.keys(plugin.inputs));
        diagnostics.push(
          errorAt(
            'unknown-port',
            source.locate(['steps', id, 'inputs', port], 'key'),
            `${plugin.id} has no input "${port}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`,
            `inputs of ${plugin.id}: ${Object.keys(plugin.inputs).join(', ') || 'none'}`,
          ),
        );
        continue;
      }
      const expression = parseReference(ref);
      if (expression?.kind !== 'step-output') {
        diagnostics.push(
          errorAt(
            'bad-expression',
            location(),
            `input "${port}" must be one reference to a step output`,
            'write ${{ steps.ID.outputs.PORT }}',
          ),
        );
        continue;
      }
      // Every step with a plugin is a step: the one lookup answers both for a valid file.
      const upstream = pluginOf(expression.step);
      if (upstream === undefined) {
        if (!steps.isStep(expression.step))
          diagnostics.push(
            errorAt(
              'unknown-step',
              location(),
              `input "${port}" refers to step "${expression.step}", which does not exist`,
              `steps: ${steps.ids.join(', ')}`,
            ),
          );
        continue;
      }
      const out = upstream.outputs[expression.port];
      if (out === undefined) {
        diagnostics.push(
          errorAt(
            'unknown-port',
            location(),
            `step "${expression.step}" (${upstream.id}) has no output "${expression.port}"`,
            `outputs of ${upstream.id}: ${Object.keys(upstream.outputs).join(', ') || 'none'}`,
          ),
        );
        continue;
      }
      if (out.type !== spec.type) {
        diagnostics.push(
          errorAt(
            'port-type-mismatch',
            location(),
            `input "${port}" of step "${id}" takes ${spec.type}, but ${expression.step}.${expression.port} gives ${out.type}`,
            `wire a step output of type ${spec.type}`,
          ),
        );
        continue;
      }
      wires[port] = { step: expression.step, port: expression.port };
    }
    let needs: string[] | undefined;
    for (const [port, spec] of portEntries(plugin.inputs)) {
      if (port in wires || port in explicit) continue;
      needs ??= (Array.isArray(step.needs) ? step.needs : []).filter((n): n is string => typeof n === 'string' && steps.isStep(n));
      if (spec.explicit === true) {
        if (spec.optional !== true)
          diagnostics.push(
            errorAt(
              'unwired-input',
              source.locate(['steps', id], 'key'),
              `input "${port}" (${spec.type}) of step "${id}" is not wired`,
              `wire it under inputs:, e.g. inputs: { ${port}: "\${{ steps.ID.outputs.PORT }}" }`,
            ),
          );
        continue;
      }
      const candidates: PortWire[] = [];
      for (const need of needs) {
        const upstream = pluginOf(need);
        if (upstream !== undefined)
          for (const [outPort, out] of portEntries(upstream.outputs))
            if (out.type === spec.type) candidates.push({ step: need, port: outPort });
      }
      if (candidates.length === 1) wires[port] = candidates[0]!;
      else if (candidates.length > 1) {
        diagnostics.push({
          ...errorAt(
            'ambiguous-input',
            source.locate(['steps', id, 'needs']),
            `input "${port}" (${spec.type}) of step "${id}" could come from ${candidates.map((c) => `${c.step}.${c.port}`).join(' or ')}`,
            `choose one: inputs: { ${port}: "${formatStepOutput(candidates[0]!)}" }`,
          ),
          related: candidates.map((c) => ({ message: `candidate ${c.step}.${c.port}`, location: source.locate(['steps', c.step], 'key') })),
        });
      } else if (spec.optional !== true && needs.every((need) => pluginOf(need) !== undefined)) {
        // (A need whose plugin is unknown was reported already; its outputs cannot be known.)
        const providers = steps.ids.filter((_, at) => Object.values(steps.plugins[at]?.outputs ?? {}).some((o) => o.type === spec.type));
        diagnostics.push(
          errorAt(
            'unwired-input',
            source.locate(['steps', id], 'key'),
            `input "${port}" (${spec.type}) of step "${id}" is not wired`,
            providers.length ? `add one of ${providers.join(', ')} to needs:` : `add a step that outputs ${spec.type} to needs:`,
          ),
        );
      }
    }
    inputs[i] = wires;
  }
  return { inputs, diagnostics };
}
