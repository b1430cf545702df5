import { describe, expect, it } from 'vitest';
import { parseYamlSource } from '../../engine/workflow/yaml-source.js';

describe('parseYamlSource', () => {
  it('locates values and keys by path', () => {
    const { source } = parseYamlSource('f.yaml', 'a:\n  b: [1, two]\n  c: { d: x }\n');
    expect(source!.locate(['a', 'b', 1])).toEqual({ file: 'f.yaml', line: 2, column: 10, length: 3 });
    expect(source!.locate(['a', 'c', 'd'], 'key')).toEqual({ file: 'f.yaml', line: 3, column: 8, length: 1 });
  });

  it('falls back to the nearest existing ancestor', () => {
    const { source } = parseYamlSource('f.yaml', 'a:\n  b: 1\n');
    expect(source!.locate(['a', 'missing', 'deeper']).line).toBe(2);
  });

  it('reports YAML syntax errors with a position', () => {
    const { source, diagnostics } = parseYamlSource('f.yaml', 'a: [1, 2\nb: 3\n');
    expect(source).toBeUndefined();
    expect(diagnostics[0]!.code).toBe('yaml-syntax');
    expect(diagnostics[0]!.location.line).toBeGreaterThan(0);
  });

  it('reports duplicate keys', () => {
    const { diagnostics } = parseYamlSource('f.yaml', 'a: 1\na: 2\n');
    expect(diagnostics.map((d) => [d.code, d.location.line])).toEqual([['yaml-syntax', 2]]);
  });

  it('refuses a billion-laughs alias bomb', () => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++)
      lines.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    const { source, diagnostics } = parseYamlSource('bomb.yaml', lines.join('\n') + '\n');
    expect(source).toBeUndefined();
    expect(diagnostics[0]!.code).toBe('yaml-alias-limit');
  });
});
