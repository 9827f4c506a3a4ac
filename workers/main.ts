/**
 * Worker entry point (`scalenet worker`): polls one task queue, runs every workflow and the activities
 * built against the configured artifact store. SIGINT/SIGTERM shut it down gracefully (Temporal's runtime
 * stops polling and lets running activities finish or be cancelled).
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { resolveSettings, type Settings } from '../infra/settings';
import { ArtifactStore } from '../storage/store';

/** Task queues: GPU work (training) and CPU work (evaluation, orchestration). */
export const TASK_QUEUES = { cpu: 'scalenet-cpu', gpu: 'scalenet-gpu' } as const;

export interface WorkerArgs {
  /** Task queue to poll. Default `scalenet-cpu`. */
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

export async function createWorker(args: WorkerArgs = {}): Promise<{ worker: Worker; connection: NativeConnection }> {
  const settings = args.settings ?? (await resolveSettings());
  const store = storeFromSettings(settings);
  await store.ensureBucket();
  const connection = await NativeConnection.connect({ address: settings.temporalAddress });
  const worker = await Worker.create({
    connection,
    namespace: settings.temporalNamespace,
    taskQueue: args.taskQueue ?? TASK_QUEUES.cpu,
    workflowsPath: require.resolve('../workflows'),
    activities: createActivities({ store }),
    maxConcurrentActivityTaskExecutions: args.maxConcurrentActivities ?? 1,
    ...(args.identity ? { identity: args.identity } : {}),
  });
  return { worker, connection };
}

/** Runs a worker until it is shut down by a signal. */
export async function runWorker(args: WorkerArgs = {}): Promise<void> {
  const { worker, connection } = await createWorker(args);
  console.error(`worker ${worker.options.identity} polling ${worker.options.taskQueue}`);
  try {
    await worker.run();
  } finally {
    await connection.close();
  }
}
