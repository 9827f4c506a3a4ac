/**
 * Child process of fused.test.ts: runs the fused training BN (+h-swish) forward and backward on a tensor large
 * enough for the kernel thread pool, with the pool size given by SCALENET_KERNEL_THREADS, and prints the sha256
 * of every output's bytes. Separate processes because the pool is sized once per process.
 */
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../nn/backend';
import { fusedOpsActive } from '../../../nn/native-ops';
import { batchNormActTrain } from '../../../nn/ops';

async function run(): Promise<void> {
  await initBackend('tensorflow', { log: () => {} });
  if (!fusedOpsActive()) throw new Error('fused kernels are not active');
  const h = createHash('sha256');
  tf.tidy(() => {
    const x = tf.randomNormal([16, 40, 40, 32], 0, 3, 'float32', 1);
    const g = tf.randomNormal([32], 1, 0.3, 'float32', 2);
    const b = tf.randomNormal([32], 0, 1, 'float32', 3);
    const w = tf.randomNormal([16, 40, 40, 32], 0, 1, 'float32', 4);
    const f = (a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor): tf.Scalar => tf.sum(tf.mul(batchNormActTrain(a as tf.Tensor4D, gg as tf.Tensor1D, bb as tf.Tensor1D, true), w));
    const { value, grads } = tf.valueAndGrads(f)([x, g, b]);
    for (const t of [value, ...grads]) h.update(Buffer.from((t.dataSync() as Float32Array).buffer));
  });
  process.stdout.write(`${h.digest('hex')}\n`);
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
