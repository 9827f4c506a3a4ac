/**
 * Evaluating a sub-network with shared weights (DESIGN §3.6): recalibrate its BN statistics on a few
 * training batches (the exact sub-network, at its resolution), fold BN into the convs, and measure top-1
 * accuracy on minival. The reference code instead normalises with each evaluation batch's own statistics;
 * that mode is kept (`bn: 'batch'`) for comparison.
 */
import * as tf from '@tensorflow/tfjs-core';
import { architectureKey, type Architecture } from '../core/arch';
import { scaleNetwork, type ScaledNetwork } from '../core/scaling';
import type { SearchSpace } from '../core/space';
import type { Dataset } from '../data/dataset';
import { calibrationBatches, evaluationBatches, splitCount, type StreamingData } from '../data/stream';
import { batchToTensor } from '../data/tensor';
import type { ImageSet } from '../data/types';
import { addResidual, batchStatsConvBn, conv, forwardNetwork, squeezeExcite, storedStatsConvBn, BN_EPSILON, type ConvBn, type ParamLookup } from './forward';
import { fusedBiasActSeInfer, fusedBiasResidual, fusedMomentSums, fusedOpsActive } from './native-ops';
import { biasAct } from './ops';
import { bnPrefixes, networkParams } from './params';
import { leadingSlice } from './step';
import { runningNames, type ParamStore } from './store';

/** Per-BN-layer statistics of one sub-network (population mean and biased variance). */
export class BnStats {
  constructor(readonly layers: Map<string, { mean: tf.Tensor1D; variance: tf.Tensor1D }>) {}

  /** Statistics of one BN layer; throws naming it when missing. */
  get(prefix: string): { mean: tf.Tensor1D; variance: tf.Tensor1D } {
    const s = this.layers.get(prefix);
    if (!s) throw new Error(`no BN statistics for ${prefix}`);
    return s;
  }

  dispose(): void {
    for (const s of this.layers.values()) {
      s.mean.dispose();
      s.variance.dispose();
    }
    this.layers.clear();
  }
}

/** Anything that holds a space and (super-)network weights: a Supernet/Standalone trainer or a bare pair. */
export interface WeightSource {
  readonly space: SearchSpace;
  readonly store: ParamStore;
  /** Training steps taken; part of the evaluation cache key (weights change every step). */
  readonly step: number;
}

/**
 * A lookup of `net`'s parameters as leading slices of the store's tensors. Not memoised on purpose:
 * slices are cheap, and a memo would hand out tensors that an inner tf.tidy already freed.
 */
export function sliceLookup(store: ParamStore, net: ScaledNetwork): ParamLookup {
  return (name) => leadingSlice(store.param(name), paramShape(net, name));
}

const shapeCache = new WeakMap<ScaledNetwork, Map<string, readonly number[]>>();
function paramShape(net: ScaledNetwork, name: string): readonly number[] {
  let m = shapeCache.get(net);
  if (!m) {
    m = new Map(networkParams(net).map((s) => [s.name, s.shape]));
    shapeCache.set(net, m);
  }
  const s = m.get(name);
  if (!s) throw new Error(`parameter ${name} is not part of this sub-network`);
  return s;
}

/** Options of {@link recalibrateBn}. */
export interface RecalibrateArgs {
  /** Training batches to average over. Default 10. */
  batches?: number;
  /** Images per batch. Default 64. */
  batchSize?: number;
  /** Seed of the batches drawn (no augmentation). Default 0, so every candidate sees the same images. */
  seed?: number;
}

/**
 * One batch's BN moments added to a layer's running sums: s1 + mean·count, s2 + (variance + mean²)·count (the
 * first batch: its terms alone). One fused kernel when available, with the composite ops' float32 arithmetic.
 */
export function accumulateMoments(mean: tf.Tensor, variance: tf.Tensor, count: number, prev?: { s1: tf.Tensor; s2: tf.Tensor; n: number }): { s1: tf.Tensor; s2: tf.Tensor; n: number } {
  const n = (prev?.n ?? 0) + count;
  if (fusedOpsActive()) {
    const [s1, s2] = fusedMomentSums(mean, variance, count, prev);
    return { s1, s2, n };
  }
  const s1 = tf.mul(mean, count);
  const s2 = tf.mul(tf.add(variance, tf.square(mean)), count);
  return prev ? { s1: tf.add(prev.s1, s1), s2: tf.add(prev.s2, s2), n } : { s1, s2, n };
}

