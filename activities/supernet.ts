/**
 * Stage 2 activity: train the super-supernet for one epoch (DESIGN §3.4–3.5), resuming from the newest
 * valid checkpoint of the run. An epoch whose final checkpoint exists returns at once from it: that is
 * how `resume` skips finished training without redoing it.
 */
import { Context } from '@temporalio/activity';
import { resolveSpace, type RunConfig } from '../core/config';
import type { SupernetEpochInput, SupernetEpochResult } from '../core/pipeline';
import { SupernetTrainer } from '../nn/trainer';
import type { TrainingRecipeInput } from '../nn/recipe';
import { CheckpointStore } from '../storage/checkpoints';
import { objectKey, type ArtifactStore } from '../storage/store';
import { decodeTrainer, resumePoint, trainWithCheckpoints } from './checkpointing';
import { datasetFromRef, ensureBackend, keepAlive, nonRetryableInput } from './runtime';

type LogRow = [number, number, number | null];

/** Meta stored with every supernet checkpoint. */
interface SupernetMeta extends Record<string, unknown> {
  epoch: number;
  /**
   * Keys of this epoch's step-log segments so far ([step, loss, level] rows, one segment per checkpoint). Each
   * checkpoint names the segments instead of repeating the epoch's whole log.
   */
  segments?: string[];
  /** The whole log of the epoch so far, in checkpoints written before segments existed. */
  log?: LogRow[];
  /** Compute seconds of this epoch that led to this checkpoint. */
  computeSeconds: number;
  done?: { meanLoss: number; lossLog: SupernetEpochResult['lossLog'] };
}

/** The rows of an epoch's log segments, in order (each verified against the hash recorded at write time). */
async function readSegments(store: ArtifactStore, keys: readonly string[]): Promise<LogRow[]> {
  const rows: LogRow[] = [];
  for (const key of keys) rows.push(...(await store.getJson<LogRow[]>(await store.refOf(key))));
  return rows;
}

export function supernetRecipe(config: RunConfig, stepsPerEpoch: number): TrainingRecipeInput {
  const s = config.supernet;
  return {
    steps: s.epochs * stepsPerEpoch,
    batchSize: s.batchSize,
    learningRate: s.lr,
    warmupSteps: Math.round(s.warmupEpochs * stepsPerEpoch),
    momentum: s.momentum,
    nesterov: s.nesterov,
    weightDecay: s.weightDecay,
    labelSmoothing: s.labelSmoothing,
    sampler: s.sampling,
    levelWeights: s.levelWeights,
    augment: s.augment,
  };
}

export function createSupernetActivities(store: ArtifactStore) {
  return {
    async trainSupernetEpoch(input: SupernetEpochInput): Promise<SupernetEpochResult> {
      const { config, runId, epoch, stepsPerEpoch } = input;
      const backend = await ensureBackend();
      let space;
      try {
        space = resolveSpace(config);
      } catch (err) {
        nonRetryableInput(err);
      }
      const startStep = epoch * stepsPerEpoch;
      const endStep = startStep + stepsPerEpoch;
      const ck = new CheckpointStore(store, runId, 'train-supernet');
      const loaded = await keepAlive(resumePoint(ck, endStep, input.configHash));
      const fallbacks = loaded?.skipped ?? [];
      const prior = loaded?.manifest.meta as SupernetMeta | undefined;
      if (loaded && loaded.manifest.step === endStep && prior?.done) {
        return {
          epoch, step: endStep, checkpoint: loaded.manifestRef, meanLoss: prior.done.meanLoss, lossLog: prior.done.lossLog,
          resumedFromStep: endStep, fallbacks, computeSeconds: prior.computeSeconds, backend,
        };
      }
      const data = await keepAlive(datasetFromRef(store, input.data, config.dataset));
      const trainer = loaded
        ? SupernetTrainer.restore({ space, data }, decodeTrainer(loaded.objects))
        : SupernetTrainer.create({ space, data, seed: config.seed, recipe: supernetRecipe(config, stepsPerEpoch) });
      try {
        // Carry this epoch's log and compute time over from a mid-epoch checkpoint.
        const sameEpoch = prior && prior.epoch === epoch;
        const segments = sameEpoch ? [...(prior.segments ?? [])] : [];
        const log: LogRow[] = sameEpoch ? [...(prior.log ?? []), ...(await keepAlive(readSegments(store, segments)))] : [];
        let flushed = log.length;
        const priorSeconds = sameEpoch ? prior.computeSeconds : 0;
        const t0 = Date.now();
        if (loaded) Context.current().log.info('resuming supernet training', { from: loaded.manifest.step, epoch, skipped: fallbacks.length });
        const meta = async (): Promise<SupernetMeta> => {
          if (log.length > flushed) {
            const upto = String(log[log.length - 1]![0]).padStart(10, '0');
            const key = objectKey('runs', runId, 'train-supernet', 'loss', `epoch-${String(epoch).padStart(5, '0')}`, `upto-${upto}.json`);
            await store.putJson(key, log.slice(flushed));
            segments.push(key);
            flushed = log.length;
          }
          return { epoch, segments: [...segments], computeSeconds: priorSeconds + (Date.now() - t0) / 1000 };
        };
        const lastCheckpoint = await trainWithCheckpoints({
          trainer, ck, configHash: input.configHash, endStep,
          everySteps: config.supernet.checkpoint.everySteps,
          everySeconds: config.supernet.checkpoint.everySeconds,
          keep: config.resources.checkpointsKept,
          meta: async (final) => {
            const m = await meta();
            if (!final) return m;
            // The epoch's final checkpoint also carries the summary, so a re-run returns from it.
            const lossLog = await store.putJson(objectKey('runs', runId, 'train-supernet', 'loss', `epoch-${String(epoch).padStart(5, '0')}.json`), { epoch, columns: ['step', 'loss', 'level'], rows: log });
            const losses = log.filter(([s]) => s > startStep).map(([, l]) => l);
            return { ...m, done: { meanLoss: losses.reduce((a, b) => a + b, 0) / Math.max(1, losses.length), lossLog } };
          },
          onStep: (loss, step, level) => log.push([step, loss, level]),
        });
        const final = (await ck.load(lastCheckpoint.manifest, input.configHash)).manifest.meta as SupernetMeta;
        return {
          epoch, step: endStep, checkpoint: lastCheckpoint.manifest, meanLoss: final.done!.meanLoss, lossLog: final.done!.lossLog,
          resumedFromStep: loaded ? loaded.manifest.step : null, fallbacks, computeSeconds: final.computeSeconds, backend,
        };
      } finally {
        trainer.dispose();
      }
    },
  };
}
