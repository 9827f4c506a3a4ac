/** Loading a configured dataset and holding out the minival split (DESIGN §3.6). */
import { join } from 'node:path';
import { InvalidInputError, issuesFromZod } from '../core/errors';
import { Rng } from '../core/rng';
import { readCifarDir, cifarClasses } from './cifar';
import { augmentationFor, DatasetConfigSchema, type Augmentation, type DatasetConfigInput } from './config';
import { DatasetNotFoundError } from './errors';
import { readIdxImageSet } from './idx';
import { syntheticDataset } from './synthetic';
import { channelStats, type Normalization } from './tensor';
import type { StreamingData } from './stream';
import { subset, type ImageSet } from './types';

/** A loaded dataset: training data with minival held out, the untouched test set, and its metadata. */
export interface Dataset {
  /** Training split (the training set minus minival). */
  readonly train: ImageSet;
  /** Held out from the training set; used for shared-weight evaluation, never the test set. */
  readonly minival: ImageSet;
  readonly test: ImageSet;
  /** [height, width, channels] as stored. */
  readonly imageShape: [number, number, number];
  readonly classes: number;
  /** Channel statistics of `train`, used to normalise every split. */
  readonly normalization: Normalization;
  /** Augmentation for training batches (resolved per-kind defaults). */
  readonly augmentation: Augmentation;
  /**
   * Image-folder datasets: batches are streamed and decoded from encoded shards (data/stream.ts), and
   * `train`, `minival` and `test` above are empty. Absent for the in-memory kinds.
   */
  readonly streaming?: StreamingData;
}

/** Options of {@link loadDataset}. */
export interface LoadDatasetArgs {
  /** Images held out of the training set as minival. Default 10 000, capped at half the training set. */
  minivalSize?: number;
  /** Seed of the split. Default 0. The same (data, seed, size) always yields the same split. */
  seed?: number;
}

/**
 * Deterministic split: a seeded permutation of the training indices; the first `minivalSize` go to
 * minival. Both halves keep the original order so that batching stays a function of its own seed.
 */
export function splitMinival(set: ImageSet, minivalSize: number, seed: number): { train: ImageSet; minival: ImageSet } {
  if (!(minivalSize >= 1 && minivalSize < set.count)) {
    throw new RangeError(`minivalSize must be in 1..${set.count - 1} for a training set of ${set.count} images, got ${minivalSize}`);
  }
  const perm = new Rng(`minival:${seed}`).shuffle(Array.from({ length: set.count }, (_, i) => i));
  const held = perm.slice(0, minivalSize).sort((a, b) => a - b);
  const heldSet = new Set(held);
  const rest: number[] = [];
  for (let i = 0; i < set.count; i++) if (!heldSet.has(i)) rest.push(i);
  return { train: subset(set, rest), minival: subset(set, held) };
}

/** The default location of the Debian `dataset-fashion-mnist` files. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/**
 * Reads the configured source, splits minival off the training set and computes normalisation.
 * @throws DatasetFormatError for malformed files (file, offset, expectation in the message);
 *         DatasetNotFoundError for missing files; InvalidInput-style zod errors for a bad config.
 */
export function loadDataset(config: DatasetConfigInput, args: LoadDatasetArgs = {}): Dataset {
  const parsed = DatasetConfigSchema.safeParse(config);
  if (!parsed.success) throw new InvalidInputError('dataset config', issuesFromZod(parsed.error, ['dataset']));
  const cfg = parsed.data;
  let train: ImageSet;
  let test: ImageSet;
  let classes: number;
  switch (cfg.kind) {
    case 'fashion-mnist': {
      const f = (name: string): string => join(cfg.dir ?? FASHION_MNIST_DIR, name);
      try {
        train = readIdxImageSet(f('train-images-idx3-ubyte.gz'), f('train-labels-idx1-ubyte.gz'), 10);
        test = readIdxImageSet(f('t10k-images-idx3-ubyte.gz'), f('t10k-labels-idx1-ubyte.gz'), 10);
      } catch (err) {
        if (err instanceof DatasetNotFoundError) {
          throw new DatasetNotFoundError(`${err.message}. Install Fashion-MNIST with infra/setup-data.sh (Debian package dataset-fashion-mnist)`);
        }
        throw err;
      }
      classes = 10;
      break;
    }
    case 'idx':
      train = readIdxImageSet(cfg.train.images, cfg.train.labels, cfg.classes);
      test = readIdxImageSet(cfg.test.images, cfg.test.labels, cfg.classes);
      classes = cfg.classes;
      break;
    case 'cifar10':
    case 'cifar100': {
      const format = cfg.kind === 'cifar10' ? { variant: 'cifar10' as const } : { variant: 'cifar100' as const, labels: cfg.labels };
      ({ train, test } = readCifarDir(cfg.dir, format));
      classes = cifarClasses(format);
      break;
    }
    case 'synthetic':
      ({ train, test } = syntheticDataset({ ...cfg, height: cfg.resolution, width: cfg.resolution }));
      classes = cfg.classes;
      break;
    case 'image-folder':
      throw new InvalidInputError('dataset config', [{ path: 'dataset.kind', message: 'image-folder datasets are streamed by prepare-data (data/image-folder.ts), not loaded whole' }]);
  }
  const minivalSize = Math.min(args.minivalSize ?? 10000, Math.floor(train.count / 2));
  const split = splitMinival(train, minivalSize, args.seed ?? 0);
  return {
    train: split.train,
    minival: split.minival,
    test,
    imageShape: [train.height, train.width, train.channels],
    classes,
    normalization: channelStats(split.train),
    augmentation: augmentationFor(cfg, train.height),
  };
}
