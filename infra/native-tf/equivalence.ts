/**
 * The ops the supernet uses, forward and backward, as cases run on two backends and compared. The native
 * backend runs a newer TensorFlow (2.12) than tfjs-node was written for (2.9) and with oneDNN kernels, so "it
 * loads" is not enough: each kernel the engine reaches must agree with tfjs' reference `cpu` backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import { accumulateMoments, foldedConvBn } from '../../nn/evaluate';
import { squeezeExcite } from '../../nn/forward';
import { setFusedOpsEnabled } from '../../nn/native-ops';
import { batchNormActTrain, biasAct, hardSwish, spatialMean } from '../../nn/ops';
import type { ParamSpec } from '../../nn/params';
import { applySgd, updateRunningStats } from '../../nn/step';
import { ParamStore } from '../../nn/store';

/** Largest relative error (vs `cpu`) accepted for any output or gradient: float32 with reordered sums. */
export const EQUIVALENCE_TOLERANCE = 1e-4;

/** One comparison: `run` builds its inputs from a seed and returns outputs and gradients (inside a tidy). */
export interface EquivalenceCase {
  name: string;
  run: () => tf.Tensor[];
}

/** Result of one case: the worst relative error over its outputs (max |a−b| / max |reference|). */
export interface EquivalenceResult {
  name: string;
  maxRelErr: number;
}

/** Deterministic values in [-0.5, 0.5) so both backends see identical inputs. */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

function input(shape: number[], seed: number, scale = 1): tf.Tensor {
  return tf.mul(tf.tensor(values(shape.reduce((a, b) => a * b, 1), seed), shape), scale);
}

/**
 * Output and gradients of `f` wrt every input: the quantities a training step consumes. The output is weighted
 * by fixed random values before summing, so the upstream gradient is not all ones (which hides layout bugs).
 */
function withGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[]): tf.Tensor[] {
  const y = f(...xs);
  const weights = input(y.shape, 99);
  const { value, grads } = tf.valueAndGrads((...args: tf.Tensor[]) => tf.sum(tf.mul(f(...args), weights)) as tf.Scalar)(xs);
  return [y, value, ...grads];
}


/** Training-mode batch norm as the engine writes it: batch moments over N, H, W. */
function batchNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), gamma), beta);
}

function crossEntropy(logits: tf.Tensor, labels: number[], classes: number): tf.Tensor {
  const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), classes);
  return tf.neg(tf.mean(tf.sum(tf.mul(onehot, tf.logSoftmax(logits)), -1)));
}

