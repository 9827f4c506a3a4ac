import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getPreset, PRESET_NAMES } from '../../../core/presets';
import { parseSearchSpace } from '../../../core/space';
import { parseArchFile, validateArchitecture } from '../../../core/arch';
import { InvalidInputError } from '../../../core/errors';

const S0 = [[5], [5], [7, 7, 5, 3], [5, 5], [7, 7], [7, 5, 7], [5]];

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof InvalidInputError, `expected InvalidInputError, got ${String(err)}`);
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
  assert.fail('expected the input to be rejected');
}

void test('the paper preset is exactly DESIGN §3.1', () => {
  const p = getPreset('paper');
  assert.deepEqual(p.stages.map((s) => [s.out, s.stride, s.expansion, s.maxDepth]),
    [[16, 1, 1, 1], [32, 2, 6, 4], [40, 2, 6, 4], [80, 2, 6, 4], [96, 1, 6, 4], [192, 2, 6, 4], [320, 1, 6, 1]]);
  assert.ok(p.stages.every((s) => s.kernels.join() === '3,5,7'));
  assert.deepEqual([p.stem, p.head, p.resolution, p.classes, p.inputChannels], [{ kernel: 3, stride: 2, out: 32 }, { out: 1280 }, 224, 1000, 3]);
  assert.deepEqual(p.levels.map((l) => l.depth), [[1], [1.04, 1.08, 1.12, 1.16], [1.2, 1.24, 1.28, 1.32, 1.36], [1.4, 1.44, 1.48, 1.52, 1.56, 1.6, 1.64]]);
  assert.deepEqual(p.levels.map((l) => l.width), p.levels.map((l) => l.depth));
  assert.deepEqual(p.levels.map((l) => l.resolution), [[224], [224, 240, 256], [272, 288, 304], [320, 336, 354]]);
  assert.deepEqual(p.flops, { target: 306e6, tolerance: 25e6, scaleTolerance: 50e6 });
});

void test('cifar is 32 px RGB with 10 classes; tiny is 28×28 greyscale with 10 classes; all presets re-validate', () => {
  assert.deepEqual([getPreset('cifar').resolution, getPreset('cifar').inputChannels, getPreset('cifar').classes], [32, 3, 10]);
  assert.deepEqual([getPreset('tiny').resolution, getPreset('tiny').inputChannels, getPreset('tiny').classes], [28, 1, 10]);
  for (const name of PRESET_NAMES) assert.deepEqual(parseSearchSpace(getPreset(name)), getPreset(name));
});

void test('getPreset returns an independent copy and names the choices for an unknown preset', () => {
  const a = getPreset('tiny');
  a.stages[0]!.out = 999;
  assert.notEqual(getPreset('tiny').stages[0]!.out, 999);
  assert.throws(() => getPreset('imagenet'), /unknown preset "imagenet" \(available: paper, cifar, tiny\)/);
});

void test('a search space with a bad level 0, duplicate grid values or an even kernel is rejected with paths', () => {
  const raw = JSON.parse(JSON.stringify(getPreset('tiny')));
  raw.levels[0].width = [1.1];
  raw.levels[1].depth = [1, 1];
  raw.stages[2].kernels = [3, 4];
  delete raw.head;
  const issues = issuesOf(() => parseSearchSpace(raw));
  assert.ok(issues.some((i) => i.startsWith('stages[2].kernels[1]: kernel sizes must be odd')), issues.join('\n'));
  assert.ok(issues.some((i) => i.startsWith('head:')), issues.join('\n'));
});

void test('validateArchitecture accepts S0 and the arch-file form parses', () => {
  const space = getPreset('paper');
  assert.deepEqual(validateArchitecture(space, { stages: S0, depth: 1, width: 1, resolution: 224 }).stages, S0);
  const file = parseArchFile({ preset: 'paper', stages: S0, depth: 1, width: 1, resolution: 224 });
  assert.equal(file.preset, 'paper');
});

void test('an unknown kernel and a depth over the maximum are rejected, naming the path and the allowed values', () => {
  const space = getPreset('paper');
  const stages = S0.map((s) => s.slice());
  stages[2]![1] = 9;
  stages[3] = [3, 3, 3, 3, 3];
  const issues = issuesOf(() => validateArchitecture(space, { stages, depth: 1, width: 1, resolution: 224 }));
  assert.deepEqual(issues, [
    'stages[2][1]: kernel 9 is not allowed (allowed: 3, 5, 7)',
    'stages[3]: depth 5 is out of range (allowed: 1..4)',
  ]);
});

void test('a negative multiplier, a missing field, an empty stage and a wrong stage count are rejected with paths', () => {
  const space = getPreset('paper');
  const a = issuesOf(() => validateArchitecture(space, { stages: S0, depth: -1, width: 1 }));
  assert.ok(a.includes('depth: depth multiplier must be positive'), a.join('\n'));
  assert.ok(a.some((i) => i.startsWith('resolution:')), a.join('\n'));
  const b = issuesOf(() => validateArchitecture(space, { stages: [[5], []], depth: 1, width: 1, resolution: 224 }));
  assert.deepEqual(b, ['stages[1]: a stage needs at least one layer']);
  const c = issuesOf(() => validateArchitecture(space, { stages: [[5]], depth: 1, width: 1, resolution: 224 }));
  assert.deepEqual(c, ['stages: expected 7 stages (space "paper"), got 1']);
  const d = issuesOf(() => validateArchitecture(space, { stages: S0, depth: 1, width: 1, resolution: 224, extra: 1 }));
  assert.equal(d.length, 1);
});
