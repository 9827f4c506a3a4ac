/**
 * The engine's fused kernels on the native TensorFlow backend (nn/native/scalenet_ops.cc): loads the addon that
 * registers them with TensorFlow, exposes them as tfjs kernels of the `tensorflow` backend (with gradients), and
 * offers each as a function that the engine calls only when {@link fusedOpsActive} — on wasm and cpu, and on a
 * native backend without the addon, the composite code paths of ./ops.ts, ./forward.ts and ./step.ts run instead.
 *
 * Why a separate addon instead of more tfjs ops: a training step composed of stock ops made ~3 000 kernel calls,
 * most of them element-wise passes over activations (batch norm, h-swish, optimizer); see bench/README.md.
 */
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { nativeOpsAddonPath } from '../infra/native-tf/ops';
import { BN_EPSILON } from './constants';

/** tfjs-node's backend, as far as these kernels use it. */
interface NativeBackend {
  binding: { TF_ATTR_BOOL: number; TF_ATTR_FLOAT: number; TF_ATTR_INT: number };
  executeMultipleOutputs(name: string, attrs: unknown[], inputs: tf.TensorInfo[], n: number): tf.Tensor[];
}

type Attr = { name: string; kind: 'bool' | 'float' | 'int'; value: boolean | number };

let loaded: { ok: true; ops: string[]; convs: boolean } | { ok: false; reason: string } | undefined;
let disabled = process.env.SCALENET_FUSED_OPS === '0';
const convsDisabled = process.env.SCALENET_NATIVE_CONV === '0';

/** Registers a tfjs kernel of the `tensorflow` backend that runs TensorFlow op `name` with `n` outputs. */
function registerNativeKernel(name: string, n: number, attrs: (a: tf.NamedAttrMap) => Attr[], inputNames: string[]): void {
  tf.registerKernel({
    kernelName: name,
    backendName: 'tensorflow',
    kernelFunc: ({ inputs, backend, attrs: a }) => {
      const be = backend as unknown as NativeBackend;
      const types = { bool: be.binding.TF_ATTR_BOOL, float: be.binding.TF_ATTR_FLOAT, int: be.binding.TF_ATTR_INT };
      const tfAttrs = attrs(a ?? {}).map((x) => ({ name: x.name, type: types[x.kind], value: x.value }));
      for (const k of inputNames) if (!inputs[k] || (inputs[k] as tf.Tensor).isDisposed) throw new Error(`${name}: input ${k} missing or disposed`);
      const outs = be.executeMultipleOutputs(name, tfAttrs, inputNames.map((k) => inputs[k] as tf.TensorInfo), n);
      return n === 1 ? (outs[0] as tf.TensorInfo) : outs;
    },
  });
}

const bnAttrs = (a: tf.NamedAttrMap): Attr[] => [
  { name: 'hswish', kind: 'bool', value: Boolean(a.hswish) },
  { name: 'epsilon', kind: 'float', value: BN_EPSILON },
];

