// Owns the canonical JSON form used for every digest: object keys sorted, no whitespace,
// so that two equal values always hash the same whatever order they were built in.

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new Error(`canonicalJson: non-finite number ${value}`);
    }
    return JSON.stringify(value ?? null);
  }
  // Loops and concatenation rather than entries/filter/map/join: every plan computes 100,000s of these.
  if (Array.isArray(value)) {
    let text = '[';
    for (let i = 0; i < value.length; i++) text += (i === 0 ? '' : ',') + (i in value ? canonicalJson(value[i]) : '');
    return text + ']';
  }
  // The default sort orders strings by UTF-16 code units, as `<` does.
  const keys = Object.keys(value).sort();
  let text = '{';
  for (const key of keys) {
    const item = (value as Record<string, unknown>)[key];
    if (item === undefined) continue;
    text += (text.length === 1 ? '' : ',') + quotedKey(key) + canonicalJson(item);
  }
  return text + '}';
}

/** `"key":` by key: a fingerprint's few field names recur in every step's key (a bounded table of a pure function). */
const quotedKeys = new Map<string, string>();

function quotedKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = JSON.stringify(key) + ':';
    if (quotedKeys.size < 1024) quotedKeys.set(key, quoted);
  }
  return quoted;
}
