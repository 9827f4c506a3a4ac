import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { getPreset, PRESET_NAMES } from '../../../core/presets';
import { Rng } from '../../../core/rng';
import { baseIssues } from '../../../core/arch';
import {
  hierarchicalSampler, levelProbabilities, randomAdmissibleBase, randomBase, uniformSampler, unionGrids,
} from '../../../core/sampler';
import { baseMacs, feasibleTriples, isBaseAdmissible, isScaledFeasible, levelTriples } from '../../../core/feasibility';

void test('level probabilities: gridSize follows the width grid (1:4:5:7 for paper), uniform, triples, explicit', () => {
  const paper = getPreset('paper');
  assert.deepEqual(levelProbabilities(paper), [1 / 17, 4 / 17, 5 / 17, 7 / 17]);
  assert.deepEqual(levelProbabilities(paper, 'uniform'), [0.25, 0.25, 0.25, 0.25]);
  assert.deepEqual(levelProbabilities(paper, 'triples'), [1, 48, 75, 147].map((x) => x / 271));
  assert.deepEqual(levelProbabilities(paper, [0, 1, 1, 2]), [0, 0.25, 0.25, 0.5]);
  assert.throws(() => levelProbabilities(paper, [1, 2]), /expected 4 weights/);
  assert.throws(() => levelProbabilities(paper, [0, 0, 0, 0]), /not all zero/);
});

for (const name of PRESET_NAMES) {
  void test(`${name}: the hierarchical and uniform samplers yield only members of the space (property)`, () => {
    const space = getPreset(name);
    const union = unionGrids(space);
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 31 }), (seed) => {
      const rng = new Rng(seed);
      const h = hierarchicalSampler(space, rng);
      const l = space.levels[h.level!]!;
      assert.deepEqual(baseIssues(space, h.arch.stages), []);
      assert.ok(l.depth.includes(h.arch.depth) && l.width.includes(h.arch.width) && l.resolution.includes(h.arch.resolution));
      const u = uniformSampler(space, rng);
      assert.equal(u.level, null);
      assert.deepEqual(baseIssues(space, u.arch.stages), []);
      assert.ok(union.depth.includes(u.arch.depth) && union.width.includes(u.arch.width) && union.resolution.includes(u.arch.resolution));
    }), { numRuns: 200, seed: 2 });
  });
}

void test('sampled level frequencies match the weights (chi-square, 20,000 draws, fixed seed)', () => {
  const space = getPreset('paper');
  for (const weighting of ['gridSize', 'uniform', [1, 2, 3, 4]] as const) {
    const p = levelProbabilities(space, weighting);
    const rng = new Rng(`levels-${JSON.stringify(weighting)}`);
    const n = 20_000;
    const counts = p.map(() => 0);
    for (let i = 0; i < n; i++) counts[hierarchicalSampler(space, rng, { levelWeights: weighting }).level!]!++;
    const chi2 = counts.reduce((a, c, i) => a + (c - n * p[i]!) ** 2 / (n * p[i]!), 0);
    // 3 degrees of freedom: P(χ² > 16.27) = 0.001.
    assert.ok(chi2 < 16.27, `χ² = ${chi2.toFixed(2)} for ${JSON.stringify(weighting)}: counts ${counts.join(',')}`);
  }
});

void test('multipliers within a level and kernels within a stage are uniform (fixed seed)', () => {
  const space = getPreset('paper');
  const rng = new Rng(9);
  const widthsAtL3 = new Map<number, number>();
  const kernels = new Map<number, number>();
  let n3 = 0;
  for (let i = 0; i < 20_000; i++) {
    const s = hierarchicalSampler(space, rng, { levelWeights: [0, 0, 0, 1] });
    n3++;
    widthsAtL3.set(s.arch.width, (widthsAtL3.get(s.arch.width) ?? 0) + 1);
    for (const k of s.arch.stages.flat()) kernels.set(k, (kernels.get(k) ?? 0) + 1);
  }
  assert.equal(widthsAtL3.size, 7);
  for (const c of widthsAtL3.values()) assert.ok(Math.abs(c / n3 - 1 / 7) < 0.01);
  const totalK = [...kernels.values()].reduce((a, b) => a + b, 0);
  for (const c of kernels.values()) assert.ok(Math.abs(c / totalK - 1 / 3) < 0.01);
});

void test('randomBase draws stage depths uniformly in 1..maxDepth', () => {
  const space = getPreset('paper');
  const rng = new Rng(4);
  const depthCounts = [0, 0, 0, 0];
  for (let i = 0; i < 8000; i++) depthCounts[randomBase(space, rng)[2]!.length - 1]!++;
  for (const c of depthCounts) assert.ok(Math.abs(c - 2000) < 150, `${depthCounts}`);
});

void test('randomAdmissibleBase meets the FLOPs target; feasibleTriples are exactly the grid triples within tolerance', () => {
  for (const name of PRESET_NAMES) {
    const space = getPreset(name);
    const rng = new Rng(name);
    for (let i = 0; i < 5; i++) {
      const base = randomAdmissibleBase(space, rng);
      assert.ok(isBaseAdmissible(space, base));
      const m0 = baseMacs(space, base);
      assert.ok(Math.abs(m0 - space.flops.target) <= space.flops.tolerance);
      for (let s = 0; s < space.levels.length; s++) {
        const feas = feasibleTriples(space, base, s);
        assert.ok(feas.length > 0, `${name} level ${s} has a feasible triple`);
        assert.equal(feas.length, levelTriples(space, s).filter((m) => isScaledFeasible(space, base, s, m)).length);
      }
    }
  }
});

void test('randomAdmissibleBase explains an unreachable target', () => {
  const space = getPreset('tiny');
  space.flops.target = 1e12;
  assert.throws(() => randomAdmissibleBase(space, new Rng(1), 50), /widen flops\.tolerance/);
});
