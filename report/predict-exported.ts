/**
 * Runs a model written by `scalenet export` on raw images, using nothing of the run but the exported
 * folder: the TF.js layers model with stock `tf.loadLayersModel` (a file IOHandler), or model.onnx in
 * ONNX Runtime, each fed by the input recipe of metadata.json (normalise per channel, resize to the model
 * resolution; NCHW for ONNX). The export check, `scalenet predict` and the integration test all go
 * through here, so what they check is what a user's code does.
 *
 *   node --import tsx report/predict-exported.ts MODEL_DIR IMAGES.json [tfjs|onnx|tfjs,onnx]
 *
 * IMAGES.json: {count, height, width, channels, images: base64 of uint8 NHWC pixels}. Prints one line
 * of JSON per format, {backend, format, predictions: number[], logits: number[][]}. TF.js backend:
 * `cpu` (pure JS). Several formats share one process (the tests pay for one start-up).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { fileLoadHandler } from '../nn/io';
import { onnxLogits, onnxSession } from '../nn/onnx-runtime';
import type { ModelMetadata } from './model-export';

export type ExportFormat = 'tfjs' | 'onnx';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['tfjs', 'onnx'];
/** The file that holds each format's model (TF.js: plus weights.bin). */
export const FORMAT_FILE: Record<ExportFormat, string> = { tfjs: 'model.json', onnx: 'model.onnx' };

export interface RawImages {
  count: number;
  height: number;
  width: number;
  channels: number;
  /** base64 of `count · height · width · channels` uint8 pixels, NHWC. */
  images: string;
}

/** The model input for raw uint8 images, as metadata.json describes it (NHWC). The caller disposes it. */
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

/** This project's own layer classes (models stored before the export used stock layers only). */
const CUSTOM_CLASS = /^ScaleNet/;

/** An exported model, loaded for inference. */
export interface ExportedModel {
  format: ExportFormat;
  meta: ModelMetadata;
  /** Logits [count][classes] for raw images. */
  logits(raw: RawImages): Promise<number[][]>;
  dispose(): Promise<void>;
}

/** The formats present in an exported folder, in {@link EXPORT_FORMATS} order. */
/**
 * Selects tfjs's pure-JS `cpu` backend unless a backend is already running (`scalenet export` starts the
 * workers' backend first): a few images need nothing faster, and the CLI process has none initialised
 * (its highest-priority registered backend, wasm, would need an explicit, asynchronous start).
 */
export async function ensureInferenceBackend(): Promise<void> {
  const running = tf.engine().backendName;
  if (!running) await tf.setBackend('cpu');
}

export function formatsIn(dir: string): ExportFormat[] {
  return EXPORT_FORMATS.filter((f) => existsSync(join(dir, FORMAT_FILE[f])));
}

/** Loads the model of `format` (default: the first present) from an exported folder. */
export async function loadExported(dir: string, format?: ExportFormat, threads = 1): Promise<ExportedModel> {
  await ensureInferenceBackend();
  const metaFile = join(dir, 'metadata.json');
  if (!existsSync(metaFile)) throw new Error(`${dir} holds no metadata.json: is it a folder written by \`scalenet export\`?`);
  const meta = JSON.parse(await readFile(metaFile, 'utf8')) as ModelMetadata;
  const present = formatsIn(dir);
  const f = format ?? present[0];
  if (!f || !present.includes(f)) throw new Error(`${dir} holds no ${format ?? 'model'} (${format ? FORMAT_FILE[format] : 'model.json or model.onnx'}); present: ${present.join(', ') || 'none'}`);
  const toRows = (data: ArrayLike<number>, n: number) => {
    const c = data.length / n;
    return Array.from({ length: n }, (_, i) => Array.from({ length: c }, (_, j) => data[i * c + j]!));
  };
  if (f === 'tfjs') {
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as { modelTopology?: { config?: { layers?: { class_name: string }[] } } };
    const custom = (json.modelTopology?.config?.layers ?? []).map((l) => l.class_name).filter((c) => CUSTOM_CLASS.test(c));
    if (custom.length > 0) throw new Error(`${dir}/model.json uses layer classes that stock TensorFlow.js lacks (${[...new Set(custom)].join(', ')}): export it again`);
    const model = await tfl.loadLayersModel(fileLoadHandler(dir));
    return {
      format: f, meta,
      logits: async (raw) => {
        const x = inputFor(meta, raw);
        const y = model.predict(x) as tf.Tensor2D;
        const out = (await y.array()) as number[][];
        tf.dispose([x, y]);
        return out;
      },
      dispose: async () => {
        model.dispose();
      },
    };
  }
  const session = await onnxSession(await readFile(join(dir, 'model.onnx')), threads);
  return {
    format: f, meta,
    logits: async (raw) => {
      const nchw = tf.tidy(() => tf.transpose(inputFor(meta, raw), [0, 3, 1, 2]));
      const data = (await nchw.data()) as Float32Array;
      const dims = nchw.shape as [number, number, number, number];
      nchw.dispose();
      return toRows(await onnxLogits(session, data, dims), raw.count);
    },
    dispose: () => session.release(),
  };
}

export async function predictExported(dir: string, raw: RawImages, format?: ExportFormat): Promise<{ format: ExportFormat; predictions: number[]; logits: number[][] }> {
  const model = await loadExported(dir, format);
  try {
    const logits = await model.logits(raw);
    return { format: model.format, predictions: logits.map(argMax), logits };
  } finally {
    await model.dispose();
  }
}

export function argMax(row: number[]): number {
  let best = 0;
  for (let j = 1; j < row.length; j++) if (row[j]! > row[best]!) best = j;
  return best;
}

async function main(): Promise<void> {
  const [dir, imagesFile, format] = process.argv.slice(2);
  if (!dir || !imagesFile) throw new Error('usage: predict-exported.ts MODEL_DIR IMAGES.json [tfjs|onnx|tfjs,onnx]');
  await tf.setBackend('cpu');
  const raw = JSON.parse(await readFile(imagesFile, 'utf8')) as RawImages;
  for (const f of format ? format.split(',') : [undefined]) {
    const out = await predictExported(dir, raw, f as ExportFormat | undefined);
    process.stdout.write(`${JSON.stringify({ backend: tf.getBackend(), ...out })}\n`);
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
