/**
 * Evaluating a sub-network with shared weights (DESIGN §3.6): recalibrate its BN statistics on a few
 * training batches (the exact sub-network, at its resolution), fold BN into the convs, and measure top-1
 * accuracy on minival. The reference code instead normalises with each evaluation batch's own statistics;
 * that mode is kept (`bn: 'batch'`) for comparison.
 */
import * as tf from '@tensorflow/tfjs-core';
import { architectureKey, type Architecture } from '../core/arch';
import { layerKeys, prefixOrder } from '../core/prefix-sharing';
import { scaleNetwork, type ScaledNetwork } from '../core/scaling';
import type { SearchSpace } from '../core/space';
import type { Dataset } from '../data/dataset';
import { calibrationBatches, evaluationBatches, splitCount, type StreamingData } from '../data/stream';
import { batchToTensor } from '../data/tensor';
import type { ImageSet } from '../data/types';
import { addResidual, batchStatsConvBn, conv, forwardNetwork, runsNativeConv, squeezeExcite, storedStatsConvBn, BN_EPSILON, type ConvBn, type ForwardArgs, type ParamLookup } from './forward';
import { fusedBiasActSeInfer, fusedBiasResidual, fusedDepthwiseBiasActSeInfer, fusedMomentSums, fusedOpsActive, fusedPointwise } from './native-ops';
import { biasAct } from './ops';
import { bnPrefixes, layerBnPrefixes, networkParams } from './params';
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
  return (await recalibrate(store, net, train, norm, args)).stats;
}

/** What recalibrating a sub-network up to a layer boundary gave (see core/prefix-sharing.ts). */
interface RecalibrationPrefix {
  /** Layers computed. */
  depth: number;
  /** The activation at `depth`, one per calibration batch. */
  acts: tf.Tensor4D[];
  /** Final statistics of the BN layers before `depth` (owned: dispose with the prefix). */
  stats: BnStats;
}

/**
 * {@link recalibrateBn}, optionally resumed from `resume` (a prefix of this very network: its activations stand in
 * for the calibration batches and its statistics for those of its layers) and keeping the activations at the
 * depths in `save` (returned, owned by the caller).
 */
