import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../nn/backend';
import { hardSwish } from '../../../nn/forward';
import { batchNormActTrain } from '../../../nn/ops';

before(async () => {
  await initBackend('cpu', { log: () => {} });
});

test('the fused training BN (+h-swish) op has the value and gradients of the composed ops', () => {
  const x = tf.randomNormal([4, 5, 5, 3], 0, 2, 'float32', 1) as tf.Tensor4D;
  const gamma = tf.randomNormal([3], 1, 0.5, 'float32', 2) as tf.Tensor1D;
  const beta = tf.randomNormal([3], 0, 1, 'float32', 3) as tf.Tensor1D;
  const w = tf.randomNormal([4, 5, 5, 3], 0, 1, 'float32', 4);
  for (const act of [false, true]) {
    const fused = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Scalar =>
      tf.sum(tf.mul(batchNormActTrain(a as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, act), w));
    const composed = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Scalar => {
      const m = tf.moments(a, [0, 1, 2]);
      const y = tf.batchNorm4d(a as tf.Tensor4D, m.mean as tf.Tensor1D, m.variance as tf.Tensor1D, b as tf.Tensor1D, g as tf.Tensor1D, 1e-5);
      return tf.sum(tf.mul(act ? hardSwish(y) : y, w));
    };
    const r1 = tf.valueAndGrads(fused)([x, gamma, beta]);
    const r2 = tf.valueAndGrads(composed)([x, gamma, beta]);
    assert.ok(Math.abs((r1.value.dataSync()[0] as number) - (r2.value.dataSync()[0] as number)) < 1e-4);
    r1.grads.forEach((g, i) => {
      const a = g.dataSync();
      const b = (r2.grads[i] as tf.Tensor).dataSync();
      const scale = Math.max(...Array.from(b, Math.abs));
      const err = Math.max(...Array.from(a, (v, j) => Math.abs(v - (b[j] as number))));
      assert.ok(err <= 1e-5 * scale, `act=${act} grad ${i}: error ${err} at scale ${scale}`);
    });
  }
});

test('the fused op reports the batch statistics it normalised with', () => {
  const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 1, 2]);
  let seen: number[][] = [];
  tf.tidy(() => batchNormActTrain(x, tf.ones([2]) as tf.Tensor1D, tf.zeros([2]) as tf.Tensor1D, false, (m, v) => {
    seen = [Array.from(m.dataSync()), Array.from(v.dataSync())];
    m.dispose();
    v.dispose();
  }));
  assert.deepEqual(seen, [[4, 5], [5, 5]]);
});