/** The cases, small enough to run in well under a second on `cpu`. */
export function equivalenceCases(): EquivalenceCase[] {
  const conv = (k: number, s: number, pad: 'same' | 'valid') => (x: tf.Tensor, w: tf.Tensor) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, s, pad);
  const dw = (s: number) => (x: tf.Tensor, w: tf.Tensor) => tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, s, 'same');
  return [
    { name: 'conv2d 3x3 stride 1 same', run: () => withGrads(conv(3, 1, 'same'), [input([4, 12, 12, 3], 1), input([3, 3, 3, 8], 2)]) },
    { name: 'conv2d 5x5 stride 2 same', run: () => withGrads(conv(5, 2, 'same'), [input([2, 13, 13, 4], 3), input([5, 5, 4, 6], 4)]) },
    { name: 'conv2d 1x1 stride 1 valid', run: () => withGrads(conv(1, 1, 'valid'), [input([4, 7, 7, 16], 5), input([1, 1, 16, 24], 6)]) },
    { name: 'depthwiseConv2d 3x3 stride 1', run: () => withGrads(dw(1), [input([4, 12, 12, 8], 7), input([3, 3, 8, 1], 8)]) },
    { name: 'depthwiseConv2d 5x5 stride 2', run: () => withGrads(dw(2), [input([2, 14, 14, 6], 9), input([5, 5, 6, 1], 10)]) },
    { name: 'depthwiseConv2d 7x7 stride 2', run: () => withGrads(dw(2), [input([2, 15, 15, 5], 11), input([7, 7, 5, 1], 12)]) },
    { name: 'matMul', run: () => withGrads((a, b) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D), [input([16, 32], 13), input([32, 10], 14)]) },
    { name: 'batch norm (moments)', run: () => withGrads(batchNorm, [input([8, 6, 6, 5], 15, 4), input([5], 16), input([5], 17)]) },
    { name: 'relu6 and hard-swish', run: () => withGrads((x) => tf.add(tf.relu6(x), hardSwish(x)), [input([4, 5, 5, 3], 18, 16)]) },
    {
      name: 'resizeBilinear half-pixel centres',
      run: () => withGrads((x) => tf.image.resizeBilinear(x as tf.Tensor4D, [12, 12], false, true), [input([2, 7, 7, 3], 19)]),
    },
    { name: 'avgPool 2x2 and global mean', run: () => withGrads((x) => tf.mean(tf.avgPool(x as tf.Tensor4D, 2, 2, 'valid'), [1, 2]), [input([4, 8, 8, 6], 20)]) },
    { name: 'softmax cross-entropy', run: () => withGrads((l) => crossEntropy(l, [0, 3, 9, 1, 4, 4, 7, 2], 10), [input([8, 10], 21, 6)]) },
    {
      // The supernet slices a sub-network's kernels out of the largest ones (centre taps, leading channels):
      // the gradient must land in that window and be zero elsewhere.
      name: 'sliced weights (supernet sub-kernel)',
      run: () => withGrads((x, w) => tf.conv2d(x as tf.Tensor4D, tf.slice(w as tf.Tensor4D, [1, 1, 0, 0], [3, 3, 4, 6]), 1, 'same'), [input([2, 9, 9, 4], 22), input([5, 5, 8, 8], 23)]),
    },
    {
      name: 'inverted residual block (expand, depthwise, project, BN, hard-swish, CE)',
      run: () => withGrads((x, we, wd, wp, g, b, fc) => {
        const e = hardSwish(batchNorm(tf.conv2d(x as tf.Tensor4D, we as tf.Tensor4D, 1, 'same'), g, b));
        const d = tf.relu6(tf.depthwiseConv2d(e as tf.Tensor4D, wd as tf.Tensor4D, 2, 'same'));
        const y = tf.conv2d(d, wp as tf.Tensor4D, 1, 'same');
        const pooled = tf.mean(y, [1, 2]);
        return crossEntropy(tf.matMul(pooled as tf.Tensor2D, fc as tf.Tensor2D), [1, 0, 2, 1], 3);
      }, [input([4, 10, 10, 4], 24), input([1, 1, 4, 12], 25), input([3, 3, 12, 1], 26), input([1, 1, 12, 6], 27), input([12], 28, 2), input([12], 29), input([6, 3], 30)]),
    },
  ];
}

function relErr(a: Float32Array | Int32Array | Uint8Array, b: Float32Array | Int32Array | Uint8Array): number {
  let scale = 0;
  let err = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i] ?? 0));
    err = Math.max(err, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  }
  return a.length === b.length ? err / Math.max(scale, 1e-12) : Infinity;
}

