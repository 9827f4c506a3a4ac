/**
 * The dataset section of a run config. Its schema is the run config's own (`DatasetSchema` in core/config.ts),
 * re-exported here under data/'s name: one schema per boundary, so the two can never disagree again.
 * Augmentation defaults depend on the kind (see {@link augmentationFor}).
 */
import type { z } from 'zod';
import { AugmentationSchema, DatasetSchema } from '../core/config';

export { AugmentationSchema };

/** Every supported dataset source (the run config's `dataset` schema). */
export const DatasetConfigSchema = DatasetSchema;

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
  // image-folder datasets have their own augmentation (random-resized-crop, `flip`), applied while streaming.
  const augment = 'augment' in config ? config.augment : undefined;
  return {
    crop: augment?.crop ?? true,
    cropPadding: augment?.cropPadding ?? Math.ceil(height / 8),
    flip: augment?.flip ?? (config.kind === 'image-folder' ? config.flip : flipDefault),
  };
}
