// Owns `strand cache [ls]|verify|gc`: list completed step results (also with no verb, as `strand runs`
// lists runs), verify every object's digest (corrupt ones are deleted so they are recomputed), and collect
// garbage.
import { collectGarbage } from '../../store/collect-garbage.js';
import { acquireStateLock } from '../../store/state-lock.js';
import { EXIT_FAILED, EXIT_OK, JSON_FLAG, STATE_DIR_FLAG, type Command } from '../command.js';
import { stateFor } from '../open-workflow.js';
import { flag, has, UsageError } from '../parse-args.js';

function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(text.trim());
  if (!m) throw new UsageError(`--max-size takes a size like 500M or 2G, got "${text}"`);
  return Math.round(Number(m[1]) * 1024 ** ' kmgt'.indexOf((m[2] || ' ').toLowerCase()));
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export const cacheCommand: Command = {
  usage: 'strand cache [ls|verify|gc] [--state-dir DIR] [--max-size SIZE] [--json]',
  flags: [
    STATE_DIR_FLAG,
    JSON_FLAG,
    { name: 'max-size', value: 'SIZE', description: 'gc: also cap the store (e.g. 2G), dropping the oldest results' },
  ],
  async run(args, io) {
    const state = stateFor(args, io);
    const action = args.positionals[0] ?? 'ls';
    switch (action) {
      case 'ls': {
        const records = state.records().sort((a, b) => a.finishedAt.localeCompare(b.finishedAt));
        if (has(args, 'json'))
          io.stdout(
            JSON.stringify(
              records.map(({ key, workflow, step, finishedAt, summary }) => ({ key, workflow, step, finishedAt, summary })),
              null,
              2,
            ) + '\n',
          );
        else if (records.length === 0) io.stdout('the cache is empty\n');
        else
          for (const r of records) io.stdout(`${r.key.slice(0, 12)}  ${r.workflow}.${r.step}  ${r.fingerprint.plugin}  ${r.finishedAt}\n`);
        return EXIT_OK;
      }
      case 'verify': {
        const { objects, temporaries } = state.objects.list();
        const corrupt: string[] = [];
        for (const { digest } of objects) {
          const read = state.objects.read(digest);
          if (!read.ok && read.error.kind === 'object-corrupt') {
            corrupt.push(digest);
            state.objects.remove(digest);
          }
        }
        if (has(args, 'json'))
          io.stdout(JSON.stringify({ objects: objects.length, corrupt, temporaries: temporaries.length }, null, 2) + '\n');
        else {
          io.stdout(
            `${objects.length} objects checked, ${corrupt.length} corrupt${temporaries.length ? `, ${temporaries.length} leftover temporaries (removed by gc)` : ''}\n`,
          );
          for (const d of corrupt) io.stdout(`  corrupt (deleted; the steps using it will run again): ${d}\n`);
        }
        return corrupt.length > 0 ? EXIT_FAILED : EXIT_OK;
      }
      case 'gc': {
        const maxSize = flag(args, 'max-size');
        const lock = acquireStateLock(state.layout.lock, 'strand cache gc', new Date());
        if (!lock.acquired) {
          io.stderr(
            `error: a run (pid ${lock.holder.pid}, ${lock.holder.command}) is using ${state.layout.root}\nhint: run gc when it has finished\n`,
          );
          return EXIT_FAILED;
        }
        if (lock.recovered) io.stderr(`note: recovered a lock left by pid ${lock.recovered.pid} (no longer running)\n`);
        try {
          const report = collectGarbage(state, maxSize === undefined ? undefined : parseSize(maxSize));
          if (has(args, 'json')) io.stdout(JSON.stringify(report, null, 2) + '\n');
          else
            io.stdout(
              `kept ${report.keptRecords} results (${mib(report.keptBytes)}); removed ${report.removedRecords} results and ${report.removedObjects} objects (${mib(report.freedBytes)})\n`,
            );
        } finally {
          lock.release();
        }
        return EXIT_OK;
      }
      default:
        throw new UsageError(`strand cache takes ls (the default), verify or gc, not "${action}"`);
    }
  },
};
