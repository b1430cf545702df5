import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { copyValue, mapStrings, visitStrings } from '../../engine/workflow/map-strings.js';

describe('mapStrings', () => {
  it('visits every string with its path and copies everything else', () => {
    const seen: unknown[] = [];
    const value = { a: 'x', b: [1, 'y', { c: 'z' }], d: null, e: true };
    const mapped = mapStrings(value, (text, path) => (seen.push([text, path()]), text.toUpperCase()), ['steps', 's', 'with']);
    expect(mapped).toEqual({ a: 'X', b: [1, 'Y', { c: 'Z' }], d: null, e: true });
    expect(seen).toEqual([
      ['x', ['steps', 's', 'with', 'a']],
      ['y', ['steps', 's', 'with', 'b', 1]],
      ['z', ['steps', 's', 'with', 'b', 2, 'c']],
    ]);
    expect(value.a).toBe('x');
  });

  it('visits a bare string at the root path', () => {
    expect(mapStrings('a', (text, path) => [text, path()])).toEqual(['a', []]);
  });

  it('keeps a __proto__ key as data, and builds a path only when asked', () => {
    const mapped = mapStrings(JSON.parse('{"__proto__": "x", "a": ["y"]}'), (text) => text + '!') as Record<string, unknown>;
    expect(Object.keys(mapped)).toEqual(['__proto__', 'a']);
    expect(Object.getPrototypeOf(mapped)).toBe(Object.prototype);
    expect(mapped.a).toEqual(['y!']);
  });

  it('visits the same strings and paths without copying (visitStrings)', () => {
    const seen: unknown[] = [];
    expect(visitStrings({ a: 'x', b: [1, { c: 'z' }] }, (text, path) => void seen.push([text, path()]), ['w']) as unknown).toBeUndefined();
    expect(seen).toEqual([
      ['x', ['w', 'a']],
      ['z', ['w', 'b', 1, 'c']],
    ]);
  });

  it('copies as mapStrings copies (copyValue, random JSON values)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const copy = copyValue(value);
        expect(copy).toStrictEqual(mapStrings(value, (text) => text));
        if (value !== null && typeof value === 'object') expect(copy).not.toBe(value);
      }),
      { numRuns: 500, seed: 27 },
    );
  });
});
