// Owns writing a large plan as JSON in pieces: the exact text of `JSON.stringify(value, null, 2) + '\n'`,
// cut between the items of its `steps` array, so the whole document never exists as one string.

const STEPS_LINE = '\n  "steps": [],\n';
const ITEMS_PER_CHUNK = 500;

/** `[[...items]]` stringified with two-space indent puts each item at the depth of `steps`' items. */
const OPEN = '[\n  [\n';
const CLOSE = '\n  ]\n]';

/**
 * `JSON.stringify(value, null, 2) + '\n'` as consecutive chunks: the envelope with an empty `steps`, cut at
 * that line, and the items stringified a few hundred at a time inside two brackets (so at the indent they
 * have in the whole document), the brackets' lines cut off. JSON.stringify does all the formatting. With
 * `item`, `steps` holds what each item is made from: the text is that of `steps.map(item)`, but only a
 * chunk's items exist at once (100,000 plan entries' JSON objects would otherwise live to the end).
 */
export function* prettyJsonChunks<T>(value: { steps: readonly T[] }, item: (step: T) => unknown = (step) => step): Generator<string> {
  const shell = JSON.stringify({ ...value, steps: [] }, null, 2) + '\n';
  // The envelope's one `"steps": [],` line at the first level (nested text is indented deeper).
  const at = shell.indexOf(STEPS_LINE);
  if (value.steps.length === 0 || at === -1) {
    yield at === -1 ? JSON.stringify({ ...value, steps: value.steps.map(item) }, null, 2) + '\n' : shell;
    return;
  }
  let head = shell.slice(0, at) + '\n  "steps": [\n';
  for (let start = 0; start < value.steps.length; start += ITEMS_PER_CHUNK) {
    const items = JSON.stringify([value.steps.slice(start, start + ITEMS_PER_CHUNK).map(item)], null, 2);
    // Apart, not `head + items`: the joined string would be copied whole again when it is written.
    yield head;
    yield items.slice(OPEN.length, items.length - CLOSE.length);
    head = ',\n';
  }
  yield '\n  ],' + shell.slice(at + STEPS_LINE.length - 1);
}
