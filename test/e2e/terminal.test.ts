// The real CLI in a pseudo-terminal (tmux): the interactive plan view and the live run view.
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, copyFromRepo, removeProjects, waitFor, writeProject } from '../helpers/project.js';

const sessions: string[] = [];
afterEach(() => {
  for (const s of sessions.splice(0)) execFileSync('tmux', ['kill-session', '-t', s], { stdio: 'ignore' });
  removeProjects();
});

function startTerminal(command: string, cwd: string): { screen: () => string; keys: (...k: string[]) => void } {
  const name = `strand-test-${process.pid}-${sessions.length}`;
  sessions.push(name);
  // A person at a terminal: CI (set when this suite runs in CI) is not in their environment.
  execFileSync('tmux', [
    'new-session',
    '-d',
    '-s',
    name,
    '-x',
    '100',
    '-y',
    '30',
    '-c',
    cwd,
    `env -u CI -u CONTINUOUS_INTEGRATION NO_COLOR=1 ${command}; echo EXIT=$?; sleep 60`,
  ]);
  return {
    screen: () => execFileSync('tmux', ['capture-pane', '-p', '-t', name], { encoding: 'utf8' }),
    keys: (...k) => void execFileSync('tmux', ['send-keys', '-t', name, ...k]),
  };
}

function project(): string {
  const root = writeProject({});
  copyFromRepo(root, 'workflows/quickstart.yaml', 'workflows/data/sample.parquet', 'models/tiny-nt.onnx');
  return root;
}

describe('on a terminal', () => {
  it('shows the plan interactively: move, open details, quit', async () => {
    const root = project();
    const term = startTerminal(`node ${CLI} plan workflows/quickstart.yaml`, root);
    await waitFor(() => term.screen().includes('q quit'), 'the plan view');
    expect(term.screen()).toMatch(/› will run +source +source\/parquet +local cpu +no previous result/);
    term.keys('Down');
    await waitFor(() => /› will run +tokens/.test(term.screen()), 'the selection to move');
    term.keys('Enter');
    await waitFor(() => term.screen().includes('tokens (tokenize/nucleotide-transformer)'), 'the details pane');
    expect(term.screen()).toContain('input sequences: source.sequences');
    term.keys('q');
    await waitFor(() => term.screen().includes('EXIT=0'), 'the plan view to quit');
  });

  it('prints the plain plan on a terminal when CI is set', async () => {
    const root = project();
    const term = startTerminal(`env CI=true node ${CLI} plan workflows/quickstart.yaml`, root);
    await waitFor(() => term.screen().includes('EXIT=0'), 'the plain plan');
    expect(term.screen()).toMatch(/will run +source +source\/parquet +no previous result/);
    expect(term.screen()).not.toContain('q quit');
  });

  it('shows the run live and ends with a summary', async () => {
    const root = project();
    const term = startTerminal(`node ${CLI} run workflows/quickstart.yaml`, root);
    await waitFor(() => term.screen().includes('EXIT=0'), 'the run to finish');
    const screen = term.screen();
    expect(screen).toMatch(/done +source +\d+\.\ds/);
    expect(screen).toMatch(/done +vectors/);
    expect(screen).toContain('ok in');
    expect(screen).toContain('4 ran, 0 cached');
    expect(screen).toContain('output: out/quickstart.lancedb');
  });
});
