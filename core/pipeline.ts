/**
 * Shapes that cross the workflow ↔ activity boundary of a ScaleNet run. They are small JSON: tensors and
 * weights stay in the artifact store and travel as {@link ObjectRef}s (DESIGN §2, §4).
 */
import type { Architecture, Multipliers } from './arch';
import type { RunConfig } from './config';
import type { ObjectRef } from './refs';
import type { Candidate } from './search-state';

/** Stages of a run, in order (also the values of the ScaleNetStage search attribute). */
export const STAGES = ['prepare-data', 'train-supernet', 'search', 'extrapolate', 'calibration', 'retrain', 'report'] as const;
export type StageName = (typeof STAGES)[number];

/** What every activity of a run receives: the run's identity and its validated config. */
export interface RunContext {
  runId: string;
  config: RunConfig;
  configHash: string;
}

/** A prepared dataset in the artifact store: shards of each split, plus what a reader needs to know. */
export interface DataRef {
  train: ObjectRef[];
  minival: ObjectRef[];
  test: ObjectRef[];
  imageShape: [number, number, number];
  classes: number;
  counts: { train: number; minival: number; test: number };
  /** Image-folder datasets only: the shards hold encoded files, decoded while streaming (data/stream.ts). */
  imageFolder?: ImageFolderInfo;
}

/** What prepare-data learnt about an image folder; saved with the run. */
export interface ImageFolderInfo {
  /** Class names (sorted sub-folder names); class id = index. */
  classNames: string[];
  channels: 1 | 3;
  /** Per-channel mean/std of pixel/255 over the training split. */
  normalization: { mean: number[]; std: number[] };
  /** Files left out under `onBadImage: skip` (the first 100, with reasons) and how many in all. */
  skipped: { file: string; reason: string }[];
  skippedCount: number;
}

/** A previous checkpoint that was skipped because it was corrupt or incomplete (shown in history). */
export interface CheckpointFallback {
  manifestKey: string;
  reason: string;
}

export interface SupernetEpochInput extends RunContext {
  data: DataRef;
  /** 0-based epoch to train; training runs to global step (epoch + 1) · stepsPerEpoch. */
  epoch: number;
  stepsPerEpoch: number;
}

export interface SupernetEpochResult {
  epoch: number;
  /** Global step reached (end of this epoch). */
  step: number;
  /** Manifest of the checkpoint at the end of the epoch. */
  checkpoint: ObjectRef;
  /** Mean training loss over the epoch's steps, and the per-step log in the store. */
  meanLoss: number;
  lossLog: ObjectRef;
  /** Step the attempt started from (null = from scratch); where it resumed after a failure, > epoch start. */
  resumedFromStep: number | null;
  fallbacks: CheckpointFallback[];
  /** Seconds of compute this epoch took, over all attempts that contributed checkpoints. */
  computeSeconds: number;
  backend: string;
}

export interface EvaluateInput extends RunContext {
  data: DataRef;
  supernet: ObjectRef;
  candidates: Candidate[];
}

export interface EvaluateResult {
  results: { id: string; fitness: number }[];
  computeSeconds: number;
}

/** A model of the family to retrain: searched (S0..S_L), extrapolated (S_{L+1}..) or a compound-scaling baseline. */
export interface FamilyModel {
  /** `S2`, `B2`, … */
  name: string;
  kind: 'searched' | 'extrapolated' | 'baseline';
  level: number;
  arch: Architecture;
  macs: number;
  params: number;
  /** Minival accuracy read off the shared weights (searched members only). */
  supernetAccuracy: number | null;
  /**
   * Baselines only: the member this baseline is compared with (`S2` for `B2`) and how its budget was met
   * (MACs target = the partner's MACs; width trimmed off the compound curve to meet it within 1 %).
   */
  budget?: { partner: string; targetMacs: number; relativeError: number; phi: number; widthTrim: number; withinTolerance: boolean };
}

/** What a retraining child trains: a family member, or a sub-network sampled for calibration (C1, C2, …). */
export type RetrainModel = FamilyModel | (Omit<FamilyModel, 'kind'> & { kind: 'calibration' });

export interface RetrainInput extends RunContext {
  data: DataRef;
  model: RetrainModel;
  /**
   * Calibration retraining: this many steps (warm-up the same fraction of the schedule as `retraining`)
   * and this many test images (null = all), instead of `retraining.epochs` and `retraining.testImages`.
   */
  schedule?: { steps: number; testImages: number | null };
  /** 0-based repeat of `retraining.seeds` (trainer seed = config seed + repeat); default 0. */
  repeat?: number;
}

export interface RetrainResult {
  name: string;
  /** Test accuracy; with `retraining.seeds` > 1, the mean over the seeds. */
  testAccuracy: number;
  /** One test accuracy per seed (set when the workflow combined several retrainings of one model). */
  testAccuracies?: number[];
  epochs: number;
  steps: number;
  /** The exported TensorFlow.js model: model.json and its weights. */
  modelJson: ObjectRef;
  weights: ObjectRef;
  /**
   * The committed export manifest naming both files (storage/exports.ts): what readers go through. Absent in
   * results of runs from before exports were fenced.
   */
  exportManifest?: ObjectRef;
  /** Milliseconds per image at batch 1 on the worker that trained it (BN folded where supported). */
  latencyMs: number;
  computeSeconds: number;
  fallbacks: CheckpointFallback[];
  /**
   * Set when this model is the very same network as another model of the run (core/scaling.ts networkKey):
   * that model was retrained once and this result is its result under this name (same weights, same export).
   */
  sameNetworkAs?: string;
}

export interface FamilyMultipliers {
  level: number;
  multipliers: Multipliers;
}
