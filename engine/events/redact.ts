// Owns removing secret values from what leaves the process: text (plans, messages) and structured
// values (run events), so a secret is replaced wherever it appears, even inside a longer string.
const MASK = '[redacted]';

export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length > 0) out = out.split(secret).join(MASK);
  return out;
}

/** A copy of `value` with every string (object keys included) redacted; numbers and booleans are kept. */
export function redactValue(value: unknown, secrets: readonly string[]): unknown {
  if (typeof value === 'string') return redact(value, secrets);
  if (Array.isArray(value)) return value.map((v) => redactValue(v, secrets));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [redact(k, secrets), redactValue(v, secrets)]));
  return value;
}
