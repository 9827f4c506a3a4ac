import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigObject } from '../../../core/config';
import { InvalidInputError } from '../../../core/errors';
import { validateRunConfig } from '../../../core/validate';
import { loadDataset } from '../../../data/dataset';

/** The issues (as `path: message`) of a config the validation must refuse. */
function refused(value: unknown): string[] {
  try {
    validateRunConfig(value);
  } catch (err) {
    assert.ok(err instanceof InvalidInputError, String(err));
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
  assert.fail('expected the config to be refused');
}

void test('dataset {kind: synthetic} is one schema: the run config validates and data/ loads it with the added resolution', () => {
  const c = validateRunConfig({ name: 's', dataset: { kind: 'synthetic', trainSize: 64, testSize: 16 } });
  assert.equal(c.dataset.kind, 'synthetic');
  // The run config adds `resolution` (and every default); the data reader must accept exactly that object.
  const ds = loadDataset(c.dataset, { minivalSize: 8 });
  assert.deepEqual(ds.imageShape, [28, 28, 1]);
  assert.equal(ds.train.count + ds.minival.count, 64);
});

void test('a bad dataset config given to data/ is an input error with the dataset path, not a plain Error', () => {
  assert.throws(() => loadDataset({ kind: 'synthetic', resolution: -1 } as never), (err: unknown) =>
    err instanceof InvalidInputError && err.issues.some((i) => i.path === 'dataset.resolution'));
});

void test('all-zero level weights and fitness weights are refused with their paths', () => {
  const issues = refused({ name: 'z', supernet: { levelWeights: [0, 0, 0] }, search: { fitnessWeights: [0, 0] } });
  assert.ok(issues.some((i) => i.startsWith('supernet.levelWeights: weights are all zero')), issues.join('\n'));
  assert.ok(issues.some((i) => i.startsWith('search.fitnessWeights: weights are all zero')), issues.join('\n'));
});

void test('a space with a single level is refused: there is nothing to scale to', () => {
  const issues = refused({ name: 'one', space: { preset: 'tiny', overrides: { levels: [{ depth: [1], width: [1], resolution: [28] }] } } });
  assert.ok(issues.some((i) => i.startsWith('space.overrides.levels: ')), issues.join('\n'));
});

void test('an unreachable FLOPs target is refused with the range the space can reach', () => {
  const issues = refused({ name: 'f', space: { preset: 'tiny', overrides: { flops: { target: 1e12, tolerance: 1 } } } });
  const hit = issues.find((i) => i.startsWith('space.overrides.flops: no base can meet'));
  assert.ok(hit, issues.join('\n'));
  assert.match(hit, /bases of this space cost \d+–\d+ MACs/);
});

void test('sizes have upper bounds: trainSize 1e9, batchSize 1e9, epochs 1e11 are refused at their paths', () => {
  const issues = refused({
    name: 'big',
    dataset: { kind: 'synthetic', trainSize: 1e9 },
    supernet: { batchSize: 1e9, epochs: 1e11 },
    retraining: { epochs: 1e11 },
    search: { population: 1e9 },
  });
  for (const p of ['dataset.trainSize', 'supernet.batchSize', 'supernet.epochs', 'retraining.epochs', 'search.population']) {
    assert.ok(issues.some((i) => i.startsWith(`${p}: `)), `${p} in:\n${issues.join('\n')}`);
  }
});

void test('a synthetic dataset too large to hold in memory is refused even when each size is within its bound', () => {
  const issues = refused({ name: 'mem', dataset: { kind: 'synthetic', trainSize: 1_000_000, resolution: 512, channels: 3 } });
  assert.ok(issues.some((i) => i.startsWith('dataset: a synthetic dataset of')), issues.join('\n'));
});

void test('retraining levels beyond the family are refused', () => {
  const issues = refused({ name: 'r', retraining: { levels: [0, 9] } });
  assert.ok(issues.some((i) => i.startsWith('retraining.levels[1]: level 9 does not exist')), issues.join('\n'));
});

void test('the examples and the defaults pass the validation unchanged', () => {
  assert.deepEqual(validateRunConfig({ name: 'd' }), parseConfigObject({ name: 'd' }));
});
