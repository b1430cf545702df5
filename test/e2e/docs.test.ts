// The README is the front door and docs/ holds the rest: every relative link in them resolves (to a
// heading, when it names one), every command the README shows works as written, the CLI reference in
// docs/cli.md is the --help text, and the plugin example in docs/plugins.md runs.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI_REFERENCE_PAGE, withCliReference } from '../../scripts/cli-reference.js';
import { copyFromRepo, REPO, removeProjects, runCli, writeProject } from '../helpers/project.js';

afterEach(removeProjects);

const PAGES = [
  'README.md',
  ...readdirSync(join(REPO, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const read = (page: string): string => readFileSync(join(REPO, page), 'utf8');

/** The page's lines outside fenced code blocks. */
function prose(markdown: string): string[] {
  let fenced = false;
  return markdown.split('\n').filter((line) => {
    if (line.startsWith('```')) fenced = !fenced;
    return !fenced && !line.startsWith('```');
  });
}

/** GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of prose(markdown)) {
    const heading = /^#{1,6} (.*)$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const base = heading
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Every `[text](target)` outside code, with targets that are not URLs. */
function relativeLinks(markdown: string): string[] {
  const text = prose(markdown)
    .map((line) => line.replace(/`[^`]*`/g, ''))
    .join('\n');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

/** The README's shell commands: each line of its ```sh blocks, split at `&&`. */
function readmeCommands(): string[] {
  const blocks = [...read('README.md').matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
  return blocks.flatMap((block) =>
    block
      .replace(/\\\n\s*/g, ' ')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'))
      .flatMap((line) => line.split('&&').map((c) => c.trim())),
  );
}

describe('README and docs/', () => {
  it('runs `npx strand` after install with nothing on stderr (no npm config warning)', () => {
    const result = spawnSync('npx', ['strand', '--version'], { cwd: REPO, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('strand 0.1.0\n');
    expect(result.status).toBe(0);
  });

  it('keeps the README a front door: under 300 lines, linking every page of docs/', () => {
    const readme = read('README.md');
    expect(readme.split('\n').length).toBeLessThan(300);
    const linked = new Set(relativeLinks(readme).map((target) => target.split('#')[0]));
    expect(PAGES.filter((page) => page !== 'README.md' && !linked.has(page))).toEqual([]);
  });

  it('has only relative links that resolve, to a heading of the target when they name one', () => {
    const broken: string[] = [];
    for (const page of PAGES) {
      for (const target of relativeLinks(read(page))) {
        const [path, anchor] = target.split('#') as [string, string | undefined];
        const file = path === '' ? join(REPO, page) : resolve(dirname(join(REPO, page)), path);
        if (!existsSync(file)) broken.push(`${page}: ${target} (no ${relative(REPO, file)})`);
        else if (anchor !== undefined && !anchors(readFileSync(file, 'utf8')).has(anchor)) {
          broken.push(`${page}: ${target} (no heading #${anchor} in ${relative(REPO, file)})`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('finds GitHub anchors as GitHub writes them', () => {
    const page = '# A\n## Training on a TPU slice (`finetune/nt-lora`)\n## Tested here — never run\n```\n# not a heading\n```\n## A\n';
    expect([...anchors(page)]).toEqual(['a', 'training-on-a-tpu-slice-finetunent-lora', 'tested-here--never-run', 'a-1']);
  });

  it('shows only commands that work as written', () => {
    const commands = readmeCommands();
    // The quickstart's files, as a clone has them; `npx strand ARGS` is the built CLI run there.
    const root = writeProject({});
    copyFromRepo(root, 'workflows', 'models');
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string>; dependencies: Record<string, string> };
    const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { dependencies?: Record<string, string> }> };
    const ran: string[] = [];
    for (const command of commands) {
      const words = command.split(/\s+/);
      if (command === 'git clone <this repository> strand' || command === 'cd strand') continue; // where the reader got it
      if (command === 'npm ci') {
        // npm ci refuses a lock that does not match package.json.
        expect(lock.packages['']?.dependencies).toEqual(pkg.dependencies);
      } else if (words[0] === 'npm' && (words[1] === 'test' || words[1] === 'run')) {
        const script = words[1] === 'test' ? 'test' : words[2]!;
        expect(pkg.scripts[script], command).toBeDefined();
        if (script === 'test') expect(read('.ci/run')).toMatch(/^npm test$/m); // CI runs the README's test command
      } else if (words[0] === 'npx' && words[1] === 'strand') {
        expect(command, 'a command the test can split on spaces').not.toMatch(/["'`$]/);
        const result = runCli(words.slice(2), root);
        expect({ command, status: result.status, stderr: result.stderr }).toEqual({ command, status: 0, stderr: '' });
        expect(result.stdout, command).not.toBe('');
        ran.push(command);
      } else {
        throw new Error(`the README shows \`${command}\`: run it here or say how it is checked`);
      }
    }
    expect(ran).toEqual([
      'npx strand run workflows/quickstart.yaml',
      'npx strand search out/quickstart.lancedb --id KY106088 --k 5',
      'npx strand search out/quickstart.lancedb --sequence GTAACAAGGTTTCCGTAGGTGAACCTGCGGAAGGATCATTA --k 5',
    ]);
  });

  it('shows the workflow it explains exactly as workflows/quickstart.yaml has it (comments aside)', () => {
    const file = read('workflows/quickstart.yaml')
      .split('\n')
      .filter((line, i) => i === 0 || !line.startsWith('#'))
      .join('\n')
      .trim();
    expect(read('README.md')).toContain(file);
  });

  it('shows TPU steps that validate as written, given the source and tokens steps it leaves out', () => {
    const shown = /## On TPU slices\n[^]*?```yaml\n([^]*?)```/.exec(read('README.md'))?.[1];
    expect(shown).toBeDefined();
    const flow = `version: 1\nname: tpu\n${shown!}`.replace(
      'steps:\n',
      'steps:\n  source: { uses: source/parquet, with: { path: workflows/data/sample.parquet } }\n  tokens: { uses: tokenize/nucleotide-transformer, needs: [source] }\n',
    );
    const root = writeProject({ 'flow.yaml': flow });
    copyFromRepo(root, 'workflows/data/sample.parquet');
    cpSync(join(REPO, 'models/tiny-nt'), join(root, 'models/nt-500m'), { recursive: true });
    const result = runCli(['validate', 'flow.yaml'], root);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('flow.yaml: ok (4 steps: source, tokens, lora, embed)');
  });

  it(`has the CLI reference the command table generates in ${CLI_REFERENCE_PAGE} (run \`npm run docs\` after changing a command)`, async () => {
    const page = read(CLI_REFERENCE_PAGE);
    expect(await withCliReference(page)).toBe(page);
  });

  it('shows the plugin example that workflows/gc-content.yaml runs', () => {
    const plugin = read('workflows/plugins/gc-content.mjs');
    expect(read('docs/plugins.md')).toContain(plugin.split('\n').slice(1).join('\n').trim());
  });

  it('runs the local plugin example through the public API', async () => {
    const root = writeProject({ 'package.json': JSON.stringify({ name: 'user-project', type: 'module' }) });
    copyFromRepo(root, 'workflows/gc-content.yaml', 'workflows/plugins/gc-content.mjs', 'workflows/data/sample.parquet');
    // A user project resolves `strand` from node_modules; link this repository there.
    const { symlinkSync, mkdirSync } = await import('node:fs');
    mkdirSync(join(root, 'node_modules'));
    symlinkSync(REPO, join(root, 'node_modules', 'strand'));
    const run = runCli(['run', 'workflows/gc-content.yaml'], root);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/done +gc .*sequences=1000/);
    const { asyncBufferFromFile, parquetReadObjects } = await import('hyparquet');
    const rows = await parquetReadObjects({ file: await asyncBufferFromFile(join(root, 'out/gc.parquet')), columns: ['id', 'vector'] });
    const first = rows[0] as { id: string; vector: number[] };
    expect(first.id).toBe('KY106088');
    expect(first.vector[0]).toBeCloseTo(0.4636, 4);
  });
});
