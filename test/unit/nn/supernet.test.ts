import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { scaleNetwork } from '../../../core/scaling';
import { networkParams } from '../../../nn/params';
import { SupernetTrainer } from '../../../nn/trainer';
import { describeOnEngineBackends, microData, microSpace } from './helpers';

function snapshot(map: Map<string, tf.Variable>): Map<string, Float32Array> {
  return new Map([...map].map(([k, v]) => [k, (v.dataSync() as Float32Array).slice()]));
}

/** True when flat index i of a tensor of `shape` lies in its leading corner `corner`. */
function inCorner(i: number, shape: readonly number[], corner: readonly number[]): boolean {
  let rem = i;
  for (let d = shape.length - 1; d >= 0; d--) {
    const idx = rem % (shape[d] as number);
    rem = Math.floor(rem / (shape[d] as number));
    if (idx >= (corner[d] as number)) return false;
  }
  return true;
}

describeOnEngineBackends(() => {
  test('a training step moves only the sampled path: unused layers and the unused slices of used tensors stay bit-identical', async () => {
    const space = microSpace();
    const trainer = SupernetTrainer.create({ space, data: microData(), seed: 5, recipe: { batchSize: 16, steps: 50, warmupSteps: 0 } });
    try {
      let checkedSliced = 0;
      for (let s = 0; s < 4; s++) {
        const before = snapshot(trainer.store.params);
        const beforeMomentum = snapshot(trainer.store.momentum);
        const beforeRunning = snapshot(trainer.store.running);
        const progress = trainer.trainOneStep();
        const used = new Map(networkParams(scaleNetwork(space, progress.arch)).map((p) => [p.name, p.shape]));
        const after = snapshot(trainer.store.params);
        const afterMomentum = snapshot(trainer.store.momentum);
        const afterRunning = snapshot(trainer.store.running);
        for (const [name, old] of beforeRunning) {
          const gamma = name.replace(/running_(mean|var)$/, 'gamma');
          const corner = used.get(gamma);
          const now = afterRunning.get(name) as Float32Array;
          if (!corner) {
            assert.deepEqual(now, old, `running statistics ${name} of an unused layer changed`);
            continue;
          }
          const c = corner[0] as number;
          assert.deepEqual(now.subarray(c), old.subarray(c), `running statistics ${name} changed outside the used ${c} channels`);
          assert.notDeepEqual(now.subarray(0, c), old.subarray(0, c), `running statistics ${name} of a used layer did not move`);
        }
        for (const [name, old] of before) {
          const now = after.get(name) as Float32Array;
          const corner = used.get(name);
          const shape = trainer.store.param(name).shape;
          if (!corner) {
            assert.deepEqual(now, old, `unused tensor ${name} changed at step ${progress.step}`);
            assert.deepEqual(afterMomentum.get(name), beforeMomentum.get(name), `momentum of unused ${name} changed`);
            continue;
          }
          let changedInside = 0;
          for (let i = 0; i < old.length; i++) {
            if (inCorner(i, shape, corner)) {
              if (now[i] !== old[i]) changedInside++;
            } else {
              assert.ok(Object.is(now[i], old[i]), `${name}[${i}] outside the used slice [${corner.join(',')}] of [${shape.join(',')}] changed`);
              assert.ok(Object.is(afterMomentum.get(name)?.[i], beforeMomentum.get(name)?.[i]), `momentum ${name}[${i}] outside the slice changed`);
            }
          }
          if (corner.some((c, d) => c < (shape[d] as number))) checkedSliced++;
          assert.ok(changedInside > 0, `used tensor ${name} did not move`);
        }
      }
      assert.ok(checkedSliced > 0, 'no partially used tensor was exercised');
    } finally {
      trainer.dispose();
    }
  });

  test('the live tensor count is flat across hundreds of training steps', async () => {
    const trainer = SupernetTrainer.create({ space: microSpace(), data: microData(), seed: 2, recipe: { batchSize: 4, steps: 300 } });
    try {
      await trainer.train(3);
      const start = tf.memory().numTensors;
      const counts: number[] = [];
      await trainer.train(200, () => {
        counts.push(tf.memory().numTensors);
      });
      assert.ok(counts.every((c) => c === start), `tensor count moved: start ${start}, seen ${[...new Set(counts)].join(', ')}`);
    } finally {
      trainer.dispose();
    }
  });

  test('supernet training lowers the loss on learnable synthetic data', async () => {
    const trainer = SupernetTrainer.create({ space: microSpace(), data: microData(), seed: 1, recipe: { batchSize: 32, steps: 60, learningRate: 0.1 } });
    try {
      const losses: number[] = [];
      await trainer.train(60, (p) => {
        losses.push(p.loss);
      });
      const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
      assert.ok(mean(losses.slice(-15)) < mean(losses.slice(0, 15)) - 0.1, `loss did not fall: ${mean(losses.slice(0, 15))} → ${mean(losses.slice(-15))}`);
      assert.equal(trainer.step, 60);
    } finally {
      trainer.dispose();
    }
  });
});
