/**
 * Child process of fused.test.ts: runs the fused training BN (+h-swish) forward and backward, squeeze-excite
 * forward and backward, the spatial mean, the folded projection + residual and the conv kernels on tensors large enough for the
 * kernel thread pool, with the pool size given by SCALENET_KERNEL_THREADS, and prints the sha256
 * of every output's bytes. Separate processes because the pool is sized once per process.
 */
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../nn/backend';
import { fusedBnActSeInfer, fusedBnActTrainResidual, fusedDepthwise, fusedOpsActive, fusedPointwise, nativeConvActive } from '../../../nn/native-ops';
import { foldedConvBn } from '../../../nn/evaluate';
import { squeezeExcite } from '../../../nn/forward';
import { batchNormActTrain, spatialMean } from '../../../nn/ops';

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
    // Squeeze-excite (forward, weight gradients summed over images), spatial mean and the folded projection +
    // residual, each at a size that splits over the pool.
    const se = [tf.randomNormal([96, 24], 0, 0.3, 'float32', 5), tf.randomNormal([24], 0, 0.1, 'float32', 6),
      tf.randomNormal([24, 96], 0, 0.3, 'float32', 7), tf.randomNormal([96], 0, 0.1, 'float32', 8)];
    const xs = tf.randomNormal([32, 14, 14, 96], 0, 2, 'float32', 9);
    const ws = tf.randomNormal([32, 14, 14, 96], 0, 1, 'float32', 10);
    const names = ['b.se.w1', 'b.se.b1', 'b.se.w2', 'b.se.b2'];
    const fse = (x: tf.Tensor, ...p: tf.Tensor[]): tf.Scalar =>
      tf.sum(tf.mul(squeezeExcite((n) => p[names.indexOf(n)] as tf.Tensor, 'b', x as tf.Tensor4D), ws));
    const seOut = tf.valueAndGrads(fse)([xs, ...se]);
    const mean = tf.valueAndGrads((x: tf.Tensor) => tf.sum(tf.mul(spatialMean(x as tf.Tensor4D), tf.randomNormal([32, 96], 0, 1, 'float32', 11))))([xs]);
    const proj = foldedConvBn(new Map([['p.w', tf.randomNormal([1, 1, 96, 32], 0, 0.2, 'float32', 12)], ['p.b', tf.randomNormal([32], 0, 1, 'float32', 13)]]));
    const res = proj('p', xs as tf.Tensor4D, 1, false, false, tf.randomNormal([32, 14, 14, 32], 0, 1, 'float32', 14) as tf.Tensor4D);
    const seParams = new Map(names.map((n, i) => [n, se[i] as tf.Tensor]));
    const dwSe = foldedConvBn(new Map([['b.dw.w', tf.randomNormal([3, 3, 96, 1], 0, 0.3, 'float32', 15)], ['b.dw.b', tf.randomNormal([96], 0, 1, 'float32', 16)]])).depthwiseSe;
    if (!dwSe) throw new Error('no fused depthwise + squeeze-excite');
    const dse = dwSe('b', xs as tf.Tensor4D, 1, (n) => seParams.get(n) as tf.Tensor);
    // The conv kernels of recalibration (no epilogue; depthwise at stride 2) and of inference (bias + h-swish).
    const pw = fusedPointwise(xs as tf.Tensor4D, tf.randomNormal([1, 1, 96, 40], 0, 0.2, 'float32', 17), { bias: tf.randomNormal([40], 0, 1, 'float32', 18), hswish: true });
    const dw = fusedDepthwise(xs as tf.Tensor4D, tf.randomNormal([5, 5, 96, 1], 0, 0.3, 'float32', 19), 2);
    const convs = nativeConvActive() ? [pw, dw] : [];
    // Recalibration's BN + residual and BN + h-swish + squeeze-excite.
    const bnRes = fusedBnActTrainResidual(x, g, b, true, w);
    const [w1, b1, w2, b2] = se as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    const bnSe = fusedBnActSeInfer(xs, tf.randomNormal([96], 1, 0.3, 'float32', 20), tf.randomNormal([96], 0, 1, 'float32', 21), w1, b1, w2, b2);
    for (const t of [seOut.value, ...seOut.grads, mean.value, ...mean.grads, res, dse, ...convs, ...bnRes, ...bnSe]) h.update(Buffer.from((t.dataSync() as Float32Array).buffer));
  });
  process.stdout.write(`${h.digest('hex')}\n`);
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
