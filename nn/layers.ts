/**
 * Standalone networks as tfjs-layers models (DESIGN §3.9): the same blocks as ./forward.ts, built only
 * from layers that ship with @tensorflow/tfjs-layers, so stock TensorFlow.js (and tensorflowjs_converter,
 * which knows the same Keras classes) loads an exported model without this project's code:
 * h-sigmoid(x) = ReLU6(x + 3) / 6 is Rescaling(+3) → ReLU(maxValue 6) → Rescaling(×1/6), h-swish is
 * Multiply(x, h-sigmoid(x)); SE is GlobalAveragePooling2D → Dense → Dense → h-sigmoid → Reshape → Multiply.
 *
 * Training: these models are for inference and export. Training happens on the functional graph
 * (./trainer.ts), because tfjs-layers' Conv2D uses a fused conv whose gradient needs the
 * Conv2DBackpropFilter kernel that the wasm backend lacks (see ./gradients.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Architecture } from '../core/arch';
import { scaleNetwork, type ScaledNetwork } from '../core/scaling';
import type { SearchSpace } from '../core/space';
import { BN_EPSILON } from './constants';
import { BnStats } from './evaluate';
import { hardSigmoid, hardSwish, type ParamLookup } from './forward';
import { bnPrefixes, networkParams, prefixOf } from './params';

/**
 * The custom activation layers of models stored before the export used stock layers only
 * (class names `ScaleNetHardSwish`, `ScaleNetHardSigmoid`). Registered so that those stored models still
 * load here (and `scalenet export` rebuilds them from stock layers); new models never contain them.
 */
class LegacyHardSwish extends tfl.layers.Layer {
  static readonly className = 'ScaleNetHardSwish';
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => hardSwish(Array.isArray(inputs) ? (inputs[0] as tf.Tensor) : inputs));
  }
}
class LegacyHardSigmoid extends tfl.layers.Layer {
  static readonly className = 'ScaleNetHardSigmoid';
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => hardSigmoid(Array.isArray(inputs) ? (inputs[0] as tf.Tensor) : inputs));
  }
}
tf.serialization.registerClass(LegacyHardSwish);
tf.serialization.registerClass(LegacyHardSigmoid);

/** h-sigmoid(x) = ReLU6(x + 3) / 6 from stock layers (named `${name}_add3`, `_relu6`, `_div6`). */
export function stockHardSigmoid(x: tfl.SymbolicTensor, name: string): tfl.SymbolicTensor {
  const L = tfl.layers;
  let y = L.rescaling({ scale: 1, offset: 3, name: `${name}_add3` }).apply(x) as tfl.SymbolicTensor;
  y = L.reLU({ maxValue: 6, name: `${name}_relu6` }).apply(y) as tfl.SymbolicTensor;
  return L.rescaling({ scale: 1 / 6, offset: 0, name: `${name}_div6` }).apply(y) as tfl.SymbolicTensor;
}

/** h-swish(x) = x · h-sigmoid(x) from stock layers. */
export function stockHardSwish(x: tfl.SymbolicTensor, name: string): tfl.SymbolicTensor {
  return tfl.layers.multiply({ name }).apply([x, stockHardSigmoid(x, `${name}_gate`)]) as tfl.SymbolicTensor;
}

/** Keras layer name of a parameter prefix (`s1.l0.k5.dw` → `s1_l0_k5_dw`). */
export function layerName(prefix: string, part: string): string {
  return `${prefix.replace(/\./g, '_')}_${part}`;
}

/** Weights to load into a built model: parameters (at the network's sizes) and BN statistics. */
export interface ModelWeights {
  params: ParamLookup;
  stats: BnStats;
}

/** Options of {@link buildStandaloneModel}. */
export interface BuildModelArgs {
  /** `fresh` (default): tfjs initialisers, BN statistics 0/1. Or copied weights and BN statistics. */
  weights?: 'fresh' | ModelWeights;
}

