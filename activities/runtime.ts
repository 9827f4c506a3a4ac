/**
 * Per-process resources shared by a worker's activities: the tfjs backend (initialised once), prepared
 * datasets (fetched from the store once per content hash), and helpers for heartbeats and cancellation.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { DataRef, ImageFolderInfo } from '../core/pipeline';
import { ERROR_CLASSES, InvalidInputError } from '../core/errors';
import { augmentationFor, DatasetConfigSchema } from '../data/config';
import type { Dataset } from '../data/dataset';
import { joinShards, unpackShard } from '../data/shards';
import { unpackEncodedShard, type EncodedImage } from '../data/encoded-shards';
import type { EncodedSplit } from '../data/stream';
import { channelStats } from '../data/tensor';
import type { ImageSet } from '../data/types';
import { initBackend, type BackendKind } from '../nn/backend';
import type { ArtifactStore } from '../storage/store';
import type { DatasetConfig } from '../core/config';

let backend: Promise<string> | undefined;

/** The tfjs backend of this process: `$SCALENET_BACKEND` (auto, wasm, cpu, tensorflow), default auto. */
export function ensureBackend(): Promise<string> {
  backend ??= initBackend((process.env.SCALENET_BACKEND ?? 'auto') as BackendKind, { log: (l) => console.error(l) });
  return backend;
}

/**
 * Bytes of prepared datasets a process keeps (least recently used first out; the dataset in use is always
 * kept). `$SCALENET_DATASET_CACHE_BYTES` overrides the default of 2 GiB.
 */
export function datasetCacheLimit(): number {
  const v = Number(process.env.SCALENET_DATASET_CACHE_BYTES);
  return Number.isFinite(v) && v >= 0 ? v : 2 ** 31;
}

/** An LRU of values by key, bounded by the sum of their sizes; the newest entry is never evicted. */
export class LruCache<V> {
  private readonly map = new Map<string, { value: V; bytes: number }>();
  constructor(private readonly limit: () => number) {}

  get(key: string): V | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    this.map.delete(key);
    this.map.set(key, e); // most recently used last
    return e.value;
  }

  set(key: string, value: V, bytes = 0): void {
    this.map.delete(key);
    this.map.set(key, { value, bytes });
    this.evict();
  }

  /** Records the size of an entry once known (a dataset's, after it loaded). */
  resize(key: string, bytes: number): void {
    const e = this.map.get(key);
    if (!e) return;
    e.bytes = bytes;
    this.evict();
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  get bytes(): number {
    let n = 0;
    for (const e of this.map.values()) n += e.bytes;
    return n;
  }

  keys(): string[] {
    return [...this.map.keys()];
  }

  private evict(): void {
    let total = this.bytes;
    for (const [key, e] of this.map) {
      if (total <= this.limit() || this.map.size <= 1) break;
      this.map.delete(key);
      total -= e.bytes;
    }
  }
}

const datasets = new LruCache<Promise<Dataset>>(datasetCacheLimit);

const setBytes = (s: Dataset['train']) => s.images.byteLength + s.labels.byteLength;

async function fetchSet(store: ArtifactStore, refs: DataRef['train']) {
  const parts = [];
  for (const ref of refs) {
    parts.push(unpackShard(await store.getVerified(ref), ref.key));
    noteProgress();
  }
  return joinShards(parts);
}

/**
 * The dataset of a prepared {@link DataRef}, read from the store (verified) once per process while it stays in
 * the size-bounded cache. Normalisation
 * is recomputed from the training split, exactly as data/loadDataset does, so every worker agrees.
 */
export function datasetFromRef(store: ArtifactStore, ref: DataRef, config: DatasetConfig): Promise<Dataset> {
  const key = [...ref.train, ...ref.minival, ...ref.test].map((r) => r.sha256).join(',');
  let d = datasets.get(key);
  if (!d && ref.imageFolder && config.kind === 'image-folder') {
    d = Promise.resolve(streamedDataset(store, ref, ref.imageFolder, config));
    datasets.set(key, d);
  }
  if (!d) {
    d = (async () => {
      const [train, minival, test] = [await fetchSet(store, ref.train), await fetchSet(store, ref.minival), await fetchSet(store, ref.test)];
      return {
        train,
        minival,
        test,
        imageShape: ref.imageShape,
        classes: ref.classes,
        normalization: channelStats(train),
        augmentation: augmentationFor(DatasetConfigSchema.parse(config), train.height),
      };
    })();
    d.then((ds) => datasets.resize(key, setBytes(ds.train) + setBytes(ds.minival) + setBytes(ds.test)), () => datasets.delete(key));
    datasets.set(key, d);
  }
  return d;
}

