/**
 * Retraining a found architecture from scratch (DESIGN §3.9) and turning trained or shared weights into
 * standalone tf.LayersModels.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Architecture } from '../core/arch';
import { scaleNetwork } from '../core/scaling';
import type { SearchSpace } from '../core/space';
import type { Dataset } from '../data/dataset';
import { evaluateSubnetwork, recalibrateBn, sliceLookup, type BnStats, type RecalibrateArgs, type WeightSource } from './evaluate';
import { buildFromNetwork } from './layers';
import type { TrainingRecipeInput } from './recipe';
import { StandaloneTrainer, type StepProgress } from './trainer';

/**
 * A LayersModel for `arch` with weights copied out of `source` (the supernet's leading slices, or a
 * standalone network's own tensors) and the given BN statistics.
 */
export function modelFromWeights(source: WeightSource, arch: Architecture, stats: BnStats): tfl.LayersModel {
  const net = scaleNetwork(source.space, arch);
  // A scope (not tf.tidy, which cannot return a model) frees the weight slices once copied into the
  // model's own variables; variables are never disposed by a scope.
  tf.engine().startScope();
  try {
    return buildFromNetwork(net, { weights: { params: sliceLookup(source.store, net), stats } });
  } finally {
    tf.engine().endScope();
  }
}

/**
 * A LayersModel of sub-network `arch` of a supernet, with BN recalibrated on training batches for that
 * exact sub-network (what the search scored). The caller disposes the model.
 */
export async function extractSubnetworkModel(source: WeightSource, arch: Architecture, data: Dataset, calibration: RecalibrateArgs = {}): Promise<tfl.LayersModel> {
  const stats = await recalibrateBn(source.store, scaleNetwork(source.space, arch), data.streaming ?? data.train, data.normalization, calibration);
  try {
    return modelFromWeights(source, arch, stats);
  } finally {
    stats.dispose();
  }
}

/** Options of {@link retrain}. */
export interface RetrainArgs {
  space: SearchSpace;
  arch: Architecture;
  data: Dataset;
  recipe?: TrainingRecipeInput;
  seed: number;
  /** Awaited after every step (heartbeats, checkpoints, cancellation by throwing). */
  onProgress?: (p: StepProgress) => void | Promise<void>;
  /** BN statistics for the final model: batches of training data. Default 20 × 64. */
  calibration?: RecalibrateArgs;
}

/** Result of {@link finishRetraining} / {@link retrain}. */
export interface RetrainResult {
  /** Trained model with population BN statistics, ready for {@link exportModel}. Caller disposes. */
  model: tfl.LayersModel;
  testAccuracy: number;
  minivalAccuracy: number;
  steps: number;
}

/**
 * Final BN statistics, test (and minival) accuracy, and the LayersModel of a trained standalone network.
 * Activities that checkpoint drive a {@link StandaloneTrainer} themselves and call this at the end.
 */
export async function finishRetraining(trainer: StandaloneTrainer, calibration: RecalibrateArgs = {}): Promise<RetrainResult> {
  const arch = trainer.arch;
  if (!arch) throw new Error('finishRetraining: trainer has no architecture');
  const cal = { batches: 20, batchSize: 64, ...calibration };
  const data = trainer.dataset;
  const test = await evaluateSubnetwork(trainer, arch, data, { split: 'test', recalibration: cal });
  const minival = await evaluateSubnetwork(trainer, arch, data, { split: 'minival', recalibration: cal });
  const model = await extractSubnetworkModel(trainer, arch, data, cal);
  return { model, testAccuracy: test.accuracy, minivalAccuracy: minival.accuracy, steps: trainer.step };
}

/** Trains `arch` from scratch for `recipe.steps` steps, then {@link finishRetraining}. */
export async function retrain(args: RetrainArgs): Promise<RetrainResult> {
  const trainer = StandaloneTrainer.create({ space: args.space, arch: args.arch, data: args.data, recipe: args.recipe, seed: args.seed });
  try {
    await trainer.train(trainer.recipe.steps - trainer.step, args.onProgress);
    return await finishRetraining(trainer, args.calibration);
  } finally {
    trainer.dispose();
  }
}
