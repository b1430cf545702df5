// Owns `strand tpu list|status|delete FILE`: the Cloud TPU nodes Strand created (labelled strand=managed)
// in the projects and zones of a workflow's TPU devices, their state, and deleting them by hand (a node
// kept with keep: true, or one left by an engine that was killed).
import type { TpuNode } from '../../cloud/tpu-nodes.js';
import { EXIT_FAILED, EXIT_OK, JSON_FLAG, PARAM_FLAG, type Command } from '../command.js';
import { openWorkflow } from '../open-workflow.js';
import { has, UsageError } from '../parse-args.js';

function row(node: TpuNode, where: string): string {
  const hold = node.queuedResource ? ` queued:${node.queuedResource.state}` : '';
  return `${node.id}  ${node.state}${hold}  ${node.acceleratorType}  ${node.workers} host${node.workers === 1 ? '' : 's'}  ${node.labels['strand-workflow'] ?? '-'}.${node.labels['strand-step'] ?? '-'}  ${where}${node.createTime ? `  ${node.createTime}` : ''}`;
}

export const tpuCommand: Command = {
  usage: 'strand tpu list|status|delete FILE [NODE | --all] [--json]',
  flags: [PARAM_FLAG, JSON_FLAG, { name: 'all', description: 'delete: every node Strand created there' }],
  async run(args, io) {
    const [action, file, nodeId] = args.positionals;
    if (action !== 'list' && action !== 'status' && action !== 'delete')
      throw new UsageError(`strand tpu takes list, status or delete${action ? `, not "${action}"` : ''}`);
    if (action !== 'list' && nodeId === undefined && !(action === 'delete' && has(args, 'all')))
      throw new UsageError(`strand tpu ${action} needs a NODE${action === 'delete' ? ' (or --all)' : ''}`);
    const opened = await openWorkflow({ ...args, positionals: file === undefined ? [] : [file] }, io);
    if (opened === undefined) return EXIT_FAILED;
    const { cloudSettings } = await import('../../cloud/cloud-settings.js');
    const { tpuNodes } = await import('../../cloud/tpu-nodes.js');
    const settings = cloudSettings(io.env);
    const places = new Map<string, { project: string; zone: string }>();
    for (const device of Object.values(opened.workflow.devices)) {
      if (device.kind === 'tpu' && device.project && device.zone)
        places.set(`${device.project}/${device.zone}`, { project: device.project, zone: device.zone });
    }
    if (places.size === 0) {
      io.stderr(
        `error: ${file} declares no TPU device with project: and zone:\nhint: strand tpu looks for nodes where the workflow's TPU devices run\n`,
      );
      return EXIT_FAILED;
    }
    const found: { node: TpuNode; where: string; client: ReturnType<typeof tpuNodes> }[] = [];
    try {
      for (const [where, place] of places) {
        const client = tpuNodes(place, settings);
        for (const node of await client.list()) found.push({ node, where, client });
      }
      const chosen = action === 'list' || has(args, 'all') ? found : found.filter((f) => f.node.id === nodeId);
      if (action !== 'list' && chosen.length === 0 && nodeId !== undefined) {
        io.stderr(
          `error: no node "${nodeId}" created by Strand in ${[...places.keys()].join(', ')}\nhint: \`strand tpu list ${file}\` shows them\n`,
        );
        return EXIT_FAILED;
      }
      if (action === 'delete') {
        for (const f of chosen) {
          await f.client.delete(f.node.id);
          io.stdout(`deleted ${f.node.id} (${f.where})\n`);
        }
        if (chosen.length === 0) io.stdout('no nodes to delete\n');
        return EXIT_OK;
      }
      if (has(args, 'json'))
        io.stdout(
          JSON.stringify(
            chosen.map((f) => ({ ...f.node, location: f.where })),
            null,
            2,
          ) + '\n',
        );
      else if (chosen.length === 0) io.stdout(`no nodes created by Strand in ${[...places.keys()].join(', ')}\n`);
      else for (const f of chosen) io.stdout(row(f.node, f.where) + '\n');
      return EXIT_OK;
    } catch (error) {
      io.stderr(`error: ${(error as Error).message}\n`);
      return EXIT_FAILED;
    }
  },
};