/**
 * Population BN statistics of sub-network `net` on training batches: per layer, E[x] and E[x²] are
 * accumulated over all pixels of all batches (forward in training mode, as during supernet training),
 * then var = E[x²] − E[x]². Yields to the event loop between batches.
 */
export async function recalibrateBn(store: ParamStore, net: ScaledNetwork, train: ImageSet | StreamingData, norm: Dataset['normalization'], args: RecalibrateArgs = {}): Promise<BnStats> {
  const batches = args.batches ?? 10;
  const stream = calibrationBatches(train, { batchSize: args.batchSize ?? 64, seed: args.seed ?? 0 });
  const sums = new Map<string, { s1: tf.Tensor; s2: tf.Tensor; n: number }>();
  // The sub-network's slices of the shared tensors, taken once for all batches (not once per batch and layer).
  const slices = new Map<string, tf.Tensor>();
  const sliced = sliceLookup(store, net);
  const p: ParamLookup = (name) => {
    let t = slices.get(name);
    if (!t) {
      t = tf.keep(sliced(name));
      slices.set(name, t);
    }
    return t;
  };
  try {
    for (let i = 0; i < batches; i++) {
      const resolution = net.input.resolution;
      const b = stream.next(resolution, new Array<number>(Math.min(stream.lookahead ?? 0, batches - i - 1)).fill(resolution));
      const batch = b instanceof Promise ? await b : b;
      tf.tidy(() => {
        const x = batchToTensor(batch, norm, net.input.resolution);
        const report = (prefix: string, mean: tf.Tensor, variance: tf.Tensor, count: number): void => {
          const prev = sums.get(prefix);
          const next = accumulateMoments(mean, variance, count, prev);
          tf.keep(next.s1);
          tf.keep(next.s2);
          if (prev) {
            prev.s1.dispose();
            prev.s2.dispose();
          }
          sums.set(prefix, next);
        };
        forwardNetwork(net, p, batchStatsConvBn(p, report), x, { scoped: true });
      });
      await new Promise((r) => setImmediate(r));
    }
  } finally {
    for (const [name, t] of slices) if (t !== store.param(name)) t.dispose();
  }
  const layers = new Map<string, { mean: tf.Tensor1D; variance: tf.Tensor1D }>();
  for (const [prefix, { s1, s2, n }] of sums) {
    const stats = tf.tidy(() => {
      const mean = tf.div(s1, n) as tf.Tensor1D;
      const variance = tf.relu(tf.sub(tf.div(s2, n), tf.square(mean))) as tf.Tensor1D;
      return { mean, variance };
    });
    layers.set(prefix, stats);
    s1.dispose();
    s2.dispose();
  }
  return new BnStats(layers);
}

/**
 * The running BN statistics of `net`'s layers (leading slices of the supernet's exponential averages),
 * i.e. what evaluation sees without recalibration. Caller disposes.
 */
export function runningStats(store: ParamStore, net: ScaledNetwork): BnStats {
  const layers = new Map<string, { mean: tf.Tensor1D; variance: tf.Tensor1D }>();
  const shapes = new Map(networkParams(net).map((s) => [s.name, s.shape]));
  for (const prefix of bnPrefixes(net)) {
    const shape = shapes.get(`${prefix}.bn.gamma`) as readonly number[];
    const names = runningNames(`${prefix}.bn.gamma`);
    const pick = (name: string): tf.Tensor1D => {
      const v = store.running.get(name);
      if (!v) throw new Error(`no running statistics ${name}`);
      return tf.tidy(() => tf.clone(leadingSlice(v, shape))) as tf.Tensor1D;
    };
    layers.set(prefix, { mean: pick(names.mean), variance: pick(names.variance) });
  }
  return new BnStats(layers);
}

/**
 * Folds BN into the preceding conv: W' = W·γ/√(σ²+ε) per output channel, b' = β − μ·γ/√(σ²+ε).
 * Returns the folded tensors (caller disposes) keyed `${prefix}.w` / `${prefix}.b`.
 */
