/**
 * Activity proxies shared by the run's workflows. Compute activities (tensors) go to the compute task
 * queue, light ones (data packing, records, reports) to the light queue; both from the run config.
 *
 * Retries follow the failure class (core/errors.ts): input, format, integrity and invariant errors fail at
 * once; transient ones retry with backoff within the config's budget per activity kind
 * (`resources.retries`), so nothing retries forever.
 */
import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { RETRY_DEFAULTS, type RunConfig } from '../core/config';
import { NON_RETRYABLE_ERROR_TYPES } from '../core/errors';

/** Errors that retrying cannot fix: bad config, dataset or architecture, corrupt objects, broken invariants (DESIGN §4). */
export const NON_RETRYABLE: readonly string[] = NON_RETRYABLE_ERROR_TYPES;

/** Smallest heartbeat timeout: a heartbeat is throttled to a fraction of it, and below this Temporal's own latency dominates. */
export const MIN_HEARTBEAT_TIMEOUT_SECONDS = 5;

export interface ActivityTuning {
  /** Heartbeat timeout of compute activities in seconds: how fast a lost worker is noticed. Default 60. */
  heartbeatTimeoutSeconds?: number;
}

/** Which budget of `resources.retries` an activity spends. */
export type ActivityKind = 'training' | 'evaluation' | 'light';

/** The retry options of an activity kind. */
export function retryOptions(config: RunConfig, kind: ActivityKind): Pick<ActivityOptions, 'retry' | 'scheduleToCloseTimeout'> {
  // Child workflows of runs recorded before `resources.retries` existed carry configs without it (replay).
  const budget = (config.resources.retries as RunConfig['resources']['retries'] | undefined)?.[kind] ?? RETRY_DEFAULTS[kind];
  return {
    scheduleToCloseTimeout: `${budget.scheduleToCloseSeconds} seconds`,
    retry: {
      initialInterval: '2 seconds',
      backoffCoefficient: 2,
      maximumInterval: '1 minute',
      maximumAttempts: budget.maximumAttempts,
      nonRetryableErrorTypes: [...NON_RETRYABLE],
    },
  };
}

function heartbeatSeconds(tuning: ActivityTuning): number {
  const s = tuning.heartbeatTimeoutSeconds;
  // The CLI refuses bad values; a workflow started otherwise still never gets a zero, negative or NaN timeout.
  return s !== undefined && Number.isFinite(s) && s >= MIN_HEARTBEAT_TIMEOUT_SECONDS ? s : 60;
}

export function computeActivities(config: RunConfig, tuning: ActivityTuning = {}, kind: Exclude<ActivityKind, 'light'> = 'training', taskQueue = config.resources.taskQueues.compute) {
  return proxyActivities<Activities>({
    taskQueue,
    startToCloseTimeout: '24 hours',
    heartbeatTimeout: `${heartbeatSeconds(tuning)} seconds`,
    ...retryOptions(config, kind),
  });
}

/**
 * prepare-data runs on the light queue. For an image folder it is long work (every file is decoded) that
 * heartbeats per file and per shard, so a killed worker is noticed after the compute heartbeat timeout, not
 * the light activities' 2 minutes, and liveness rests on heartbeats rather than a 30-minute cap that a large
 * folder would outgrow (each retry resumes at the first missing shard). The in-memory kinds read their files
 * in one synchronous call that cannot heartbeat, so they keep the light options.
 */
export function prepareDataActivity(config: RunConfig, tuning: ActivityTuning = {}) {
  if (config.dataset.kind !== 'image-folder') return lightActivities(config).prepareData;
  return proxyActivities<Activities>({
    taskQueue: config.resources.taskQueues.light,
    startToCloseTimeout: '24 hours',
    heartbeatTimeout: `${heartbeatSeconds(tuning)} seconds`,
    ...retryOptions(config, 'light'),
  }).prepareData;
}

export function lightActivities(config: RunConfig) {
  return proxyActivities<Activities>({
    taskQueue: config.resources.taskQueues.light,
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: '2 minutes',
    ...retryOptions(config, 'light'),
  });
}
