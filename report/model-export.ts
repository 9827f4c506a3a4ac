/**
 * `scalenet export`: writes a retrained family member, read from the artifact store (sha256-verified),
 * as a stock TensorFlow.js layers model (model.json + weights.bin) and/or an ONNX model (model.onnx), and
 * `metadata.json` with what a user needs to run it: the architecture, its cost, its accuracies, where it
 * came from, how to turn an image into its input, and the result of the equivalence check every export
 * passes (./export-check.ts) against the engine on real test images.
 */
import { createHash } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { modelArtifacts } from '../activities/export-model';
import { datasetFromRef } from '../activities/runtime';
import type { ResultRow, RunResults } from '../activities/records';
import { loadResults } from '../cli/results';
import { UsageError } from '../cli/errors';
import { resolveSpace } from '../core/config';
import type { DataRef } from '../core/pipeline';
import type { ObjectRef } from '../core/refs';
import { scaleNetwork } from '../core/scaling';
import { EVAL_CROP_FRACTION } from '../data/image-decode';
import { joinShards, unpackShard } from '../data/shards';
import { evaluationBatches } from '../data/stream';
import { batchToTensor, channelStats, type Normalization } from '../data/tensor';
import type { ImageSet } from '../data/types';
import { initBackend, type BackendKind } from '../nn/backend';
import { buildFromNetwork, weightsOfModel } from '../nn/layers';
import { WEIGHTS_FILE } from '../nn/io';
import { buildOnnxModel, ONNX_INPUT, ONNX_OPSET, ONNX_OUTPUT } from '../nn/onnx';
import { engineLogits } from '../nn/reference';
import { loadExport } from '../storage/exports';
import type { ArtifactStore } from '../storage/store';
import type { RunSummary } from '../workflows/run';
import { CHECK_IMAGES, compareWithEngine, EXPORT_TOLERANCE, writeCheckedExport } from './export-check';
import type { ExportFormat, RawImages } from './predict-exported';

export const MODEL_METADATA_FORMAT = 'scalenet.model/v2';

/** Files each format writes. */
export const FORMAT_FILES: Record<ExportFormat, string[]> = { tfjs: ['model.json', 'weights.bin'], onnx: ['model.onnx'] };

/** Class names of datasets whose labels are fixed (index = label). */
const CLASS_NAMES: Record<string, string[]> = {
  'fashion-mnist': ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
};

/** The class names of a prepared dataset: an image folder's sub-folders, fixed names, or "0".."N-1". */
export function classNames(kind: string, data: Pick<DataRef, 'classes' | 'imageFolder'>): string[] {
  return data.imageFolder?.classNames ?? CLASS_NAMES[kind] ?? Array.from({ length: data.classes }, (_, i) => String(i));
}

/** metadata.json of an exported model (stable shape; `format` names its version). */
export interface ModelMetadata {
  format: typeof MODEL_METADATA_FORMAT;
  model: string;
  kind: ResultRow['kind'];
  level: number;
  runId: string;
  configHash: string;
  configName: string;
  /** Base kernels per stage (S0) and the multipliers that scale it to this model. */
  architecture: { space: unknown; stages: number[][]; depth: number; width: number; resolution: number };
  macs: number;
  params: number;
  accuracy: {
    /** Test accuracy after retraining from scratch, on `testImages` images of the test split. */
    test: number | null;
    testImages: number | null;
    /** Minival accuracy read off the super-supernet's shared weights (searched models). */
    supernetMinival: number | null;
    /** Test accuracy of the compound-scaling baseline at the same level (searched/extrapolated models). */
    baselineTest: number | null;
  };
  /** Batch-1 latency measured by the retrain stage (see the run's results for the runtime). */
  latencyMs: number | null;
  input: {
    /** Input of the TF.js model: a float32 NHWC tensor [batch, ...shape] (ONNX: see formats.onnx). */
    shape: [number, number, number];
    layout: 'NHWC';
    dtype: 'float32';
    /** Shape of the uint8 (0..255) image the recipe starts from: the dataset's images, or `decode`'s output. */
    datasetImageShape: [number, number, number];
    /**
     * Image-folder runs: how an image file becomes the r×r uint8 image (data/image-decode.ts, evaluation
     * transform): resize its shorter side to `shorterSide`, keep the centre `crop`×`crop`. Absent otherwise.
     */
    decode?: { shorterSide: number; crop: number };
    /** How the run turned a uint8 image into the input (the same steps reproduce its predictions). */
    preprocessing: string;
    normalization: Normalization & { source: string };
  };
  /** `labels[i]`: the class name of output i (image folders: the sorted sub-folder names). */
  output: { classes: number; labels: string[] | null; description: string };
  /** The formats in the folder and how to load each. */
  formats: Partial<Record<ExportFormat, FormatInfo>>;
  /** The check the export passed: each format's logits against the engine's on real test images. */
  equivalence: Equivalence;
  /** Every model file, with the stored object it was copied from (absent when the export built it). */
  files: Record<string, { sha256: string; bytes: number; source?: ObjectRef }>;
  exportedAt: string;
}

