import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { getPreset } from '../../../core/presets';
import { Rng } from '../../../core/rng';
import { baseIssues, baseKey } from '../../../core/arch';
import { breed, crossover, mutate, tournamentSelect } from '../../../core/evolution';
import { isBaseAdmissible } from '../../../core/feasibility';
import { randomAdmissibleBase, randomBase } from '../../../core/sampler';

const paper = getPreset('paper');

void test('crossover takes each stage\'s whole kernel list from one parent (property)', () => {
  fc.assert(fc.property(fc.integer(), (seed) => {
    const rng = new Rng(seed);
    const a = randomBase(paper, rng), b = randomBase(paper, rng);
    const child = crossover(a, b, rng);
    child.forEach((stage, i) => assert.ok(JSON.stringify(stage) === JSON.stringify(a[i]) || JSON.stringify(stage) === JSON.stringify(b[i])));
  }), { numRuns: 200, seed: 1 });
});

void test('mutation changes exactly one kernel or one stage depth and stays in the space (property)', () => {
  fc.assert(fc.property(fc.integer(), (seed) => {
    const rng = new Rng(seed);
    const a = randomBase(paper, rng);
    const m = mutate(paper, a, rng);
    assert.deepEqual(baseIssues(paper, m), []);
    const changedStages = m.map((s, i) => JSON.stringify(s) !== JSON.stringify(a[i])).filter(Boolean).length;
    assert.equal(changedStages, 1);
    const i = m.findIndex((s, k) => JSON.stringify(s) !== JSON.stringify(a[k]));
    const [x, y] = [a[i]!, m[i]!];
    if (x.length === y.length) assert.equal(x.filter((k, j) => k !== y[j]).length, 1, 'one kernel changed');
    else assert.deepEqual(y.slice(0, Math.min(x.length, y.length)), x.slice(0, Math.min(x.length, y.length)), 'depth changed, common prefix kept');
  }), { numRuns: 300, seed: 2 });
});

void test('tournament selection returns the fittest of the drawn members', () => {
  const pop = [0.1, 0.9, 0.5, 0.3].map((fitness, i) => ({ base: [[3 + 2 * (i % 3)]], fitness }));
  const rng = new Rng(3);
  assert.equal(tournamentSelect(pop, 50, rng).fitness, 0.9);
  const wins = Array.from({ length: 2000 }, () => tournamentSelect(pop, 1, rng).fitness);
  assert.ok(wins.filter((w) => w === 0.1).length > 400, 'size 1 is uniform selection');
});

void test('breed returns distinct, admissible children that are not in the excluded set', () => {
  const rng = new Rng(4);
  const pop = Array.from({ length: 8 }, (_, i) => ({ base: randomAdmissibleBase(paper, rng), fitness: i / 8 }));
  const exclude = new Set(pop.map((p) => baseKey(p.base)));
  const kids = breed(paper, pop, rng, { count: 8, tournamentSize: 3, crossoverProb: 0.7, mutationProb: 0.5, exclude });
  assert.equal(kids.length, 8);
  assert.equal(new Set(kids.map(baseKey)).size, 8);
  for (const k of kids) {
    assert.ok(!exclude.has(baseKey(k)));
    assert.ok(isBaseAdmissible(paper, k));
  }
});