async function recalibrate(store: ParamStore, net: ScaledNetwork, train: ImageSet | StreamingData, norm: Dataset['normalization'], args: RecalibrateArgs,
  resume?: RecalibrationPrefix, save: ReadonlySet<number> = new Set()): Promise<{ stats: BnStats; saved: Map<number, tf.Tensor4D[]> }> {
  const batches = args.batches ?? 10;
  const from = resume?.depth ?? 0;
  if (resume && resume.acts.length !== batches) throw new Error(`recalibration prefix holds ${resume.acts.length} batches, ${batches} asked`);
  const stream = resume ? undefined : calibrationBatches(train, { batchSize: args.batchSize ?? 64, seed: args.seed ?? 0 });
  const sums = new Map<string, { s1: tf.Tensor; s2: tf.Tensor; n: number }>();
  const saved = new Map<number, tf.Tensor4D[]>([...save].map((d) => [d, []]));
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
      let batch: ImageSet | undefined;
      if (stream) {
        const b = stream.next(resolution, new Array<number>(Math.min(stream.lookahead ?? 0, batches - i - 1)).fill(resolution));
        batch = b instanceof Promise ? await b : b;
      }
      tf.tidy(() => {
        const x = batch ? batchToTensor(batch, norm, net.input.resolution) : (resume?.acts[i] as tf.Tensor4D);
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
        const onLayer = (layer: number, h: tf.Tensor4D): boolean => {
          const keep = saved.get(layer + 1);
          keep?.push(h);
          return keep !== undefined;
        };
        forwardNetwork(net, p, batchStatsConvBn(p, report), x, { scoped: true, from, onLayer });
      });
      await new Promise((r) => setImmediate(r));
    }
  } catch (err) {
    for (const acts of saved.values()) for (const t of acts) t.dispose();
    throw err;
  } finally {
    for (const [name, t] of slices) if (t !== store.param(name)) t.dispose();
  }
  const layers = new Map<string, { mean: tf.Tensor1D; variance: tf.Tensor1D }>();
  for (const [prefix, s] of resume?.stats.layers ?? []) layers.set(prefix, { mean: tf.clone(s.mean), variance: tf.clone(s.variance) });
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
  return { stats: new BnStats(layers), saved };
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

  /**
   * Logits [n, classes] for x at the network's resolution; with `from`/`onLayer`, resumed from or handing over
   * activations at layer boundaries (see ForwardArgs).
   */
  predict(x: tf.Tensor4D, resume: Pick<ForwardArgs, 'from' | 'onLayer'> = {}): tf.Tensor2D {
    return tf.tidy(() => {
      const p: ParamLookup = (name) => {
        const t = this.tensors.get(name);
        if (!t) throw new Error(`parameter ${name} is not part of this folded network`);
        return t;
      };
      return forwardNetwork(this.net, p, foldedConvBn(this.tensors), x, { scoped: true, ...resume });
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
    const w = f(`${prefix}.w`);
    if (!depthwise && runsNativeConv(w, stride, false)) {
      // conv, bias and h-swish or the residual add in one kernel (a residual after an activation: added apart)
      const bias = f(`${prefix}.b`);
      return act ? addResidual(fusedPointwise(x, w, { bias, hswish: true }), residual) : fusedPointwise(x, w, { bias, residual });
    }
    const y = conv(f, prefix, x, stride, depthwise);
    if (residual && !act && fusedOpsActive()) return fusedBiasResidual(y, f(`${prefix}.b`), residual);
    return addResidual(biasAct(y, f(`${prefix}.b`), act), residual);
  };
  convBn.depthwiseSe = (prefix, x, stride, p) => {
    const dw = `${prefix}.dw`;
    const w = f(`${dw}.w`);
    if (runsNativeConv(w, stride, true)) {
      return fusedDepthwiseBiasActSeInfer(x, w, stride, f(`${dw}.b`), p(`${prefix}.se.w1`), p(`${prefix}.se.b1`), p(`${prefix}.se.w2`), p(`${prefix}.se.b2`));
    }
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

function evaluationKey(source: WeightSource, arch: Architecture, opts: EvaluateArgs, total: number): string {
  const bn = opts.bn ?? 'recalibrate';
  const r = opts.recalibration ?? {};
  return `${architectureKey(arch)}|bn=${bn}|${bn === 'recalibrate' ? `cal=${r.batches ?? 10}x${r.batchSize ?? 64}@${r.seed ?? 0}|` : ''}${opts.split ?? 'minival'}:${total}|step=${source.step}`;
}

function imagesToScore(data: Dataset, opts: EvaluateArgs): number {
  const count = splitCount(data, opts.split ?? 'minival');
  return Math.min(opts.maxImages ?? count, count);
}

/**
 * Accuracy of `arch` with the shared weights of `source` (a trainer, or any {space, store, step}).
 * Yields to the event loop between batches.
 */
export async function evaluateSubnetwork(source: WeightSource, arch: Architecture, data: Dataset, opts: EvaluateArgs = {}): Promise<EvaluationResult> {
  const bn = opts.bn ?? 'recalibrate';
  const split = opts.split ?? 'minival';
  const total = imagesToScore(data, opts);
  const key = evaluationKey(source, arch, opts, total);
  const hit = opts.cache?.get(key);
  if (hit) return { ...hit, cached: true };
  const net = scaleNetwork(source.space, arch);
  let correct = 0;
  if (bn === 'recalibrate') {
    correct = (await recalibratedAccuracy(source, net, data, opts, total)).correct;
  } else {
    const folded = bn === 'running' ? foldedWith(source.store, net, runningStats(source.store, net)) : undefined;
    try {
      for await (const batch of evaluationBatches(data, split, net.input.resolution, opts.batchSize ?? 128, total)) {
        correct += tf.tidy(() => {
          const x = batchToTensor(batch, data.normalization, net.input.resolution);
          if (folded) return countCorrect(folded.predict(x), batch.labels);
          const p = sliceLookup(source.store, net);
          return countCorrect(forwardNetwork(net, p, batchStatsConvBn(p), x, { scoped: true }), batch.labels);
        });
        await new Promise((res) => setImmediate(res));
      }
    } finally {
      folded?.dispose();
    }
  }
  const result: EvaluationResult = { accuracy: correct / total, correct, total, key, cached: false };
  opts.cache?.set(key, result);
  return result;
}

/** `stats` folded into `net` (the statistics are disposed). */
function foldedWith(store: ParamStore, net: ScaledNetwork, stats: BnStats): FoldedNetwork {
  try {
    return FoldedNetwork.create(store, net, stats);
  } finally {
    stats.dispose();
  }
}

/** A layer boundary of one sub-network kept while a chunk is evaluated: see {@link evaluateSubnetworks}. */
interface SharedPrefix extends RecalibrationPrefix {
  /** The folded network's activation at `depth`, one per evaluation batch, and that batch's labels. */
  evalActs: tf.Tensor4D[];
  labels: Int32Array[];
}

function disposePrefix(s: SharedPrefix): void {
  for (const t of [...s.acts, ...s.evalActs]) t.dispose();
  s.stats.dispose();
}

/** Bytes of the activations a prefix holds (float32). */
function heldBytes(s: SharedPrefix): number {
  return [...s.acts, ...s.evalActs].reduce((a, t) => a + t.size * 4, 0);
}

/**
 * Correct top-1 count of `net` with BN recalibrated, optionally resumed from a prefix of it and keeping the
 * activations at the depths in `save` (returned as prefixes, owned by the caller).
 */
async function recalibratedAccuracy(source: WeightSource, net: ScaledNetwork, data: Dataset, opts: EvaluateArgs, total: number,
  resume?: SharedPrefix, save: ReadonlySet<number> = new Set()): Promise<{ correct: number; prefixes: SharedPrefix[] }> {
  const { stats, saved } = await recalibrate(source.store, net, data.streaming ?? data.train, data.normalization, opts.recalibration ?? {}, resume, save);
  const perLayer = layerBnPrefixes(net);
  const prefixes: SharedPrefix[] = [...saved].map(([depth, acts]) => {
    const names = perLayer.slice(0, depth).flat();
    const kept = new Map(names.map((n) => {
      const st = stats.get(n);
      return [n, { mean: tf.clone(st.mean), variance: tf.clone(st.variance) }];
    }));
    return { depth, acts, stats: new BnStats(kept), evalActs: [], labels: [] };
  });
  let correct = 0;
  try {
    const folded = foldedWith(source.store, net, stats);
    const byDepth = new Map(prefixes.map((s) => [s.depth, s]));
    const onLayer = (layer: number, h: tf.Tensor4D): boolean => {
      const s = byDepth.get(layer + 1);
      s?.evalActs.push(h);
      return s !== undefined;
    };
    const score = async (x: () => tf.Tensor4D, labels: Int32Array, from: number): Promise<void> => {
      correct += tf.tidy(() => countCorrect(folded.predict(x(), { from, onLayer }), labels));
      for (const s of prefixes) s.labels.push(labels);
      await new Promise((res) => setImmediate(res));
    };
    try {
      if (resume) {
        for (let b = 0; b < resume.evalActs.length; b++) await score(() => resume.evalActs[b] as tf.Tensor4D, resume.labels[b] as Int32Array, resume.depth);
      } else {
        for await (const batch of evaluationBatches(data, opts.split ?? 'minival', net.input.resolution, opts.batchSize ?? 128, total)) {
          await score(() => batchToTensor(batch, data.normalization, net.input.resolution), batch.labels, 0);
        }
      }
    } finally {
      folded.dispose();
    }
  } catch (err) {
    for (const s of prefixes) disposePrefix(s);
    throw err;
  }
  return { correct, prefixes };
}

/** Bytes the activations at `depth` of `net` take for `images` images. */
function activationBytes(net: ScaledNetwork, depth: number, images: number): number {
  const [size, channels] = depth === 1 ? [net.stem.outputSize, net.stem.cout] : [net.blocks[depth - 2]?.outputSize ?? 0, net.blocks[depth - 2]?.cout ?? 0];
  return images * size * size * channels * 4;
}

/** Memory that {@link evaluateSubnetworks} may hold in shared prefixes, by default. */
export const DEFAULT_PREFIX_BYTES = 1 << 30;

/**
 * Evaluates several architectures with the shared weights of `source`, each giving exactly what
 * {@link evaluateSubnetwork} gives for it alone (same options, same cache), in less time: with BN recalibration,
 * candidates are taken in the order of their layers (core/prefix-sharing.ts) and the layers a candidate shares
 * with the one before — the same slices of the same weights on the same images — are not computed again: their
 * activations (recalibration and evaluation batches) and recalibrated statistics are kept at the depths later
 * candidates resume from, within `prefixBytes` of memory. Yields each result with its architecture's index, in
 * the order evaluated (cache hits first).
 */
export async function* evaluateSubnetworks(source: WeightSource, archs: readonly Architecture[], data: Dataset, opts: EvaluateArgs = {},
  prefixBytes = DEFAULT_PREFIX_BYTES): AsyncGenerator<{ index: number; result: EvaluationResult }> {
  const total = imagesToScore(data, opts);
  const misses: number[] = [];
  for (let i = 0; i < archs.length; i++) {
    const hit = opts.cache?.get(evaluationKey(source, archs[i] as Architecture, opts, total));
    if (hit) yield { index: i, result: { ...hit, cached: true } };
    else misses.push(i);
  }
  if ((opts.bn ?? 'recalibrate') !== 'recalibrate') {
    for (const i of misses) yield { index: i, result: await evaluateSubnetwork(source, archs[i] as Architecture, data, opts) };
    return;
  }
  const nets = misses.map((i) => scaleNetwork(source.space, archs[i] as Architecture));
  const { order, shared } = prefixOrder(nets.map(layerKeys));
  // later[k]: the depths candidates after position k resume from.
  const later = order.map((_, k) => new Set(shared.slice(k + 1).filter((d) => d > 0)));
  const r = opts.recalibration ?? {};
  const images = (r.batches ?? 10) * (r.batchSize ?? 64) + total;
  const kept = new Map<number, SharedPrefix>();
  try {
    for (let k = 0; k < order.length; k++) {
      // Kept prefixes are prefixes of the previous candidate; those deeper than what this one shares, or that no
      // candidate left resumes from, are done with.
      for (const [d, s] of kept) {
        if (d > (shared[k] as number) || !(later[k - 1]?.has(d) ?? false)) {
          disposePrefix(s);
          kept.delete(d);
        }
      }
      const resume = kept.size > 0 ? kept.get(Math.max(...kept.keys())) : undefined;
      const net = nets[order[k] as number] as ScaledNetwork;
      const save = new Set<number>();
      let budget = [...kept.values()].reduce((a, s) => a + heldBytes(s), 0);
      for (const d of [...(later[k] as Set<number>)].sort((a, b) => a - b)) {
        if (d <= (resume?.depth ?? 0) || kept.has(d)) continue;
        const need = activationBytes(net, d, images);
        if (budget + need > prefixBytes) continue;
        budget += need;
        save.add(d);
      }
      const { correct, prefixes } = await recalibratedAccuracy(source, net, data, opts, total, resume, save);
      for (const s of prefixes) kept.set(s.depth, s);
      const index = misses[order[k] as number] as number;
      const arch = archs[index] as Architecture;
      const result: EvaluationResult = { accuracy: correct / total, correct, total, key: evaluationKey(source, arch, opts, total), cached: false };
      opts.cache?.set(result.key, result);
      yield { index, result };
    }
  } finally {
    for (const s of kept.values()) disposePrefix(s);
  }
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
