import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { getPreset } from '../../../core/presets';
import {
  createSearch, isDone, nextCandidates, runSearchSync, searchResult, submitFitness, SearchProtocolError,
  type Candidate, type SearchState,
} from '../../../core/search';
import { baseIssues } from '../../../core/arch';
import { architectureMacs, feasibleTriples, isScaledFeasible, isSearchableBase } from '../../../core/feasibility';
import { sha256Hex } from '../../../core/hash';
import { allBases, exactOptimum, syntheticAccuracy } from './synthetic';

const tiny = getPreset('tiny');
const SMALL = { initBases: 2, population: 6, generations: 2, rounds: 2, elites: 2 };

/** A deterministic pseudo-accuracy in [0, 1) from the candidate id: an arbitrary landscape. */
function hashedAccuracy(salt: string) {
  return (c: Candidate) => parseInt(sha256Hex(salt + c.id).slice(0, 8), 16) / 2 ** 32;
}

void test('with a synthetic fitness of known optimum, the search reaches it within 500 evaluations (9 of 10 seeds exactly, all within 0.02)', () => {
  const opt = exactOptimum(tiny, syntheticAccuracy);
  const searchable = allBases(tiny).filter((b) => isSearchableBase(tiny, b));
  const exhaustive = searchable.reduce((n, b) => n + feasibleTriples(tiny, b, 1).length + feasibleTriples(tiny, b, 2).length, 0);
  let exact = 0;
  for (let seed = 0; seed < 10; seed++) {
    const { result } = runSearchSync(createSearch({}, tiny, seed), (c) => syntheticAccuracy(c.arch));
    const gap = opt.fitness - result.fitness;
    assert.ok(gap >= -1e-12, 'nothing beats the exact optimum');
    assert.ok(gap <= 0.02, `seed ${seed}: gap ${gap} (optimum ${opt.fitness}, found ${result.fitness})`);
    assert.ok(result.evaluations <= 500, `seed ${seed}: ${result.evaluations} evaluations`);
    if (gap < 1e-12) {
      exact++;
      assert.deepEqual(result.base, opt.base);
    }
  }
  assert.ok(exact >= 9, `exact optimum in ${exact}/10 seeds`);
  // For scale: exhaustive search would evaluate every feasible (base, triple) pair: over 40× more.
  assert.equal(searchable.length, 732);
  assert.ok(exhaustive > 20_000, `${exhaustive} feasible architectures`);
});

void test('the same seed gives a byte-identical trace and result; another seed differs', () => {
  const run = (seed: number) => {
    const trace: string[] = [];
    const { result } = runSearchSync(createSearch(SMALL, tiny, seed), hashedAccuracy('x'), (b) => trace.push(JSON.stringify(b)));
    return { trace: trace.join('\n'), result: JSON.stringify(result) };
  };
  const a = run(7), b = run(7), c = run(8);
  assert.equal(a.trace, b.trace);
  assert.equal(a.result, b.result);
  assert.notEqual(a.trace, c.trace);
});

void test('serialising the state to JSON at any point and continuing from the parsed copy gives the identical result (property)', () => {
  const fitness = hashedAccuracy('cut');
  const reference = JSON.stringify(runSearchSync(createSearch(SMALL, tiny, 3), fitness).result);
  fc.assert(fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 4 }), (cuts) => {
    let st: SearchState = createSearch(SMALL, tiny, 3);
    let step = 0;
    while (!isDone(st)) {
      const batch = nextCandidates(st);
      // Answer a random prefix first (partial submission), then the rest; round-trip through JSON in between.
      const k = Math.floor((cuts[step % cuts.length] ?? 0) * batch.length);
      const answer = (cs: readonly Candidate[]) => cs.map((c) => ({ id: c.id, fitness: fitness(c) }));
      st = JSON.parse(JSON.stringify(submitFitness(st, answer(batch.slice(0, k))))) as SearchState;
      st = JSON.parse(JSON.stringify(submitFitness(st, answer(nextCandidates(st).filter((c) => batch.some((b) => b.id === c.id)))))) as SearchState;
      step++;
    }
    assert.equal(JSON.stringify(searchResult(st)), reference);
  }), { numRuns: 25, seed: 4 });
});

void test('every architecture the search returns is feasible, and nothing infeasible or already known is ever asked (property)', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 1e6 }), fc.string({ maxLength: 4 }), (seed, salt) => {
    const asked = new Set<string>();
    const { result } = runSearchSync(createSearch(SMALL, tiny, seed), hashedAccuracy(salt), (batch) => {
      for (const c of batch) {
        assert.ok(!asked.has(c.id), `asked twice: ${c.id}`);
        asked.add(c.id);
        assert.equal(c.macs, architectureMacs(tiny, c.arch));
        if (c.level > 0) assert.ok(isScaledFeasible(tiny, c.arch.stages, c.level, c.arch));
      }
    });
    assert.deepEqual(baseIssues(tiny, result.base), []);
    assert.ok(isSearchableBase(tiny, result.base));
    for (const m of result.family) {
      assert.ok(m.feasible && isScaledFeasible(tiny, result.base, m.level, m.multipliers), `level ${m.level} feasible`);
      assert.ok(m.accuracy >= 0 && m.accuracy <= 1);
    }
    assert.equal(result.evaluations, asked.size);
  }), { numRuns: 15, seed: 5 });
});

