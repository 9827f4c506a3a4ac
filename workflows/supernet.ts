/**
 * Stage 2: train the super-supernet, one activity per epoch. Each epoch activity checkpoints in MinIO and
 * resumes from the newest valid checkpoint, so re-running a finished epoch returns at once: this is what
 * makes `resume` skip finished training. Long runs continue-as-new to keep the history small.
 */
import { continueAsNew, getExternalWorkflowHandle, workflowInfo } from '@temporalio/workflow';
import { supernetQueue } from '../core/config';
import type { DataRef, RunContext, SupernetEpochResult } from '../core/pipeline';
import type { TrainSupernetResult } from '../core/stage-results';
import { computeActivities, type ActivityTuning } from './activities';
import { childProgressSignal } from './progress';

export interface TrainSupernetInput extends RunContext {
  data: DataRef;
  stepsPerEpoch: number;
  tuning?: ActivityTuning;
  /** Carried across continue-as-new. */
  startEpoch?: number;
  done?: SupernetEpochResult[];
  parentId?: string;
}

export type { TrainSupernetResult };

/** Epochs per execution before continue-as-new: each epoch adds ~6 events. */
const EPOCHS_PER_EXECUTION = 100;

export async function trainSupernet(input: TrainSupernetInput): Promise<TrainSupernetResult> {
  const { config } = input;
  const { trainSupernetEpoch } = computeActivities(config, input.tuning, 'training', supernetQueue(config));
  const done = input.done ?? [];
  const epochs = config.supernet.epochs;
  const parent = input.parentId ? getExternalWorkflowHandle(input.parentId) : undefined;
  const report = async (epoch: number, meanLoss: number | null) =>
    parent?.signal(childProgressSignal, {
      kind: 'supernet',
      value: { epoch, epochs, step: epoch * input.stepsPerEpoch, totalSteps: epochs * input.stepsPerEpoch, meanLoss },
    });
  const start = input.startEpoch ?? 0;
  for (let epoch = start; epoch < epochs; epoch++) {
    if (epoch - start >= EPOCHS_PER_EXECUTION || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof trainSupernet>({ ...input, startEpoch: epoch, done });
    }
    const r = await trainSupernetEpoch({ runId: input.runId, config, configHash: input.configHash, data: input.data, epoch, stepsPerEpoch: input.stepsPerEpoch });
    done.push(r);
    await report(epoch + 1, r.meanLoss);
  }
  const last = done[done.length - 1];
  if (!last) throw new Error('supernet training ran no epoch');
  return { checkpoint: last.checkpoint, epochs: done, computeSeconds: done.reduce((a, e) => a + e.computeSeconds, 0) };
}
