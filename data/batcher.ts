/**
 * Seeded batching and augmentation. The data order is a function of (seed, epoch): each epoch is a
 * fresh Fisher–Yates permutation, and augmentation draws come from (seed, epoch, position), so the whole
 * state is three numbers — cheap to checkpoint and bit-exact to resume (DESIGN §4).
 */
import { Rng } from '../core/rng';
import type { Augmentation } from './config';
import { imageBytes, type ImageSet } from './types';

/** A batch of (possibly augmented) images, NHWC uint8, and their labels: a small image set. */
export type Batch = ImageSet;

/** Where a {@link BatchStream} stands; plain JSON. */
export interface BatchStreamState {
  readonly seed: number;
  readonly epoch: number;
  /** Index of the next example within the epoch's permutation. */
  readonly position: number;
}

/** Options of {@link BatchStream}. */
export interface BatchStreamArgs {
  batchSize: number;
  /** Seed of the data order and the augmentation draws. */
  seed: number;
  /** Augmentation; default none. */
  augment?: Augmentation;
}

/** An endless stream of full batches over a set; batches may straddle epoch boundaries. */
export class BatchStream {
  private epoch: number;
  private position: number;
  private order: Uint32Array;
  private readonly seed: number;
  private readonly batchSize: number;
  private readonly augment: Augmentation | undefined;

  constructor(private readonly set: ImageSet, args: BatchStreamArgs, state?: BatchStreamState) {
    if (set.count === 0) throw new Error('BatchStream: the image set is empty');
    if (!(args.batchSize >= 1)) throw new RangeError(`BatchStream: batchSize must be >= 1, got ${args.batchSize}`);
    this.seed = state?.seed ?? args.seed;
    this.batchSize = args.batchSize;
    this.augment = args.augment;
    this.epoch = state?.epoch ?? 0;
    this.position = state?.position ?? 0;
    if (this.position < 0 || this.position > set.count) throw new RangeError(`BatchStream: position ${this.position} outside 0..${set.count}`);
    this.order = this.permutation(this.epoch);
  }

  private permutation(epoch: number): Uint32Array {
    const rng = new Rng(`order:${this.seed}:${epoch}`);
    const p = new Uint32Array(this.set.count);
    for (let i = 0; i < p.length; i++) p[i] = i;
    for (let i = p.length - 1; i > 0; i--) {
      const j = rng.int(0, i);
      const t = p[i] as number;
      p[i] = p[j] as number;
      p[j] = t;
    }
    return p;
  }

  /** The state to resume from: a stream rebuilt with it yields the same batches as this one. */
  state(): BatchStreamState {
    return { seed: this.seed, epoch: this.epoch, position: this.position };
  }

  /** The next batch of `batchSize` examples. */
  next(): Batch {
    const rng = new Rng(`augment:${this.seed}:${this.epoch}:${this.position}`);
    const indices: number[] = [];
    while (indices.length < this.batchSize) {
      if (this.position >= this.set.count) {
        this.epoch += 1;
        this.position = 0;
        this.order = this.permutation(this.epoch);
      }
      indices.push(this.order[this.position] as number);
      this.position += 1;
    }
    return gather(this.set, indices, this.augment, rng);
  }
}

/** Copies examples `indices` into a batch, applying crop/flip augmentation with draws from `rng`. */
export function gather(set: ImageSet, indices: readonly number[], augment: Augmentation | undefined, rng?: Rng): Batch {
  const { height: h, width: w, channels: c } = set;
  const per = imageBytes(set);
  const images = new Uint8Array(indices.length * per);
  const labels = new Int32Array(indices.length);
  const pad = augment?.crop === true ? augment.cropPadding : 0;
  indices.forEach((src, n) => {
    labels[n] = set.labels[src] as number;
    const from = set.images.subarray(src * per, (src + 1) * per);
    const to = images.subarray(n * per, (n + 1) * per);
    const dy = pad > 0 && rng ? rng.int(-pad, pad) : 0;
    const dx = pad > 0 && rng ? rng.int(-pad, pad) : 0;
    const flip = augment?.flip === true && rng !== undefined && rng.bool();
    if (dy === 0 && dx === 0 && !flip) {
      to.set(from);
      return;
    }
    // Crop of the zero-padded image at offset (pad+dy, pad+dx) == shift by (dy, dx) with zero fill.
    for (let y = 0; y < h; y++) {
      const sy = y + dy;
      if (sy < 0 || sy >= h) continue;
      for (let x = 0; x < w; x++) {
        const sx0 = x + dx;
        if (sx0 < 0 || sx0 >= w) continue;
        const sx = flip ? w - 1 - sx0 : sx0;
        for (let ch = 0; ch < c; ch++) to[(y * w + x) * c + ch] = from[(sy * w + sx) * c + ch] as number;
      }
    }
  });
  return { images, labels, count: indices.length, height: h, width: w, channels: c };
}

/** The set in order, in batches of at most `batchSize` (the last one may be smaller); no augmentation. */
export function* sequentialBatches(set: ImageSet, batchSize: number, limit = set.count): Generator<Batch> {
  const end = Math.min(limit, set.count);
  for (let i = 0; i < end; i += batchSize) {
    const idx: number[] = [];
    for (let j = i; j < Math.min(end, i + batchSize); j++) idx.push(j);
    yield gather(set, idx, undefined);
  }
}
