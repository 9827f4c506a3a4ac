/** `scalenet up`, `down` and `worker`: the local servers and the worker process. */
import type { Command } from 'commander';
import { defaultStateDir, down, up } from '../../infra/local';
import { threadEnv } from '../../nn/backend';
import { runWorker, TASK_QUEUES } from '../../workers/main';
import { UsageError } from '../errors';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`port must be an integer from 1 to 65535, got ${JSON.stringify(value)}`);
  return n;
}

export function registerInfraCommands(program: Command): void {
  program
    .command('up')
    .description('install (if missing) and start the local Temporal dev server and MinIO; idempotent')
    .option('--state-dir <dir>', 'where server data, credentials and logs live', defaultStateDir())
    .option('--temporal-port <port>', 'Temporal gRPC port (default: 7233, or the port of the previous up)', port)
    .option('--minio-port <port>', 'MinIO S3 port (default: 9000, or the port of the previous up)', port)
    .option('--ui', 'also serve the Temporal web UI', false)
    .option('--ui-port <port>', 'web UI port (default: Temporal port + 1000)', port)
    .option('--json', 'print the endpoints as JSON', false)
    .action(async (o: { stateDir: string; temporalPort?: number; minioPort?: number; ui: boolean; uiPort?: number; json: boolean }) => {
      const ep = await up({ ...o, log: (m) => console.error(m) });
      if (o.json) {
        console.log(JSON.stringify({ stateDir: ep.stateDir, temporalAddress: ep.temporalAddress, s3Endpoint: ep.s3Endpoint, uiAddress: ep.uiAddress }));
        return;
      }
      console.log(`Temporal  ${ep.temporalAddress}${ep.uiAddress ? `  (web UI ${ep.uiAddress})` : ''}`);
      console.log(`MinIO     ${ep.s3Endpoint}  (credentials in ${ep.stateDir}/credentials.json)`);
      console.log(`state     ${ep.stateDir}`);
    });

  program
    .command('down')
    .description('stop the servers that `scalenet up` started; their data stays for the next `up`')
    .option('--state-dir <dir>', 'state directory given to up', defaultStateDir())
    .action(async (o: { stateDir: string }) => {
      const stopped = await down(o.stateDir);
      console.log(stopped.length ? `stopped: ${stopped.join(', ')}` : 'nothing was running');
    });

  program
    .command('worker')
    .description('run a worker that polls a task queue until SIGINT/SIGTERM')
    .option('--queue <name>', `task queue to poll; repeat for several (default: ${TASK_QUEUES.cpu}; GPU workers: ${TASK_QUEUES.gpu})`, (v: string, acc: string[] | undefined) => [...(acc ?? []), v])
    .option('--concurrency <n>', 'concurrent activities (one per device is best)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new UsageError(`--concurrency must be a positive integer, got ${JSON.stringify(v)}`);
      return n;
    }, 1)
    .option('--identity <id>', 'worker identity recorded in history (default pid@host)')
    .option('--threads <n>', 'threads of the tensor work in this process (default: every core); one-thread workers, one per core, evaluate and retrain faster than one worker using every core', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 1024) throw new UsageError(`--threads must be an integer in 1..1024, got ${JSON.stringify(v)}`);
      return n;
    })
    .action(async (o: { queue?: string[]; concurrency: number; identity?: string; threads?: number }) => {
      // Before the first activity starts TensorFlow, which reads these once.
      if (o.threads !== undefined) Object.assign(process.env, threadEnv(o.threads));
      await runWorker({ taskQueues: o.queue?.length ? o.queue : [TASK_QUEUES.cpu], maxConcurrentActivities: o.concurrency, identity: o.identity });
    });
}