void test('σ_s never shrinks a multiplier relative to σ_{s−1} unless the choice records the relaxation', () => {
  for (let seed = 0; seed < 5; seed++) {
    const { result } = runSearchSync(createSearch(SMALL, tiny, seed), hashedAccuracy('mono'));
    for (const c of result.choices) {
      if (c.relaxed !== 'none') continue;
      const prevChoice = result.choices.find((p) => p.round === c.round && p.level === c.level - 1);
      const prev = prevChoice?.chosen ?? { depth: 1, width: 1, resolution: tiny.resolution };
      assert.ok(c.chosen.depth >= prev.depth && c.chosen.width >= prev.width && c.chosen.resolution >= prev.resolution);
      const best = Math.max(...c.candidates.map((x) => x.score));
      assert.equal(c.candidates.find((x) => x.multipliers === c.chosen || JSON.stringify(x.multipliers) === JSON.stringify(c.chosen))?.score, best);
    }
    const last = result.strategies;
    for (let s = 1; s < last.length; s++) assert.ok(last[s]!.width >= last[s - 1]!.width);
  }
});

void test('elitism: each later round starts from the best bases of the earlier rounds; elites: 0 restarts at random', () => {
  const { result } = runSearchSync(createSearch({ ...SMALL, rounds: 3 }, tiny, 11), hashedAccuracy('elite'));
  for (const round of [1, 2]) {
    const prevBest = result.generations.filter((g) => g.round === round - 1).at(-1)!.population[0]!.base;
    const firstGen = result.generations.find((g) => g.round === round && g.generation === 0)!;
    assert.ok(firstGen.population.some((p) => JSON.stringify(p.base) === JSON.stringify(prevBest)), `round ${round} keeps the previous best`);
  }
  const noElites = runSearchSync(createSearch({ ...SMALL, elites: 0 }, tiny, 11), hashedAccuracy('elite')).result;
  assert.equal(noElites.generations.filter((g) => g.round === 1).length > 0, true);
});

void test('the generation records are the audit trail: one per generation, populations sorted best first with MACs', () => {
  const { result } = runSearchSync(createSearch(SMALL, tiny, 2), hashedAccuracy('audit'));
  assert.deepEqual(result.generations.map((g) => `${g.round}.${g.generation}`), ['0.0', '0.1', '0.2', '1.0', '1.1', '1.2']);
  for (const g of result.generations) {
    assert.ok(g.population.length <= SMALL.population && g.population.length > 0);
    for (let i = 1; i < g.population.length; i++) assert.ok(g.population[i - 1]!.fitness >= g.population[i]!.fitness);
    for (const p of g.population) assert.equal(p.macs, architectureMacs(tiny, { stages: p.base, depth: 1, width: 1, resolution: 28 }));
    assert.equal(g.strategies.length, 2);
  }
  assert.equal(result.choices.filter((c) => c.round === -1).length, 2);
});

void test('the protocol rejects unknown ids, out-of-range fitness and an early result, naming the problem', () => {
  const st = createSearch(SMALL, tiny, 1);
  const c = nextCandidates(st)[0]!;
  assert.throws(() => submitFitness(st, [{ id: 'nope', fitness: 0.5 }]), SearchProtocolError);
  assert.throws(() => submitFitness(st, [{ id: c.id, fitness: 1.5 }]), /fitness must be an accuracy in \[0, 1\], got 1.5/);
  assert.throws(() => submitFitness(st, [{ id: c.id, fitness: Number.NaN }]), SearchProtocolError);
  assert.throws(() => searchResult(st), /not done/);
  const next = submitFitness(st, [{ id: c.id, fitness: 0.5 }]);
  assert.equal(nextCandidates(st).length, nextCandidates(next).length + 1, 'the input state is not modified');
  assert.throws(() => submitFitness(next, [{ id: c.id, fitness: 0.5 }]), /not pending/);
});

void test('the search also runs on the paper space, with a state that stays small JSON', () => {
  const { state, result } = runSearchSync(createSearch({ initBases: 2, population: 8, generations: 2, rounds: 1 }, getPreset('paper'), 1), hashedAccuracy('p'));
  assert.equal(result.family.length, 4);
  assert.ok(result.family.every((m) => m.feasible));
  assert.ok(JSON.stringify(state).length < 300_000, `${JSON.stringify(state).length} bytes`);
});