async function runOn(backend: string, c: EquivalenceCase): Promise<Array<Float32Array | Int32Array | Uint8Array>> {
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend '${backend}' failed to initialise`);
  return collect(c);
}

/**
 * Runs every case on `backend` and on `reference` and returns each case's worst relative error.
 * Leaves `backend` active.
 */
export async function compareBackends(backend: string, reference = 'cpu', cases = equivalenceCases()): Promise<EquivalenceResult[]> {
  const results: EquivalenceResult[] = [];
  for (const c of cases) {
    const ref = await runOn(reference, c);
    const got = await runOn(backend, c);
    const errs = ref.map((r, i) => relErr(got[i] ?? new Float32Array(0), r));
    results.push({ name: c.name, maxRelErr: got.length === ref.length ? Math.max(...errs) : Infinity });
  }
  await tf.setBackend(backend);
  return results;
}

/**
 * The engine's fused kernels (nn/native/scalenet_ops.cc) against the composite code they replace: each case calls
 * the engine's own function, which takes the fused path when fused kernels are on and the composite one when off.
 */
export function fusedKernelCases(): EquivalenceCase[] {
  const bn = (act: boolean) => (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => batchNormActTrain(x as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, act);
  const sgdCase = (nesterov: boolean): tf.Tensor[] => {
    // A 5×5×6×8 shared tensor of which a sub-network uses the leading 3×3×4×5 corner (the supernet case), and a
    // BN layer of 8 channels of which 5 are used; two steps, so the momentum buffer is exercised too.
    const specs: ParamSpec[] = [
      { name: 'l.w', shape: [5, 5, 6, 8], role: 'conv' },
      { name: 'l.bn.gamma', shape: [8], role: 'gamma' },
      { name: 'l.bn.beta', shape: [8], role: 'beta' },
    ];
    const used: ParamSpec[] = [
      { name: 'l.w', shape: [3, 3, 4, 5], role: 'conv' },
      { name: 'l.bn.gamma', shape: [5], role: 'gamma' },
    ];
    const store = ParamStore.init(specs, 4);
    try {
      for (let step = 0; step < 2; step++) {
        const grads = used.map((u, i) => input(u.shape as number[], 40 + 10 * step + i, 2));
        applySgd(store, used, grads, { learningRate: 0.3, momentum: 0.9, nesterov, weightDecay: 0.01, labelSmoothing: 0 });
        updateRunningStats(store, 'l', input([5], 60 + step) as tf.Tensor1D, tf.abs(input([5], 70 + step)) as tf.Tensor1D);
      }
      return [...store.params.values(), ...store.momentum.values(), ...store.running.values()].map((v) => tf.clone(v));
    } finally {
      store.dispose();
    }
  };
  return [
    { name: 'fused training BN + h-swish (value, gradients)', run: () => withGrads(bn(true), [input([8, 6, 6, 5], 31, 4), input([5], 32), input([5], 33)]) },
    // Large enough to be split into row tasks across the kernel thread pool.
    { name: 'fused training BN + h-swish, multi-threaded size (value, gradients)', run: () => withGrads(bn(true), [input([16, 32, 32, 24], 51, 4), input([24], 52), input([24], 53)]) },
    { name: 'fused training BN (value, gradients)', run: () => withGrads(bn(false), [input([4, 7, 7, 12], 34, 3), input([12], 35), input([12], 36)]) },
    {
      name: 'fused training BN batch statistics',
      run: () => {
        const out: tf.Tensor[] = [];
        batchNormActTrain(input([4, 5, 5, 6], 37, 5) as tf.Tensor4D, input([6], 38) as tf.Tensor1D, input([6], 39) as tf.Tensor1D, true, (m, v) => out.push(m, v));
        return out;
      },
    },
    {
      name: 'fused bias + h-swish',
      run: () => [
        biasAct(input([16, 32, 32, 24], 54, 16) as tf.Tensor4D, input([24], 55, 4), true),
        biasAct(input([4, 6, 6, 10], 41, 16) as tf.Tensor4D, input([10], 42, 4), true),
        biasAct(input([2, 3, 3, 4], 43) as tf.Tensor4D, input([4], 44), false),
      ],
    },
    { name: 'fused spatial mean (value, gradient)', run: () => withGrads((x) => spatialMean(x as tf.Tensor4D), [input([3, 5, 4, 7], 45)]) },
    {
      name: 'fused squeeze-excite (inference)',
      run: () => {
        const w = new Map<string, tf.Tensor>([['b.se.w1', input([12, 3], 46)], ['b.se.b1', input([3], 47)], ['b.se.w2', input([3, 12], 48, 4)], ['b.se.b2', input([12], 49)]]);
        return [squeezeExcite((n) => w.get(n) as tf.Tensor, 'b', input([4, 5, 5, 12], 50, 2) as tf.Tensor4D, true)];
      },
    },
    {
      name: 'fused squeeze-excite (training: value, gradients)',
      run: () => withGrads((x, w1, b1, w2, b2) => squeezeExcite(
        (n) => ({ 'b.se.w1': w1, 'b.se.b1': b1, 'b.se.w2': w2, 'b.se.b2': b2 } as Record<string, tf.Tensor>)[n] as tf.Tensor, 'b', x as tf.Tensor4D),
      [input([4, 5, 5, 12], 56, 2), input([12, 3], 57), input([3], 58), input([3, 12], 59, 4), input([12], 60)]),
    },
    {
      name: 'fused bias + residual (folded projection)',
      run: () => {
        const w = new Map<string, tf.Tensor>([['p.w', input([1, 1, 24, 16], 61)], ['p.b', input([16], 62)]]);
        const conv = foldedConvBn(w);
        return [conv('p', input([16, 32, 32, 24], 63, 4) as tf.Tensor4D, 1, false, false, input([16, 32, 32, 16], 64, 4) as tf.Tensor4D),
          conv('p', input([2, 3, 3, 24], 65) as tf.Tensor4D, 1, false, false, input([2, 3, 3, 16], 66) as tf.Tensor4D)];
      },
    },
    {
      name: 'fused bias + h-swish + squeeze-excite (folded depthwise conv)',
      run: () => {
        const w = new Map<string, tf.Tensor>([['b.dw.w', input([3, 3, 24, 1], 71)], ['b.dw.b', input([24], 72)], ['b.se.w1', input([24, 6], 73)],
          ['b.se.b1', input([6], 74)], ['b.se.w2', input([6, 24], 75, 4)], ['b.se.b2', input([24], 76)]]);
        const p = (n: string): tf.Tensor => w.get(n) as tf.Tensor;
        const dwSe = foldedConvBn(w).depthwiseSe;
        if (!dwSe) throw new Error('foldedConvBn offers no fused depthwise + squeeze-excite');
        return [dwSe('b', input([16, 32, 32, 24], 77, 4) as tf.Tensor4D, 1, p), dwSe('b', input([2, 5, 5, 24], 78, 4) as tf.Tensor4D, 2, p)];
      },
    },
    {
      name: 'fused recalibration sums',
      run: () => {
        const first = accumulateMoments(input([24], 67), tf.abs(input([24], 68)), 50176);
        const second = accumulateMoments(input([24], 69, 3), tf.abs(input([24], 70, 2)), 12544, first);
        return [first.s1, first.s2, second.s1, second.s2];
      },
    },
    { name: 'fused SGD + running averages on leading corners', run: () => sgdCase(false) },
    { name: 'fused SGD (Nesterov) on leading corners', run: () => sgdCase(true) },
  ];
}

/** Runs a case's outputs to arrays (inside a tidy). */
function collect(c: EquivalenceCase): Array<Float32Array | Int32Array | Uint8Array> {
  return tf.tidy(() => c.run()).map((t) => {
    const v = t.dataSync() as Float32Array;
    t.dispose();
    return v;
  });
}

/**
 * Runs every case twice on the active backend, with the fused kernels off (composite ops) and on, and returns
 * each case's worst relative error. Leaves the fused kernels on.
 */
export function compareFusedToComposite(cases = fusedKernelCases()): EquivalenceResult[] {
  const results: EquivalenceResult[] = [];
  for (const c of cases) {
    setFusedOpsEnabled(false);
    let ref: Array<Float32Array | Int32Array | Uint8Array>;
    try {
      ref = collect(c);
    } finally {
      setFusedOpsEnabled(true);
    }
    const got = collect(c);
    const errs = ref.map((r, i) => relErr(got[i] ?? new Float32Array(0), r));
    results.push({ name: c.name, maxRelErr: got.length === ref.length ? Math.max(...errs) : Infinity });
  }
  return results;
}