function registerKernels(): void {
  registerNativeKernel('ScaleNetBnActTrain', 3, bnAttrs, ['x', 'gamma', 'beta']);
  registerNativeKernel('ScaleNetBnActTrainGrad', 3, bnAttrs, ['dz', 'x', 'gamma', 'beta', 'mean', 'variance']);
  registerNativeKernel('ScaleNetBnActTrainResidual', 3, bnAttrs, ['x', 'gamma', 'beta', 'residual']);
  registerNativeKernel('ScaleNetBnActSeInfer', 3, bnAttrs, ['x', 'gamma', 'beta', 'w1', 'b1', 'w2', 'b2']);
  registerNativeKernel('ScaleNetBiasAct', 1, (a) => [{ name: 'hswish', kind: 'bool', value: Boolean(a.hswish) }], ['x', 'bias']);
  registerNativeKernel('ScaleNetBiasResidual', 1, () => [], ['x', 'bias', 'residual']);
  const countAttr = (a: tf.NamedAttrMap): Attr[] => [{ name: 'count', kind: 'float', value: a.count as number }];
  registerNativeKernel('ScaleNetMomentSums', 2, countAttr, ['mean', 'variance']);
  registerNativeKernel('ScaleNetMomentSumsAdd', 2, countAttr, ['s1', 's2', 'mean', 'variance']);
  registerNativeKernel('ScaleNetSpatialMean', 1, () => [], ['x']);
  registerNativeKernel('ScaleNetSpatialMeanGrad', 1, () => [], ['dy', 'x']);
  registerNativeKernel('ScaleNetSeInfer', 1, () => [], ['x', 'w1', 'b1', 'w2', 'b2']);
  registerNativeKernel('ScaleNetBiasActSeInfer', 1, () => [], ['x', 'bias', 'w1', 'b1', 'w2', 'b2']);
  registerNativeKernel('ScaleNetSeTrain', 4, () => [], ['x', 'w1', 'b1', 'w2', 'b2']);
  registerNativeKernel('ScaleNetSeTrainGrad', 5, () => [], ['dy', 'x', 'w1', 'w2', 's', 'hpre', 'gpre']);
  registerNativeKernel('ScaleNetSgdLeading', 2, () => [], ['param', 'momentum', 'grad', 'hyper']);
  registerNativeKernel('ScaleNetLerpLeading', 1, (a) => [{ name: 'alpha', kind: 'float', value: a.alpha as number }], ['full', 'value']);
  const strideAttr = (a: tf.NamedAttrMap): Attr[] => [{ name: 'stride', kind: 'int', value: a.stride as number }];
  registerNativeKernel('ScaleNetDepthwise', 1, strideAttr, ['x', 'w']);
  registerNativeKernel('ScaleNetDepthwiseBiasActSeInfer', 1, strideAttr, ['x', 'w', 'bias', 'w1', 'b1', 'w2', 'b2']);
  registerNativeKernel('ScaleNetPointwise', 1, () => [], ['x', 'w']);
  registerNativeKernel('ScaleNetPointwiseInputGrad', 1, () => [], ['dy', 'w']);
  registerNativeKernel('ScaleNetPointwiseBiasAct', 1, (a) => [{ name: 'hswish', kind: 'bool', value: Boolean(a.hswish) }], ['x', 'w', 'bias']);
  registerNativeKernel('ScaleNetPointwiseBiasResidual', 1, () => [], ['x', 'w', 'bias', 'residual']);

  tf.registerGradient({
    kernelName: 'ScaleNetBnActTrain',
    inputsToSave: ['x', 'gamma', 'beta'],
    outputsToSave: [false, true, true],
    gradFunc: (dys, saved, attrs) => {
      const [x, gamma, beta, mean, variance] = saved as tf.Tensor[];
      const dz = (dys as tf.Tensor[])[0] as tf.Tensor;
      // μ_B and σ²_B are reported, not differentiated: their own gradients (always zero here) are ignored.
      // Computed here, not in the thunks: the tape runs each thunk in its own tidy, which would dispose the
      // other two outputs of the one kernel call.
      const [dx, dgamma, dbeta] = tf.engine().runKernel('ScaleNetBnActTrainGrad',
        { dz, x, gamma, beta, mean, variance } as unknown as tf.NamedTensorMap, attrs) as tf.Tensor[];
      return { x: () => dx as tf.Tensor, gamma: () => dgamma as tf.Tensor, beta: () => dbeta as tf.Tensor };
    },
  });
  tf.registerGradient({
    kernelName: 'ScaleNetSeTrain',
    inputsToSave: ['x', 'w1', 'w2'],
    outputsToSave: [false, true, true, true],
    gradFunc: (dys, saved) => {
      const [x, w1, w2, s, hpre, gpre] = saved as tf.Tensor[];
      const dy = (dys as tf.Tensor[])[0] as tf.Tensor;
      // One call for all five gradients, outside the thunks (see ScaleNetBnActTrain).
      const [dx, dw1, db1, dw2, db2] = tf.engine().runKernel('ScaleNetSeTrainGrad',
        { dy, x, w1, w2, s, hpre, gpre } as unknown as tf.NamedTensorMap, {}) as tf.Tensor[];
      return { x: () => dx as tf.Tensor, w1: () => dw1 as tf.Tensor, b1: () => db1 as tf.Tensor, w2: () => dw2 as tf.Tensor, b2: () => db2 as tf.Tensor };
    },
  });
  // The conv kernels take the gradients tfjs gives tf.conv2d / tf.depthwiseConv2d, computed by TensorFlow's backprop
  // kernels from the same saved x and filter; except a 1×1 conv's input gradient, dy times the transposed filter,
  // which the pointwise kernel computes with TensorFlow's bits (sequential sums over the output channels).
  const stockConvGradient = (kernelName: string, stock: string, attrs: (a: tf.NamedAttrMap) => tf.NamedAttrMap,
    inputGrad?: (dy: tf.Tensor, w: tf.Tensor) => tf.Tensor): void => tf.registerGradient({
    kernelName,
    inputsToSave: ['x', 'w'],
    gradFunc: (dy, saved, a) => {
      const g = tf.getGradient(stock)?.gradFunc(dy, saved, attrs(a));
      if (!g?.x || !g.filter) throw new Error(`no gradient of ${stock} to take for ${kernelName}`);
      const w = saved[1] as tf.Tensor;
      return { x: inputGrad ? () => inputGrad(dy as tf.Tensor, w) : g.x, w: g.filter };
    },
  });
  stockConvGradient('ScaleNetPointwise', 'Conv2D', () => ({ strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: [1, 1] } as unknown as tf.NamedAttrMap),
    (dy, w) => tf.engine().runKernel('ScaleNetPointwiseInputGrad', { dy, w } as unknown as tf.NamedTensorMap, {}) as tf.Tensor);
  stockConvGradient('ScaleNetDepthwise', 'DepthwiseConv2dNative', (a) => ({ strides: a.stride, pad: 'same', dilations: [1, 1] } as unknown as tf.NamedAttrMap));
  tf.registerGradient({
    kernelName: 'ScaleNetSpatialMean',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({
      x: () => tf.engine().runKernel('ScaleNetSpatialMeanGrad', { dy, x: saved[0] } as unknown as tf.NamedTensorMap, {}) as tf.Tensor,
    }),
  });
}

