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
import { threadEnv } from '../../nn/backend';
import { createWorker } from '../../workers/main';
import { supernetQueue, type RunConfig } from '../../core/config';
import { withClients } from '../client';
import { loadConfigFile } from '../config-file';
import { followRun } from '../progress';
import { UsageError } from '../errors';
import { familyTable, loadResults } from '../results';
import { writeRunReport } from './report';
import { newRunId, startRun } from './run';

/**
 * `n` `scalenet worker` processes on `queue`, ended with this process (SCALENET_EXIT_WITH_PARENT); with
 * `threads`, each one's TensorFlow and fused-kernel thread pools get that size (read when TensorFlow starts).
 */
function spawnWorkers(n: number, queue: string, threads?: number): ChildProcess[] {
  const bin = join(__dirname, '..', '..', 'bin', 'scalenet.js');
  const pools = threads === undefined ? {} : threadEnv(threads);
  return Array.from({ length: n }, () => spawn(process.execPath, [bin, 'worker', '--queue', queue], {
    env: { ...process.env, ...pools, SCALENET_EXIT_WITH_PARENT: '1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  }));
}

export interface WorkerLayout {
  /** Processes polling the supernet queue, each using every core (0 when it is the compute queue). */
  supernetWorkers: number;
  /** Processes polling the compute queue. */
  computeWorkers: number;
  /** Thread pool size of each compute worker process; undefined = TensorFlow's default (every core). */
  computeThreads?: number;
  /**
   * Queues this process polls, and how many activities it takes from each: always the workflows and light work;
   * with a config whose queues are not separate, the compute (and supernet) queue too, as a compute worker.
   */
  inProcess: { taskQueue: string; maxConcurrentActivities: number }[];
  description: string;
}

/**
 * How the demo uses the machine. A config with the same queue for compute and supernet work (the demo's) gets
 * one worker per core: this process plus cores − 1 children, each using every core (tensor work blocks a
 * process's event loop, so cores are used by processes). A config that gives the supernet a queue of its own, and
 * the light work another, gets one child using every core for the supernet and `cores` one-thread children for
 * evaluations and retraining. Measured on the demo (bench/README.md, "Worker layouts in the demo"): the same
 * family in 16.9 min against 16.4–17.0 min with one worker per core, so the demo keeps the simpler layout.
 */
export function workerLayout(config: RunConfig, cores: number, workers?: string): WorkerLayout {
  const q = config.resources.taskQueues;
  const supernet = supernetQueue(config);
  const separate = supernet !== q.compute && q.light !== q.compute && q.light !== supernet;
  const n = Number(workers ?? cores);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new UsageError(`--workers must be an integer in 1..64, got ${workers}`);
  // Light activities are short and mostly wait on the store: several at once, unless they share a compute queue.
  const light = { taskQueue: q.light, maxConcurrentActivities: q.light === q.compute ? 1 : 4 };
  if (!separate) {
    const tensorQueues = [...new Set([q.compute, supernet])].filter((t) => t !== q.light);
    return {
      supernetWorkers: 0,
      computeWorkers: n - 1,
      inProcess: [...tensorQueues.map((taskQueue) => ({ taskQueue, maxConcurrentActivities: 1 })), light],
      description: n === 1 ? '1 compute worker (this process)' : `${n} compute workers (this process + ${n - 1} worker process${n > 2 ? 'es' : ''}), each using every core`,
    };
  }
  return {
    supernetWorkers: 1,
    computeWorkers: n,
    computeThreads: 1,
    inProcess: [light],
    description: `workers: 1 supernet process (${cores} threads), ${n} one-thread compute processes, workflows and light work in this one`,
  };
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('install what is missing, start the local servers and one worker process per core, and run a ScaleNet search on Fashion-MNIST (examples/demo.yaml)')
    .option('--config <file>', 'run config to use instead of the demo one', join(__dirname, '..', '..', 'examples', 'demo.yaml'))
    .option('--id <runId>', 'run id (default: demo-<UTC time>)')
    .option('--json', 'progress as JSON lines', false)
    .option('--workers <n>', 'compute worker processes (default: one per core; this process is one of them unless the config gives the supernet and light work queues of their own)')
    .action(async (o: { config: string; id?: string; json: boolean; workers?: string }) => {
      const log = (m: string) => console.error(m);
      const t0 = Date.now();
      await ensureTools(log);
      await ensureDatasets(log);
      await ensureNativeBackend(log);
      const ep = await up({ log });
      log(`servers: Temporal ${ep.temporalAddress}, MinIO ${ep.s3Endpoint} (setup ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      const config = loadConfigFile(o.config);
      const cores = availableParallelism();
      const layout = workerLayout(config, cores, o.workers);
      const children = [
        ...spawnWorkers(layout.supernetWorkers, supernetQueue(config)),
        ...spawnWorkers(layout.computeWorkers, config.resources.taskQueues.compute, layout.computeThreads),
      ];
      log(layout.description);
      const inProcess = await Promise.all(layout.inProcess.map((w) => createWorker(w)));
      const running = Promise.all(inProcess.map(({ worker }) => worker.run()));
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
        for (const { worker } of inProcess) worker.shutdown();
        await running;
        for (const { connection } of inProcess) await connection.close();
      }
    });
}
