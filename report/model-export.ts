/**
 * `scalenet export`: copies a retrained family member out of the artifact store as a TensorFlow.js layers
 * model (model.json + weights.bin, both verified by sha256 on download) and writes `metadata.json` with
 * what a user needs to run it: the architecture, its cost, its accuracies, where it came from, and how to
 * turn an image into its input (shape, resize, per-channel normalisation of the training split).
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { ResultRow, RunResults } from '../activities/records';
import { loadResults } from '../cli/results';
import { UsageError } from '../cli/errors';
import type { DataRef } from '../core/pipeline';
import type { ObjectRef } from '../core/refs';
import { joinShards, unpackShard } from '../data/shards';
import { channelStats, type Normalization } from '../data/tensor';
import type { ArtifactStore } from '../storage/store';
import type { RunSummary } from '../workflows/run';

export const MODEL_METADATA_FORMAT = 'scalenet.model/v1';

/** Class names of datasets whose labels are fixed (index = label). */
const CLASS_NAMES: Record<string, string[]> = {
  'fashion-mnist': ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
};

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
  latencyMs: number | null;
  input: {
    /** Model input: a float32 NHWC tensor [batch, ...shape]. */
    shape: [number, number, number];
    layout: 'NHWC';
    dtype: 'float32';
    /** Shape of the dataset's images (uint8, 0..255). */
    datasetImageShape: [number, number, number];
    /** How the run turned a uint8 image into the input (the same steps reproduce its predictions). */
    preprocessing: string;
    normalization: Normalization & { source: string };
  };
  output: { classes: number; labels: string[] | null; description: string };
  files: Record<'model.json' | 'weights.bin', { sha256: string; bytes: number; source: ObjectRef }>;
  exportedAt: string;
}

export interface MetadataInput {
  results: RunResults;
  row: ResultRow;
  data: Pick<DataRef, 'imageShape' | 'classes' | 'train' | 'counts'>;
  normalization: Normalization;
  files: ModelMetadata['files'];
  now?: Date;
}

/** The metadata of one exported model (pure). */
export function buildModelMetadata(i: MetadataInput): ModelMetadata {
  const { results: r, row } = i;
  const [h, w, c] = i.data.imageShape;
  const res = row.resolution;
  const resize = res === h && res === w ? 'no resize (the dataset is already at the model resolution)' : `resize bilinearly from ${h}×${w} to ${res}×${res} (half-pixel centres, no corner alignment: tf.image.resizeBilinear(x, [${res}, ${res}], false, true))`;
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
      preprocessing: `x = (pixel / 255 - mean[channel]) / std[channel] on the uint8 image, then ${resize}`,
      normalization: {
        mean: i.normalization.mean,
        std: i.normalization.std,
        source: `per-channel mean and standard deviation of pixel/255 over the run's prepared training split (${i.data.counts.train} images, minival held out), recomputed by \`scalenet export\` from its sha256-verified shards exactly as the workers compute them (data/tensor.ts channelStats)`,
      },
    },
    output: {
      classes: i.data.classes,
      labels: CLASS_NAMES[r.config.dataset.kind] ?? null,
      description: `logits [batch, ${i.data.classes}] (no softmax); the predicted class is the argmax`,
    },
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

interface RunManifest {
  artifacts: { stage: string; key: string; sha256: string; bytes: number }[];
}

/** The reference of `key` as the run manifest recorded it (verified chain: run result → manifest → object). */
function manifestRef(manifest: RunManifest, bucket: string, key: string): ObjectRef | null {
  const a = manifest.artifacts.find((x) => x.key === key);
  return a ? { bucket, key, sha256: a.sha256, bytes: a.bytes } : null;
}

/** Per-channel statistics of the run's prepared training split (read from the store, verified). */
export async function trainingNormalization(store: ArtifactStore, data: DataRef): Promise<Normalization> {
  const parts = [];
  for (const ref of data.train) parts.push(unpackShard(await store.getVerified(ref), ref.key));
  return channelStats(joinShards(parts));
}

export interface ExportOptions {
  runId: string;
  model: string;
  outDir: string;
  /** Overwrite model files already in `outDir`. Default false. */
  force?: boolean;
}

export interface ExportResult {
  outDir: string;
  files: string[];
  metadata: ModelMetadata;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Exports one model of a completed run into `outDir` (created if missing). */
export async function exportRunModel(client: Client, store: ArtifactStore, o: ExportOptions): Promise<ExportResult> {
  const results = await loadResults(client, store, o.runId);
  const row = findModel(results, o.model);
  const existing = await readdir(o.outDir).catch(() => [] as string[]);
  const clash = existing.filter((f) => ['model.json', 'weights.bin', 'metadata.json'].includes(f));
  if (clash.length > 0 && !o.force) throw new UsageError(`--out: ${o.outDir} already holds ${clash.join(', ')}; choose another folder or pass --force`);

  const summary = (await client.workflow.getHandle(o.runId).result()) as RunSummary;
  const manifest = await store.getJson<RunManifest>(summary.manifest);
  const dir = row.model_json.key.slice(0, row.model_json.key.lastIndexOf('/'));
  const weightsKey = `${dir}/weights.bin`;
  const weightsRef = manifestRef(manifest, row.model_json.bucket, weightsKey) ?? (await store.refOf(weightsKey));
  const modelJson = await store.getVerified(row.model_json);
  const weights = await store.getVerified(weightsRef);
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
  const metadata = buildModelMetadata({
    results, row, data, normalization,
    files: {
      'model.json': { sha256: sha256(modelJson), bytes: modelJson.byteLength, source: row.model_json },
      'weights.bin': { sha256: sha256(weights), bytes: weights.byteLength, source: weightsRef },
    },
  });
  await mkdir(o.outDir, { recursive: true });
  // Each file is written under a temporary name and renamed, so a folder never holds a half-written model.
  const put = async (name: string, bytes: Uint8Array | string) => {
    const tmp = join(o.outDir, `.${name}.partial`);
    await writeFile(tmp, bytes);
    await rename(tmp, join(o.outDir, name));
  };
  await put('weights.bin', weights);
  await put('model.json', modelJson);
  await put('metadata.json', `${JSON.stringify(metadata, null, 2)}\n`);
  return { outDir: o.outDir, files: ['model.json', 'weights.bin', 'metadata.json'], metadata };
}