export interface FormatInfo {
  files: string[];
  layout: 'NHWC' | 'NCHW';
  /** Input tensor shape; `batch` is dynamic. */
  inputShape: (number | 'batch')[];
  inputName?: string;
  outputName?: string;
  opset?: number;
  load: string;
}

export interface Equivalence {
  reference: string;
  images: number;
  tolerance: number;
  maxAbsDiff: Partial<Record<ExportFormat, number>>;
}

export interface MetadataInput {
  results: RunResults;
  row: ResultRow;
  data: Pick<DataRef, 'imageShape' | 'classes' | 'train' | 'counts' | 'imageFolder'>;
  normalization: Normalization;
  files: ModelMetadata['files'];
  equivalence: Equivalence;
  now?: Date;
}

/** How to load each format (pure). */
export function formatInfo(format: ExportFormat, resolution: number, channels: number): FormatInfo {
  return format === 'tfjs'
    ? { files: FORMAT_FILES.tfjs, layout: 'NHWC', inputShape: ['batch', resolution, resolution, channels], load: 'tf.loadLayersModel(\'model.json\') with stock @tensorflow/tfjs-layers 4.x (only stock layer classes; BN as BatchNormalization)' }
    : { files: FORMAT_FILES.onnx, layout: 'NCHW', inputShape: ['batch', channels, resolution, resolution], inputName: ONNX_INPUT, outputName: ONNX_OUTPUT, opset: ONNX_OPSET, load: `ONNX Runtime (or any runtime with default-domain opset ${ONNX_OPSET}); BN folded into the convolutions; transpose the NHWC input recipe to NCHW` };
}

/** The metadata of one exported model (pure). */
export function buildModelMetadata(i: MetadataInput): ModelMetadata {
  const { results: r, row } = i;
  const res = row.resolution;
  const folder = i.data.imageFolder;
  // Image folders: files of any size are decoded straight to r×r (the workers' evaluation transform).
  const decode = folder ? { shorterSide: Math.max(res, Math.round(res / EVAL_CROP_FRACTION)), crop: res } : undefined;
  const [h, w, c] = decode ? [res, res, folder!.channels] : i.data.imageShape;
  const resize = res === h && res === w ? 'no resize (the image is already at the model resolution)' : `resize bilinearly from ${h}×${w} to ${res}×${res} (half-pixel centres, no corner alignment: tf.image.resizeBilinear(x, [${res}, ${res}], false, true))`;
  const steps = decode ? `decode the file as ${c === 1 ? 'greyscale' : 'sRGB'}, resize its shorter side to ${decode.shorterSide} and keep the centre ${res}×${res} (data/image-decode.ts, evaluation transform); then ` : '';
  return {
    format: MODEL_METADATA_FORMAT,
    model: row.model,
    kind: row.kind,
    level: row.level,
    runId: r.runId,
    configHash: r.configHash,
    configName: r.config.name,
    architecture: { space: r.config.space, stages: r.base, depth: row.depth, width: row.width, resolution: row.resolution },
    macs: row.macs,
    params: row.params,
    accuracy: {
      test: row.retrainedAccuracy,
      testImages: row.retrainedAccuracy === null ? null : Math.min(r.config.retraining.testImages ?? i.data.counts.test, i.data.counts.test),
      supernetMinival: row.supernetAccuracy,
      baselineTest: row.kind === 'baseline' ? null : row.baselineAccuracy,
    },
    latencyMs: row.latencyMs,
    input: {
      shape: [res, res, c],
      layout: 'NHWC',
      dtype: 'float32',
      datasetImageShape: [h, w, c],
      ...(decode ? { decode } : {}),
      preprocessing: `${steps}x = (pixel / 255 - mean[channel]) / std[channel] on the uint8 image, then ${resize}`,
      normalization: {
        mean: i.normalization.mean,
        std: i.normalization.std,
        source: folder
          ? `per-channel mean and standard deviation of pixel/255 over the run's training split (${i.data.counts.train} images, minival held out), measured by prepare-data and saved with the run (the values the workers use)`
          : `per-channel mean and standard deviation of pixel/255 over the run's prepared training split (${i.data.counts.train} images, minival held out), recomputed by \`scalenet export\` from its sha256-verified shards exactly as the workers compute them (data/tensor.ts channelStats)`,
      },
    },
    output: {
      classes: i.data.classes,
      labels: classNames(r.config.dataset.kind, i.data),
      description: `logits [batch, ${i.data.classes}] (no softmax); the predicted class is the argmax`,
    },
    formats: Object.fromEntries(Object.keys(i.equivalence.maxAbsDiff).map((f) => [f, formatInfo(f as ExportFormat, res, c)])),
    equivalence: i.equivalence,
    files: i.files,
    exportedAt: (i.now ?? new Date()).toISOString(),
  };
}