/**
 * Encoded shards held by this process, least recently used first. Bounded (SCALENET_SHARD_CACHE_MB,
 * default 32) so that memory stays flat whatever the dataset's size; BN recalibration re-reads the same
 * few training shards for every candidate, which is what the cache is for.
 */
const shardCache = new Map<string, { bytes: number; images: Promise<EncodedImage[]> }>();
let shardCacheBytes = 0;

function cachedShard(store: ArtifactStore, ref: DataRef['train'][number]): Promise<EncodedImage[]> {
  const hit = shardCache.get(ref.sha256);
  if (hit) {
    shardCache.delete(ref.sha256);
    shardCache.set(ref.sha256, hit);
    return hit.images;
  }
  const images = store.getVerified(ref).then((b) => unpackEncodedShard(b, ref.key));
  images.catch(() => {
    if (shardCache.get(ref.sha256)?.images === images) {
      shardCache.delete(ref.sha256);
      shardCacheBytes -= ref.bytes;
    }
  });
  const cap = Number(process.env.SCALENET_SHARD_CACHE_MB ?? 32) * 2 ** 20;
  shardCache.set(ref.sha256, { bytes: ref.bytes, images });
  shardCacheBytes += ref.bytes;
  for (const [k, v] of shardCache) {
    if (shardCacheBytes <= cap || k === ref.sha256) break;
    shardCache.delete(k);
    shardCacheBytes -= v.bytes;
  }
  return images;
}

const emptySet = (channels: number): ImageSet => ({ images: new Uint8Array(0), labels: new Int32Array(0), count: 0, height: 0, width: 0, channels });

/** An image-folder dataset as a worker sees it: shards streamed from the store, nothing else needed. */
function streamedDataset(store: ArtifactStore, ref: DataRef, info: ImageFolderInfo, config: Extract<DatasetConfig, { kind: 'image-folder' }>): Dataset {
  const split = (refs: DataRef['train'], count: number): EncodedSplit => ({
    count, shards: refs.length, load: (i) => cachedShard(store, refs[i] as DataRef['train'][number]),
  });
  return {
    train: emptySet(info.channels), minival: emptySet(info.channels), test: emptySet(info.channels),
    imageShape: ref.imageShape,
    classes: ref.classes,
    normalization: info.normalization,
    augmentation: { crop: true, cropPadding: 0, flip: config.flip },
    streaming: {
      train: split(ref.train, ref.counts.train), minival: split(ref.minival, ref.counts.minival), test: split(ref.test, ref.counts.test),
      channels: info.channels, maxPixels: config.maxPixels, randomResizedCrop: config.randomResizedCrop, flip: config.flip,
    },
  };
}

/**
 * Turns errors no retry can fix (core/errors.ts `ERROR_CLASSES`: input, format, integrity, invariant) into
 * non-retryable activity failures (DESIGN §4: bad input fails fast); rethrows the rest unchanged.
 */
export function nonRetryableInput(err: unknown): never {
  if (err instanceof InvalidInputError) throw ApplicationFailure.nonRetryable(err.message, 'InvalidInput');
  const name = (err as Error | undefined)?.name;
  const cls = name === undefined ? undefined : ERROR_CLASSES[name];
  if (cls !== undefined && cls !== 'transient') throw ApplicationFailure.nonRetryable((err as Error).message, name);
  throw err;
}

/** Default of `resources.noProgressSeconds` for callers that have no config at hand. */
export const DEFAULT_NO_PROGRESS_SECONDS = 900;

/**
 * When this process last saw work move: a training step finished, a candidate was evaluated, a dataset shard
 * was read. Per process, not per activity: a worker whose store or device stalls stalls all its activities.
 */
let lastProgressAt = Date.now();

/** Records that work moved (see {@link keepAlive}). */
export function noteProgress(): void {
  lastProgressAt = Date.now();
}

/**
 * Awaits `work` while heartbeating every second, so slow preparation (downloading shards, restoring a
 * checkpoint) is not mistaken for a lost worker. A heartbeat means "work moves": once nothing has progressed
 * (see {@link noteProgress}) for `noProgressSeconds` since `work` began, the heartbeats stop, Temporal times
 * the attempt out after the heartbeat timeout and another attempt takes the work over. The heartbeat keeps
 * the details of the previous attempt (its resume point) unless others are given.
 */
export async function keepAlive<T>(work: Promise<T>, details?: unknown, opts: { noProgressSeconds?: number } = {}): Promise<T> {
  const ctx = Context.current();
  details ??= ctx.info.heartbeatDetails;
  const limitMs = (opts.noProgressSeconds ?? DEFAULT_NO_PROGRESS_SECONDS) * 1000;
  const since = Date.now();
  ctx.heartbeat(details);
  const timer = setInterval(() => {
    if (Date.now() - Math.max(since, lastProgressAt) < limitMs) ctx.heartbeat(details);
  }, 1_000);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}
