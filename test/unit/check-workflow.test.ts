import { describe, expect, it } from 'vitest';
import { checkWorkflow } from '../../engine/workflow/check-workflow.js';
import { formatDiagnostics } from '../../engine/diagnostics/format-diagnostic.js';
import { yamlSource } from '../helpers/fake-source.js';
import { TEST_PLUGINS } from '../helpers/test-plugins.js';

function check(text: string, overrides: Record<string, string> = {}, env: Record<string, string> = {}) {
  return checkWorkflow({ source: yamlSource(text), plugins: TEST_PLUGINS, overrides, env });
}

function problems(text: string, overrides: Record<string, string> = {}) {
  return check(text, overrides).diagnostics.map((d) => `${d.location.line}:${d.location.column} ${d.code} ${d.message}`);
}

const VALID = `version: 1
name: flow
params:
  n: { type: integer, default: 5 }
steps:
  seqs: { uses: test/make-seqs, with: { n: "\${{ params.n }}" } }
  toks: { uses: test/tokens, needs: [seqs], with: { k: 6 } }
  out: { uses: test/sink, needs: [toks] }
`;

describe('checkWorkflow', () => {
  it('accepts a valid workflow, orders steps topologically and keeps param types', () => {
    const { workflow, diagnostics } = check(VALID);
    expect(diagnostics).toEqual([]);
    expect(workflow!.steps.map((s) => s.id)).toEqual(['seqs', 'toks', 'out']);
    expect(workflow!.steps[0]!.params).toEqual({ n: 5 });
    expect(workflow!.steps[1]!.inputs).toEqual({ sequences: { step: 'seqs', port: 'sequences' } });
  });

  it('applies --param overrides with the declared type', () => {
    expect(check(VALID, { n: '9' }).workflow!.steps[0]!.params).toEqual({ n: 9 });
    expect(problems(VALID, { n: 'nine' })).toEqual(['4:3 invalid-param-override --param n: "nine" is not a integer']);
  });

  it('reports an unknown --param with a suggestion', () => {
    expect(problems(VALID, { m: '1' })[0]).toMatch(/^3:1 unknown-param --param m: the workflow has no param "m" \(did you mean "n"\?\)/);
  });

  it('reports an unknown key with its position and a "did you mean"', () => {
    const text = VALID.replace('needs: [seqs]', 'need: [seqs]');
    const d = check(text).diagnostics.find((x) => x.code === 'unknown-key')!;
    expect([d.location.line, d.location.column, d.message]).toEqual([7, 30, 'unknown key "need" in steps.toks (did you mean "needs"?)']);
  });

  it('reports a wrong type at the value', () => {
    expect(problems(VALID.replace('k: 6', 'k: six'))).toEqual(['7:56 wrong-type steps.toks.with.k must be integer, not string "six"']);
  });

  it('reports an unknown plugin with the closest built-in name', () => {
    expect(problems(VALID.replace('uses: test/tokens', 'uses: test/tokenz'))[0]).toBe(
      '7:17 unknown-plugin step "toks" uses unknown plugin "test/tokenz" (did you mean "test/tokens"?)',
    );
  });

  it('reports a needs target that is not a step', () => {
    expect(problems(VALID.replace('needs: [toks]', 'needs: [tok]'))).toContain(
      '8:35 unknown-step step "out" needs "tok", which is not a step (did you mean "toks"?)',
    );
  });

  it('reports every edge of a cycle', () => {
    const text = VALID.replace('uses: test/make-seqs,', 'uses: test/make-seqs, needs: [out],');
    const d = check(text).diagnostics.find((x) => x.code === 'needs-cycle')!;
    expect(d.message).toBe('steps form a cycle: seqs -> out -> toks -> seqs');
    expect(d.related!.map((r) => `${r.location.line}:${r.location.column} ${r.message}`)).toEqual([
      '6:41 "seqs" depends on "out" here',
      '8:35 "out" depends on "toks" here',
      '7:38 "toks" depends on "seqs" here',
    ]);
  });

  it('reports a port type mismatch on explicit inputs', () => {
    const text = VALID.replace(
      'uses: test/sink, needs: [toks]',
      'uses: test/sink, inputs: { tokens: "${{ steps.seqs.outputs.sequences }}" }',
    );
    expect(problems(text)).toEqual([
      '8:45 port-type-mismatch input "tokens" of step "out" takes tokens, but seqs.sequences gives sequences',
    ]);
  });

  it('names the candidates of an ambiguous input', () => {
    const text = `version: 1
name: flow
steps:
  two: { uses: test/two }
  toks: { uses: test/tokens, needs: [two] }
`;
    const d = check(text).diagnostics[0]!;
    expect(d.code).toBe('ambiguous-input');
    expect(d.message).toBe('input "sequences" (sequences) of step "toks" could come from two.left or two.right');
    expect(d.hint).toContain('inputs: { sequences: "${{ steps.two.outputs.left }}" }');
  });

  it('reports an unwired required input', () => {
    expect(problems(VALID.replace(', needs: [seqs]', ''))).toEqual([
      '7:3 unwired-input input "sequences" (sequences) of step "toks" is not wired',
    ]);
  });

  it('reports bad expressions and unknown params inside strings', () => {
    const text = VALID.replace('k: 6', 'k: "${{ param.k }}"').replace('"${{ params.n }}"', '"${{ params.m }}"');
    expect(problems(text)).toEqual([
      '6:45 unknown-param unknown param "m" (did you mean "n"?)',
      '7:57 bad-expression bad expression ${{ param.k }}',
    ]);
  });

  it('reports a param named like an Object property as unknown', () => {
    expect(problems(VALID.replace('"${{ params.n }}"', '"${{ params.toString }}"'))).toEqual([
      '6:45 unknown-param unknown param "toString"',
    ]);
  });

  it('collects every problem in one pass and formats them as file:line:column', () => {
    const text = VALID.replace('needs: [seqs]', 'need: [seqs]').replace('k: 6', 'k: six');
    const { diagnostics } = check(text);
    expect(diagnostics.map((d) => d.code).sort()).toEqual(['unknown-key', 'unwired-input', 'wrong-type']);
    const printed = formatDiagnostics(diagnostics, () => text);
    expect(printed).toContain('flow.yaml:7:55: error: steps.toks.with.k must be integer, not string "six" [wrong-type]');
    expect(printed).toContain('7 |   toks: { uses: test/tokens, need: [seqs], with: { k: six } }');
    expect(printed).toMatch(/\|\s+\^~~\n/);
    expect(printed).toContain('hint: ');
    expect(printed).toMatch(/3 errors, 0 warnings$/);
  });

  it('keeps secret values out of key params', () => {
    const text = `version: 1
name: flow
params:
  token: { type: string, secret: true, env: API_TOKEN }
steps:
  seqs: { uses: test/make-seqs, with: { file: "x-\${{ params.token }}" } }
`;
    const { workflow } = check(text, {}, { API_TOKEN: 's3cr3t' });
    expect(workflow!.steps[0]!.params).toEqual({ file: 'x-s3cr3t' });
    expect(workflow!.steps[0]!.keyParams).toEqual({ file: 'x-[secret:token]' });
    expect(workflow!.secrets).toEqual(['s3cr3t']);
  });

  it('asks for a missing secret with where to set it', () => {
    const text = `version: 1\nname: flow\nparams:\n  token: { type: string, secret: true, env: API_TOKEN }\nsteps:\n  seqs: { uses: test/make-seqs }\n`;
    const d = check(text).diagnostics[0]!;
    expect([d.code, d.location.line, d.hint]).toEqual(['missing-param', 4, 'set API_TOKEN in the environment or pass --param token=...']);
  });
});
