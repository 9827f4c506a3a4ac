import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { scaleNetwork } from '../../../core/scaling';
import { BatchStream, batchToTensor } from '../../../data';
import { EvaluationCache, evaluateSubnetwork, evaluateSubnetworks, recalibrateBn } from '../../../nn/evaluate';
import { exportModel, loadModel } from '../../../nn/io';
import { retrain } from '../../../nn/retrain';
import { SupernetTrainer } from '../../../nn/trainer';
import { describeOnEngineBackends, microData, microSpace } from './helpers';

const arch = { stages: [[3], [5, 3], [3, 5]], depth: 1, width: 1.25, resolution: 16 };

describeOnEngineBackends(() => {
  test('BN recalibration yields the population mean and variance of the sub-network on the calibration images', async () => {
    const space = microSpace();
    const data = microData();
    const trainer = SupernetTrainer.create({ space, data, seed: 3, recipe: { batchSize: 16, steps: 10 } });
    const net = scaleNetwork(space, arch);
    const stats = await recalibrateBn(trainer.store, net, data.train, data.normalization, { batches: 2, batchSize: 8, seed: 9 });
    // The stem BN sees conv(stem) of the 16 calibration images directly: compare with moments of all of them.
    const stream = new BatchStream(data.train, { batchSize: 8, seed: 9 });
    const a = stream.next();
    const b = stream.next();
    const [mean, variance] = tf.tidy(() => {
      const x = tf.concat([batchToTensor(a, data.normalization, 16), batchToTensor(b, data.normalization, 16)]);
      const w = tf.slice(trainer.store.param('stem.w'), [0, 0, 0, 0], [3, 3, 1, net.stem.cout]) as tf.Tensor4D;
      const m = tf.moments(tf.conv2d(x, w, 1, 'same'), [0, 1, 2]);
      return [m.mean.dataSync(), m.variance.dataSync()];
    });
    const got = stats.get('stem');
    const close = (p: ArrayLike<number>, q: ArrayLike<number>): boolean => Array.from(p).every((v, i) => Math.abs(v - (q[i] as number)) < 1e-4 * (1 + Math.abs(v)));
    assert.ok(close(got.mean.dataSync(), mean as ArrayLike<number>), 'stem mean');
    assert.ok(close(got.variance.dataSync(), variance as ArrayLike<number>), 'stem variance');
    assert.equal(stats.layers.size, 1 + 2 + 3 * 2 + 3 * 2 + 1); // stem, s0 (dw, project), s1 and s2 (expand, dw, project) ×2, head
    stats.dispose();
    trainer.dispose();
  });

  test('evaluateSubnetworks gives each candidate exactly what evaluateSubnetwork gives it alone, computing shared prefixes once', async () => {
    const data = microData();
    const trainer = SupernetTrainer.create({ space: microSpace(), data, seed: 5, recipe: { batchSize: 16, steps: 40, learningRate: 0.2, augment: false, levelWeights: 'uniform' } });
    await trainer.train(12);
    // Candidates that share nothing, the stem only, the stem and a block, or all but the last block; two levels.
    const archs = [
      { stages: [[3], [5, 3], [3, 5]], depth: 1, width: 1.25, resolution: 16 },
      { stages: [[5], [3], [3]], depth: 1, width: 1, resolution: 12 },
      { stages: [[3], [5, 3], [3, 3]], depth: 1, width: 1.25, resolution: 16 },
      { stages: [[3], [5], [5]], depth: 1.5, width: 1.25, resolution: 16 },
      { stages: [[3], [3], [3]], depth: 1, width: 1, resolution: 12 },
      { stages: [[3], [5, 3], [3, 5]], depth: 1, width: 1.5, resolution: 16 },
      { stages: [[5], [3], [5]], depth: 1, width: 1, resolution: 12 },
      { stages: [[3], [5, 5], [3]], depth: 1, width: 1.25, resolution: 16 },
    ];
    const opts = { recalibration: { batches: 3, batchSize: 16, seed: 4 }, batchSize: 48 };
    const alone = [];
    for (const a of archs) alone.push((await evaluateSubnetwork(trainer, a, data, opts)).correct);
    assert.ok(new Set(alone).size >= 4, `the candidates must score differently for the comparison to mean anything: ${alone.join(', ')}`);
    const tensors = tf.memory().numTensors;
    for (const budget of [undefined, 0]) {
      const shared = new Array<number>(archs.length).fill(-1);
      const order: number[] = [];
      for await (const { index, result } of evaluateSubnetworks(trainer, archs, data, opts, budget)) {
        shared[index] = result.correct;
        order.push(index);
        assert.equal(result.total, data.minival.count);
      }
      assert.deepEqual(shared, alone, `prefix budget ${budget ?? 'default'}`);
      assert.deepEqual([...order].sort((a, b) => a - b), archs.map((_, i) => i), 'every candidate once');
      assert.equal(tf.memory().numTensors, tensors, 'no tensor left behind');
    }
    // Stopped after the first answer: the prefixes it held are freed.
    const early = evaluateSubnetworks(trainer, archs, data, opts);
    await early.next();
    await early.return(undefined);
    assert.equal(tf.memory().numTensors, tensors, 'no tensor left behind after an early stop');
    // Cache hits come first, marked cached, with the memoised numbers.
    const cache = new EvaluationCache();
    await evaluateSubnetwork(trainer, archs[3] as (typeof archs)[number], data, { ...opts, cache });
    const first = await evaluateSubnetworks(trainer, archs, data, { ...opts, cache }).next();
    assert.deepEqual(first.done ? null : { index: first.value.index, cached: first.value.result.cached, correct: first.value.result.correct }, { index: 3, cached: true, correct: alone[3] });
    trainer.dispose();
  });

  test('evaluateSubnetwork memoises by architecture, multipliers, resolution and weights step', async () => {
    const data = microData();
    const trainer = SupernetTrainer.create({ space: microSpace(), data, seed: 3, recipe: { batchSize: 16, steps: 10 } });
    const cache = new EvaluationCache();
    const opts = { cache, recalibration: { batches: 2, batchSize: 16 } };
    const first = await evaluateSubnetwork(trainer, arch, data, opts);
    const again = await evaluateSubnetwork(trainer, arch, data, opts);
    assert.equal(first.cached, false);
    assert.equal(again.cached, true);
    assert.equal(again.accuracy, first.accuracy);
    assert.equal(first.total, data.minival.count);
    const otherRes = await evaluateSubnetwork(trainer, { ...arch, resolution: 12 }, data, opts);
    assert.notEqual(otherRes.key, first.key);
    await trainer.train(1);
    const afterStep = await evaluateSubnetwork(trainer, arch, data, opts);
    assert.equal(afterStep.cached, false, 'a training step must invalidate the memo');
    assert.equal(cache.size, 3);
    trainer.dispose();
  });

  test('retraining an architecture from scratch learns the synthetic task and exports a loadable model', async () => {
    const data = microData();
    const tensorsBefore = tf.memory().numTensors;
    const result = await retrain({
      space: microSpace(), arch, data, seed: 1,
      recipe: { steps: 60, batchSize: 32, learningRate: 0.1 },
      calibration: { batches: 4, batchSize: 32 },
    });
    assert.ok(result.testAccuracy > 0.6, `test accuracy ${result.testAccuracy} (chance 0.25)`);
    const dir = mkdtempSync(join(tmpdir(), 'scalenet-retrain-'));
    await exportModel(result.model, dir);
    const loaded = await loadModel(dir);
    const x = batchToTensor(new BatchStream(data.test, { batchSize: 8, seed: 0 }).next(), data.normalization, arch.resolution);
    const p1 = result.model.predict(x) as tf.Tensor;
    const p2 = loaded.predict(x) as tf.Tensor;
    assert.deepEqual(Array.from(p2.dataSync()), Array.from(p1.dataSync()));
    for (const t of [x, p1, p2]) t.dispose();
    result.model.dispose();
    loaded.dispose();
    assert.equal(tf.memory().numTensors, tensorsBefore, 'retraining leaked tensors');
  });
});
