/**
 * Worker entry point (`scalenet worker`): polls one task queue, runs every workflow and the activities
 * built against the configured artifact store. SIGINT/SIGTERM shut it down gracefully (Temporal's runtime
 * stops polling and lets running activities finish or be cancelled).
 */
import { DefaultLogger, NativeConnection, Runtime, Worker, type LogLevel } from '@temporalio/worker';
import { createActivities } from '../activities';
import { resolveSettings, type Settings } from '../infra/settings';
import { ArtifactStore } from '../storage/store';
import { workflowCode } from './bundle';

/** Task queues: GPU work (training) and CPU work (evaluation, orchestration). */
export const TASK_QUEUES = { cpu: 'scalenet-cpu', gpu: 'scalenet-gpu' } as const;

export interface WorkerArgs {
  /** Task queue to poll. Default `scalenet-cpu` (where runs put everything unless configured otherwise). */
  taskQueue?: string;
  /** Concurrent activities. Default 1: one slot per device. */
  maxConcurrentActivities?: number;
  /** Worker identity shown in history. Default Temporal's `pid@host`. */
  identity?: string;
  settings?: Settings;
}

export function storeFromSettings(s: Settings): ArtifactStore {
  return new ArtifactStore({ endpoint: s.s3Endpoint, accessKey: s.s3AccessKey, secretKey: s.s3SecretKey, bucket: s.bucket });
}

let runtimeInstalled = false;

/** Worker logs at WARN unless SCALENET_LOG_LEVEL says otherwise (Temporal's INFO lines drown progress output). */
function installRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger((process.env.SCALENET_LOG_LEVEL ?? 'WARN') as LogLevel) });
  } catch {
    // Already installed by the embedding program (e.g. a test): keep its logger.
  }
}

export async function createWorker(args: WorkerArgs = {}): Promise<{ worker: Worker; connection: NativeConnection }> {
  installRuntime();
  const settings = args.settings ?? (await resolveSettings());
  const store = storeFromSettings(settings);
  await store.ensureBucket();
  const connection = await NativeConnection.connect({ address: settings.temporalAddress });
  const worker = await Worker.create({
    connection,
    namespace: settings.temporalNamespace,
    taskQueue: args.taskQueue ?? TASK_QUEUES.cpu,
    ...(await workflowCode()),
    activities: createActivities({ store }),
    maxConcurrentActivityTaskExecutions: args.maxConcurrentActivities ?? 1,
    // On SIGTERM running activities are cancelled at once; they commit a checkpoint and stop. Past this,
    // give up waiting (a stuck native call must not keep a node from draining forever).
    shutdownForceTime: '2 minutes',
    // Heartbeats carry the resume point and the progress shown by `watch`; the default throttle (up to
    // 60 s) would make both stale. SCALENET_HEARTBEAT_THROTTLE_MS overrides (tests use it to observe steps).
    maxHeartbeatThrottleInterval: Number(process.env.SCALENET_HEARTBEAT_THROTTLE_MS ?? 5_000),
    ...(args.identity ? { identity: args.identity } : {}),
  });
  return { worker, connection };
}

/**
 * Runs workers for one or more task queues in this process until SIGINT/SIGTERM. On a signal, Temporal
 * stops polling and cancels running activities, which commit a checkpoint before they stop.
 */
export async function runWorker(args: WorkerArgs & { taskQueues?: string[] } = {}): Promise<void> {
  const queues = args.taskQueues?.length ? args.taskQueues : [args.taskQueue ?? TASK_QUEUES.cpu];
  const settings = args.settings ?? (await resolveSettings());
  const started = await Promise.all(queues.map((taskQueue) => createWorker({ ...args, settings, taskQueue })));
  if (process.env.SCALENET_EXIT_WITH_PARENT === '1') {
    // Test harnesses set this so that a worker never outlives the process that spawned it.
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL');
    }, 1_000).unref();
  }
  for (const { worker } of started) console.error(`worker ${worker.options.identity} polling ${worker.options.taskQueue}`);
  try {
    await Promise.all(started.map(({ worker }) => worker.run()));
  } finally {
    await Promise.all(started.map(({ connection }) => connection.close()));
  }
}
