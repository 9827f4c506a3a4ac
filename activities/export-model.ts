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
import { objectKey, type ArtifactStore } from '../storage/store';

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
}

/** Builds the trained model (BN recalibrated) and stores it under runs/<run>/retrain/<model>/model/. */
export async function exportRetrainedModel(store: ArtifactStore, a: ExportArgs): Promise<{ model: tfl.LayersModel; modelJson: ObjectRef; weights: ObjectRef }> {
  const model = await extractSubnetworkModel(a.trainer, a.model.arch, a.data, { ...a.recalibration, seed: a.seed });
  const { json, weights } = await modelArtifacts(model);
  const dir = ['runs', a.runId, 'retrain', a.model.name, 'model'];
  const weightsRef = await store.putBuffer(objectKey(...dir, WEIGHTS_FILE), weights);
  const modelJson = await store.putBuffer(objectKey(...dir, 'model.json'), json, 'application/json');
  return { model, modelJson, weights: weightsRef };
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
