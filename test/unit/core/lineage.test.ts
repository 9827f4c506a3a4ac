/** Which config changes keep a trained super-supernet reusable (core/lineage.ts), and the cost view (core/cost.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigObject } from '../../../core/config';
import { runCost, imagesProcessed } from '../../../core/cost';
import { diffConfigs, supernetMismatches, supernetReuseError } from '../../../core/lineage';

const base = { name: 'a', seed: 1, space: 'tiny', supernet: { epochs: 2, stepsPerEpoch: 12 }, search: { minivalSize: 128 } };

void test('search, extrapolation, retraining, calibration, resources, name and the FLOPs target may differ', () => {
  const other = parseConfigObject({
    ...base, name: 'b',
    space: { preset: 'tiny', overrides: { flops: { target: 4_500_000 } } },
    supernet: { ...base.supernet, from: 'a-run' },
    search: { ...base.search, fitnessWeights: [1, 3], rounds: 3 },
    extrapolation: { extraLevels: 3 }, retraining: { epochs: 1 }, calibration: { subnets: 3 }, resources: { evaluationConcurrency: 7 },
  });
  assert.deepEqual(supernetMismatches(parseConfigObject(base), other), []);
});

void test('seed, supernet settings, dataset, minival size and the space\'s structure must match, each named', () => {
  const other = parseConfigObject({ ...base, seed: 2, supernet: { epochs: 3, stepsPerEpoch: 12, lr: 0.1 }, search: { minivalSize: 256 }, space: { preset: 'tiny', overrides: { classes: 10, levels: [{ depth: [1], width: [1], resolution: [28] }] } } });
  const paths = supernetMismatches(parseConfigObject(base), other).map((d) => d.path);
  assert.deepEqual(paths.sort(), ['search.minivalSize', 'seed', 'space.levels', 'supernet.epochs', 'supernet.lr']);
  const err = supernetReuseError('src', supernetMismatches(parseConfigObject(base), parseConfigObject({ ...base, seed: 5 })));
  assert.match(err.message, /seed: 1 in run src, 5 here/);
});

void test('a preset named as a string or as {preset} is the same space', () => {
  assert.deepEqual(supernetMismatches(parseConfigObject(base), parseConfigObject({ ...base, space: { preset: 'tiny' } })), []);
});

void test('diffConfigs walks objects and compares arrays whole', () => {
  assert.deepEqual(diffConfigs({ a: { b: [1, 2], c: 1 }, d: 'x' }, { a: { b: [1, 2], c: 2 }, e: 1 }).map((d) => d.path), ['a.c', 'd', 'e']);
});

void test('cost: images per stage, busy time per worker, and the supernet training a reuse avoided', () => {
  const config = parseConfigObject({ ...base, retraining: { batchSize: 16, testImages: 256 }, search: { minivalSize: 128, bnRecalibrationBatches: 1, bnRecalibrationBatchSize: 64 }, supernet: { epochs: 2, stepsPerEpoch: 12, batchSize: 16 } });
  const images = imagesProcessed({ config, counts: { train: 1000, minival: 128, test: 500 }, supernetSteps: 24, evaluations: 10, retrained: [{ steps: 8, repeats: 2 }], calibrationSubnets: 0 });
  assert.deepEqual(images, { 'train-supernet': 384, search: 1920, retrain: 2 * (128 + 256), total: 384 + 1920 + 768 });
  const cost = runCost({
    computeSeconds: { 'train-supernet': 0, search: 5 },
    stageTimes: { 'prepare-data': { start: 0, end: 1000 }, search: { start: 1000, end: 7000 } },
    imagesProcessed: images, lineage: { sourceRunId: 'src', avoidedComputeSeconds: 42 },
  }, [
    { stage: 'search', activity: 'evaluateCandidates', worker: 'w1', durationSeconds: 3, attempts: 1 },
    { stage: 'search', activity: 'evaluateCandidates', worker: 'w2', durationSeconds: 2, attempts: 1 },
    { stage: 'retrain', activity: 'retrainModel', worker: 'w1', durationSeconds: 4, attempts: 2 },
  ]);
  assert.equal(cost.totalComputeSeconds, 5);
  assert.equal(cost.wallSeconds, 7);
  assert.deepEqual(cost.workers.map((w) => [w.worker, w.busySeconds, w.byStage]), [['w1', 7, { search: 3, retrain: 4 }], ['w2', 2, { search: 2 }]]);
  assert.deepEqual(cost.avoided, { sourceRunId: 'src', computeSeconds: 42 });
  assert.equal(cost.stages.find((s) => s.stage === 'search')?.wallSeconds, 6);
});
