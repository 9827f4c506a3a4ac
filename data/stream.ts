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
  /**
   * The next batch; in-memory sources return it at the stored size (resized later), streamed ones at
   * `resolution`. `upcoming`: the resolutions the following calls will ask for, as far as the caller
   * knows them — a hint that lets a streamed source decode ahead; it never changes which batches come.
   */
  next(resolution: number, upcoming?: readonly number[]): Batch | Promise<Batch>;
  /** Where the stream stands after the last batch returned (batches decoded ahead are not part of it). */
  state(): BatchStreamState;
  /** How many entries of `upcoming` the source uses (absent or 0: it does not decode ahead). */
  readonly lookahead?: number;
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
  /** Training batches decoded ahead ({@link StreamArgs.decodeAhead}). Default {@link DEFAULT_DECODE_AHEAD}. */
  readonly decodeAhead?: number;
}

/** Streaming knobs; all bound memory independently of the dataset size. */
export interface StreamArgs {
  /** Images held in the shuffle buffer. Default 512. */
  shuffleBuffer?: number;
  /** Shards fetched ahead of the one being read. Default 2. */
  prefetch?: number;
  /**
   * Batches decoded ahead of the one handed out (sharp decodes them on libuv's pool while the caller
   * trains on the current batch). Default {@link DEFAULT_DECODE_AHEAD}; 0 decodes each batch on demand.
   */
  decodeAhead?: number;
}

/** Default of {@link StreamArgs.decodeAhead}: one batch in training plus two decoding keeps a single decode thread busy. */
export const DEFAULT_DECODE_AHEAD = 2;

/** One image drawn for a batch, with the augmentation decided for it. */
interface Picked {
  readonly item: EncodedImage;
  readonly transform: ImageTransform;
}

/** A batch drawn from the stream: its images, the stream's state after it, and its decode at `resolution`. */
interface Prepared {
  readonly picked: Picked[];
  readonly after: BatchStreamState;
  resolution: number;
  pixels: Promise<Uint8Array[]>;
}

