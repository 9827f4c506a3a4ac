import { test } from 'node:test';
import assert from 'node:assert/strict';
import { architectureKey } from '../../../core/arch';
import { averageRanks, calibrationReport, kendallTau, sampleCalibrationSubnets, spearmanRho } from '../../../core/calibration';
import { isScaledFeasible } from '../../../core/feasibility';
import { getPreset } from '../../../core/presets';

const close = (a: number | null, b: number, eps = 1e-12) => assert.ok(a !== null && Math.abs(a - b) < eps, `${a} ≉ ${b}`);

void test('Kendall τ-b: identical order 1, reversed −1, one swapped pair of four (5 − 1)/6', () => {
  close(kendallTau([1, 2, 3], [10, 20, 30]), 1);
  close(kendallTau([1, 2, 3], [30, 20, 10]), -1);
  close(kendallTau([1, 2, 3, 4], [1, 3, 2, 4]), 4 / 6);
});

void test('Kendall τ-b with ties: x=[1,2,2,3], y=[1,2,3,3] gives 4/√(5·5) = 0.8 (worked by hand, as scipy)', () => {
  // Pairs: (1,2)(1,3)(1,4)(2,4) concordant; (2,3) tied in x; (3,4) tied in y: n0 = 6, tx = ty = 1.
  close(kendallTau([1, 2, 2, 3], [1, 2, 3, 3]), 0.8);
  // A pair tied on both sides counts in both tie totals: x=[1,1,2], y=[5,5,6] → 2/√(2·2) = 1.
  close(kendallTau([1, 1, 2], [5, 5, 6]), 1);
});

void test('Kendall τ is undefined (null) when one side is all tied or there are fewer than two points', () => {
  assert.equal(kendallTau([0.5, 0.5, 0.5], [1, 2, 3]), null);
  assert.equal(kendallTau([1], [2]), null);
  assert.throws(() => kendallTau([1, 2], [1]), /paired/);
  assert.throws(() => kendallTau([1, Number.NaN], [1, 2]), /finite/);
});

void test('Spearman ρ uses average ranks for ties: x=1..5, y=[5,6,7,8,7] gives 8/√95', () => {
  assert.deepEqual(averageRanks([5, 6, 7, 8, 7]), [1, 2, 3.5, 5, 3.5]);
  close(spearmanRho([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]), 8 / Math.sqrt(95));
  close(spearmanRho([1, 2, 3], [3, 2, 1]), -1);
  assert.equal(spearmanRho([1, 2, 3], [4, 4, 4]), null);
});

void test('calibration sub-networks are spread over the levels, feasible, distinct and fixed by the seed', () => {
  const space = getPreset('tiny');
  const a = sampleCalibrationSubnets(space, 6, 7);
  assert.deepEqual(a.map((s) => s.level), [0, 1, 2, 0, 1, 2]);
  assert.deepEqual(a.map((s) => s.name), ['C1', 'C2', 'C3', 'C4', 'C5', 'C6']);
  for (const s of a) assert.ok(isScaledFeasible(space, s.arch.stages, s.level, s.arch), `${s.name} infeasible`);
  assert.equal(new Set(a.map((s) => architectureKey(s.arch))).size, 6);
  assert.deepEqual(sampleCalibrationSubnets(space, 6, 7), a);
  assert.notDeepEqual(sampleCalibrationSubnets(space, 6, 8), a);
});

void test('calibrationReport pairs supernet with retrained accuracy', () => {
  const space = getPreset('tiny');
  const subnets = sampleCalibrationSubnets(space, 3, 1);
  const points = subnets.map((s, i) => ({ ...s, macs: 1, supernetAccuracy: [0.5, 0.7, 0.6][i]!, retrainedAccuracy: [0.8, 0.9, 0.85][i]! }));
  const r = calibrationReport(100, points);
  close(r.kendallTau, 1);
  close(r.spearmanRho, 1);
  assert.equal(r.steps, 100);
});
