// Owns `strand worker`: what a TPU node's startup script runs on each host. It reads the attempt's job
// from STRAND_JOB and its host index from STRAND_WORKER_INDEX, runs its shards, prints the step's events
// as JSON lines (the host's log) and exits 0 when its report says ok.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinSteps } from '../../../steps/index.js';
import { cloudSettings } from '../../cloud/cloud-settings.js';
import { EXIT_FAILED, EXIT_OK, type Command } from '../command.js';
import { UsageError } from '../parse-args.js';

export const workerCommand: Command = {
  usage: 'strand worker',
  flags: [],
  async run(_args, io) {
    const { WORKER_ENV } = await import('../../cloud/worker-contract.js');
    if (!io.env[WORKER_ENV.job] || !/^\d+$/.test(io.env[WORKER_ENV.index] ?? '')) {
      throw new UsageError(
        `strand worker runs on the hosts of a remote device and needs ${WORKER_ENV.job} and ${WORKER_ENV.index} in its environment (see docs/tpu.md, "Worker contract")`,
      );
    }
    const { runWorker } = await import('../../cloud/run-worker.js');
    const workdir = mkdtempSync(join(tmpdir(), 'strand-worker-'));
    const controller = new AbortController();
    const stop = (): void => controller.abort();
    process.on('SIGTERM', stop);
    try {
      const settings = cloudSettings(io.env);
      const report = await runWorker({
        env: io.env,
        plugins: builtinSteps,
        workdir,
        ...(settings.storageEndpoint ? { storageEndpoint: settings.storageEndpoint } : {}),
        emit: (event) => io.stdout(JSON.stringify(event) + '\n'),
        signal: controller.signal,
        pollMs: Math.min(settings.pollMs, 2_000),
        waitLimitMs: 30 * 60_000,
      });
      if (report.status === 'ok') {
        io.stderr(`worker ${report.worker}: ${report.produced} shards done (attempt ${report.attempt})\n`);
        return EXIT_OK;
      }
      io.stderr(`error: worker ${report.worker}: ${report.message}\n`);
      return EXIT_FAILED;
    } catch (error) {
      // Before a report could be written (no job spec, storage unreachable): the engine sees no report.
      io.stderr(`error: ${(error as Error).message}\n`);
      return EXIT_FAILED;
    } finally {
      process.off('SIGTERM', stop);
      rmSync(workdir, { recursive: true, force: true });
    }
  },
};
