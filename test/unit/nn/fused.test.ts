/**
 * The fused native kernels (nn/native/scalenet_ops.cc) against the composite ops they replace, on the native
 * backend: each kernel alone (the checks setup also runs), then whole training steps and folded inference.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { scaleNetwork } from '../../../core/scaling';
import { BatchStream, batchToTensor } from '../../../data';
import { EQUIVALENCE_TOLERANCE, compareFusedToComposite } from '../../../infra/native-tf/equivalence';
import { ensureNativeOps, readCpuinfo, vectorFlags } from '../../../infra/native-tf/ops';
import { initBackend } from '../../../nn/backend';
import { foldedConvBn, predictFolded, recalibrateBn } from '../../../nn/evaluate';
import { squeezeExcite } from '../../../nn/forward';
import { fusedBiasAct, fusedBiasActSeInfer, fusedBiasResidual, fusedBnActSeInfer, fusedBnActTrain, fusedBnActTrainResidual, fusedSeInfer, fusedDepthwise, fusedDepthwiseBiasActSeInfer, fusedOpsActive, fusedPointwise, loadFusedOps, nativeConvActive, setFusedOpsEnabled } from '../../../nn/native-ops';
import { SupernetTrainer } from '../../../nn/trainer';
import { engineBackends, microData, microSpace } from './helpers';

const native = engineBackends().find((b) => b.backend === 'tensorflow');
const skip = native?.skip || (native ? (loadFusedOpsReason() ?? false) : 'no native backend');

/** Why the fused kernels cannot be used here (null when they can). Loading needs tfjs-node loaded first. */
function loadFusedOpsReason(): string | null {
  const why = loadFusedOps();
  return why === null ? null : `fused kernels not built: ${why}`;
}

/** Whether this CPU runs the conv kernels (AVX-512 only). */
const avx512 = /^flags\s*:.*\bavx512f\b/m.test(readCpuinfo());

function withoutIsa(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { SCALENET_NATIVE_ISA: _isa, ...rest } = env;
  return rest;
}

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let err = 0;
  let scale = 1e-12;
  for (let i = 0; i < b.length; i++) {
    err = Math.max(err, Math.abs((a[i] as number) - (b[i] as number)));
    scale = Math.max(scale, Math.abs(b[i] as number));
  }
  return a.length === b.length ? err / scale : Infinity;
}

