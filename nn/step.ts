/**
 * One SGD step on one (sub-)network. Gradients are taken with respect to the *slices* of the shared
 * tensors that the sub-network uses, and only those slices (and their momentum) are written back, so
 * nothing outside the sampled path moves — not even through weight decay or stale momentum. That is
 * the single-path one-shot contract (DESIGN §3.3) and it is tested.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ScaledNetwork } from '../core/scaling';
import { trainingConvBn, forwardNetwork, smoothedCrossEntropy, type ParamLookup } from './forward';
import { fusedLerpLeading, fusedOpsActive, fusedSgdLeading } from './native-ops';
import { decays, networkParams, type ParamSpec } from './params';
import { runningNames, type ParamStore } from './store';

/** Weight of the current batch in the BN running averages (PyTorch's default momentum 0.1). */
export const BN_RUNNING_MOMENTUM = 0.1;

/** Optimizer settings of one step. */
export interface StepArgs {
  learningRate: number;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
  labelSmoothing: number;
}

/** The leading corner `shape` of `t` (no copy when it is the whole tensor). */
export function leadingSlice(t: tf.Tensor, shape: readonly number[]): tf.Tensor {
  if (tf.util.arraysEqual(t.shape, shape as number[])) return t;
  return tf.slice(t, shape.map(() => 0), shape as number[]);
}

/** Writes `value` into the leading corner of variable `v`, leaving every other element bit-identical. */
export function assignLeading(v: tf.Variable, value: tf.Tensor): void {
  if (tf.util.arraysEqual(v.shape, value.shape)) {
    v.assign(value);
    return;
  }
  const pads = value.shape.map((d, i) => [0, (v.shape[i] as number) - d] as [number, number]);
  const mask = tf.cast(tf.pad(tf.ones(value.shape, 'int32'), pads), 'bool');
  v.assign(tf.where(mask, tf.pad(value, pads), v));
}

/** Slices of every parameter `net` uses, in {@link networkParams} order, plus a by-name lookup. */
export function sliceParams(store: ParamStore, net: ScaledNetwork): { specs: ParamSpec[]; slices: tf.Tensor[]; lookup: ParamLookup } {
  const specs = networkParams(net);
  const slices = specs.map((s) => leadingSlice(store.param(s.name), s.shape));
  const index = new Map(specs.map((s, i) => [s.name, i]));
  const lookup: ParamLookup = (name) => {
    const i = index.get(name);
    if (i === undefined) throw new Error(`parameter ${name} is not part of this sub-network`);
    return slices[i] as tf.Tensor;
  };
  return { specs, slices, lookup };
}

/**
 * Forward in training mode (batch statistics), label-smoothed loss, gradients w.r.t. the used slices,
 * SGD (Nesterov) with weight decay on conv/FC weights; returns the loss. `x` is at `net`'s resolution.
 */
export function trainStep(store: ParamStore, net: ScaledNetwork, x: tf.Tensor4D, labels: Int32Array, a: StepArgs): number {
  return tf.tidy(() => {
    const specs = networkParams(net);
    const slices = specs.map((s) => leadingSlice(store.param(s.name), s.shape));
    const index = new Map(specs.map((s, i) => [s.name, i]));
    const batchStats: Array<{ prefix: string; mean: tf.Tensor1D; variance: tf.Tensor1D }> = [];
    const f = (...args: tf.Tensor[]): tf.Scalar => {
      const p: ParamLookup = (name) => args[index.get(name) as number] as tf.Tensor;
      const convBn = trainingConvBn(p, (prefix, mean, variance) => batchStats.push({ prefix, mean, variance }));
      return smoothedCrossEntropy(forwardNetwork(net, p, convBn, x), labels, a.labelSmoothing);
    };
    const { value, grads } = tf.valueAndGrads(f)(slices);
    for (const { prefix, mean, variance } of batchStats) {
      updateRunningStats(store, prefix, mean, variance);
      mean.dispose();
      variance.dispose();
    }
    applySgd(store, specs, grads, a, slices);
    return value.dataSync()[0] as number;
  });
}

/**
 * Folds one batch's statistics of BN layer `prefix` into the store's running averages, for the used channels
 * only (the "uncalibrated" baseline of evaluation); the other channels stay bit-identical.
 */
export function updateRunningStats(store: ParamStore, prefix: string, mean: tf.Tensor1D, variance: tf.Tensor1D): void {
  tf.tidy(() => {
    const names = runningNames(`${prefix}.bn.gamma`);
    for (const [name, batch] of [[names.mean, mean], [names.variance, variance]] as const) {
      const v = store.running.get(name);
      if (!v) throw new Error(`no running statistics ${name}`);
      if (fusedOpsActive()) v.assign(fusedLerpLeading(v, batch, BN_RUNNING_MOMENTUM));
      else assignLeading(v, tf.add(tf.mul(leadingSlice(v, batch.shape), 1 - BN_RUNNING_MOMENTUM), tf.mul(batch, BN_RUNNING_MOMENTUM)));
    }
  });
}

/**
 * SGD (Nesterov optional) with weight decay on conv/FC weights, applied to the leading corner of each of the
 * store's parameters named by `specs` (sized as `grads`); everything outside the corners stays bit-identical.
 * g' = g + wd·w;  m' = μ·m + g';  u = nesterov ? g' + μ·m' : m';  w' = w − lr·u.
 * `weights`: the corners as already sliced for the forward pass (saves slicing them again), else sliced here.
 */
export function applySgd(store: ParamStore, specs: readonly ParamSpec[], grads: readonly tf.Tensor[], a: StepArgs, weights?: readonly tf.Tensor[]): void {
  tf.tidy(() => {
    const momentumOf = (name: string): tf.Variable => {
      const m = store.momentum.get(name);
      if (!m) throw new Error(`no momentum for ${name}`);
      return m;
    };
    if (fusedOpsActive()) {
      // One kernel per parameter: decay, momentum, Nesterov and the write-back of the used corner.
      const hyper = (wd: number): tf.Tensor1D => tf.tensor1d([a.learningRate, a.momentum, wd, a.nesterov ? 1 : 0]);
      const withDecay = hyper(a.weightDecay);
      const noDecay = hyper(0);
      specs.forEach((s, i) => {
        const param = store.param(s.name);
        const mVar = momentumOf(s.name);
        const [p2, m2] = fusedSgdLeading(param, mVar, grads[i] as tf.Tensor, decays(s.role) ? withDecay : noDecay);
        param.assign(p2);
        mVar.assign(m2);
      });
      return;
    }
    specs.forEach((s, i) => {
      const w = weights?.[i] ?? leadingSlice(store.param(s.name), s.shape);
      let g = grads[i] as tf.Tensor;
      if (a.weightDecay > 0 && decays(s.role)) g = tf.add(g, tf.mul(w, a.weightDecay));
      const mVar = momentumOf(s.name);
      const m = tf.add(tf.mul(leadingSlice(mVar, s.shape), a.momentum), g);
      const update = a.nesterov ? tf.add(g, tf.mul(m, a.momentum)) : m;
      assignLeading(store.param(s.name), tf.sub(w, tf.mul(update, a.learningRate)));
      assignLeading(mVar, m);
    });
  });
}
