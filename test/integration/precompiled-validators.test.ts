// The validators `npm run build` precompiled (dist/) are the ones ajv compiles at run time: one for every
// schema known at build time, reporting the same errors and filling the same defaults.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ErrorObject } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { buildTimeSchemas } from '../../scripts/build-validators.js';
import { builtinSteps } from '../../steps/index.js';
import { paramDefaultsSchema } from '../../engine/workflow/param-defaults.js';
import { AJV_OPTIONS, validatorKey } from '../../engine/workflow/schema-validator.js';
import { buildWorkflowSchema } from '../../engine/workflow/workflow-schema.js';
import { REPO } from '../helpers/project.js';

type Precompiled = typeof import('../../engine/workflow/precompiled-validators.js');
const { precompiledValidators } = (await import(
  pathToFileURL(join(REPO, 'dist/engine/workflow/precompiled-validators.js')).href
)) as Precompiled;

const brief = (errors: ErrorObject[] | null | undefined) =>
  (errors ?? []).map((e) => ({ path: e.instancePath, keyword: e.keyword, params: e.params, parent: e.parentSchema }));

describe('precompiled validators', () => {
  it('include one for every schema known at build time', () => {
    const missing = Object.entries(buildTimeSchemas()).flatMap(([purpose, schemas]) =>
      schemas.filter((s) => !precompiledValidators.has(validatorKey(s, purpose as 'located' | 'defaults'))).map((s) => s.$id ?? s),
    );
    expect(missing).toEqual([]);
  });

  it('report the errors ajv reports when it compiles the workflow schema at run time', () => {
    const schema = buildWorkflowSchema(builtinSteps);
    const precompiled = precompiledValidators.get(validatorKey(schema, 'located'))!;
    const compiled = new Ajv2020(AJV_OPTIONS.located).compile(schema);
    const workflow = {
      version: 2,
      name: '1bad',
      stepz: {},
      steps: {
        source: { uses: 'source/parquet', with: { path: 3, colum: 'x' } },
        embed: { uses: 'embed/onnx', needs: 'source', with: { batch_size: 'big' } },
      },
    };
    expect(precompiled(workflow)).toBe(false);
    expect(compiled(workflow)).toBe(false);
    expect(brief(precompiled.errors)).toEqual(brief(compiled.errors));
    expect(precompiled.errors!.length).toBeGreaterThan(4);
  });

  it("fill the defaults of every built-in step's with: as ajv does at run time", () => {
    for (const step of builtinSteps) {
      const schema = paramDefaultsSchema(step.with);
      const [fromBuild, fromRun] = [{}, {}];
      precompiledValidators.get(validatorKey(schema, 'defaults'))!(fromBuild);
      new Ajv2020(AJV_OPTIONS.defaults).compile(schema)(fromRun);
      expect(fromBuild, step.id).toEqual(fromRun);
    }
  });
});