export function foldBn(p: ParamLookup, net: ScaledNetwork, stats: BnStats): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const prefix of bnPrefixes(net)) {
    const [w, b] = tf.tidy(() => {
      const s = stats.get(prefix);
      const scale = tf.div(p(`${prefix}.bn.gamma`), tf.sqrt(tf.add(s.variance, BN_EPSILON)));
      const weight = p(`${prefix}.w`);
      // Depthwise filters are [k, k, C, 1]: their output channel is axis 2; regular convs [k, k, Cin, Cout]: axis 3.
      const depthwise = prefix.endsWith('.dw');
      const folded = depthwise ? tf.mul(weight, tf.reshape(scale, [1, 1, -1, 1])) : tf.mul(weight, scale);
      return [folded, tf.sub(p(`${prefix}.bn.beta`), tf.mul(s.mean, scale))];
    });
    out.set(`${prefix}.w`, w);
    out.set(`${prefix}.b`, b);
  }
  return out;
}

/**
 * A sub-network prepared for repeated inference: BN folded into its convs and every other parameter (SE, FC)
 * sliced out of the shared tensors once, so a batch costs only the forward pass. Owns its tensors: dispose it.
 */
export class FoldedNetwork {
  private constructor(readonly net: ScaledNetwork, private readonly tensors: Map<string, tf.Tensor>) {}

  /** Folds `stats` into `net`'s convs (the statistics are not needed afterwards). */
  static create(store: ParamStore, net: ScaledNetwork, stats: BnStats): FoldedNetwork {
    const names: string[] = [];
    const values = tf.tidy(() => {
      const p = sliceLookup(store, net);
      const m = foldBn(p, net, stats);
      for (const s of networkParams(net)) {
        if (m.has(s.name) || s.role === 'gamma' || s.role === 'beta') continue;
        m.set(s.name, tf.clone(p(s.name))); // a copy: the shared tensor changes when training goes on
      }
      names.push(...m.keys());
      return [...m.values()];
    });
    return new FoldedNetwork(net, new Map(names.map((n, i) => [n, values[i] as tf.Tensor])));
  }

  /** Logits [n, classes] for x at the network's resolution. */
  predict(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      const p: ParamLookup = (name) => {
        const t = this.tensors.get(name);
        if (!t) throw new Error(`parameter ${name} is not part of this folded network`);
        return t;
      };
      return forwardNetwork(this.net, p, foldedConvBn(this.tensors), x, { scoped: true });
    });
  }

  dispose(): void {
    for (const t of this.tensors.values()) t.dispose();
    this.tensors.clear();
  }
}

/**
 * A ConvBn using BN-folded weights: conv + bias (+ h-swish) (+ residual), and depthwise conv + bias + h-swish +
 * squeeze-excite; with the fused kernels the bias, activation, SE and residual add take one kernel per conv.
 */
export function foldedConvBn(folded: Map<string, tf.Tensor>): ConvBn {
  const f: ParamLookup = (name) => {
    const t = folded.get(name);
    if (!t) throw new Error(`no folded tensor ${name}`);
    return t;
  };
  const convBn: ConvBn = (prefix, x, stride, depthwise, act, residual) => {
    const y = conv(f, prefix, x, stride, depthwise);
    if (residual && !act && fusedOpsActive()) return fusedBiasResidual(y, f(`${prefix}.b`), residual);
    return addResidual(biasAct(y, f(`${prefix}.b`), act), residual);
  };
  convBn.depthwiseSe = (prefix, x, stride, p) => {
    const dw = `${prefix}.dw`;
    const y = conv(f, dw, x, stride, true);
    if (!fusedOpsActive()) return squeezeExcite(p, prefix, biasAct(y, f(`${dw}.b`), true), true);
    return fusedBiasActSeInfer(y, f(`${dw}.b`), p(`${prefix}.se.w1`), p(`${prefix}.se.b1`), p(`${prefix}.se.w2`), p(`${prefix}.se.b2`));
  };
  return convBn;
}

/** Options of {@link evaluateSubnetwork}. */
export interface EvaluateArgs {
  /**
   * `recalibrate` (default): population statistics of this sub-network on training batches, BN folded.
   * `batch`: each evaluation batch's own statistics (the reference code's choice).
   * `running`: the supernet's running averages over all sampled paths, i.e. no recalibration.
   */
  bn?: 'recalibrate' | 'batch' | 'running';
  recalibration?: RecalibrateArgs;
  /** Split to score. Default `minival` (never the test set during search). */
  split?: 'minival' | 'test';
  /** Evaluate at most this many images of the split. Default all. */
  maxImages?: number;
  /** Evaluation batch size. Default 128. */
  batchSize?: number;
  /** Memo of results by (architecture, multipliers, resolution, options, weights step). */
  cache?: EvaluationCache;
}

