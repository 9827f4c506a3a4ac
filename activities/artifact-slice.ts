/**
 * Activity of the vertical slice: produce a deterministic artifact chunk by chunk, heartbeating progress
 * so that a retry after a lost worker resumes where the last attempt left off, then assemble it, read it
 * back verified and return its reference.
 */
import { createHash } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { ObjectRef } from '../core/refs';
import type { ArtifactStore } from '../storage/store';
import { objectKey } from '../storage/store';
import type { ArtifactSliceInput } from '../workflows/artifact-slice';

/** What a heartbeat carries: enough to resume without redoing finished chunks. */
interface SliceProgress {
  done: number;
  parts: ObjectRef[];
}

/** Deterministic content of chunk `i`: sha256 in counter mode over (seed, i). */
export function sliceChunk(seed: number, i: number, bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  for (let off = 0, ctr = 0; off < bytes; off += 32, ctr++) {
    createHash('sha256').update(`${seed}:${i}:${ctr}`).digest().copy(out, off);
  }
  return out;
}

export function createSliceActivities(store: ArtifactStore) {
  return {
    async writeChunkedArtifact(input: ArtifactSliceInput): Promise<ObjectRef> {
      if (!Number.isInteger(input.chunks) || input.chunks < 1) {
        throw ApplicationFailure.nonRetryable(`chunks must be a positive integer, got ${input.chunks}`, 'InvalidInput');
      }
      const ctx = Context.current();
      const resumed = ctx.info.heartbeatDetails as SliceProgress | undefined;
      const progress: SliceProgress = resumed ?? { done: 0, parts: [] };
      if (resumed) ctx.log.info('resuming from heartbeat', { done: resumed.done, attempt: ctx.info.attempt });
      const dir = ['runs', input.runId, 'slice'];
      for (let i = progress.done; i < input.chunks; i++) {
        if (input.paceMs) await ctx.sleep(input.paceMs); // simulated compute; cancellable
        const part = await store.putBuffer(objectKey(...dir, `part-${String(i).padStart(5, '0')}`), sliceChunk(input.seed, i, input.chunkBytes));
        progress.parts.push(part);
        progress.done = i + 1;
        ctx.heartbeat(progress);
      }
      const whole = Buffer.concat(await Promise.all(progress.parts.map((p) => store.getVerified(p))));
      const ref = await store.putBuffer(objectKey(...dir, 'artifact.bin'), whole);
      await store.getVerified(ref); // read back: the reference we return is known good
      return ref;
    },
  };
}

export type SliceActivities = ReturnType<typeof createSliceActivities>;
