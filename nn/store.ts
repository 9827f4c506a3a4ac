/**
 * Named parameter tensors plus their SGD momentum buffers, with seeded initialisation and a compact
 * byte serialisation. Both the super-supernet and standalone networks are a ParamStore; they differ
 * only in the shapes (largest width vs. one architecture's width).
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../core/rng';
import type { ParamSpec } from './params';

/** Where a tensor lives in the serialized byte blob. */
export interface TensorEntry {
  readonly name: string;
  /** `param` = weights, `momentum` = the optimizer slot of the same-named param, `running` = BN running statistics. */
  readonly slot: 'param' | 'momentum' | 'running';
  readonly shape: number[];
  readonly dtype: 'float32';
  /** Byte offset and byte length in the blob. */
  readonly offset: number;
  readonly bytes: number;
}

/**
 * Seeded initial values of one parameter, independent of the order and number of other parameters.
 * Convs: He normal with fan-out (k²·c_out; k² for depthwise), as the reference code. SE FCs: normal with
 * std √(1/fan_in). Classifier: normal(0, 0.01). BN γ = 1, β = 0, biases 0.
 */
export function initialValues(spec: ParamSpec, seed: number): Float32Array {
  const size = spec.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  const s = spec.shape;
  let std: number;
  switch (spec.role) {
    case 'gamma':
      out.fill(1);
      return out;
    case 'beta':
    case 'se-b':
    case 'fc-b':
      return out;
    case 'conv':
      std = Math.sqrt(2 / ((s[0] as number) * (s[1] as number) * (s[3] as number)));
      break;
    case 'dw':
      std = Math.sqrt(2 / ((s[0] as number) * (s[1] as number)));
      break;
    case 'se-w':
      std = Math.sqrt(1 / (s[0] as number));
      break;
    case 'fc-w':
      std = 0.01;
      break;
  }
  const rng = new Rng(`init:${seed}:${spec.name}`);
  for (let i = 0; i < size; i++) out[i] = rng.normal(0, std);
  return out;
}

function zerosVariable(s: ParamSpec): tf.Variable {
  const z = tf.zeros(s.shape as number[]);
  const v = tf.variable(z, false);
  z.dispose();
  return v;
}

/** Names of the running-statistics tensors of the BN layer whose γ is `gammaName`. */
export function runningNames(gammaName: string): { mean: string; variance: string } {
  const prefix = gammaName.slice(0, -'.bn.gamma'.length);
  return { mean: `${prefix}.bn.running_mean`, variance: `${prefix}.bn.running_var` };
}

function bnRunningSpecs(specs: readonly ParamSpec[]): Array<{ name: string; shape: number[]; init: 0 | 1 }> {
  return specs.filter((s) => s.role === 'gamma').flatMap((s) => {
    const n = runningNames(s.name);
    return [{ name: n.mean, shape: s.shape.slice(), init: 0 as const }, { name: n.variance, shape: s.shape.slice(), init: 1 as const }];
  });
}

/**
 * Parameters, momentum buffers and BN running statistics by name. The running statistics are the
 * classic exponential averages over every sampled path (what a one-shot supernet has without
 * recalibration); evaluation uses them only as the "uncalibrated" baseline. Call {@link ParamStore.dispose}.
 */
export class ParamStore {
  readonly params = new Map<string, tf.Variable>();
  readonly momentum = new Map<string, tf.Variable>();
  readonly running = new Map<string, tf.Variable>();
  readonly specs: ReadonlyMap<string, ParamSpec>;

  private constructor(specs: readonly ParamSpec[]) {
    this.specs = new Map(specs.map((s) => [s.name, s]));
  }

  /** Fresh parameters from `seed` and zero momentum. */
  static init(specs: readonly ParamSpec[], seed: number): ParamStore {
    const store = new ParamStore(specs);
    for (const s of specs) {
      const t = tf.tensor(initialValues(s, seed), s.shape as number[]);
      store.params.set(s.name, tf.variable(t, false));
      t.dispose();
      store.momentum.set(s.name, zerosVariable(s));
    }
    for (const r of bnRunningSpecs(specs)) {
      const t = r.init === 0 ? tf.zeros(r.shape) : tf.ones(r.shape);
      store.running.set(r.name, tf.variable(t, false));
      t.dispose();
    }
    return store;
  }

  /** The parameter tensor; throws with the name when it does not exist. */
  param(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new Error(`no parameter ${name} in this network`);
    return v;
  }

  /** Number of scalar parameters. */
  size(): number {
    let n = 0;
    for (const v of this.params.values()) n += v.size;
    return n;
  }

  /** Serializes params and momentum (float32, platform byte order — little-endian on every tfjs target). */
  async toBytes(): Promise<{ entries: TensorEntry[]; bytes: Uint8Array }> {
    const entries: TensorEntry[] = [];
    const chunks: Float32Array[] = [];
    let offset = 0;
    for (const [slot, map] of [['param', this.params], ['momentum', this.momentum], ['running', this.running]] as const) {
      for (const [name, v] of map) {
        const data = (await v.data()) as Float32Array;
        entries.push({ name, slot, shape: v.shape.slice(), dtype: 'float32', offset, bytes: data.byteLength });
        chunks.push(data);
        offset += data.byteLength;
      }
    }
    const bytes = new Uint8Array(offset);
    let o = 0;
    for (const c of chunks) {
      bytes.set(new Uint8Array(c.buffer, c.byteOffset, c.byteLength), o);
      o += c.byteLength;
    }
    return { entries, bytes };
  }

  /** Rebuilds a store from {@link ParamStore.toBytes}; checks that names and shapes match `specs`. */
  static fromBytes(specs: readonly ParamSpec[], entries: readonly TensorEntry[], bytes: Uint8Array): ParamStore {
    const store = new ParamStore(specs);
    const byKey = new Map(entries.map((e) => [`${e.slot}:${e.name}`, e]));
    const wanted = [
      ...specs.flatMap((s) => (['param', 'momentum'] as const).map((slot) => ({ slot, name: s.name, shape: s.shape }))),
      ...bnRunningSpecs(specs).map((r) => ({ slot: 'running' as const, name: r.name, shape: r.shape })),
    ];
    for (const s of wanted) {
      const slot = s.slot;
      const e = byKey.get(`${slot}:${s.name}`);
      if (!e) throw new Error(`checkpoint: missing ${slot} of ${s.name}`);
      if (!tf.util.arraysEqual(e.shape, s.shape as number[])) {
        throw new Error(`checkpoint: ${slot} ${s.name} has shape [${e.shape.join(',')}], this network expects [${s.shape.join(',')}]`);
      }
      if (e.offset + e.bytes > bytes.length || e.bytes !== 4 * s.shape.reduce((a, b) => a * b, 1)) {
        throw new Error(`checkpoint: ${slot} ${s.name} at byte ${e.offset} (+${e.bytes}) does not fit a ${bytes.length}-byte blob of float32`);
      }
      const copy = bytes.slice(e.offset, e.offset + e.bytes);
      const t = tf.tensor(new Float32Array(copy.buffer), e.shape);
      (slot === 'param' ? store.params : slot === 'momentum' ? store.momentum : store.running).set(s.name, tf.variable(t, false));
      t.dispose();
    }
    if (entries.length !== wanted.length) throw new Error(`checkpoint: ${entries.length} tensors, this network has ${wanted.length}`);
    return store;
  }

  /** Frees every tensor. */
  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    for (const v of this.momentum.values()) v.dispose();
    for (const v of this.running.values()) v.dispose();
    this.params.clear();
    this.momentum.clear();
    this.running.clear();
  }
}
