import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../engine/util/canonical-json.js';

/** The definition: keys sorted by code unit, undefined members left out, no whitespace. */
function reference(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`).join(',')}}`;
}

describe('canonicalJson', () => {
  it('sorts keys by code unit and leaves out undefined members', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], B: undefined, é: {}, Z: { y: 2, x: 1 } })).toBe(
      '{"Z":{"x":1,"y":2},"a":[true,null,"x"],"b":1,"é":{}}',
    );
  });

  it('writes what the definition writes (random JSON values)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJson(value)).toBe(reference(value));
      }),
      { numRuns: 500, seed: 27 },
    );
  });

  it('refuses a number JSON cannot hold', () => {
    expect(() => canonicalJson({ a: Infinity })).toThrow(/non-finite/);
  });
});
