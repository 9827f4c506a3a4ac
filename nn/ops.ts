/**
 * Training-mode batch norm (+ optional h-swish) as one op with a hand-written gradient.
 *
 * Why: tfjs keeps every intermediate of a `tf.grads` call alive until it returns. Composed from
 * primitive ops, moments + batchNorm + h-swish leave ~10 activation-sized tensors per conv; with a
 * batch of 64 the supernet step needed > 4 GB, past the wasm heap limit (the backend then fails with
 * "memory access out of bounds"). This op keeps one (the normalised input) plus its output.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BN_EPSILON } from './constants';
import { fusedBiasAct, fusedBnActTrain, fusedOpsActive, fusedSpatialMean } from './native-ops';

/**
 * Σ over N, H, W of an NHWC tensor → [C], as a ones-vector matmul. tfjs-wasm reduces leading axes by
 * transposing them to the end first (a full copy); the GEMV avoids the copy and runs in XNNPACK.
 */
export function sumNHW(x: tf.Tensor): tf.Tensor1D {
  const c = x.shape[x.rank - 1] as number;
  const rows = x.size / c;
  return tf.reshape(tf.matMul(tf.ones([1, rows]), tf.reshape(x, [rows, c])), [c]);
}

/** Per-channel mean and biased variance over N, H, W (two-pass, via {@link sumNHW}). */
export function momentsNHW(x: tf.Tensor): { mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const m = x.size / (x.shape[x.rank - 1] as number);
  const mean = tf.div(sumNHW(x), m) as tf.Tensor1D;
  const variance = tf.div(sumNHW(tf.square(tf.sub(x, mean))), m) as tf.Tensor1D;
  return { mean, variance };
}

/** h-sigmoid(x) = ReLU6(x + 3) / 6. */
export function hardSigmoid(x: tf.Tensor): tf.Tensor {
  return tf.div(tf.relu6(tf.add(x, 3)), 6);
}

/** h-swish(x) = x · ReLU6(x + 3) / 6 (MobileNetV3). */
export function hardSwish(x: tf.Tensor): tf.Tensor {
  return tf.mul(x, hardSigmoid(x));
}

/** d h-swish(y)/dy: 0 below −3, 1 above 3, (2y + 3)/6 between. */
function hardSwishGrad(y: tf.Tensor): tf.Tensor {
  const mid = tf.div(tf.add(tf.mul(y, 2), 3), 6);
  return tf.where(tf.greater(y, 3), tf.onesLike(y), tf.where(tf.less(y, -3), tf.zerosLike(y), mid));
}

/**
 * z = act(γ·(x − μ_B)/√(σ²_B + ε) + β) with batch statistics over N, H, W; `act` is h-swish or identity.
 * Gradients flow to x, γ and β (the standard BN backward through the batch statistics).
 */
/** Receives a BN layer's batch mean and biased variance (kept tensors: the receiver disposes them). */
export type BatchStatsSink = (mean: tf.Tensor1D, variance: tf.Tensor1D) => void;

export function batchNormActTrain(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, hswish: boolean, sink?: BatchStatsSink): tf.Tensor4D {
  if (fusedOpsActive()) {
    const [z, mean, variance] = fusedBnActTrain(x, gamma, beta, hswish);
    if (sink) sink(tf.keep(mean), tf.keep(variance));
    return z;
  }
  const op = tf.customGrad(((xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const { mean, variance } = momentsNHW(xi);
    if (sink) sink(tf.keep(tf.clone(mean)) as tf.Tensor1D, tf.keep(tf.clone(variance)) as tf.Tensor1D);
    const invStd = tf.rsqrt(tf.add(variance, BN_EPSILON));
    const xhat = tf.mul(tf.sub(xi, mean), invStd);
    const y = tf.add(tf.mul(xhat, g), b);
    const value = hswish ? hardSwish(y) : y;
    save([xhat, invStd, g, b]);
    return {
      value,
      gradFunc: (dz: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sInv, sg, sb] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        const dy = hswish ? tf.mul(dz, hardSwishGrad(tf.add(tf.mul(sx, sg), sb))) : dz;
        const m = sx.shape[0]! * sx.shape[1]! * sx.shape[2]!;
        const sumDy = sumNHW(dy);
        const sumDyX = sumNHW(tf.mul(dy, sx));
        // dx = γ·invStd/M · (M·dy − Σdy − x̂·Σ(dy·x̂))
        const dx = tf.mul(tf.div(tf.mul(sg, sInv), m), tf.sub(tf.sub(tf.mul(dy, m), sumDy), tf.mul(sx, sumDyX)));
        return [dx, sumDyX, sumDy];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x, gamma, beta) as tf.Tensor4D;
}

/** Mean over H and W of an NHWC activation → [N, C] (SE squeeze, global pooling); one fused kernel when available. */
export function spatialMean(x: tf.Tensor4D): tf.Tensor2D {
  return fusedOpsActive() ? fusedSpatialMean(x) : (tf.mean(x, [1, 2]) as tf.Tensor2D);
}

/** act(x + bias) per channel, act = h-swish or identity (inference with BN folded into the conv). */
export function biasAct(x: tf.Tensor4D, bias: tf.Tensor, hswish: boolean): tf.Tensor4D {
  if (fusedOpsActive()) return fusedBiasAct(x, bias, hswish);
  const y = tf.add(x, bias) as tf.Tensor4D;
  return hswish ? (hardSwish(y) as tf.Tensor4D) : y;
}
