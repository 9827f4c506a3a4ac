/**
 * The functional forward pass of a (sub-)network, exactly as DESIGN §3.2 specifies the blocks:
 * stem 3×3 conv+BN+h-swish → MBConv blocks → head 1×1 conv+BN+h-swish → global average pool → FC.
 * How each conv+BN is computed (batch statistics, stored statistics, BN folded into the conv) is a
 * strategy passed in, so training, recalibration and fast inference share this one definition.
 *
 * Padding is tfjs 'same' everywhere: for odd kernels it gives the spec's output size
 * ⌊(in + 2⌊k/2⌋ − k)/s⌋ + 1 = ⌈in/s⌉; with stride 2 on even sizes tfjs pads bottom/right only where
 * PyTorch pads both sides by ⌊k/2⌋ — same sizes and MACs, a one-pixel shift in alignment.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ScaledNetwork } from '../core/scaling';
import { BN_EPSILON } from './constants';
import { fusedBnActSeInfer, fusedBnActTrain, fusedBnActTrainResidual, fusedDepthwise, fusedOpsActive, fusedPointwise, fusedSeInfer, fusedSeTrain, nativeConvActive } from './native-ops';
import { batchNormActTrain, hardSigmoid, hardSwish, momentsNHW, spatialMean } from './ops';
import { prefixOf } from './params';

export { BN_EPSILON, hardSigmoid, hardSwish };

/** Looks up a parameter tensor (already sliced to the network's sizes) by name. */
export type ParamLookup = (name: string) => tf.Tensor;

/**
 * Computes conv(prefix) followed by its BN (or the folded equivalent) and, when `act`, h-swish; with `residual`,
 * returns residual + that (a block's shortcut, which an implementation may fuse into the same kernel).
 * `depthwise` selects a depthwise conv; the weights live under `${prefix}.w`.
 */
export interface ConvBn {
  (prefix: string, x: tf.Tensor4D, stride: number, depthwise: boolean, act: boolean, residual?: tf.Tensor4D): tf.Tensor4D;
  /**
   * Optional, inference only: block `prefix`'s depthwise conv + BN + h-swish followed by its squeeze-excite (SE
   * weights from `p`), for implementations that fuse the two; without it they run as two steps.
   */
  depthwiseSe?: (prefix: string, x: tf.Tensor4D, stride: number, p: ParamLookup) => tf.Tensor4D;
}

/** residual + y, or y: the shortcut as every unfused ConvBn adds it. */
export function addResidual(y: tf.Tensor4D, residual: tf.Tensor4D | undefined): tf.Tensor4D {
  return residual ? tf.add(residual, y) : y;
}

/**
 * Plain conv with the weights of `prefix`: the addon's conv kernels where they run (see runsNativeConv), else
 * TensorFlow's. Their gradients are TensorFlow's conv gradients, so training takes the same steps either way.
 */
export function conv(p: ParamLookup, prefix: string, x: tf.Tensor4D, stride: number, depthwise: boolean): tf.Tensor4D {
  const w = p(`${prefix}.w`) as tf.Tensor4D;
  if (runsNativeConv(w, stride, depthwise)) return depthwise ? fusedDepthwise(x, w, stride) : fusedPointwise(x, w);
  return depthwise ? tf.depthwiseConv2d(x, w, stride, 'same') : tf.conv2d(x, w, stride, 'same');
}

/**
 * Whether conv(w, stride, depthwise) runs as one of the addon's conv kernels: depthwise convs and 1×1 stride-1
 * regular convs, while those kernels are available (they sum as TensorFlow's do, bit for bit). The stem's 3×3 conv
 * stays TensorFlow's.
 */
export function runsNativeConv(w: tf.Tensor, stride: number, depthwise: boolean): boolean {
  return (depthwise || (stride === 1 && w.shape[0] === 1 && w.shape[1] === 1)) && nativeConvActive();
}

/** BN with given per-channel mean/variance and the affine parameters of `prefix`. */
export function batchNorm(p: ParamLookup, prefix: string, x: tf.Tensor4D, mean: tf.Tensor, variance: tf.Tensor): tf.Tensor4D {
  return tf.batchNorm4d(x, mean as tf.Tensor1D, variance as tf.Tensor1D, p(`${prefix}.bn.beta`) as tf.Tensor1D,
    p(`${prefix}.bn.gamma`) as tf.Tensor1D, BN_EPSILON);
}