/** Names of the models of a run that can be exported (retrained, with a stored model). */
export function exportableModels(results: RunResults): string[] {
  return results.family.filter((f) => f.model_json !== null).map((f) => f.model);
}

/** The family row called `name` (case-insensitive); a UsageError listing the available names otherwise. */
export function findModel(results: RunResults, name: string): ResultRow & { model_json: ObjectRef } {
  const row = results.family.find((f) => f.model.toLowerCase() === name.toLowerCase());
  const available = exportableModels(results);
  if (!row || row.model_json === null) {
    throw new UsageError(`--model: run ${results.runId} has no exported model "${name}"; available: ${available.join(', ') || '(none)'}`);
  }
  return row as ResultRow & { model_json: ObjectRef };
}

/** The parts of a layers-model model.json that export checks. */
interface ModelJsonShape {
  weightsManifest?: { paths: string[] }[];
  modelTopology?: { config?: { layers?: { config?: { batch_input_shape?: (number | null)[] } }[] } };
}

export interface RunManifest {
  artifacts: { stage: string; key: string; sha256: string; bytes: number }[];
}

/** The reference of `key` as the run manifest recorded it (verified chain: run result → manifest → object). */
function manifestRef(manifest: RunManifest, bucket: string, key: string): ObjectRef | null {
  const a = manifest.artifacts.find((x) => x.key === key);
  return a ? { bucket, key, sha256: a.sha256, bytes: a.bytes } : null;
}

/**
 * The stored model.json and weights.bin of a family row, both verified: through the committed export manifest
 * (one attempt's consistent pair, written for this run's config: storage/exports.ts), or for runs from before
 * exports were fenced, next to model.json as the run manifest recorded them.
 */
export async function storedModelFiles(store: ArtifactStore, manifest: RunManifest, results: RunResults, row: ResultRow & { model_json: ObjectRef }): Promise<{ modelJson: Buffer; weightsBytes: Buffer; weightsRef: ObjectRef }> {
  if (row.export) {
    const exported = await loadExport(store, row.export, results.configHash);
    const [modelJson, weightsBytes, weightsRef] = [exported.files['model.json'], exported.files[WEIGHTS_FILE], exported.manifest.files[WEIGHTS_FILE]];
    if (!modelJson || !weightsBytes || !weightsRef) throw new Error(`${row.export.key}: the export manifest names ${Object.keys(exported.files).join(', ')}, expected model.json and ${WEIGHTS_FILE}`);
    return { modelJson, weightsBytes, weightsRef };
  }
  const dir = row.model_json.key.slice(0, row.model_json.key.lastIndexOf('/'));
  const weightsKey = `${dir}/${WEIGHTS_FILE}`;
  const weightsRef = manifestRef(manifest, row.model_json.bucket, weightsKey) ?? (await store.refOf(weightsKey));
  return { modelJson: await store.getVerified(row.model_json), weightsBytes: await store.getVerified(weightsRef), weightsRef };
}

/** Per-channel statistics of the run's prepared training split (read from the store, verified). */
export async function trainingNormalization(store: ArtifactStore, data: DataRef): Promise<Normalization> {
  // Image folders: measured once by prepare-data and saved with the run (its shards hold encoded files).
  if (data.imageFolder) return data.imageFolder.normalization;
  const parts = [];
  for (const ref of data.train) parts.push(unpackShard(await store.getVerified(ref), ref.key));
  return channelStats(joinShards(parts));
}

