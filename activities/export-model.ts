/**
 * Turning a retrained network into artifacts: a TensorFlow.js layers model (model.json + weights.bin,
 * loadable with `tf.loadLayersModel` once nn/layers is imported) stored in MinIO, and its latency.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { RetrainModel } from '../core/pipeline';
import type { ObjectRef } from '../core/refs';
import type { Dataset } from '../data/dataset';
import type { RecalibrateArgs } from '../nn/evaluate';
import { modelFiles, WEIGHTS_FILE } from '../nn/io';
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

/** Median milliseconds of one forward pass at batch 1 (after warm-up). */
export async function measureLatencyMs(model: tfl.LayersModel, resolution: number, channels: number, runs = 20): Promise<number> {
  const x = tf.zeros([1, resolution, resolution, channels]);
  try {
    const once = async () => {
      const y = model.predict(x) as tf.Tensor;
      await y.data();
      y.dispose();
    };
    for (let i = 0; i < 3; i++) await once();
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await once();
      times.push(performance.now() - t);
    }
    times.sort((p, q) => p - q);
    return times[Math.floor(times.length / 2)]!;
  } finally {
    x.dispose();
  }
}
