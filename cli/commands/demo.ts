/**
 * `scalenet demo`: README command (1). Installs what is missing (Temporal CLI, MinIO, Fashion-MNIST),
 * brings the local servers up, runs a worker in this process, runs examples/demo.yaml end to end with
 * live progress, and prints the family table. Servers stay up afterwards for `list`, `history`, `results`.
 */
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { up } from '../../infra/local';
import { ensureDatasets, ensureNativeBackend, ensureTools } from '../../infra/tools';
import { createWorker } from '../../workers/main';
import { withClients } from '../client';
import { loadConfigFile } from '../config-file';
import { followRun } from '../progress';
import { familyTable, loadResults } from '../results';
import { writeRunReport } from './report';
import { newRunId, startRun } from './run';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('install what is missing, start the local servers and a worker, and run a ScaleNet search on Fashion-MNIST (~5 min on 2 cores with the native backend)')
    .option('--config <file>', 'run config to use instead of the demo one', join(__dirname, '..', '..', 'examples', 'demo.yaml'))
    .option('--id <runId>', 'run id (default: demo-<UTC time>)')
    .option('--json', 'progress as JSON lines', false)
    .action(async (o: { config: string; id?: string; json: boolean }) => {
      const log = (m: string) => console.error(m);
      const t0 = Date.now();
      await ensureTools(log);
      await ensureDatasets(log);
      await ensureNativeBackend(log);
      const ep = await up({ log });
      log(`servers: Temporal ${ep.temporalAddress}, MinIO ${ep.s3Endpoint} (setup ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      const config = loadConfigFile(o.config);
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
        worker.shutdown();
        extra?.worker.shutdown();
        await running;
        await connection.close();
        await extra?.connection.close();
      }
    });
}
