// Files the repository commits that its own code generates must match what the code generates now.
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildTinyNt, buildTinyNtFolder } from '../../scripts/build-tiny-nt.js';
import { recipeSchemaText, workflowSchemaText } from '../../engine/cli/commands/schema.js';
import { REPO } from '../helpers/project.js';

describe('committed generated files', () => {
  it('schemas/workflow.schema.json equals the generated schema (run `npm run schema` after changing a step)', () => {
    expect(readFileSync(join(REPO, 'schemas/workflow.schema.json'), 'utf8')).toBe(workflowSchemaText());
    expect(readFileSync(join(REPO, 'schemas/recipe.schema.json'), 'utf8')).toBe(recipeSchemaText());
  });

  it('models/tiny-nt.onnx is rebuilt byte for byte by scripts/build-tiny-nt.ts', () => {
    const committed = readFileSync(join(REPO, 'models/tiny-nt.onnx'));
    expect(committed.length).toBeLessThan(5 * 1024 * 1024);
    expect(Buffer.from(buildTinyNt()).equals(committed)).toBe(true);
  });

  it('models/tiny-nt/ (the same weights as a Hugging Face folder) is rebuilt byte for byte too', () => {
    const folder = buildTinyNtFolder();
    expect(readFileSync(join(REPO, 'models/tiny-nt/config.json'), 'utf8')).toBe(folder['config.json']);
    const committed = readFileSync(join(REPO, 'models/tiny-nt/model.safetensors'));
    expect(committed.length).toBeLessThan(5 * 1024 * 1024);
    expect(Buffer.from(folder['model.safetensors']).equals(committed)).toBe(true);
  });

  it('models/tiny-nt/model.onnx links to the ONNX form, so embed/nt runs the folder on either runtime', () => {
    expect(readlinkSync(join(REPO, 'models/tiny-nt/model.onnx'))).toBe('../tiny-nt.onnx');
  });
});