/** Per-channel batch mean and (biased) variance of an NHWC activation. */
export function batchMoments(y: tf.Tensor4D): { mean: tf.Tensor; variance: tf.Tensor } {
  return momentsNHW(y);
}

/** Training mode: batch statistics, with the memory-lean custom-gradient BN (+h-swish) of ./ops. */
export function trainingConvBn(p: ParamLookup, onStats?: (prefix: string, mean: tf.Tensor1D, variance: tf.Tensor1D) => void): ConvBn {
  return (prefix, x, stride, depthwise, act, residual) => addResidual(batchNormActTrain(conv(p, prefix, x, stride, depthwise),
    p(`${prefix}.bn.gamma`) as tf.Tensor1D, p(`${prefix}.bn.beta`) as tf.Tensor1D, act,
    onStats ? (mean, variance) => onStats(prefix, mean, variance) : undefined), residual);
}

/**
 * Normalises with the batch's own statistics (no gradient needed), reporting them per BN layer: used by
 * BN recalibration and by "batch statistics" evaluation (the reference code's way).
 */
export function batchStatsConvBn(p: ParamLookup, report?: (prefix: string, mean: tf.Tensor, variance: tf.Tensor, count: number) => void): ConvBn {
  const pixels = (y: tf.Tensor4D): number => y.shape[0] * y.shape[1] * y.shape[2];
  const convBn: ConvBn = (prefix, x, stride, depthwise, act, residual) => {
    const y = conv(p, prefix, x, stride, depthwise);
    if (fusedOpsActive()) {
      const gamma = p(`${prefix}.bn.gamma`), beta = p(`${prefix}.bn.beta`);
      const [z, mean, variance] = residual ? fusedBnActTrainResidual(y, gamma, beta, act, residual) : fusedBnActTrain(y, gamma, beta, act);
      report?.(prefix, mean, variance, pixels(y));
      return z;
    }
    const { mean, variance } = batchMoments(y);
    report?.(prefix, mean, variance, pixels(y));
    const z = batchNorm(p, prefix, y, mean, variance);
    return addResidual(act ? (hardSwish(z) as tf.Tensor4D) : z, residual);
  };
  if (fusedOpsActive()) {
    // The depthwise conv's BN, h-swish and squeeze-excite in one kernel (the last two per image).
    convBn.depthwiseSe = (prefix, x, stride, lookup) => {
      const dw = `${prefix}.dw`;
      const y = conv(p, dw, x, stride, true);
      const [z, mean, variance] = fusedBnActSeInfer(y, p(`${dw}.bn.gamma`), p(`${dw}.bn.beta`), lookup(`${prefix}.se.w1`), lookup(`${prefix}.se.b1`),
        lookup(`${prefix}.se.w2`), lookup(`${prefix}.se.b2`));
      report?.(dw, mean, variance, pixels(y));
      return z;
    };
  }
  return convBn;
}

/** Normalises with stored per-layer statistics (inference with recalibrated BN, unfolded). */
export function storedStatsConvBn(p: ParamLookup, stats: (prefix: string) => { mean: tf.Tensor; variance: tf.Tensor }): ConvBn {
  return (prefix, x, stride, depthwise, act, residual) => {
    const s = stats(prefix);
    const z = batchNorm(p, prefix, conv(p, prefix, x, stride, depthwise), s.mean, s.variance);
    return addResidual(act ? (hardSwish(z) as tf.Tensor4D) : z, residual);
  };
}

/**
 * Squeeze-excite: avg-pool → FC(hidden→se)+bias → ReLU → FC(se→hidden)+bias → h-sigmoid → scale.
 * With fused kernels one kernel per direction; `inference` (no gradient will be taken) skips saving for the gradient.
 */
