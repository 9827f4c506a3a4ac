/**
 * Stage 5 activity: retrain one family member (or baseline) from scratch with the run's recipe
 * (DESIGN §3.9), checkpointing like supernet training, then measure test accuracy (BN statistics
 * recalibrated on training batches), latency at batch 1 (ONNX Runtime, one thread), and export the model. A model whose final
 * checkpoint exists returns its recorded result at once (resume).
 */
import { Context } from '@temporalio/activity';
import { resolveSpace, type RunConfig } from '../core/config';
import type { RetrainInput, RetrainResult } from '../core/pipeline';
import { scaleNetwork } from '../core/scaling';
import { evaluateSubnetwork } from '../nn/evaluate';
import type { TrainingRecipeInput } from '../nn/recipe';
import { StandaloneTrainer } from '../nn/trainer';
import { CheckpointStore } from '../storage/checkpoints';
import type { ArtifactStore } from '../storage/store';
import { decodeTrainer, resumePoint, trainWithCheckpoints } from './checkpointing';
import { exportRetrainedModel, measureLatency } from './export-model';
import { datasetFromRef, ensureBackend, keepAlive, nonRetryableInput } from './runtime';

interface RetrainMeta extends Record<string, unknown> {
  computeSeconds: number;
  done?: RetrainResult;
}

/**
 * The recipe of a retraining: `retraining.epochs` of `stepsPerEpoch` steps, or `steps` when given (a
 * calibration retraining), with the warm-up the same fraction of the schedule.
 */
export function retrainRecipe(config: RunConfig, stepsPerEpoch: number, steps = config.retraining.epochs * stepsPerEpoch): TrainingRecipeInput {
  const r = config.retraining;
  const s = config.supernet;
  return {
    steps,
    batchSize: r.batchSize,
    learningRate: r.lr,
    warmupSteps: Math.round((r.warmupEpochs / r.epochs) * steps),
    augment: r.augment,
    momentum: s.momentum,
    nesterov: s.nesterov,
    weightDecay: s.weightDecay,
    labelSmoothing: s.labelSmoothing,
  };
}

/** BN recalibration used to report a retrained model's accuracy (population statistics). */
export const REPORT_RECALIBRATION = { batches: 10 };

export function createRetrainActivities(store: ArtifactStore) {
  return {
    async retrainModel(input: RetrainInput): Promise<RetrainResult> {
      const { config, runId, model } = input;
      const backend = await ensureBackend();
      let space;
      try {
        space = resolveSpace(config);
        scaleNetwork(space, model.arch); // validates the architecture against the space
      } catch (err) {
        nonRetryableInput(err);
      }
      const stepsPerEpoch = config.retraining.stepsPerEpoch ?? Math.ceil(input.data.counts.train / config.retraining.batchSize);
      const endStep = input.schedule?.steps ?? config.retraining.epochs * stepsPerEpoch;
      const testImages = input.schedule ? input.schedule.testImages : config.retraining.testImages;
      const ck = new CheckpointStore(store, runId, 'retrain', model.name);
      const loaded = await keepAlive(resumePoint(ck, endStep, input.configHash));
      const prior = loaded?.manifest.meta as RetrainMeta | undefined;
      if (loaded && loaded.manifest.step === endStep && prior?.done) return { ...prior.done, fallbacks: loaded.skipped };

      const data = await keepAlive(datasetFromRef(store, input.data, config.dataset));
      const trainer = loaded
        ? StandaloneTrainer.restore({ space, data }, decodeTrainer(loaded.objects))
        : StandaloneTrainer.create({ space, data, seed: config.seed + (input.repeat ?? 0), arch: model.arch, recipe: retrainRecipe(config, stepsPerEpoch, endStep) });
      try {
        const t0 = Date.now();
        const priorSeconds = prior?.computeSeconds ?? 0;
        const fallbacks = loaded?.skipped ?? [];
        const seconds = () => priorSeconds + (Date.now() - t0) / 1000;
        const final = await trainWithCheckpoints<RetrainMeta>({
          trainer, ck, configHash: input.configHash, endStep,
          everySteps: config.retraining.checkpoint.everySteps,
          everySeconds: config.retraining.checkpoint.everySeconds,
          meta: async (isFinal) => {
            if (!isFinal) return { computeSeconds: seconds() };
            const test = await keepAlive(evaluateSubnetwork(trainer, model.arch, data, {
              split: 'test', maxImages: testImages ?? undefined, recalibration: { ...REPORT_RECALIBRATION, seed: config.seed },
              batchSize: config.search.evalBatchSize,
            }));
            const exported = await keepAlive(exportRetrainedModel(store, { runId, model, trainer, data, seed: config.seed, recalibration: REPORT_RECALIBRATION, testAccuracy: test.accuracy, backend,
              configHash: input.configHash, attempt: Context.current().info.attempt }));
            const latencyMs = (await keepAlive(measureLatency(exported.model, scaleNetwork(space, model.arch)))).ms; // ONNX Runtime, batch 1, 1 thread
            exported.model.dispose();
            const done: RetrainResult = {
              name: model.name, testAccuracy: test.accuracy, epochs: endStep / stepsPerEpoch, steps: endStep,
              modelJson: exported.modelJson, weights: exported.weights, exportManifest: exported.exportManifest, latencyMs, computeSeconds: seconds(), fallbacks,
            };
            return { computeSeconds: done.computeSeconds, done };
          },
        });
        const meta = (await ck.load(final.manifest)).manifest.meta as RetrainMeta;
        return meta.done!;
      } finally {
        trainer.dispose();
      }
    },
  };
}