/**
 * A tf.LayersModel for `arch` in `space`: input [r, r, channels] (resize outside the model, as in
 * training), output logits [classes]. Trainable parameter count equals core's `countNetwork(...).params`
 * (BN γ and β are trainable; moving mean/variance are non-trainable state, which core does not count).
 */
export function buildStandaloneModel(space: SearchSpace, arch: Architecture, args: BuildModelArgs = {}): tfl.LayersModel {
  return buildFromNetwork(scaleNetwork(space, arch), args);
}

/** {@link buildStandaloneModel} from an already scaled network. */
export function buildFromNetwork(net: ScaledNetwork, args: BuildModelArgs = {}): tfl.LayersModel {
  const assignments: Array<{ layer: tfl.layers.Layer; values: () => tf.Tensor[] }> = [];
  const w = args.weights === 'fresh' ? undefined : args.weights;
  const L = tfl.layers;
  const input = tfl.input({ shape: [net.input.resolution, net.input.resolution, net.input.channels], name: 'image' });

  const convBn = (x: tfl.SymbolicTensor, prefix: string, filters: number, kernel: number, stride: number, depthwise: boolean, act: boolean): tfl.SymbolicTensor => {
    const convLayer = depthwise
      ? L.depthwiseConv2d({ kernelSize: kernel, strides: stride, padding: 'same', depthMultiplier: 1, useBias: false, name: layerName(prefix, 'conv') })
      : L.conv2d({ filters, kernelSize: kernel, strides: stride, padding: 'same', useBias: false, name: layerName(prefix, 'conv') });
    const bnLayer = L.batchNormalization({ epsilon: BN_EPSILON, momentum: 0.9, name: layerName(prefix, 'bn') });
    if (w) {
      assignments.push({ layer: convLayer, values: () => [w.params(`${prefix}.w`)] });
      assignments.push({
        layer: bnLayer,
        values: () => [w.params(`${prefix}.bn.gamma`), w.params(`${prefix}.bn.beta`), w.stats.get(prefix).mean, w.stats.get(prefix).variance],
      });
    }
    let y = bnLayer.apply(convLayer.apply(x)) as tfl.SymbolicTensor;
    if (act) y = stockHardSwish(y, layerName(prefix, 'hswish'));
    return y;
  };

  const dense = (x: tfl.SymbolicTensor, name: string, weight: string, bias: string, units: number, activation: 'relu' | 'linear'): tfl.SymbolicTensor => {
    const layer = L.dense({ units, activation, useBias: true, name });
    if (w) assignments.push({ layer, values: () => [w.params(weight), w.params(bias)] });
    return layer.apply(x) as tfl.SymbolicTensor;
  };

  let h = convBn(input, 'stem', net.stem.cout, net.stem.kernel, net.stem.stride, false, true);
  for (const b of net.blocks) {
    const prefix = prefixOf(b);
    const blockInput = h;
    let y = b.expand ? convBn(h, `${prefix}.expand`, b.hidden, 1, 1, false, true) : h;
    y = convBn(y, `${prefix}.dw`, b.hidden, b.kernel, b.stride, true, true);
    // Squeeze-excite: avg-pool → FC(hidden→se)+ReLU → FC(se→hidden) → h-sigmoid → scale.
    let g = L.globalAveragePooling2d({ name: layerName(prefix, 'se_pool') }).apply(y) as tfl.SymbolicTensor;
    g = dense(g, layerName(prefix, 'se_fc1'), `${prefix}.se.w1`, `${prefix}.se.b1`, b.seHidden, 'relu');
    g = dense(g, layerName(prefix, 'se_fc2'), `${prefix}.se.w2`, `${prefix}.se.b2`, b.hidden, 'linear');
    g = stockHardSigmoid(g, layerName(prefix, 'se_gate'));
    g = L.reshape({ targetShape: [1, 1, b.hidden], name: layerName(prefix, 'se_reshape') }).apply(g) as tfl.SymbolicTensor;
    y = L.multiply({ name: layerName(prefix, 'se_scale') }).apply([y, g]) as tfl.SymbolicTensor;
    y = convBn(y, `${prefix}.project`, b.cout, 1, 1, false, false);
    h = b.residual ? (L.add({ name: layerName(prefix, 'residual') }).apply([blockInput, y]) as tfl.SymbolicTensor) : y;
  }
  h = convBn(h, 'head', net.head.cout, 1, 1, false, true);
  let out = L.globalAveragePooling2d({ name: 'pool' }).apply(h) as tfl.SymbolicTensor;
  out = dense(out, 'fc', 'fc.w', 'fc.b', net.fc.classes, 'linear');
  const model = tfl.model({ inputs: input, outputs: out, name: 'scalenet' });
  for (const a of assignments) {
    const values = tf.tidy(() => a.values().map((t) => tf.clone(t)));
    a.layer.setWeights(values);
    values.forEach((t) => t.dispose());
  }
  return model;
}