/** Decodes a batch's images (queued on libuv's pool at once); the promise is awaited later, when the batch is handed out. */
function decodeBatch(data: StreamingData, picked: readonly Picked[], resolution: number): Promise<Uint8Array[]> {
  const pixels = Promise.all(picked.map((p) => decodeImage(p.item.bytes, p.item.name, resolution, data.channels, p.transform, data.maxPixels)));
  // A batch decoded ahead may fail before anyone awaits it; the error is rethrown when it is handed out.
  pixels.catch(() => undefined);
  return pixels;
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
 *
 * Which images form a batch and how each is cropped never depend on the resolution, so batches can be
 * drawn ahead of time: up to `decodeAhead` of them are decoded at the resolutions the caller announces
 * (`upcoming`), and one announced wrongly is decoded again at the resolution actually asked for.
 */
export class ShardBatchSource implements BatchSource {
  /** Batches this source decodes ahead (see {@link StreamArgs.decodeAhead}). */
  readonly lookahead: number;
  private epoch: number;
  private position: number;
  private items: AsyncGenerator<EncodedImage> | undefined;
  private skip: number;
  private readonly seed: number;
  private readonly ahead: Prepared[] = [];
  private delivered: BatchStreamState;
  private busy = false;

  constructor(
    private readonly data: StreamingData,
    private readonly split: EncodedSplit,
    private readonly args: Omit<BatchStreamArgs, 'augment'> & StreamArgs & { transform: 'train' | 'eval' },
    state?: BatchStreamState,
  ) {
    if (split.count === 0) throw new Error('ShardBatchSource: the split is empty');
    if (!(args.batchSize >= 1)) throw new RangeError(`ShardBatchSource: batchSize must be >= 1, got ${args.batchSize}`);
    const ahead = args.decodeAhead ?? DEFAULT_DECODE_AHEAD;
    if (!(Number.isInteger(ahead) && ahead >= 0)) throw new RangeError(`ShardBatchSource: decodeAhead must be an integer >= 0, got ${ahead}`);
    this.lookahead = ahead;
    this.seed = state?.seed ?? args.seed;
    this.epoch = state?.epoch ?? 0;
    this.position = state?.position ?? 0;
    this.skip = this.position;
    this.delivered = { seed: this.seed, epoch: this.epoch, position: this.position };
  }

  state(): BatchStreamState {
    return { ...this.delivered };
  }

  /** Batches drawn and decoding (or decoded) beyond the last one handed out; never more than {@link lookahead}. */
  get decodingAhead(): number {
    return this.ahead.length;
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

  /** Draws the next batch's images and their augmentation, then queues its decode at `resolution`. */
  private async draw(resolution: number): Promise<Prepared> {
    const drawn: { item: EncodedImage; position: number; epoch: number }[] = [];
    while (drawn.length < this.args.batchSize) {
      const item = await this.nextItem();
      drawn.push({ item, position: this.position, epoch: this.epoch });
      this.position += 1;
    }
    const after = { seed: this.seed, epoch: this.epoch, position: this.position };
    // Header sizes first (cheap), so every decode below is queued without a further await.
    const sizes = await Promise.all(drawn.map(({ item }) => imageSize(item.bytes, item.name, this.data.maxPixels)));
    const picked = drawn.map(({ item, position, epoch }, i): Picked => {
      const size = sizes[i] as { width: number; height: number };
      return { item, transform: this.args.transform === 'train' ? this.trainTransform(size, epoch, position) : { kind: 'eval', size } };
    });
    return { picked, after, resolution, pixels: decodeBatch(this.data, picked, resolution) };
  }

  async next(resolution: number, upcoming: readonly number[] = []): Promise<Batch> {
    if (this.busy) throw new Error('ShardBatchSource.next: called again before the previous batch was delivered');
    this.busy = true;
    try {
      const head = this.ahead.shift() ?? (await this.draw(resolution));
      if (head.resolution !== resolution) {
        head.resolution = resolution;
        head.pixels = decodeBatch(this.data, head.picked, resolution);
      }
      // Queue the following batches before handing this one over, so that their decodes run on the pool
      // while the caller's (synchronous) training step holds the main thread.
      for (let j = 0; j < Math.min(upcoming.length, this.lookahead); j++) {
        const r = upcoming[j] as number;
        const queued = this.ahead[j];
        if (!queued) {
          this.ahead.push(await this.draw(r));
        } else if (queued.resolution !== r) {
          queued.resolution = r;
          queued.pixels = decodeBatch(this.data, queued.picked, r);
        }
      }
      const pixels = await head.pixels;
      this.delivered = head.after;
      return toBatch(pixels, head.picked.map((p) => p.item.label), resolution, this.data.channels);
    } finally {
      this.busy = false;
    }
  }

  private trainTransform({ width, height }: { width: number; height: number }, epoch: number, position: number): ImageTransform {
    const rng = new Rng(`augment:${this.seed}:${epoch}:${position}`);
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

/**
 * Evaluation batches of an encoded split in order: shorter side to r/0.875, centre crop r. The next
 * `decodeAhead` batches are decoding while the caller evaluates the one yielded.
 */
export async function* encodedBatches(data: StreamingData, split: EncodedSplit, resolution: number, batchSize: number, limit = split.count, decodeAhead = 1): AsyncGenerator<Batch> {
  const order = Array.from({ length: split.shards }, (_, i) => i);
  const queued: { labels: number[]; pixels: Promise<Uint8Array[]> }[] = [];
  let pending: EncodedImage[] = [];
  let seen = 0;
  const queue = async (): Promise<void> => {
    const sizes = await Promise.all(pending.map((i) => imageSize(i.bytes, i.name, data.maxPixels)));
    const picked = pending.map((item, k): Picked => ({ item, transform: { kind: 'eval', size: sizes[k] } }));
    queued.push({ labels: pending.map((i) => i.label), pixels: decodeBatch(data, picked, resolution) });
    pending = [];
  };
  const deliver = async (): Promise<Batch> => {
    const b = queued.shift() as { labels: number[]; pixels: Promise<Uint8Array[]> };
    return toBatch(await b.pixels, b.labels, resolution, data.channels);
  };
  for await (const item of shardItems(split, order, 1)) {
    if (seen >= limit) break;
    pending.push(item);
    seen += 1;
    if (pending.length === batchSize) {
      await queue();
      if (queued.length > decodeAhead) yield await deliver();
    }
  }
  if (pending.length > 0) await queue();
  while (queued.length > 0) yield await deliver();
}

/** Training batches of a dataset: the in-memory {@link BatchStream}, or augmented batches streamed from shards. */
export function trainingBatches(data: Dataset, args: BatchStreamArgs, state?: BatchStreamState): BatchSource {
  return data.streaming
    ? new ShardBatchSource(data.streaming, data.streaming.train, { batchSize: args.batchSize, seed: args.seed, transform: 'train', decodeAhead: data.streaming.decodeAhead }, state)
    : new BatchStream(data.train, args, state);
}

/** Un-augmented training batches for BN recalibration, seeded so every candidate sees the same images. */
export function calibrationBatches(train: ImageSet | StreamingData, args: { batchSize: number; seed: number }): BatchSource {
  return 'images' in train ? new BatchStream(train, args) : new ShardBatchSource(train, train.train, { ...args, transform: 'eval', decodeAhead: train.decodeAhead });
}

/** Images in a split (the in-memory set's count, or the streamed split's). */
export function splitCount(data: Dataset, split: 'minival' | 'test'): number {
  return data.streaming ? data.streaming[split].count : data[split].count;
}

/** Evaluation batches of a split, in order: {@link sequentialBatches} in memory, {@link encodedBatches} streamed. */
export function evaluationBatches(data: Dataset, split: 'minival' | 'test', resolution: number, batchSize: number, limit: number): Iterable<Batch> | AsyncIterable<Batch> {
  return data.streaming ? encodedBatches(data.streaming, data.streaming[split], resolution, batchSize, limit) : sequentialBatches(data[split], batchSize, limit);
}
