// Owns `strand graph FILE`: the step DAG as Mermaid (default) or Graphviz DOT.
import type { Workflow } from '../../workflow/workflow.js';
import { EXIT_FAILED, EXIT_OK, PARAM_FLAG, type Command } from '../command.js';
import { openWorkflow } from '../open-workflow.js';
import { flag, UsageError } from '../parse-args.js';

interface Edge {
  from: string;
  to: string;
  label: string;
}

function edgesOf(workflow: Workflow): Edge[] {
  const edges: Edge[] = [];
  for (const step of workflow.steps) {
    const fed = new Set<string>();
    for (const [port, wire] of Object.entries(step.inputs)) {
      edges.push({ from: wire.step, to: step.id, label: port });
      fed.add(wire.step);
    }
    for (const need of step.needs) if (!fed.has(need)) edges.push({ from: need, to: step.id, label: '' });
  }
  return edges;
}

export function renderGraph(workflow: Workflow, format: 'mermaid' | 'dot'): string {
  const edges = edgesOf(workflow);
  if (format === 'mermaid') {
    // Mermaid node ids are plain words; recipe steps are namespaced with dots.
    const node = (id: string): string => id.replace(/[^A-Za-z0-9_]/g, '_');
    return (
      [
        'flowchart TD',
        ...workflow.steps.map((s) => `  ${node(s.id)}["${s.id}<br/><small>${s.uses}</small>"]`),
        ...edges.map((e) => `  ${node(e.from)} -->${e.label ? `|${e.label}|` : ''} ${node(e.to)}`),
      ].join('\n') + '\n'
    );
  }
  return (
    [
      `digraph "${workflow.name}" {`,
      '  rankdir=TB;',
      ...workflow.steps.map((s) => `  "${s.id}" [shape=box, label="${s.id}\\n${s.uses}"];`),
      ...edges.map((e) => `  "${e.from}" -> "${e.to}"${e.label ? ` [label="${e.label}"]` : ''};`),
      '}',
    ].join('\n') + '\n'
  );
}

export const graphCommand: Command = {
  usage: 'strand graph FILE [--format mermaid|dot]',
  flags: [PARAM_FLAG, { name: 'format', value: 'mermaid|dot', description: 'output format (default mermaid)' }],
  async run(args, io) {
    const format = flag(args, 'format') ?? 'mermaid';
    if (format !== 'mermaid' && format !== 'dot') throw new UsageError(`--format is mermaid or dot, not "${format}"`);
    const opened = await openWorkflow(args, io);
    if (opened === undefined) return EXIT_FAILED;
    io.stdout(renderGraph(opened.workflow, format));
    return EXIT_OK;
  },
};