export interface ExportOptions {
  runId: string;
  model: string;
  outDir: string;
  /** Formats to write. Default ['tfjs']. */
  formats?: readonly ExportFormat[];
  /** Overwrite model files already in `outDir`. Default false. */
  force?: boolean;
}

export interface ExportResult {
  outDir: string;
  files: string[];
  metadata: ModelMetadata;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** The first `count` images of an image set as {@link RawImages}. */
export function rawImages(set: ImageSet, count: number): RawImages {
  const n = Math.min(count, set.count);
  const per = set.height * set.width * set.channels;
  return { count: n, height: set.height, width: set.width, channels: set.channels, images: Buffer.from(set.images.subarray(0, n * per)).toString('base64') };
}

/**
 * The first `count` test images of the run's prepared data (fewest shards read, each verified) as the
 * model's input before normalisation: image folders decoded at `resolution` as the workers evaluate them.
 */
async function testImages(store: ArtifactStore, data: DataRef, count: number, config: RunResults['config'], resolution: number): Promise<ImageSet> {
  if (data.imageFolder) {
    const dataset = await datasetFromRef(store, data, config.dataset);
    const batches: ImageSet[] = [];
    for await (const b of evaluationBatches(dataset, 'test', resolution, count, count)) batches.push(b);
    return joinShards(batches);
  }
  const parts: ImageSet[] = [];
  let n = 0;
  for (const ref of data.test) {
    if (n >= count) break;
    const part = unpackShard(await store.getVerified(ref), ref.key);
    parts.push(part);
    n += part.count;
  }
  return joinShards(parts);
}

/** Exports one model of a completed run into `outDir` (created if missing), checked against the engine. */
export async function exportRunModel(client: Client, store: ArtifactStore, o: ExportOptions): Promise<ExportResult> {
  const formats = o.formats ?? ['tfjs'];
  // The engine's reference and the reloaded models run on the workers' backend ($SCALENET_BACKEND, default
  // native TensorFlow, else wasm): the pure-JS cpu backend took ~30 s for 32 images of a tiny model.
  // Stock TF.js without this project is what a fresh process checks (report/predict-exported.ts).
  if (!tf.engine().backendName) await initBackend((process.env.SCALENET_BACKEND ?? 'auto') as BackendKind, { log: () => undefined });
  const results = await loadResults(client, store, o.runId);
  const row = findModel(results, o.model);
  const existing = await readdir(o.outDir).catch(() => [] as string[]);
  const clash = existing.filter((f) => ['model.json', 'weights.bin', 'model.onnx', 'metadata.json'].includes(f));
  if (clash.length > 0 && !o.force) throw new UsageError(`--out: ${o.outDir} already holds ${clash.join(', ')}; choose another folder or pass --force`);

  const summary = (await client.workflow.getHandle(o.runId).result()) as RunSummary;
  const manifest = await store.getJson<RunManifest>(summary.manifest);
  const { modelJson, weightsBytes, weightsRef } = await storedModelFiles(store, manifest, results, row);
  const parsed = JSON.parse(modelJson.toString('utf8')) as ModelJsonShape;
  const paths = parsed.weightsManifest?.flatMap((g) => g.paths) ?? [];
  if (paths.length !== 1 || paths[0] !== 'weights.bin') throw new Error(`${row.model_json.key}: expected one weights file "weights.bin", the manifest names ${JSON.stringify(paths)}`);

  const dataEntry = manifest.artifacts.find((a) => a.stage === 'prepare-data' && /\/data-[0-9a-f]+\.json$/.test(a.key));
  if (!dataEntry) throw new Error(`run ${o.runId}: its manifest lists no prepared-data index (runs/${o.runId}/prepare-data/data-*.json)`);
  const data = await store.getJson<DataRef>({ bucket: summary.manifest.bucket, key: dataEntry.key, sha256: dataEntry.sha256, bytes: dataEntry.bytes });
  const normalization = await trainingNormalization(store, data);

  const inputShape = parsed.modelTopology?.config?.layers?.[0]?.config?.batch_input_shape?.slice(1);
  const expected = [row.resolution, row.resolution, data.imageShape[2]];
  if (inputShape && JSON.stringify(inputShape) !== JSON.stringify(expected)) {
    throw new Error(`${row.model_json.key}: the model's input is ${JSON.stringify(inputShape)} but ${row.model} runs at ${JSON.stringify(expected)}`);
  }

  // The stored model (this process registers the custom layers of older runs), its weights under the
  // engine's names, and the engine's logits on real test images: the reference of the check.
  const net = scaleNetwork(resolveSpace(results.config), { stages: results.base, depth: row.depth, width: row.width, resolution: row.resolution });
  const stored = await tfl.loadLayersModel(tf.io.fromMemory({
    modelTopology: (parsed as { modelTopology: object }).modelTopology,
    weightSpecs: (JSON.parse(modelJson.toString('utf8')) as tf.io.ModelJSON).weightsManifest.flatMap((g) => g.weights),
    weightData: weightsBytes.buffer.slice(weightsBytes.byteOffset, weightsBytes.byteOffset + weightsBytes.byteLength) as ArrayBuffer,
  }));
  const weights = weightsOfModel(stored, net);
  stored.dispose();
  try {
    const test = await testImages(store, data, CHECK_IMAGES, results.config, row.resolution);
    const raw = rawImages(test, CHECK_IMAGES);
    const reference = tf.tidy(() => {
      const x = batchToTensor({ ...test, images: test.images.subarray(0, raw.count * test.height * test.width * test.channels), labels: test.labels.subarray(0, raw.count), count: raw.count }, normalization, row.resolution);
      return engineLogits(net, weights, x);
    });
    const referenceLogits = (await reference.data()) as Float32Array;
    reference.dispose();

    const files: Record<string, Uint8Array> = {};
    const info: ModelMetadata['files'] = {};
    if (formats.includes('tfjs')) {
      // Models stored by older runs use custom activation layers: rebuild those from stock layers.
      const stock = !/"class_name":\s*"ScaleNet/.test(modelJson.toString('utf8'));
      let json: Uint8Array = modelJson;
      let bin: Uint8Array = weightsBytes;
      if (!stock) {
        const rebuilt = buildFromNetwork(net, { weights });
        ({ json, weights: bin } = await modelArtifacts(rebuilt));
        rebuilt.dispose();
      }
      files['model.json'] = json;
      files['weights.bin'] = bin;
      info['model.json'] = { sha256: sha256(json), bytes: json.byteLength, ...(stock ? { source: row.model_json } : {}) };
      info['weights.bin'] = { sha256: sha256(bin), bytes: bin.byteLength, ...(stock ? { source: weightsRef } : {}) };
    }
    if (formats.includes('onnx')) {
      const bytes = buildOnnxModel(net, weights, { docString: `ScaleNet ${row.model} of run ${o.runId}`, metadata: { runId: o.runId, model: row.model, configHash: results.configHash } });
      files['model.onnx'] = bytes;
      info['model.onnx'] = { sha256: sha256(bytes), bytes: bytes.byteLength };
    }
    let metadata: ModelMetadata | undefined;
    const written = await writeCheckedExport({
      outDir: o.outDir, files, formats,
      check: (staging) => {
        const m = buildModelMetadata({ results, row, data, normalization, files: info, equivalence: equivalence({}) });
        return withMetadata(staging, m, () => compareWithEngine(staging, formats, raw, referenceLogits));
      },
      metadata: (diffs) => {
        metadata = buildModelMetadata({ results, row, data, normalization, files: info, equivalence: equivalence(diffs) });
        return `${JSON.stringify(metadata, null, 2)}\n`;
      },
    });
    return { outDir: o.outDir, files: written.files, metadata: metadata! };
  } finally {
    weights.dispose();
  }
}

function equivalence(maxAbsDiff: Partial<Record<ExportFormat, number>>): Equivalence {
  return {
    reference: `the engine's BN-folded forward pass (nn/reference.ts) on the run's preprocessing of the first ${CHECK_IMAGES} test images; each format loaded back from the written files and fed by this metadata's recipe`,
    images: CHECK_IMAGES,
    tolerance: EXPORT_TOLERANCE,
    maxAbsDiff,
  };
}

/** Runs `f` with a provisional metadata.json in `dir` (the loaders read the input recipe from it). */
async function withMetadata<T>(dir: string, m: ModelMetadata, f: () => Promise<T>): Promise<T> {
  await writeFile(join(dir, 'metadata.json'), JSON.stringify(m));
  return f();
}
