/**
 * The first vertical slice, and the template later stages follow: a workflow that asks an activity to
 * produce an artifact in MinIO (chunk by chunk, resumable from heartbeats), read it back verified, and
 * return only its reference.
 */
import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { SliceActivities } from '../activities/artifact-slice';
import type { ObjectRef } from '../core/refs';
import { STAGE } from './search-attributes';

export interface ArtifactSliceInput {
  /** Run id; the artifact lands under `runs/<runId>/slice/`. */
  runId: string;
  /** Number of chunks to produce. */
  chunks: number;
  /** Bytes per chunk. */
  chunkBytes: number;
  /** Seed of the (deterministic) content, so the final hash is known in advance. */
  seed: number;
  /** Milliseconds of simulated compute per chunk. Default 0. */
  paceMs?: number;
}

const { writeChunkedArtifact } = proxyActivities<SliceActivities>({
  startToCloseTimeout: '10 minutes',
  // Short heartbeat timeout: a killed worker is noticed in seconds and the retry resumes from the
  // last heartbeat instead of the beginning.
  heartbeatTimeout: '5 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', nonRetryableErrorTypes: ['InvalidKeyError'] },
});

export async function artifactSlice(input: ArtifactSliceInput): Promise<ObjectRef> {
  upsertSearchAttributes([{ key: STAGE, value: 'slice' }]);
  return writeChunkedArtifact(input);
}
