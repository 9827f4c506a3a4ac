/** Turning uint8 batches into normalised float tensors at the sampled resolution. */
import * as tf from '@tensorflow/tfjs-core';
import type { Batch } from './batcher';
import type { ImageSet } from './types';

/** Per-channel mean and standard deviation of pixel values scaled to [0, 1]. */
export interface Normalization {
  readonly mean: number[];
  readonly std: number[];
}

/** Channel statistics of a set (computed on the training split only, never on minival or test). */
export function channelStats(set: ImageSet): Normalization {
  const c = set.channels;
  const sum = new Float64Array(c);
  const sq = new Float64Array(c);
  for (let i = 0; i < set.images.length; i++) {
    const v = (set.images[i] as number) / 255;
    sum[i % c] = (sum[i % c] as number) + v;
    sq[i % c] = (sq[i % c] as number) + v * v;
  }
  const n = set.images.length / c;
  const mean = Array.from(sum, (s) => s / n);
  const std = Array.from(sq, (s, i) => Math.sqrt(Math.max(s / n - (mean[i] as number) ** 2, 1e-12)));
  return { mean, std };
}

/**
 * A [n, resolution, resolution, channels] float32 tensor: (x/255 − mean)/std, bilinearly resized
 * (half-pixel centres) when the sampled resolution differs from the stored one. The caller disposes it.
 */
export function batchToTensor(batch: Batch, norm: Normalization, resolution?: number): tf.Tensor4D {
  return tf.tidy(() => {
    // An explicit Float32Array: a Uint8Array handed to tf.tensor with dtype int32 is stored as-is and
    // the wasm backend then reads 4 bytes per element past its end.
    const raw = tf.tensor4d(Float32Array.from(batch.images), [batch.count, batch.height, batch.width, batch.channels]);
    const scaled = tf.div(tf.sub(tf.div(raw, 255), tf.tensor1d(norm.mean)), tf.tensor1d(norm.std)) as tf.Tensor4D;
    if (resolution === undefined || (resolution === batch.height && resolution === batch.width)) return scaled;
    return tf.image.resizeBilinear(scaled, [resolution, resolution], false, true);
  });
}
