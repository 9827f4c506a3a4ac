/**
 * Export and load of standalone models in the TensorFlow.js layers format: a directory with
 * `model.json` (topology + weights manifest) and `weights.bin`. tfjs-node's `file://` handler is not
 * available without the native binding, so these are small IOHandlers over node:fs.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import './layers'; // registers the custom layer classes the loader needs

/** Name of the weights file next to model.json. */
export const WEIGHTS_FILE = 'weights.bin';

/**
 * The two files of a saved model: `model.json` (topology + one-file weights manifest) and the weights.
 * Shared by the directory export here and the store export of activities/export-model.ts.
 */
export function modelFiles(artifacts: tf.io.ModelArtifacts): { json: Uint8Array; weights: Uint8Array } {
  if (artifacts.modelTopology instanceof ArrayBuffer) throw new Error('binary model topologies are not supported');
  const weights = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
  const json = {
    modelTopology: artifacts.modelTopology,
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy ?? null,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
  };
  return { json: new TextEncoder().encode(JSON.stringify(json)), weights: new Uint8Array(weights) };
}

/** An IOHandler that writes `model.json` and `weights.bin` into `dir` (created if missing). */
export function fileSaveHandler(dir: string): tf.io.IOHandler {
  return {
    save: async (artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> => {
      const files = modelFiles(artifacts);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, WEIGHTS_FILE), files.weights);
      await writeFile(join(dir, 'model.json'), files.json);
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
  };
}

/** An IOHandler that reads a directory written by {@link fileSaveHandler} (or by tfjs-node / the converter, single shard or several). */
export function fileLoadHandler(dir: string): tf.io.IOHandler {
  return {
    load: async (): Promise<tf.io.ModelArtifacts> => {
      const file = join(dir, 'model.json');
      let json: tf.io.ModelJSON;
      try {
        json = JSON.parse(await readFile(file, 'utf8')) as tf.io.ModelJSON;
      } catch (err) {
        throw new Error(`${file}: cannot read a TensorFlow.js model (${(err as Error).message})`);
      }
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const buffers: ArrayBuffer[] = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const p of group.paths) {
            const b = await readFile(join(dir, p));
            buffers.push(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
          }
        }
        return [specs, tf.io.CompositeArrayBuffer.join(buffers)];
      });
    },
  };
}

/** Writes `model` to `dir` as model.json + weights.bin. */
export async function exportModel(model: tfl.LayersModel, dir: string): Promise<tf.io.SaveResult> {
  return model.save(fileSaveHandler(dir));
}

/** Loads a model exported by {@link exportModel} with `tf.loadLayersModel`. */
export async function loadModel(dir: string): Promise<tfl.LayersModel> {
  return tfl.loadLayersModel(fileLoadHandler(dir));
}
