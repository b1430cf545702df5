// The datasets under data/ are the ones their READMEs describe: every file listed with a sha256 in a
// README table is present and hashes to it, so a changed or truncated copy cannot pass unnoticed.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../helpers/project.js';

const DATA = join(REPO, 'data');
const datasets = readdirSync(DATA, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

describe('committed datasets', () => {
  it('has at least one dataset', () => {
    expect(datasets).toContain('mycoai-yeast-its');
  });

  for (const dataset of datasets) {
    it(`${dataset}: every file matches the sha256 its README gives`, () => {
      const readme = readFileSync(join(DATA, dataset, 'README.md'), 'utf8');
      const listed = [...readme.matchAll(/^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$/gm)].map(([, file, sha]) => ({ file, sha }));
      const files = readdirSync(join(DATA, dataset))
        .filter((name) => name !== 'README.md')
        .sort();
      expect(listed.map((entry) => entry.file).sort()).toEqual(files);
      for (const { file, sha } of listed) {
        expect(
          createHash('sha256')
            .update(readFileSync(join(DATA, dataset, file!)))
            .digest('hex'),
          file,
        ).toBe(sha);
      }
    });
  }
});
