/**
 * The dataset section of a run config: one zod schema, used for parsing and types. A run names a
 * source by `kind`; augmentation defaults depend on the kind (see {@link augmentationFor}).
 */
import { z } from 'zod';

const idxPair = z.object({ images: z.string().min(1), labels: z.string().min(1) }).strict();

/** Augmentation switches; omitted fields take the per-kind defaults of {@link augmentationFor}. */
export const AugmentationSchema = z.object({
  /** Random crop after zero padding by `cropPadding` pixels on each side. */
  crop: z.boolean().optional(),
  /** Padding of the random crop; default ⌈size/8⌉ (4 px for 28–32 px images, as in the CIFAR recipe). */
  cropPadding: z.int().nonnegative().optional(),
  /** Random horizontal flip. */
  flip: z.boolean().optional(),
}).strict();

/** Every supported dataset source. */
export const DatasetConfigSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('fashion-mnist'),
    /** Directory of the Debian package `dataset-fashion-mnist` (installed by infra/setup-data.sh). */
    dir: z.string().default('/usr/share/datasets/fashion-mnist'),
    augment: AugmentationSchema.optional(),
  }).strict(),
  z.object({
    kind: z.literal('idx'),
    train: idxPair,
    test: idxPair,
    classes: z.int().min(2).default(10),
    augment: AugmentationSchema.optional(),
  }).strict(),
  z.object({ kind: z.literal('cifar10'), dir: z.string().min(1), augment: AugmentationSchema.optional() }).strict(),
  z.object({
    kind: z.literal('cifar100'),
    dir: z.string().min(1),
    labels: z.enum(['fine', 'coarse']).default('fine'),
    augment: AugmentationSchema.optional(),
  }).strict(),
  z.object({
    kind: z.literal('synthetic'),
    trainSize: z.int().positive().default(2048),
    testSize: z.int().positive().default(512),
    height: z.int().positive().default(28),
    width: z.int().positive().default(28),
    channels: z.int().positive().default(1),
    classes: z.int().min(2).default(10),
    noise: z.number().nonnegative().default(48),
    seed: z.int().default(0),
    augment: AugmentationSchema.optional(),
  }).strict(),
]);

export type DatasetConfig = z.output<typeof DatasetConfigSchema>;
export type DatasetConfigInput = z.input<typeof DatasetConfigSchema>;

/** Resolved augmentation. */
export interface Augmentation {
  crop: boolean;
  cropPadding: number;
  flip: boolean;
}

/**
 * Per-kind defaults. Crop with padding is on everywhere (the small-image recipe of DESIGN §3.5).
 * Horizontal flip is on for CIFAR and Fashion-MNIST (a mirrored shirt or car is still one) and off for
 * generic IDX files (often digits, where a mirrored 2 or 7 is not a digit) and for synthetic data
 * (its class prototypes are not mirror-symmetric).
 */
export function augmentationFor(config: DatasetConfig, height: number): Augmentation {
  const flipDefault = config.kind === 'cifar10' || config.kind === 'cifar100' || config.kind === 'fashion-mnist';
  return {
    crop: config.augment?.crop ?? true,
    cropPadding: config.augment?.cropPadding ?? Math.ceil(height / 8),
    flip: config.augment?.flip ?? flipDefault,
  };
}
