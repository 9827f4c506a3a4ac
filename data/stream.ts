/**
 * The narrow interface between training/evaluation and where images come from. In-memory datasets
 * (IDX, CIFAR, synthetic) keep their {@link BatchStream} and {@link sequentialBatches} unchanged; an
 * image-folder dataset streams encoded shards from the object store with a bounded prefetch window and a
 * seeded shuffle buffer, decoding each image at the resolution the step asks for, so a worker's memory
 * does not grow with the dataset (issue 13).
 */
import { Rng } from '../core/rng';
import { BatchStream, sequentialBatches, type Batch, type BatchStreamArgs, type BatchStreamState } from './batcher';
import type { Dataset } from './dataset';
import type { EncodedImage } from './encoded-shards';
import { decodeImage, imageSize, randomResizedCropBox, type ImageTransform } from './image-decode';
import type { ImageSet } from './types';

/** Training batches: `next(resolution)` and a JSON `state()` to resume from. {@link BatchStream} is one. */
export interface BatchSource {
  /** The next batch; in-memory sources return it at the stored size (resized later), streamed ones at `resolution`. */
  next(resolution: number): Batch | Promise<Batch>;
  state(): BatchStreamState;
}

/** One split of an encoded dataset: shards fetched (and verified) on demand. */
export interface EncodedSplit {
  readonly count: number;
  readonly shards: number;
  load(shard: number): Promise<EncodedImage[]>;
}

/** An image-folder dataset as workers see it: shard loaders plus the decoding options. */
export interface StreamingData {
  readonly train: EncodedSplit;
  readonly minival: EncodedSplit;
  readonly test: EncodedSplit;
  readonly channels: 1 | 3;
  readonly maxPixels: number;
  readonly randomResizedCrop: { scale: readonly [number, number]; ratio: readonly [number, number] };
  readonly flip: boolean;
}

/** Streaming knobs; both bound memory independently of the dataset size. */
export interface StreamArgs {
  /** Images held in the shuffle buffer. Default 512. */
  shuffleBuffer?: number;
  /** Shards fetched ahead of the one being read. Default 2. */
  prefetch?: number;
}

/** Items of a split in order (shard by shard), fetching up to `prefetch` shards ahead. */
async function* shardItems(split: EncodedSplit, order: readonly number[], prefetch: number): AsyncGenerator<EncodedImage> {
  const pending: Promise<EncodedImage[]>[] = [];
  let next = 0;
  const fill = () => {
    while (pending.length <= prefetch && next < order.length) pending.push(split.load(order[next++] as number));
  };
  fill();
  while (pending.length > 0) {
    const items = await (pending.shift() as Promise<EncodedImage[]>);
    fill();
    yield* items;
  }
}

/**
 * Endless training batches over an encoded split. An epoch visits the shards in a seeded order and draws
 * from a seeded shuffle buffer; augmentation draws are keyed by (seed, epoch, position). The state is the
 * same three numbers as {@link BatchStream}'s: resuming replays the epoch's order up to `position`
 * without decoding, so a resumed stream yields exactly the batches the original would have.
 */
export class ShardBatchSource implements BatchSource {
  private epoch: number;
  private position: number;
  private items: AsyncGenerator<EncodedImage> | undefined;
  private skip: number;
  private readonly seed: number;

  constructor(
    private readonly data: StreamingData,
    private readonly split: EncodedSplit,
    private readonly args: Omit<BatchStreamArgs, 'augment'> & StreamArgs & { transform: 'train' | 'eval' },
    state?: BatchStreamState,
  ) {
    if (split.count === 0) throw new Error('ShardBatchSource: the split is empty');
    if (!(args.batchSize >= 1)) throw new RangeError(`ShardBatchSource: batchSize must be >= 1, got ${args.batchSize}`);
    this.seed = state?.seed ?? args.seed;
    this.epoch = state?.epoch ?? 0;
    this.position = state?.position ?? 0;
    this.skip = this.position;
  }

  state(): BatchStreamState {
    return { seed: this.seed, epoch: this.epoch, position: this.position };
  }

  private async *epochItems(epoch: number): AsyncGenerator<EncodedImage> {
    const order = new Rng(`order:${this.seed}:${epoch}`).shuffle(Array.from({ length: this.split.shards }, (_, i) => i));
    const rng = new Rng(`shuffle:${this.seed}:${epoch}`);
    const size = this.args.shuffleBuffer ?? 512;
    const buffer: EncodedImage[] = [];
    const take = (): EncodedImage => {
      const j = rng.int(0, buffer.length - 1);
      const item = buffer[j] as EncodedImage;
      buffer[j] = buffer[buffer.length - 1] as EncodedImage;
      buffer.pop();
      return item;
    };
    for await (const item of shardItems(this.split, order, this.args.prefetch ?? 2)) {
      buffer.push(item);
      if (buffer.length >= size) yield take();
    }
    while (buffer.length > 0) yield take();
  }

