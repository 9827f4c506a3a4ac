/**
 * Runs a model written by `scalenet export` on raw images, using nothing of the run but the exported
 * folder: `tf.loadLayersModel` with a file IOHandler (after importing the custom layers), and the input
 * recipe of metadata.json (normalise per channel, resize to the model resolution). It is what a user's
 * code does, and the integration test runs it in a separate process to check that an export reproduces
 * the run's predictions.
 *
 *   node --import tsx report/predict-exported.ts MODEL_DIR IMAGES.json
 *
 * IMAGES.json: {count, height, width, channels, images: base64 of uint8 NHWC pixels}. Prints
 * {backend, predictions: number[], logits: number[][]} as JSON. Backend: tfjs `cpu` (pure JS).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import '../nn/layers'; // registers the custom h-swish / h-sigmoid layers the model uses
import { fileLoadHandler } from '../nn/io';
import type { ModelMetadata } from './model-export';

export interface RawImages {
  count: number;
  height: number;
  width: number;
  channels: number;
  /** base64 of `count · height · width · channels` uint8 pixels, NHWC. */
  images: string;
}

/** The model input for raw uint8 images, as metadata.json describes it. The caller disposes it. */
export function inputFor(meta: ModelMetadata, raw: RawImages): tf.Tensor4D {
  const [res, , channels] = meta.input.shape;
  if (raw.channels !== channels) throw new Error(`images have ${raw.channels} channel(s), the model takes ${channels}`);
  const pixels = Buffer.from(raw.images, 'base64');
  return tf.tidy(() => {
    const x = tf.tensor4d(Float32Array.from(pixels), [raw.count, raw.height, raw.width, raw.channels]);
    const { mean, std } = meta.input.normalization;
    const normalised = tf.div(tf.sub(tf.div(x, 255), tf.tensor1d(mean)), tf.tensor1d(std)) as tf.Tensor4D;
    return raw.height === res && raw.width === res ? normalised : tf.image.resizeBilinear(normalised, [res, res], false, true);
  });
}

export async function predictExported(dir: string, raw: RawImages): Promise<{ predictions: number[]; logits: number[][] }> {
  const meta = JSON.parse(await readFile(join(dir, 'metadata.json'), 'utf8')) as ModelMetadata;
  const model = await tfl.loadLayersModel(fileLoadHandler(dir));
  try {
    const x = inputFor(meta, raw);
    const y = model.predict(x) as tf.Tensor2D;
    const logits = (await y.array()) as number[][];
    const best = tf.argMax(y, 1);
    const predictions = Array.from(await best.data());
    tf.dispose([x, y, best]);
    return { predictions, logits };
  } finally {
    model.dispose();
  }
}

async function main(): Promise<void> {
  const [dir, imagesFile] = process.argv.slice(2);
  if (!dir || !imagesFile) throw new Error('usage: predict-exported.ts MODEL_DIR IMAGES.json');
  await tf.setBackend('cpu');
  const raw = JSON.parse(await readFile(imagesFile, 'utf8')) as RawImages;
  const out = await predictExported(dir, raw);
  process.stdout.write(`${JSON.stringify({ backend: tf.getBackend(), ...out })}\n`);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