export function squeezeExcite(p: ParamLookup, prefix: string, x: tf.Tensor4D, inference = false): tf.Tensor4D {
  if (fusedOpsActive()) {
    const fused = inference ? fusedSeInfer : fusedSeTrain;
    return fused(x, p(`${prefix}.se.w1`), p(`${prefix}.se.b1`), p(`${prefix}.se.w2`), p(`${prefix}.se.b2`));
  }
  const [n, , , c] = x.shape;
  const s = spatialMean(x);
  const hidden = tf.relu(tf.add(tf.matMul(s, p(`${prefix}.se.w1`) as tf.Tensor2D), p(`${prefix}.se.b1`)));
  const g = hardSigmoid(tf.add(tf.matMul(hidden as tf.Tensor2D, p(`${prefix}.se.w2`) as tf.Tensor2D), p(`${prefix}.se.b2`)));
  return tf.mul(x, tf.reshape(g, [n, 1, 1, c]));
}

/** Options of {@link forwardNetwork}. */
export interface ForwardArgs {
  /**
   * Inference only: free each block's intermediates as soon as the block is done (one tf.tidy per
   * block). Without it a whole forward pass stays alive until the caller's tidy ends, which for a
   * 256-image batch at 40 px exceeds the wasm heap. Must be false under gradient recording. Default false.
   */
  scoped?: boolean;
  /**
   * Resume a pass: `x` is the output of layer `from − 1` of this very network (layer 0 is the stem, layer i the
   * block i − 1; core/prefix-sharing.ts), so layers 0..from−1 are skipped. Default 0: `x` is the input image.
   */
  from?: number;
  /**
   * Scoped passes only: called with the output of every layer from `from` on, except the head's. Returning true takes
   * the tensor over: it is kept (tf.keep) and never disposed here; the caller disposes it.
   */
  onLayer?: (layer: number, h: tf.Tensor4D) => boolean;
}

/** Logits [n, classes] of `net` for input x [n, r, r, channels] (already at the network's resolution). */
export function forwardNetwork(net: ScaledNetwork, p: ParamLookup, convBn: ConvBn, x: tf.Tensor4D, args: ForwardArgs = {}): tf.Tensor2D {
  const from = args.from ?? 0;
  if (!Number.isInteger(from) || from < 0 || from > net.blocks.length + 1) throw new RangeError(`forwardNetwork: from must be in 0..${net.blocks.length + 1}, got ${from}`);
  // Tensors this pass must not dispose: its input and those handed over to onLayer.
  const owned = new Set<tf.Tensor>([x]);
  const stage = <T extends tf.Tensor>(input: tf.Tensor, f: () => T): T => {
    if (!args.scoped) return f();
    const out = tf.tidy(f);
    if (!owned.has(input)) input.dispose();
    return out;
  };
  const emit = (layer: number, h: tf.Tensor4D): void => {
    if (args.scoped && args.onLayer?.(layer, h)) {
      tf.keep(h);
      owned.add(h);
    }
  };
  const inference = args.scoped === true; // scoped passes are never recorded for gradients (see ForwardArgs)
  let h = x;
  if (from === 0) {
    h = stage(x, () => convBn('stem', x, net.stem.stride, false, true));
    emit(0, h);
  }
  net.blocks.forEach((b, i) => {
    if (i + 1 < from) return;
    const prefix = prefixOf(b);
    const input = h;
    h = stage(input, () => {
      let y = b.expand ? convBn(`${prefix}.expand`, input, 1, false, true) : input;
      y = inference && convBn.depthwiseSe ? convBn.depthwiseSe(prefix, y, b.stride, p)
        : squeezeExcite(p, prefix, convBn(`${prefix}.dw`, y, b.stride, true, true), inference);
      return convBn(`${prefix}.project`, y, 1, false, false, b.residual ? (input as tf.Tensor4D) : undefined);
    });
    emit(i + 1, h);
  });
  const last = h;
  return stage(last, () => {
    const head = convBn('head', last, 1, false, true);
    const pooled = spatialMean(head);
    return tf.add(tf.matMul(pooled, p('fc.w') as tf.Tensor2D), p('fc.b')) as tf.Tensor2D;
  });
}

/**
 * Softmax cross-entropy with label smoothing ε: targets (1−ε)·onehot + ε/K, mean over the batch.
 */
export function smoothedCrossEntropy(logits: tf.Tensor2D, labels: Int32Array, smoothing: number): tf.Scalar {
  const k = logits.shape[1];
  const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), k);
  const target = tf.add(tf.mul(onehot, 1 - smoothing), smoothing / k);
  return tf.neg(tf.mean(tf.sum(tf.mul(target, tf.logSoftmax(logits)), 1))) as tf.Scalar;
}