describe('fused native kernels', { skip }, () => {
  before(async () => {
    await initBackend('tensorflow', { log: () => {} });
  });
  after(() => setFusedOpsEnabled(true));

  test('they are in use on the native backend', () => {
    assert.equal(fusedOpsActive(), true);
    setFusedOpsEnabled(false);
    assert.equal(fusedOpsActive(), false);
    setFusedOpsEnabled(true);
  });

  test('each kernel agrees with the composite ops it replaces (values and gradients)', () => {
    const results = compareFusedToComposite();
    assert.ok(results.length >= 8);
    for (const r of results) assert.ok(r.maxRelErr <= EQUIVALENCE_TOLERANCE, `${r.name}: max rel err ${r.maxRelErr}`);
  });

  test('the recalibration sums and the folded projection + residual equal the composite ops bit for bit', () => {
    const exact = compareFusedToComposite().filter((r) => /recalibration sums|bias \+ residual/.test(r.name));
    assert.equal(exact.length, 2);
    for (const r of exact) assert.equal(r.maxRelErr, 0, `${r.name}: max rel err ${r.maxRelErr}`);
  });

  test('the fused depthwise + squeeze-excite kernel gives the bits of the two fused kernels it replaces (bias + h-swish, then SE)', () => {
    const [fused, twoStep] = tf.tidy(() => {
      const w = new Map<string, tf.Tensor>([['b.dw.w', tf.randomNormal([5, 5, 48, 1], 0, 0.3, 'float32', 1)], ['b.dw.b', tf.randomNormal([48], 0, 1, 'float32', 2)],
        ['b.se.w1', tf.randomNormal([48, 12], 0, 0.3, 'float32', 3)], ['b.se.b1', tf.randomNormal([12], 0, 0.1, 'float32', 4)],
        ['b.se.w2', tf.randomNormal([12, 48], 0, 0.3, 'float32', 5)], ['b.se.b2', tf.randomNormal([48], 0, 0.1, 'float32', 6)]]);
      const p = (n: string): tf.Tensor => w.get(n) as tf.Tensor;
      const x = tf.randomNormal([16, 14, 14, 48], 0, 2, 'float32', 7) as tf.Tensor4D;
      const convBn = foldedConvBn(w);
      assert.ok(convBn.depthwiseSe);
      return [convBn.depthwiseSe('b', x, 2, p), squeezeExcite(p, 'b', convBn('b.dw', x, 2, true, true), true)];
    });
    assert.deepEqual(fused.shape, twoStep.shape);
    assert.ok(Buffer.from((fused.dataSync() as Float32Array).buffer).equals(Buffer.from((twoStep.dataSync() as Float32Array).buffer)), 'outputs differ in some bit');
    fused.dispose();
    twoStep.dispose();
  });

  test('the conv kernels give the bits of TensorFlow\'s convs and the fused kernels after them (1×1 with each epilogue, depthwise 3/5/7 at strides 1 and 2)', () => {
    if (!avx512) {
      assert.equal(nativeConvActive(), false, 'without AVX-512 the engine must keep TensorFlow\'s convs');
      return;
    }
    assert.equal(nativeConvActive(), true);
    const same = (name: string, a: tf.Tensor, b: tf.Tensor): void => {
      assert.deepEqual(a.shape, b.shape, name);
      assert.ok(Buffer.from((a.dataSync() as Float32Array).buffer).equals(Buffer.from((b.dataSync() as Float32Array).buffer)), `${name}: outputs differ in some bit`);
    };
    let compared = 0;
    tf.tidy(() => {
      // 1×1: channel counts off the 16-lane vectors and blocks of 64, row counts off the tiles of 6 and 8.
      for (const [n, h, k, c] of [[2, 7, 1, 8], [3, 5, 24, 17], [16, 14, 16, 96], [5, 9, 200, 144], [1, 1, 33, 250]] as const) {
        const x = tf.randomNormal([n, h, h, k], 0, 1, 'float32', 1) as tf.Tensor4D;
        const w = tf.randomNormal([1, 1, k, c], 0, 0.3, 'float32', 2);
        const b = tf.randomNormal([c], 0, 1, 'float32', 3);
        const r = tf.randomNormal([n, h, h, c], 0, 1, 'float32', 4) as tf.Tensor4D;
        const ref = tf.conv2d(x, w as tf.Tensor4D, 1, 'same');
        same(`1x1 ${n}x${h}x${k}x${c}`, fusedPointwise(x, w), ref);
        same(`1x1 + bias ${c}`, fusedPointwise(x, w, { bias: b }), fusedBiasAct(ref, b, false));
        same(`1x1 + bias + h-swish ${c}`, fusedPointwise(x, w, { bias: b, hswish: true }), fusedBiasAct(ref, b, true));
        same(`1x1 + bias + residual ${c}`, fusedPointwise(x, w, { bias: b, residual: r }), fusedBiasResidual(ref, b, r));
        compared += 4;
      }
      for (const [n, h, c, k, stride] of [[2, 7, 8, 3, 1], [4, 28, 48, 5, 2], [3, 14, 72, 3, 2], [8, 7, 120, 5, 1], [2, 9, 17, 5, 2], [2, 8, 40, 7, 2], [1, 1, 33, 3, 1]] as const) {
        const x = tf.randomNormal([n, h, h, c], 0, 1, 'float32', 5) as tf.Tensor4D;
        const w = tf.randomNormal([k, k, c, 1], 0, 0.3, 'float32', 6);
        const b = tf.randomNormal([c], 0, 1, 'float32', 7);
        const se = Math.max(1, c >> 2);
        const [w1, b1, w2, b2] = [tf.randomNormal([c, se], 0, 0.3, 'float32', 8), tf.randomNormal([se], 0, 0.1, 'float32', 9),
          tf.randomNormal([se, c], 0, 0.3, 'float32', 10), tf.randomNormal([c], 0, 0.1, 'float32', 11)];
        const ref = tf.depthwiseConv2d(x, w as tf.Tensor4D, stride, 'same');
        same(`depthwise ${n}x${h}x${c} k${k} s${stride}`, fusedDepthwise(x, w, stride), ref);
        same(`depthwise + SE ${n}x${h}x${c} k${k} s${stride}`, fusedDepthwiseBiasActSeInfer(x, w, stride, b, w1, b1, w2, b2), fusedBiasActSeInfer(ref, b, w1, b1, w2, b2));
        compared += 2;
      }
    });
    assert.equal(compared, 34);
  });

  test('the conv kernels\' gradients are TensorFlow\'s conv gradients bit for bit (training steps are the same numbers with them)', { skip: avx512 ? false : 'no AVX-512: the conv kernels do not run here' }, () => {
    const bits = (t: tf.Tensor): Buffer => Buffer.from((t.dataSync() as Float32Array).buffer);
    tf.tidy(() => {
      const x = tf.randomNormal([8, 14, 14, 24], 0, 1, 'float32', 1);
      const r = (shape: number[]): tf.Tensor => tf.randomNormal(shape, 0, 1, 'float32', 2);
      for (const [w, stride, ours, theirs] of [
        [tf.randomNormal([1, 1, 24, 40], 0, 0.3, 'float32', 3), 1, (a: tf.Tensor, f: tf.Tensor) => fusedPointwise(a as tf.Tensor4D, f), (a: tf.Tensor, f: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, f as tf.Tensor4D, 1, 'same')],
        [tf.randomNormal([5, 5, 24, 1], 0, 0.3, 'float32', 4), 2, (a: tf.Tensor, f: tf.Tensor) => fusedDepthwise(a as tf.Tensor4D, f, 2), (a: tf.Tensor, f: tf.Tensor) => tf.depthwiseConv2d(a as tf.Tensor4D, f as tf.Tensor4D, 2, 'same')],
      ] as const) {
        const out = theirs(x, w);
        const weight = r(out.shape);
        const loss = (conv: (a: tf.Tensor, f: tf.Tensor) => tf.Tensor) => (a: tf.Tensor, f: tf.Tensor): tf.Scalar => tf.sum(tf.mul(conv(a, f), weight));
        const a = tf.valueAndGrads(loss(ours))([x, w]);
        const b = tf.valueAndGrads(loss(theirs))([x, w]);
        assert.ok(bits(a.value).equals(bits(b.value)), `stride ${stride}: loss differs`);
        a.grads.forEach((g, i) => assert.ok(bits(g).equals(bits(b.grads[i] as tf.Tensor)), `stride ${stride}: gradient ${i} differs`));
      }
    });
  });

  test('recalibration\'s fused BN + residual and BN + h-swish + squeeze-excite give the bits of the kernels they replace', () => {
    let compared = 0;
    tf.tidy(() => {
      for (const [n, h, c] of [[16, 14, 48], [3, 5, 17], [2, 1, 250]] as const) {
        const x = tf.randomNormal([n, h, h, c], 0.5, 3, 'float32', 1);
        const gamma = tf.randomNormal([c], 1, 0.3, 'float32', 2), beta = tf.randomNormal([c], 0, 1, 'float32', 3);
        const r = tf.randomNormal([n, h, h, c], 0, 1, 'float32', 4);
        const se = Math.max(1, c >> 2);
        const [w1, b1, w2, b2] = [tf.randomNormal([c, se], 0, 0.3, 'float32', 5), tf.randomNormal([se], 0, 0.1, 'float32', 6),
          tf.randomNormal([se, c], 0, 0.3, 'float32', 7), tf.randomNormal([c], 0, 0.1, 'float32', 8)];
        for (const act of [false, true]) {
          const [z, mean, variance] = fusedBnActTrain(x, gamma, beta, act);
          const fused = fusedBnActTrainResidual(x, gamma, beta, act, r);
          const expected = [tf.add(r, z), mean, variance];
          fused.forEach((t, i) => assert.ok(Buffer.from((t.dataSync() as Float32Array).buffer).equals(Buffer.from((expected[i]!.dataSync() as Float32Array).buffer)), `BN + residual ${n}x${h}x${c} act=${act}: output ${i} differs`));
          compared++;
        }
        const [z, mean, variance] = fusedBnActTrain(x, gamma, beta, true);
        const expected = [fusedSeInfer(z as tf.Tensor4D, w1, b1, w2, b2), mean, variance];
        fusedBnActSeInfer(x, gamma, beta, w1, b1, w2, b2).forEach((t, i) =>
          assert.ok(Buffer.from((t.dataSync() as Float32Array).buffer).equals(Buffer.from((expected[i]!.dataSync() as Float32Array).buffer)), `BN + SE ${n}x${h}x${c}: output ${i} differs`));
        compared++;
      }
    });
    assert.equal(compared, 9);
  });

  test('the kernels give bit-identical results with 1, 2 or 3 threads (fixed task split, sums in task order)', () => {
    const child = join(__dirname, 'fused-threads-child.ts');
    const digest = (threads: number): string => execFileSync(process.execPath, ['--import', 'tsx', child], {
      env: { ...process.env, SCALENET_KERNEL_THREADS: String(threads) }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
    const one = digest(1);
    assert.match(one, /^[0-9a-f]{64}$/);
    assert.equal(digest(2), one);
    assert.equal(digest(3), one);
  });

  test('the AVX2 build gives the bits of the portable baseline build', { skip: vectorFlags().length === 0 ? 'this CPU has no AVX2: only the baseline is built' : false }, async () => {
    process.env.SCALENET_NATIVE_ISA = 'baseline';
    try {
      await ensureNativeOps(() => {});
    } finally {
      delete process.env.SCALENET_NATIVE_ISA;
    }
    const child = join(__dirname, 'fused-threads-child.ts');
    const digest = (isa: Record<string, string>): string => execFileSync(process.execPath, ['--import', 'tsx', child], {
      env: { ...withoutIsa(process.env), ...isa, SCALENET_KERNEL_THREADS: '2' }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
    const baseline = digest({ SCALENET_NATIVE_ISA: 'baseline' });
    assert.match(baseline, /^[0-9a-f]{64}$/);
    assert.equal(digest({}), baseline);
  });

  test('supernet training steps with fused kernels follow the composite ones (losses, weights, momentum)', async () => {
    const run = async (fused: boolean): Promise<{ losses: number[]; bytes: Float32Array }> => {
      setFusedOpsEnabled(fused);
      const trainer = SupernetTrainer.create({ space: microSpace(), data: microData(), seed: 8, recipe: { batchSize: 16, steps: 20, warmupSteps: 0 } });
      try {
        const losses: number[] = [];
        await trainer.train(3, (p) => {
          losses.push(p.loss);
        });
        const { bytes } = await trainer.serialize();
        return { losses, bytes: new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4) };
      } finally {
        trainer.dispose();
        setFusedOpsEnabled(true);
      }
    };
    const composite = await run(false);
    const fused = await run(true);
    composite.losses.forEach((l, i) => assert.ok(Math.abs((fused.losses[i] as number) - l) < 1e-4 * (1 + Math.abs(l)), `loss of step ${i + 1}: ${fused.losses[i]} vs ${l}`));
    const err = maxRelDiff(fused.bytes, composite.bytes);
    assert.ok(err < 1e-4, `weights/momentum/running stats after 3 steps differ by ${err} (relative to the largest)`);
  });

  test('recalibrated, folded inference with fused kernels gives the composite logits', async () => {
    const space = microSpace();
    const data = microData();
    const trainer = SupernetTrainer.create({ space, data, seed: 2, recipe: { batchSize: 16, steps: 10 } });
    try {
      await trainer.train(2);
      const arch = { stages: [[3], [5, 3], [3, 5]], depth: 1.5, width: 1.25, resolution: 16 };
      const net = scaleNetwork(space, arch);
      const logits = async (fused: boolean): Promise<Float32Array> => {
        setFusedOpsEnabled(fused);
        const stats = await recalibrateBn(trainer.store, net, data.train, data.normalization, { batches: 2, batchSize: 16 });
        const x = batchToTensor(new BatchStream(data.minival, { batchSize: 32, seed: 4 }).next(), data.normalization, 16);
        const y = predictFolded(trainer.store, net, x, stats);
        const out = y.dataSync() as Float32Array;
        tf.dispose([x, y]);
        stats.dispose();
        setFusedOpsEnabled(true);
        return out;
      };
      const composite = await logits(false);
      const fused = await logits(true);
      const err = maxRelDiff(fused, composite);
      assert.ok(err < 1e-4, `logits differ by ${err} (relative to the largest)`);
    } finally {
      trainer.dispose();
    }
  });
});
