/**
 * `scalenet demo`: README command (1). Installs what is missing (Temporal CLI, MinIO, Fashion-MNIST),
 * brings the local servers up, runs a worker in this process, runs examples/demo.yaml end to end with
 * live progress, and prints the family table. Servers stay up afterwards for `list`, `history`, `results`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { up } from '../../infra/local';
import { ensureDatasets, ensureNativeBackend, ensureTools } from '../../infra/tools';
import { createWorker } from '../../workers/main';
import { withClients } from '../client';
import { loadConfigFile } from '../config-file';
import { followRun } from '../progress';
import { UsageError } from '../errors';
import { familyTable, loadResults } from '../results';
import { writeRunReport } from './report';
import { newRunId, startRun } from './run';

/** `n` `scalenet worker` processes on `queue`, ended with this process (SCALENET_EXIT_WITH_PARENT). */
function spawnWorkers(n: number, queue: string): ChildProcess[] {
  const bin = join(__dirname, '..', '..', 'bin', 'scalenet.js');
  return Array.from({ length: n }, () => spawn(process.execPath, [bin, 'worker', '--queue', queue], {
    env: { ...process.env, SCALENET_EXIT_WITH_PARENT: '1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  }));
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('install what is missing, start the local servers and one worker process per core, and run a ScaleNet search on Fashion-MNIST (examples/demo.yaml)')
    .option('--config <file>', 'run config to use instead of the demo one', join(__dirname, '..', '..', 'examples', 'demo.yaml'))
    .option('--id <runId>', 'run id (default: demo-<UTC time>)')
    .option('--json', 'progress as JSON lines', false)
    .option('--workers <n>', 'compute worker processes, this one included (default: one per core)')
    .action(async (o: { config: string; id?: string; json: boolean; workers?: string }) => {
      const log = (m: string) => console.error(m);
      const t0 = Date.now();
      await ensureTools(log);
      await ensureDatasets(log);
      await ensureNativeBackend(log);
      const ep = await up({ log });
      log(`servers: Temporal ${ep.temporalAddress}, MinIO ${ep.s3Endpoint} (setup ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      const config = loadConfigFile(o.config);
      // One compute worker per core: tensor work blocks its process's event loop, so cores are used by
      // processes (this one plus cores − 1 children), each taking one activity at a time.
      const cores = Number(o.workers ?? availableParallelism());
      if (!Number.isInteger(cores) || cores < 1 || cores > 64) throw new UsageError(`--workers must be an integer in 1..64, got ${o.workers}`);
      const children = spawnWorkers(cores - 1, config.resources.taskQueues.compute);
      if (children.length > 0) log(`${cores} compute workers (this process + ${children.length} worker process${children.length > 1 ? 'es' : ''})`);
      const { worker, connection } = await createWorker({ taskQueue: config.resources.taskQueues.compute });
      const extra = config.resources.taskQueues.light !== config.resources.taskQueues.compute
        ? await createWorker({ taskQueue: config.resources.taskQueues.light, maxConcurrentActivities: 4 })
        : undefined;
      const running = Promise.all([worker.run(), extra?.worker.run()]);
      try {
        const runId = await startRun({ config, runId: o.id ?? newRunId(config) });
        log(`run ${runId} started; follow it from another shell with \`scalenet watch ${runId}\``);
        const state = await withClients(({ client }) => followRun(client, runId, { json: o.json }));
        if (state !== 'completed') {
          console.error(`run ${runId} ${state}; see \`scalenet history ${runId}\``);
          process.exitCode = 1;
          return;
        }
        const results = await withClients(({ client, store }) => loadResults(client, store, runId));
        console.log(familyTable(results));
        const report = await writeRunReport(runId, resolve(`report-${runId}.html`));
        console.log(`\nrun ${runId} completed in ${((Date.now() - t0) / 1000 / 60).toFixed(1)} min.`);
        console.log(`report: ${report.out}`);
        console.log(`next: scalenet history ${runId} | scalenet export ${runId} --model S1 | scalenet down`);
      } finally {
        for (const c of children) c.kill('SIGTERM');
        worker.shutdown();
        extra?.worker.shutdown();
        await running;
        await connection.close();
        await extra?.connection.close();
      }
    });
}
