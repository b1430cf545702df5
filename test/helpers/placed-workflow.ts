// A workflow of built-in steps, checked (no error allowed) and placed as `plan` places it, on a 2-core,
// 16 GiB machine with the device catalog: the set-up of every pure placement test.
import { expect } from 'vitest';
import { loadDeviceCatalog } from '../../engine/devices/device-catalog.js';
import { placeWorkflow, type PlaceOptions } from '../../engine/devices/place-workflow.js';
import { checkWorkflow } from '../../engine/workflow/check-workflow.js';
import { builtinSteps } from '../../steps/index.js';
import { yamlSource } from './fake-source.js';

export function placedWorkflow(text: string, modelFactsOf: PlaceOptions['modelFactsOf'] = () => undefined) {
  const source = yamlSource(text);
  const { workflow, diagnostics } = checkWorkflow({ source, plugins: new Map(builtinSteps.map((p) => [p.id, p])), overrides: {}, env: {} });
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const placed = placeWorkflow(workflow!, source, { catalog: loadDeviceCatalog(), cpu: { cores: 2, memoryBytes: 2 ** 34 }, modelFactsOf });
  return { source, workflow: workflow!, placed };
}
