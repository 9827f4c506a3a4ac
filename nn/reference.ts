/**
 * The engine's logits for a standalone model, the reference every export is checked against: the same
 * BN-folded functional forward pass that scores models during search and retraining (./evaluate.ts),
 * computed from the weights read back out of the model's layers (./layers.ts weightsOfModel).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ScaledNetwork } from '../core/scaling';
import { foldBn, foldedConvBn } from './evaluate';
import { forwardNetwork } from './forward';
import type { ModelWeights } from './layers';

/** Logits [n, classes] of `net` with `weights` for x [n, r, r, c] at the network's resolution. Caller disposes. */
export function engineLogits(net: ScaledNetwork, weights: ModelWeights, x: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => {
    const folded = foldBn(weights.params, net, weights.stats);
    return forwardNetwork(net, (name) => folded.get(name) ?? weights.params(name), foldedConvBn(folded), x, { scoped: true });
  });
}

/** Largest |a − b| over two equally long arrays of logits. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`logit arrays differ in length: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return Number.isNaN(m) ? Infinity : m;
}