  private async nextItem(): Promise<EncodedImage> {
    for (;;) {
      this.items ??= this.epochItems(this.epoch);
      const r = await this.items.next();
      if (r.done) {
        this.epoch += 1;
        this.position = 0;
        this.skip = 0;
        this.items = undefined;
        continue;
      }
      if (this.skip > 0) {
        this.skip -= 1;
        continue;
      }
      return r.value;
    }
  }

  async next(resolution: number): Promise<Batch> {
    const picked: { item: EncodedImage; position: number; epoch: number }[] = [];
    while (picked.length < this.args.batchSize) {
      const item = await this.nextItem();
      picked.push({ item, position: this.position, epoch: this.epoch });
      this.position += 1;
    }
    const pixels = await Promise.all(picked.map(async ({ item, position, epoch }) => {
      const transform = this.args.transform === 'train' ? await this.trainTransform(item, epoch, position) : { kind: 'eval' as const };
      return decodeImage(item.bytes, item.name, resolution, this.data.channels, transform, this.data.maxPixels);
    }));
    return toBatch(pixels, picked.map((p) => p.item.label), resolution, this.data.channels);
  }

  private async trainTransform(item: EncodedImage, epoch: number, position: number): Promise<ImageTransform> {
    const rng = new Rng(`augment:${this.seed}:${epoch}:${position}`);
    const { width, height } = await imageSize(item.bytes, item.name, this.data.maxPixels);
    const { scale, ratio } = this.data.randomResizedCrop;
    return { kind: 'train', box: randomResizedCropBox(width, height, rng, scale, ratio), flip: this.data.flip && rng.bool() };
  }
}

function toBatch(pixels: Uint8Array[], labels: number[], resolution: number, channels: number): Batch {
  const per = resolution * resolution * channels;
  const images = new Uint8Array(pixels.length * per);
  pixels.forEach((p, i) => images.set(p, i * per));
  return { images, labels: Int32Array.from(labels), count: pixels.length, height: resolution, width: resolution, channels };
}

/** Evaluation batches of an encoded split in order: shorter side to r/0.875, centre crop r. */
export async function* encodedBatches(data: StreamingData, split: EncodedSplit, resolution: number, batchSize: number, limit = split.count): AsyncGenerator<Batch> {
  const order = Array.from({ length: split.shards }, (_, i) => i);
  let pending: EncodedImage[] = [];
  let seen = 0;
  const flush = async (): Promise<Batch> => {
    const pixels = await Promise.all(pending.map((i) => decodeImage(i.bytes, i.name, resolution, data.channels, { kind: 'eval' }, data.maxPixels)));
    const b = toBatch(pixels, pending.map((i) => i.label), resolution, data.channels);
    pending = [];
    return b;
  };
  for await (const item of shardItems(split, order, 1)) {
    if (seen >= limit) break;
    pending.push(item);
    seen += 1;
    if (pending.length === batchSize) yield await flush();
  }
  if (pending.length > 0) yield await flush();
}

/** Training batches of a dataset: the in-memory {@link BatchStream}, or augmented batches streamed from shards. */
export function trainingBatches(data: Dataset, args: BatchStreamArgs, state?: BatchStreamState): BatchSource {
  return data.streaming
    ? new ShardBatchSource(data.streaming, data.streaming.train, { batchSize: args.batchSize, seed: args.seed, transform: 'train' }, state)
    : new BatchStream(data.train, args, state);
}

/** Un-augmented training batches for BN recalibration, seeded so every candidate sees the same images. */
export function calibrationBatches(train: ImageSet | StreamingData, args: { batchSize: number; seed: number }): BatchSource {
  return 'images' in train ? new BatchStream(train, args) : new ShardBatchSource(train, train.train, { ...args, transform: 'eval' });
}

/** Images in a split (the in-memory set's count, or the streamed split's). */
export function splitCount(data: Dataset, split: 'minival' | 'test'): number {
  return data.streaming ? data.streaming[split].count : data[split].count;
}

/** Evaluation batches of a split, in order: {@link sequentialBatches} in memory, {@link encodedBatches} streamed. */
export function evaluationBatches(data: Dataset, split: 'minival' | 'test', resolution: number, batchSize: number, limit: number): Iterable<Batch> | AsyncIterable<Batch> {
  return data.streaming ? encodedBatches(data.streaming, data.streaming[split], resolution, batchSize, limit) : sequentialBatches(data[split], batchSize, limit);
}