/** Number of trainable scalars of a layers model (compare with core's `countNetwork(...).params`). */
export function trainableParams(model: tfl.LayersModel): number {
  return model.trainableWeights.reduce((n, v) => n + (v.shape as number[]).reduce((a, b) => a * b, 1), 0);
}

/**
 * The weights and BN statistics of a model built by {@link buildFromNetwork} for `net`, under the
 * engine's parameter names (./params.ts), read back from its layers by name. Copies: the caller disposes
 * the returned tensors (`dispose()`), the model keeps its own.
 */
export function weightsOfModel(model: tfl.LayersModel, net: ScaledNetwork): ModelWeights & { dispose(): void } {
  const values = new Map<string, tf.Tensor>();
  const layer = (name: string) => {
    try {
      return model.getLayer(name);
    } catch {
      throw new Error(`the model has no layer "${name}": it was not built for this architecture`);
    }
  };
  const read = (name: string, count: number) => {
    const ws = layer(name).getWeights();
    if (ws.length !== count) throw new Error(`layer "${name}" holds ${ws.length} weight tensors, expected ${count}`);
    return ws.map((w) => tf.clone(w));
  };
  const stats = new Map<string, { mean: tf.Tensor1D; variance: tf.Tensor1D }>();
  for (const prefix of bnPrefixes(net)) {
    values.set(`${prefix}.w`, read(layerName(prefix, 'conv'), 1)[0]!);
    const [gamma, beta, mean, variance] = read(layerName(prefix, 'bn'), 4) as [tf.Tensor, tf.Tensor, tf.Tensor1D, tf.Tensor1D];
    values.set(`${prefix}.bn.gamma`, gamma);
    values.set(`${prefix}.bn.beta`, beta);
    stats.set(prefix, { mean, variance });
  }
  for (const b of net.blocks) {
    const p = prefixOf(b);
    const [w1, b1] = read(layerName(p, 'se_fc1'), 2);
    const [w2, b2] = read(layerName(p, 'se_fc2'), 2);
    values.set(`${p}.se.w1`, w1!).set(`${p}.se.b1`, b1!).set(`${p}.se.w2`, w2!).set(`${p}.se.b2`, b2!);
  }
  const [fw, fb] = read('fc', 2);
  values.set('fc.w', fw!).set('fc.b', fb!);
  for (const s of networkParams(net)) {
    const t = values.get(s.name);
    if (!t || JSON.stringify(t.shape) !== JSON.stringify(s.shape)) throw new Error(`parameter ${s.name}: the model holds ${t ? JSON.stringify(t.shape) : 'nothing'}, the architecture needs ${JSON.stringify(s.shape)}`);
  }
  const bn = new BnStats(stats);
  return {
    params: (name) => {
      const t = values.get(name);
      if (!t) throw new Error(`parameter ${name} is not part of this model`);
      return t;
    },
    stats: bn,
    dispose: () => {
      for (const t of values.values()) t.dispose();
      values.clear();
      bn.dispose();
    },
  };
}