/**
 * Loads the addon (once per process) and registers the kernels. Returns null on success, else why not: the
 * addon was never built (`npx tsx infra/native-tf/main.ts setup` builds it), or it failed to load.
 * Call only after tfjs-node has loaded (the addon links against the same libtensorflow).
 */
export function loadFusedOps(): string | null {
  if (!loaded) {
    try {
      const path = nativeOpsAddonPath();
      if (!existsSync(path)) throw new Error(`not built (${path}); run \`npx tsx infra/native-tf/main.ts setup\``);
      const m = { exports: {} as { ops?: string[]; convs?: boolean } };
      process.dlopen(m, path);
      registerKernels();
      loaded = { ok: true, ops: m.exports.ops ?? [], convs: m.exports.convs === true };
    } catch (err) {
      loaded = { ok: false, reason: (err as Error).message.split('\n')[0] ?? '' };
    }
  }
  return loaded.ok ? null : loaded.reason;
}

/** Turns the fused kernels off (or on again) for this process, e.g. to compare both paths. `SCALENET_FUSED_OPS=0` starts off. */
export function setFusedOpsEnabled(on: boolean): void {
  disabled = !on;
}

/** Whether the engine uses the fused kernels now: loaded, enabled, and the active backend is `tensorflow`. */
export function fusedOpsActive(): boolean {
  return !disabled && loaded?.ok === true && tf.getBackend() === 'tensorflow';
}

/**
 * Whether convolutions run as the addon's conv kernels (1×1 stride 1 and depthwise; the others stay tf.conv2d): fused
 * kernels active and the CPU has AVX-512, their only code path (elsewhere TensorFlow's convs run, with the same sums).
 * `SCALENET_NATIVE_CONV=0` at start keeps TensorFlow's (to compare; read once: this runs for every conv).
 */
export function nativeConvActive(): boolean {
  return !convsDisabled && fusedOpsActive() && loaded?.ok === true && loaded.convs;
}

