/**
 * Turning a retrained network into artifacts: a TensorFlow.js layers model of stock layers (model.json +
 * weights.bin, loadable with plain `tf.loadLayersModel`) stored in MinIO, and its latency where it will
 * run: the ONNX export of the same weights in ONNX Runtime (batch 1, one thread).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { RetrainModel } from '../core/pipeline';
import type { ObjectRef } from '../core/refs';
import type { ScaledNetwork } from '../core/scaling';
import type { Dataset } from '../data/dataset';
import type { RecalibrateArgs } from '../nn/evaluate';
import { modelFiles, WEIGHTS_FILE } from '../nn/io';
import { weightsOfModel } from '../nn/layers';
import { buildOnnxModel } from '../nn/onnx';
import { onnxLatency, type OnnxLatency } from '../nn/onnx-runtime';
import { extractSubnetworkModel } from '../nn/retrain';
import type { StandaloneTrainer } from '../nn/trainer';
import { ExportStore } from '../storage/exports';
import type { ArtifactStore } from '../storage/store';

/** Serializes a model in memory exactly as a file export would (model.json + one weights file). */
export async function modelArtifacts(model: tfl.LayersModel): Promise<{ json: Uint8Array; weights: Uint8Array }> {
  let out: { json: Uint8Array; weights: Uint8Array } | undefined;
  await model.save({
    save: async (a: tf.io.ModelArtifacts) => {
      out = modelFiles(a);
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) };
    },
  });
  if (!out) throw new Error('model.save did not call the handler');
  return out;
}

export interface ExportArgs {
  runId: string;
  model: RetrainModel;
  trainer: StandaloneTrainer;
  data: Dataset;
  seed: number;
  recalibration: RecalibrateArgs;
  testAccuracy: number;
  backend: string;
  /** Config hash of the run, recorded in the export manifest and checked by its readers. */
  configHash: string;
  /** Temporal attempt that exports (audit; see storage/exports.ts). */
  attempt: number;
}

/**
 * Builds the trained model (BN recalibrated) and commits it under runs/<run>/retrain/<model>/model/ (fenced:
 * storage/exports.ts). The references returned are those of the committed export, which is another attempt's
 * when one committed first; `model` is this attempt's network (for the latency measurement).
 */
export async function exportRetrainedModel(store: ArtifactStore, a: ExportArgs): Promise<{ model: tfl.LayersModel; modelJson: ObjectRef; weights: ObjectRef; exportManifest: ObjectRef }> {
  const model = await extractSubnetworkModel(a.trainer, a.model.arch, a.data, { ...a.recalibration, seed: a.seed });
  const { json, weights } = await modelArtifacts(model);
  const committed = await new ExportStore(store, a.runId, a.model.name).commit({
    configHash: a.configHash, attempt: a.attempt, files: { 'model.json': json, [WEIGHTS_FILE]: weights },
  });
  const files = committed.manifest.files;
  return { model, modelJson: files['model.json'] as ObjectRef, weights: files[WEIGHTS_FILE] as ObjectRef, exportManifest: committed.manifestRef };
}

/** Median batch-1 latency of `model` (built for `net`) exported to ONNX, in ONNX Runtime on the CPU with one thread. */
export async function measureLatency(model: tfl.LayersModel, net: ScaledNetwork): Promise<OnnxLatency> {
  const weights = weightsOfModel(model, net);
  let bytes: Uint8Array;
  try {
    bytes = buildOnnxModel(net, weights);
  } finally {
    weights.dispose();
  }
  return onnxLatency(bytes, net.input.channels, net.input.resolution);
}