/** Result of one evaluation. */
export interface EvaluationResult {
  accuracy: number;
  correct: number;
  total: number;
  /** The cache key (architecture + multipliers + resolution + options + step). */
  key: string;
  cached: boolean;
}

/** In-memory memo of evaluations (DESIGN §3.6). Keys include the weights' step, so training invalidates them. */
export class EvaluationCache {
  private readonly map = new Map<string, EvaluationResult>();
  get(key: string): EvaluationResult | undefined {
    return this.map.get(key);
  }
  set(key: string, r: EvaluationResult): void {
    this.map.set(key, r);
  }
  get size(): number {
    return this.map.size;
  }
}

/** Top-1 correct count of `logits` against `labels`. */
function countCorrect(logits: tf.Tensor2D, labels: Int32Array): number {
  const pred = tf.tidy(() => tf.argMax(logits, 1).dataSync());
  let c = 0;
  for (let i = 0; i < labels.length; i++) if (pred[i] === labels[i]) c++;
  return c;
}

/**
 * Accuracy of `arch` with the shared weights of `source` (a trainer, or any {space, store, step}).
 * Yields to the event loop between batches.
 */
export async function evaluateSubnetwork(source: WeightSource, arch: Architecture, data: Dataset, opts: EvaluateArgs = {}): Promise<EvaluationResult> {
  const bn = opts.bn ?? 'recalibrate';
  const split = opts.split ?? 'minival';
  const count = splitCount(data, split);
  const total = Math.min(opts.maxImages ?? count, count);
  const r = opts.recalibration ?? {};
  const key = `${architectureKey(arch)}|bn=${bn}|${bn === 'recalibrate' ? `cal=${r.batches ?? 10}x${r.batchSize ?? 64}@${r.seed ?? 0}|` : ''}${split}:${total}|step=${source.step}`;
  const hit = opts.cache?.get(key);
  if (hit) return { ...hit, cached: true };
  const net = scaleNetwork(source.space, arch);
  let correct = 0;
  let folded: FoldedNetwork | undefined;
  try {
    if (bn !== 'batch') {
      const stats = bn === 'recalibrate' ? await recalibrateBn(source.store, net, data.streaming ?? data.train, data.normalization, r) : runningStats(source.store, net);
      try {
        folded = FoldedNetwork.create(source.store, net, stats);
      } finally {
        stats.dispose();
      }
    }
    for await (const batch of evaluationBatches(data, split, net.input.resolution, opts.batchSize ?? 128, total)) {
      const f = folded;
      correct += tf.tidy(() => {
        const x = batchToTensor(batch, data.normalization, net.input.resolution);
        if (f) return countCorrect(f.predict(x), batch.labels);
        const p = sliceLookup(source.store, net);
        return countCorrect(forwardNetwork(net, p, batchStatsConvBn(p), x, { scoped: true }), batch.labels);
      });
      await new Promise((res) => setImmediate(res));
    }
  } finally {
    folded?.dispose();
  }
  const result: EvaluationResult = { accuracy: correct / total, correct, total, key, cached: false };
  opts.cache?.set(key, result);
  return result;
}

/** Logits of `net` for `x` with stored BN statistics (unfolded; for tests and standalone comparison). */
export function predictWithStats(store: ParamStore, net: ScaledNetwork, x: tf.Tensor4D, stats: BnStats): tf.Tensor2D {
  return tf.tidy(() => {
    const p = sliceLookup(store, net);
    return forwardNetwork(net, p, storedStatsConvBn(p, (prefix) => stats.get(prefix)), x, { scoped: true });
  });
}

/** Logits of `net` for `x` with BN folded from `stats` (one-off; {@link FoldedNetwork} for many batches). */
export function predictFolded(store: ParamStore, net: ScaledNetwork, x: tf.Tensor4D, stats: BnStats): tf.Tensor2D {
  const folded = FoldedNetwork.create(store, net, stats);
  try {
    return folded.predict(x);
  } finally {
    folded.dispose();
  }
}
