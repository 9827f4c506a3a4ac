/**
 * The checkpoint loop shared by supernet training and retraining: train step by step, commit a
 * checkpoint every N steps or T seconds (whichever first), heartbeat the step and the latest manifest
 * key, and on cancellation or worker shutdown commit what was done before giving up.
 */
import { CancelledFailure, Context } from '@temporalio/activity';
import type { ObjectRef } from '../core/refs';
import type { Trainer, TrainerState } from '../nn/trainer';
import type { CheckpointStore, LoadedCheckpoint } from '../storage/checkpoints';
import { noteProgress } from './runtime';

/** What a heartbeat carries: the resume point a retry can use first. */
export interface TrainingHeartbeat {
  step: number;
  manifestKey: string | null;
}

export function encodeTrainer(state: TrainerState): Record<string, Uint8Array> {
  return { 'header.json': Buffer.from(JSON.stringify(state.header)), 'tensors.bin': state.bytes };
}

export function decodeTrainer(objects: Record<string, Buffer>): TrainerState {
  const header = objects['header.json'];
  const bytes = objects['tensors.bin'];
  if (!header || !bytes) throw new Error('checkpoint lacks header.json or tensors.bin');
  return { header: JSON.parse(header.toString('utf8')) as TrainerState['header'], bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

/**
 * The newest valid checkpoint at or before `maxStep`, preferring the one named by the last heartbeat of a
 * previous attempt (it is usually the newest; the listing is the fallback).
 */
export async function resumePoint(ck: CheckpointStore, maxStep: number, configHash: string): Promise<LoadedCheckpoint | undefined> {
  const hb = Context.current().info.heartbeatDetails as TrainingHeartbeat | undefined;
  const latest = await ck.loadLatestValid({ maxStep, configHash });
  if (hb?.manifestKey && latest && latest.manifestRef.key !== hb.manifestKey) {
    Context.current().log.warn('heartbeat named a checkpoint that is not the newest valid one', { heartbeat: hb.manifestKey, using: latest.manifestRef.key });
  }
  return latest;
}

export interface CheckpointLoopArgs<M> {
  trainer: Trainer;
  ck: CheckpointStore;
  configHash: string;
  /** Train until the trainer's step reaches this. */
  endStep: number;
  everySteps: number;
  everySeconds: number;
  /**
   * Intermediate checkpoints of this loop to keep (the newest ones; older ones are deleted after each commit).
   * The final checkpoint is never deleted. Default {@link DEFAULT_CHECKPOINTS_KEPT}.
   */
  keep?: number;
  /** Meta stored with each checkpoint (read back on resume); `final` for the checkpoint at `endStep`. */
  meta: (final: boolean) => M | Promise<M>;
  onStep?: (loss: number, step: number, level: number | null) => void;
}

/**
 * Test hook, for fault-injection tests that must act at an exact training step whatever the engine's speed:
 * with SCALENET_TEST_HOLD_AT_STEP=N, the first time this process's training reaches step N it stands still there
 * (heartbeating, cancellable) instead of going on, until it is killed or cancelled. Once per process: after a
 * cancellation, a resumed run in the same worker carries on. Unset in normal use.
 */
let hold: 'armed' | 'holding' | 'done' = 'armed';
function holdHere(step: number): boolean {
  if (hold === 'done' || step !== Number(process.env.SCALENET_TEST_HOLD_AT_STEP)) return false;
  hold = 'holding';
  return true;
}

/** Default of `resources.checkpointsKept`. */
export const DEFAULT_CHECKPOINTS_KEPT = 3;

/** Trains to `endStep` with periodic checkpoints; returns the manifest of the final checkpoint. */
export async function trainWithCheckpoints<M extends Record<string, unknown>>(a: CheckpointLoopArgs<M>): Promise<{ manifest: ObjectRef }> {
  const ctx = Context.current();
  let lastKey: string | null = null;
  let lastCommitStep = a.trainer.step;
  let lastCommitTime = Date.now();
  const intermediate: number[] = [];
  const commit = async () => {
    const state = await a.trainer.serialize();
    const final = a.trainer.step >= a.endStep;
    const meta = await a.meta(final);
    const r = await a.ck.commit({ step: a.trainer.step, configHash: a.configHash, attempt: ctx.info.attempt, objects: encodeTrainer(state), meta });
    lastKey = r.manifestRef.key;
    if (!final) {
      // Retention: a long training would otherwise keep every checkpoint it ever wrote.
      intermediate.push(a.trainer.step);
      while (intermediate.length > Math.max(1, a.keep ?? DEFAULT_CHECKPOINTS_KEPT)) await a.ck.remove(intermediate.shift()!);
    }
    lastCommitStep = a.trainer.step;
    lastCommitTime = Date.now();
    ctx.heartbeat({ step: a.trainer.step, manifestKey: lastKey } satisfies TrainingHeartbeat);
    return r.manifestRef;
  };
  while (a.trainer.step < a.endStep) {
    if (ctx.cancellationSignal.aborted) {
      // Worker shutdown or run cancellation: keep the work done so far, then stop.
      if (hold === 'holding') hold = 'done';
      if (a.trainer.step > lastCommitStep) await commit();
      throw new CancelledFailure(`stopped at step ${a.trainer.step}: ${String(ctx.cancellationSignal.reason ?? 'cancelled')}`);
    }
    if (holdHere(a.trainer.step)) {
      ctx.heartbeat({ step: a.trainer.step, manifestKey: lastKey } satisfies TrainingHeartbeat);
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    await a.trainer.train(1, (p) => {
      a.onStep?.(p.loss, p.step, p.level);
    });
    noteProgress();
    ctx.heartbeat({ step: a.trainer.step, manifestKey: lastKey } satisfies TrainingHeartbeat);
    const due = a.trainer.step - lastCommitStep >= a.everySteps || (Date.now() - lastCommitTime) / 1000 >= a.everySeconds;
    if (due && a.trainer.step < a.endStep) await commit();
  }
  return { manifest: await commit() };
}
