import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { countNetwork } from '../../../core/flops';
import { getPreset } from '../../../core/presets';
import { scaleNetwork } from '../../../core/scaling';
import { sequentialBatches, batchToTensor } from '../../../data';
import { predictFolded, predictWithStats, recalibrateBn } from '../../../nn/evaluate';
import { exportModel, loadModel } from '../../../nn/io';
import { buildStandaloneModel, trainableParams } from '../../../nn/layers';
import { modelFromWeights } from '../../../nn/retrain';
import { SupernetTrainer } from '../../../nn/trainer';
import { describeOnEngineBackends, microData, microSpace } from './helpers';

function maxRelDiff(a: tf.Tensor, b: tf.Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  let err = 0;
  let scale = 0;
  for (let i = 0; i < x.length; i++) {
    err = Math.max(err, Math.abs((x[i] as number) - (y[i] as number)));
    scale = Math.max(scale, Math.abs(y[i] as number));
  }
  return err / Math.max(scale, 1e-12);
}

describeOnEngineBackends(() => {
  test('a sub-network inside the supernet and its standalone model give the same logits, before and after export + loadLayersModel', async () => {
    const space = microSpace();
    const data = microData();
    const trainer = SupernetTrainer.create({ space, data, seed: 4, recipe: { batchSize: 16, steps: 20 } });
    await trainer.train(8);
    const arch = { stages: [[5], [3, 5], [5, 3]], depth: 1.5, width: 1.25, resolution: 16 };
    const net = scaleNetwork(space, arch);
    const stats = await recalibrateBn(trainer.store, net, data.train, data.normalization, { batches: 2, batchSize: 32 });
    const batch = sequentialBatches(data.minival, 16).next().value;
    assert.ok(batch);
    const x = batchToTensor(batch, data.normalization, arch.resolution);
    const inSupernet = predictWithStats(trainer.store, net, x, stats);
    const folded = predictFolded(trainer.store, net, x, stats);
    const model = modelFromWeights(trainer, arch, stats);
    const standalone = model.predict(x) as tf.Tensor;
    assert.ok(maxRelDiff(folded, inSupernet) < 1e-4, `BN folding changed logits: ${maxRelDiff(folded, inSupernet)}`);
    assert.ok(maxRelDiff(standalone, inSupernet) < 1e-4, `standalone model differs: ${maxRelDiff(standalone, inSupernet)}`);

    const dir = mkdtempSync(join(tmpdir(), 'scalenet-model-'));
    await exportModel(model, dir);
    assert.deepEqual(readdirSync(dir).sort(), ['model.json', 'weights.bin']);
    const loaded = await loadModel(dir);
    const reloaded = loaded.predict(x) as tf.Tensor;
    assert.ok(maxRelDiff(reloaded, inSupernet) < 1e-4, `exported+loaded model differs: ${maxRelDiff(reloaded, inSupernet)}`);
    assert.equal(trainableParams(loaded), countNetwork(net).params);

    for (const t of [x, inSupernet, folded, standalone, reloaded]) t.dispose();
    model.dispose();
    loaded.dispose();
    stats.dispose();
    trainer.dispose();
  });

  test("the standalone model's trainable parameters equal core's count (BN γ, β trainable; moving statistics are not counted)", () => {
    const tiny = getPreset('tiny');
    const arch = { stages: [[3], [5, 3], [3, 5, 5], [5]], depth: 1.5, width: 1.3, resolution: 36 };
    const model = buildStandaloneModel(tiny, arch);
    const count = countNetwork(scaleNetwork(tiny, arch));
    assert.equal(trainableParams(model), count.params);
    // Non-trainable: moving mean and variance, one each per BN channel.
    const bnChannels = model.layers.filter((l) => l.getClassName() === 'BatchNormalization').reduce((n, l) => n + (l.getWeights()[0]?.size ?? 0), 0);
    assert.equal(model.countParams() - trainableParams(model), 2 * bnChannels);
    model.dispose();
  });

  test('the paper S0 model has exactly 6,686,680 trainable parameters (DESIGN §3.2 test vector)', () => {
    const paper = getPreset('paper');
    const arch = { stages: [[5], [5], [7, 7, 5, 3], [5, 5], [7, 7], [7, 5, 7], [5]], depth: 1, width: 1, resolution: 224 };
    const model = buildStandaloneModel(paper, arch);
    assert.equal(trainableParams(model), 6686680);
    model.dispose();
  });
});
