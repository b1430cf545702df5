// Owns `strand runs`: the runs recorded in a state directory, newest last, from their journals.
import { journalPath, listRuns, readJournal } from '../../run/journal.js';
import { EXIT_OK, JSON_FLAG, STATE_DIR_FLAG, type Command } from '../command.js';
import { stateFor } from '../open-workflow.js';
import { has } from '../parse-args.js';

export const runsCommand: Command = {
  usage: 'strand runs [--state-dir DIR] [--json]',
  flags: [STATE_DIR_FLAG, JSON_FLAG],
  async run(args, io) {
    const state = stateFor(args, io);
    const runs = listRuns(state.layout.runs).map((runId) => {
      const events = readJournal(journalPath(state.layout.runs, runId));
      const start = events.find((e) => e.kind === 'run-started');
      const end = events.find((e) => e.kind === 'run-finished');
      return {
        runId,
        workflow: start?.kind === 'run-started' ? start.workflow : '?',
        status: end?.kind === 'run-finished' ? end.status : 'killed',
        ran: events.filter((e) => e.kind === 'step-finished').length,
        cached: events.filter((e) => e.kind === 'step-cached').length,
        failed: events.filter((e) => e.kind === 'step-failed').length,
        durationMs: end?.kind === 'run-finished' ? end.durationMs : null,
      };
    });
    if (has(args, 'json')) io.stdout(JSON.stringify(runs, null, 2) + '\n');
    else if (runs.length === 0) io.stdout('no runs yet\n');
    else {
      for (const r of runs) {
        const took = r.durationMs === null ? '' : ` in ${(r.durationMs / 1000).toFixed(1)}s`;
        io.stdout(
          `${r.runId}  ${r.workflow}  ${r.status}${took}  ran ${r.ran}, cached ${r.cached}${r.failed ? `, failed ${r.failed}` : ''}\n`,
        );
      }
    }
    return EXIT_OK;
  },
};
