import { describe, expect, it } from 'vitest';
import { prettyJsonChunks } from '../../engine/cli/pretty-json-chunks.js';

const whole = (value: { steps: readonly unknown[] }): string => [...prettyJsonChunks(value)].join('');

describe('prettyJsonChunks', () => {
  it('writes the same text as JSON.stringify with two-space indent', () => {
    const value = {
      workflow: 'w "steps": [],\n',
      file: 'f.yaml',
      steps: Array.from({ length: 1203 }, (_, i) => ({
        step: `s${i}`,
        reasons: i % 2 ? [] : [{ kind: 'x', text: 'line\nbreak "steps": [],' }],
        nested: { a: [1, { b: null }], e: {} },
      })),
      diagnostics: [{ message: '\n  "steps": [],\n' }],
      preflight: { compiled: 0 },
    };
    expect(whole(value)).toBe(JSON.stringify(value, null, 2) + '\n');
    expect([...prettyJsonChunks(value)].length).toBeGreaterThan(1);
  });

  it('writes an empty plan and a single step exactly', () => {
    for (const steps of [[], [{ step: 'a' }], [null, 'x', 3]]) {
      const value = { workflow: 'w', steps, diagnostics: [] };
      expect(whole(value)).toBe(JSON.stringify(value, null, 2) + '\n');
    }
  });

  it('makes each item with `item` as it writes it, to the text of the mapped array', () => {
    const value = { workflow: 'w', steps: Array.from({ length: 1201 }, (_, i) => i), diagnostics: [] };
    const made: number[] = [];
    const item = (i: number) => (made.push(i), { step: `s${i}`, odd: i % 2 === 1 ? [i] : null });
    const text = [...prettyJsonChunks(value, item)].join('');
    expect(text).toBe(
      JSON.stringify({ ...value, steps: value.steps.map((i) => ({ step: `s${i}`, odd: i % 2 === 1 ? [i] : null })) }, null, 2) + '\n',
    );
    expect(made).toEqual(value.steps);
  });
});
