// An in-memory YamlSource for pure unit tests of the checker.
import { parseYamlSource, type YamlSource } from '../../engine/workflow/yaml-source.js';

export function yamlSource(text: string, file = 'flow.yaml'): YamlSource {
  const parsed = parseYamlSource(file, text);
  if (parsed.source === undefined) throw new Error(`test YAML does not parse: ${parsed.diagnostics.map((d) => d.message).join('; ')}`);
  return parsed.source;
}
