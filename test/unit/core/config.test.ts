import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configHash, configJsonSchema, parseConfigObject, resolveSpace, RunConfigSchema } from '../../../core/config';
import { InvalidInputError } from '../../../core/errors';
import { canonicalJson, sha256Hex } from '../../../core/hash';

function issuesOf(value: unknown): string[] {
  try {
    parseConfigObject(value);
  } catch (err) {
    assert.ok(err instanceof InvalidInputError);
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
  assert.fail('expected the config to be rejected');
}

void test('a name is all a config needs: every other field has a default', () => {
  const c = parseConfigObject({ name: 'demo' });
  assert.equal(c.seed, 0);
  assert.deepEqual(c.dataset, { kind: 'fashion-mnist' });
  assert.equal(c.space, 'tiny');
  assert.equal(c.supernet.sampling, 'hierarchical');
  assert.equal(c.supernet.levelWeights, 'gridSize');
  assert.deepEqual(c.supernet.checkpoint, { everySteps: 200, everySeconds: 300 });
  assert.equal(c.search.elites, 4);
  assert.equal(c.extrapolation.extraLevels, 2);
  assert.equal(c.retraining.baselines, true);
  assert.deepEqual(c.resources.taskQueues, { compute: 'scalenet-cpu', light: 'scalenet-cpu' });
});

void test('the dataset fixes classes and channels of the space; overrides and inline spaces work', () => {
  const cifar100 = resolveSpace(parseConfigObject({ name: 'c', dataset: { kind: 'cifar100', dir: '/data' }, space: 'cifar' }));
  assert.deepEqual([cifar100.classes, cifar100.inputChannels], [100, 3]);
  const over = resolveSpace(parseConfigObject({ name: 'o', space: { preset: 'tiny', overrides: { flops: { tolerance: 2e6 } } }, search: { scaleTolerance: 3e6 } }));
  assert.deepEqual(over.flops, { target: 4e6, tolerance: 2e6, scaleTolerance: 3e6 });
  const synth = resolveSpace(parseConfigObject({ name: 's', dataset: { kind: 'synthetic', classes: 4, channels: 3, resolution: 32 }, space: 'cifar' }));
  assert.deepEqual([synth.classes, synth.inputChannels], [4, 3]);
  const inline = parseConfigObject({ name: 'i', space: { inline: resolveSpace(parseConfigObject({ name: 'x' })) } });
  assert.equal(resolveSpace(inline).name, 'tiny');
});

void test('a missing field, a negative seed, an unknown key, a bad dataset kind and an unknown preset are named by path', () => {
  assert.deepEqual(issuesOf({}), ['name: required field is missing (expected string)']);
  const issues = issuesOf({ name: 'x', seed: -1, supernet: { epoch: 3 }, dataset: { kind: 'mnist' } });
  assert.deepEqual(issues.map((i) => i.split(':')[0]), ['seed', 'dataset.kind', 'supernet.epoch']);
  assert.match(issues.find((i) => i.startsWith('supernet.epoch'))!, /unknown field: remove it or check its spelling/);
  assert.match(issues.find((i) => i.startsWith('dataset.kind'))!, /fashion-mnist, idx, cifar10, cifar100, synthetic/);
  assert.deepEqual(issuesOf({ name: 'x', space: 'imagenet' }), ['space: unknown preset "imagenet" (available: paper, cifar, tiny); or give an inline space as {inline: {...}}']);
  assert.deepEqual(issuesOf({ name: 'x', dataset: { kind: 'idx', train: { images: 'a' }, test: { images: 'b', labels: 'c' } } }),
    ['dataset.train.labels: required field is missing (expected string)']);
});

void test('cross-field checks: weights per level, dataset/space agreement, tournament within population, inline space errors', () => {
  assert.deepEqual(issuesOf({ name: 'x', supernet: { levelWeights: [1, 2] } }), ['supernet.levelWeights: expected 3 weights (one per level 0..2), got 2']);
  assert.deepEqual(issuesOf({ name: 'x', search: { fitnessWeights: [1, 2, 3] } }), ['search.fitnessWeights: expected 2 weights (one per level 1..2), got 3']);
  assert.deepEqual(issuesOf({ name: 'x', space: { preset: 'tiny', overrides: { classes: 5 } } }),
    ['space.overrides.classes: dataset "fashion-mnist" has 10 classes but the space says 5; make them equal']);
  assert.deepEqual(issuesOf({ name: 'x', search: { population: 4, tournamentSize: 5 } }), ['search.tournamentSize: must not exceed search.population (4)']);
  const inline = issuesOf({ name: 'x', space: { inline: { name: 'q' } } });
  assert.ok(inline.includes('space.inline.stages: required field is missing (expected array)'), inline.join('\n'));
  assert.ok(issuesOf({ name: 'x', supernet: { lr: -0.1 } })[0]!.startsWith('supernet.lr:'));
  assert.ok(issuesOf({ name: 'bad name!' })[0]!.startsWith('name: name must be'));
});

void test('configHash is stable: key order and spelled-out defaults do not change it, a value does', () => {
  const a = parseConfigObject({ name: 'h', seed: 1, search: { rounds: 3 } });
  const b = parseConfigObject({ search: { rounds: 3, population: 16 }, seed: 1, name: 'h' });
  const c = parseConfigObject({ name: 'h', seed: 2, search: { rounds: 3 } });
  assert.equal(configHash(a), configHash(b));
  assert.notEqual(configHash(a), configHash(c));
  assert.match(configHash(a), /^[0-9a-f]{64}$/);
});

void test('sha256 matches the FIPS 180-4 test vectors; canonical JSON sorts keys', () => {
  assert.equal(sha256Hex(''), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.equal(sha256Hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.equal(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'), '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
  // Multi-byte UTF-8 (2, 3 and 4 bytes), checked against node:crypto.
  assert.equal(sha256Hex('é€😀'), 'df9226927fd572c1ee66eec85de1bb139497614899f36e4e90474cb71f6ef9d0');
  assert.equal(sha256Hex('x'.repeat(1000)), '44f8354494a5ba03ba1792a8d3e9c534c47a9181980fde7a3f44b06ef2ae7c7f');
  assert.equal(canonicalJson({ b: 1, a: [true, null, 'x'], c: undefined }), '{"a":[true,null,"x"],"b":1}');
  assert.throws(() => canonicalJson({ x: Number.NaN }), /not representable/);
});

void test('the JSON Schema describes the config as users write it (only name required)', () => {
  const schema = configJsonSchema() as { required?: string[]; properties: Record<string, unknown>; title: string };
  assert.deepEqual(schema.required, ['name']);
  assert.deepEqual(Object.keys(schema.properties).sort(), Object.keys(RunConfigSchema.shape).sort());
  assert.equal(schema.title, 'ScaleNet run config');
  assert.ok(JSON.stringify(schema).includes('"fashion-mnist"'));
});
