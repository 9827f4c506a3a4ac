import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../nn/backend';
import { Rng } from '../../../core/rng';
import { hierarchicalSampler } from '../../../core/sampler';
import { scaleNetwork, superSupernetSpec } from '../../../core/scaling';
import { forwardNetwork, smoothedCrossEntropy, trainingConvBn } from '../../../nn/forward';
import { superSupernetParams } from '../../../nn/params';
import { sliceParams } from '../../../nn/step';
import { ParamStore } from '../../../nn/store';
import { engineBackends, microSpace } from './helpers';

/** Deterministic pseudo-random values so both backends see the same inputs. */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

interface Case { n: number; h: number; w: number; c: number; co: number; k: number; s: number; pad: 'same' | 'valid'; m: number }

/** Gradients of a small conv → depthwise → loss graph wrt input and both filters. */
function grads(cs: Case, seed: number): Float32Array[] {
  return tf.tidy(() => {
    const x = tf.tensor4d(values(cs.n * cs.h * cs.w * cs.c, seed), [cs.n, cs.h, cs.w, cs.c]);
    const wc = tf.tensor4d(values(cs.k * cs.k * cs.c * cs.co, seed + 1), [cs.k, cs.k, cs.c, cs.co]);
    const wd = tf.tensor4d(values(cs.k * cs.k * cs.co * cs.m, seed + 2), [cs.k, cs.k, cs.co, cs.m]);
    const f = (xx: tf.Tensor, a: tf.Tensor, b: tf.Tensor): tf.Scalar => {
      const y = tf.conv2d(xx as tf.Tensor4D, a as tf.Tensor4D, cs.s, cs.pad);
      const z = tf.depthwiseConv2d(y, b as tf.Tensor4D, cs.s, cs.pad);
      return tf.sum(tf.mul(z, z));
    };
    const g = tf.grads(f)([x, wc, wd]);
    return g.map((t) => t.dataSync() as Float32Array);
  });
}

function maxRelErr(a: Float32Array, b: Float32Array, floor = 0): number {
  let scale = floor;
  let err = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i] ?? 0));
    err = Math.max(err, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  }
  return err / Math.max(scale, 1e-12);
}

const cases: Case[] = [
  { n: 2, h: 7, w: 7, c: 3, co: 4, k: 3, s: 1, pad: 'same', m: 1 },
  { n: 2, h: 8, w: 8, c: 3, co: 5, k: 3, s: 2, pad: 'same', m: 1 },
  { n: 1, h: 9, w: 6, c: 2, co: 3, k: 5, s: 2, pad: 'same', m: 1 },
  { n: 2, h: 11, w: 11, c: 4, co: 4, k: 7, s: 2, pad: 'same', m: 1 },
  { n: 2, h: 10, w: 9, c: 2, co: 3, k: 3, s: 2, pad: 'valid', m: 2 },
  { n: 3, h: 5, w: 5, c: 6, co: 8, k: 1, s: 1, pad: 'same', m: 1 },
  { n: 1, h: 13, w: 12, c: 3, co: 2, k: 5, s: 1, pad: 'valid', m: 1 },
];

test('wasm conv/depthwise gradients (supplied kernels) match cpu within 1e-4 relative, incl. stride 2 and same padding', async () => {
  let worst = 0;
  for (const [i, cs] of cases.entries()) {
    await initBackend('cpu', { log: () => {} });
    const ref = grads(cs, 100 + i);
    await initBackend('wasm', { log: () => {} });
    const got = grads(cs, 100 + i);
    for (let j = 0; j < ref.length; j++) {
      const e = maxRelErr(got[j] as Float32Array, ref[j] as Float32Array);
      worst = Math.max(worst, e);
      assert.ok(e < 1e-4, `case ${i} ${JSON.stringify(cs)} grad ${j}: relative error ${e}`);
    }
  }
  console.log(`max relative gradient error wasm vs cpu: ${worst.toExponential(2)}`);
});

for (const { backend, skip } of engineBackends()) {
  test(`sub-network gradients on ${backend} match cpu within 1e-4 relative (random sampled paths of a supernet)`, { skip }, async () => {
    const space = microSpace();
    const specs = superSupernetParams(superSupernetSpec(space));
    const rng = new Rng('grad-check');
    let worst = 0;
    for (let trial = 0; trial < 3; trial++) {
      const { arch } = hierarchicalSampler(space, rng);
      const net = scaleNetwork(space, arch);
      const xs = values(4 * arch.resolution * arch.resolution, 500 + trial);
      const labels = Int32Array.from([0, 1, 2, 3]);
      const run = (): Map<string, Float32Array> => {
        const store = ParamStore.init(specs, 7);
        const out = new Map<string, Float32Array>();
        tf.tidy(() => {
          const x = tf.tensor4d(xs, [4, arch.resolution, arch.resolution, 1]);
          const { specs: used, slices } = sliceParams(store, net);
          const index = new Map(used.map((s, i) => [s.name, i]));
          const f = (...args: tf.Tensor[]): tf.Scalar => {
            const p = (name: string): tf.Tensor => args[index.get(name) as number] as tf.Tensor;
            return smoothedCrossEntropy(forwardNetwork(net, p, trainingConvBn(p), x), labels, 0.1);
          };
          const { grads } = tf.valueAndGrads(f)(slices);
          used.forEach((s, i) => out.set(s.name, (grads[i] as tf.Tensor).dataSync() as Float32Array));
        });
        store.dispose();
        return out;
      };
      await initBackend('cpu', { log: () => {} });
      const ref = run();
      await initBackend(backend, { log: () => {} });
      const got = run();
      // Some gradients are exactly zero in theory and carry only rounding noise: a per-channel shift before
      // a batch-normalised layer (e.g. β of a residual block's projection BN, when a 1×1 conv + BN follows)
      // cancels out. Relative error is therefore taken against max(tensor scale, 1e-3 · largest gradient).
      let global = 0;
      for (const g of ref.values()) for (const v of g) global = Math.max(global, Math.abs(v));
      for (const [name, g] of ref) {
        const e = maxRelErr(got.get(name) as Float32Array, g, 1e-3 * global);
        worst = Math.max(worst, e);
        assert.ok(e < 1e-4, `${JSON.stringify(arch)} ${name}: relative error ${e}`);
      }
    }
    console.log(`max relative sub-network gradient error ${backend} vs cpu: ${worst.toExponential(2)}`);
  });
}
