/**
 * Activity proxies shared by the run's workflows. Compute activities (tensors) go to the compute task
 * queue, light ones (data packing, records, reports) to the light queue; both from the run config.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { RunConfig } from '../core/config';

/** Errors that retrying cannot fix: bad config, dataset or architecture (DESIGN §4). */
export const NON_RETRYABLE = ['InvalidInput', 'InvalidInputError', 'DatasetFormatError', 'DatasetNotFoundError', 'InvalidKeyError'];

export interface ActivityTuning {
  /** Heartbeat timeout of compute activities in seconds: how fast a lost worker is noticed. Default 60. */
  heartbeatTimeoutSeconds?: number;
}

export function computeActivities(config: RunConfig, tuning: ActivityTuning = {}) {
  return proxyActivities<Activities>({
    taskQueue: config.resources.taskQueues.compute,
    startToCloseTimeout: '24 hours',
    heartbeatTimeout: `${tuning.heartbeatTimeoutSeconds ?? 60} seconds`,
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: NON_RETRYABLE },
  });
}

export function lightActivities(config: RunConfig) {
  return proxyActivities<Activities>({
    taskQueue: config.resources.taskQueues.light,
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: '2 minutes',
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: NON_RETRYABLE },
  });
}
