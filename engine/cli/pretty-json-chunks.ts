// Owns writing a large plan as JSON in pieces: the exact text of `JSON.stringify(value, null, 2) + '\n'`,
// cut between the items of its `steps` array, so the whole document never exists as one string.

const STEPS_LINE = '\n  "steps": [],\n';
const ITEMS_PER_CHUNK = 500;

/**
 * `JSON.stringify(value, null, 2) + '\n'` as consecutive chunks. Each item of `value.steps` is stringified
 * alone and indented one level more; JSON strings hold no raw newline, so re-indenting at `\n` is exact.
 */
export function* prettyJsonChunks(value: { steps: readonly unknown[] }): Generator<string> {
  const shell = JSON.stringify({ ...value, steps: [] }, null, 2) + '\n';
  const at = shell.indexOf(STEPS_LINE);
  // The envelope's one `"steps": [],` line at the first level (nested text is indented deeper).
  if (value.steps.length === 0 || at === -1) {
    yield at === -1 ? JSON.stringify(value, null, 2) + '\n' : shell;
    return;
  }
  let chunk = shell.slice(0, at) + '\n  "steps": [\n';
  for (let i = 0; i < value.steps.length; i++) {
    const item = JSON.stringify(value.steps[i], null, 2) as string | undefined;
    chunk += `    ${item === undefined ? 'null' : item.replaceAll('\n', '\n    ')}${i < value.steps.length - 1 ? ',\n' : '\n'}`;
    if ((i + 1) % ITEMS_PER_CHUNK === 0) {
      yield chunk;
      chunk = '';
    }
  }
  yield chunk + '  ],' + shell.slice(at + STEPS_LINE.length - 1);
}