/**
 * A 1×1 stride-1 convolution of NHWC `x` with filter `w` [1, 1, k, c] (differentiable): with `bias` (inference, no
 * gradient), the bias and optionally h-swish, or (with `residual`) the residual add, in the same pass (see
 * ScaleNetPointwise).
 */
export function fusedPointwise(x: tf.Tensor4D, w: tf.Tensor, epilogue?: { bias: tf.Tensor; hswish?: boolean; residual?: tf.Tensor4D }): tf.Tensor4D {
  if (!epilogue) return tf.engine().runKernel('ScaleNetPointwise', { x, w } as unknown as tf.NamedTensorMap, {}) as tf.Tensor4D;
  const { bias, residual } = epilogue;
  if (residual) return tf.engine().runKernel('ScaleNetPointwiseBiasResidual', { x, w, bias, residual } as unknown as tf.NamedTensorMap, {}) as tf.Tensor4D;
  return tf.engine().runKernel('ScaleNetPointwiseBiasAct', { x, w, bias } as unknown as tf.NamedTensorMap,
    { hswish: Boolean(epilogue.hswish) } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/** A depthwise conv with 'same' padding (tf.depthwiseConv2d's sums and gradients, see ScaleNetDepthwise). */
export function fusedDepthwise(x: tf.Tensor4D, w: tf.Tensor, stride: number): tf.Tensor4D {
  return tf.engine().runKernel('ScaleNetDepthwise', { x, w } as unknown as tf.NamedTensorMap, { stride } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/** Inference: depthwise conv, folded BN bias, h-swish and squeeze-excite in one kernel (per image). */
export function fusedDepthwiseBiasActSeInfer(x: tf.Tensor4D, w: tf.Tensor, stride: number, bias: tf.Tensor, w1: tf.Tensor, b1: tf.Tensor, w2: tf.Tensor, b2: tf.Tensor): tf.Tensor4D {
  return tf.engine().runKernel('ScaleNetDepthwiseBiasActSeInfer', { x, w, bias, w1, b1, w2, b2 } as unknown as tf.NamedTensorMap,
    { stride } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/** Training-mode BN (+ h-swish) with batch statistics: [z, batch mean, biased batch variance]. */
export function fusedBnActTrain(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, hswish: boolean): [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D] {
  return tf.engine().runKernel('ScaleNetBnActTrain', { x, gamma, beta } as unknown as tf.NamedTensorMap, { hswish } as unknown as tf.NamedAttrMap) as unknown as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
}

/** Without a gradient (recalibration): residual + act(BN with batch statistics) and the statistics, one pass. */
export function fusedBnActTrainResidual(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, hswish: boolean, residual: tf.Tensor): [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D] {
  return tf.engine().runKernel('ScaleNetBnActTrainResidual', { x, gamma, beta, residual } as unknown as tf.NamedTensorMap,
    { hswish } as unknown as tf.NamedAttrMap) as unknown as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
}

/** Without a gradient (recalibration): squeeze-excite of h-swish(BN with batch statistics), and the statistics. */
export function fusedBnActSeInfer(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, w1: tf.Tensor, b1: tf.Tensor, w2: tf.Tensor, b2: tf.Tensor): [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D] {
  return tf.engine().runKernel('ScaleNetBnActSeInfer', { x, gamma, beta, w1, b1, w2, b2 } as unknown as tf.NamedTensorMap,
    { hswish: true } as unknown as tf.NamedAttrMap) as unknown as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
}

/** act(x + bias) per channel. */
export function fusedBiasAct(x: tf.Tensor4D, bias: tf.Tensor, hswish: boolean): tf.Tensor4D {
  return tf.engine().runKernel('ScaleNetBiasAct', { x, bias } as unknown as tf.NamedTensorMap, { hswish } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/** residual + (x + bias) per channel: a projection with BN folded and its residual add (inference; no gradient). */
export function fusedBiasResidual(x: tf.Tensor4D, bias: tf.Tensor, residual: tf.Tensor4D): tf.Tensor4D {
  return tf.engine().runKernel('ScaleNetBiasResidual', { x, bias, residual } as unknown as tf.NamedTensorMap, {}) as tf.Tensor4D;
}

/**
 * BN recalibration's running sums of one layer after one more batch: s1 + mean·count, s2 + (variance + mean²)·count
 * (without `prev`: the first batch's terms), with the float32 operations of the composite path in its order.
 */
export function fusedMomentSums(mean: tf.Tensor, variance: tf.Tensor, count: number, prev?: { s1: tf.Tensor; s2: tf.Tensor }): [tf.Tensor1D, tf.Tensor1D] {
  const attrs = { count } as unknown as tf.NamedAttrMap;
  const outs = prev
    ? tf.engine().runKernel('ScaleNetMomentSumsAdd', { s1: prev.s1, s2: prev.s2, mean, variance } as unknown as tf.NamedTensorMap, attrs)
    : tf.engine().runKernel('ScaleNetMomentSums', { mean, variance } as unknown as tf.NamedTensorMap, attrs);
  return outs as unknown as [tf.Tensor1D, tf.Tensor1D];
}

/** Mean over H and W of [N, H, W, C] → [N, C] (differentiable). */
export function fusedSpatialMean(x: tf.Tensor4D): tf.Tensor2D {
  return tf.engine().runKernel('ScaleNetSpatialMean', { x } as unknown as tf.NamedTensorMap, {}) as tf.Tensor2D;
}

/** Squeeze-excite with a gradient (training): x · h-sigmoid(ReLU(mean_HW(x)·w1 + b1)·w2 + b2). */
export function fusedSeTrain(x: tf.Tensor4D, w1: tf.Tensor, b1: tf.Tensor, w2: tf.Tensor, b2: tf.Tensor): tf.Tensor4D {
  const outs = tf.engine().runKernel('ScaleNetSeTrain', { x, w1, b1, w2, b2 } as unknown as tf.NamedTensorMap, {}) as tf.Tensor[];
  return outs[0] as tf.Tensor4D; // the other outputs are saved for the gradient and freed with the scope
}

/** Squeeze-excite, inference only (no gradient): x · h-sigmoid(ReLU(mean_HW(x)·w1 + b1)·w2 + b2). */
export function fusedSeInfer(x: tf.Tensor4D, w1: tf.Tensor, b1: tf.Tensor, w2: tf.Tensor, b2: tf.Tensor): tf.Tensor4D {
  return tf.engine().runKernel('ScaleNetSeInfer', { x, w1, b1, w2, b2 } as unknown as tf.NamedTensorMap, {}) as tf.Tensor4D;
}

/** Squeeze-excite of h-swish(x + bias), inference only: a depthwise conv's folded BN, activation and SE in one kernel. */
export function fusedBiasActSeInfer(x: tf.Tensor4D, bias: tf.Tensor, w1: tf.Tensor, b1: tf.Tensor, w2: tf.Tensor, b2: tf.Tensor): tf.Tensor4D {
  return tf.engine().runKernel('ScaleNetBiasActSeInfer', { x, bias, w1, b1, w2, b2 } as unknown as tf.NamedTensorMap, {}) as tf.Tensor4D;
}

/**
 * One SGD step on the leading corner of `param`/`momentum` (shape of `grad`); `hyper` = [lr, momentum, weight
 * decay, nesterov ? 1 : 0]. Returns the new full param and momentum.
 */
export function fusedSgdLeading(param: tf.Tensor, momentum: tf.Tensor, grad: tf.Tensor, hyper: tf.Tensor1D): [tf.Tensor, tf.Tensor] {
  return tf.engine().runKernel('ScaleNetSgdLeading', { param, momentum, grad, hyper } as unknown as tf.NamedTensorMap, {}) as unknown as [tf.Tensor, tf.Tensor];
}

/** full with its leading corner replaced by full·(1 − alpha) + value·alpha. */
export function fusedLerpLeading(full: tf.Tensor, value: tf.Tensor, alpha: number): tf.Tensor {
  return tf.engine().runKernel('ScaleNetLerpLeading', { full, value } as unknown as tf.NamedTensorMap, { alpha } as unknown as tf.NamedAttrMap) as tf.Tensor;
}
