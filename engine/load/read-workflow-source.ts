// Owns the first loading stage: read a workflow file and parse it into a located YAML source.
import { readFileSync } from 'node:fs';
import { errorAt, type Diagnostic } from '../diagnostics/diagnostic.js';
import { fail, ok, type Result } from '../util/result.js';
import { parseYamlSource, type YamlSource } from '../workflow/yaml-source.js';
import { withoutByteOrderMark } from '../util/byte-order-mark.js';

export function readWorkflowSource(file: string): Result<{ source: YamlSource; text: string }, Diagnostic[]> {
  let text: string;
  try {
    text = withoutByteOrderMark(readFileSync(file, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return fail([
      errorAt('file-not-found', { file, line: 1, column: 1, length: 1 }, `cannot read workflow file: ${code}`, 'check the path'),
    ]);
  }
  const parsed = parseYamlSource(file, text);
  return parsed.source === undefined ? fail(parsed.diagnostics) : ok({ source: parsed.source, text });
}
