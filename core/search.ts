/**
 * Markov-chain evolutionary search (DESIGN §3.7) as a pure state machine that a workflow drives one
 * step at a time:
 *
 *     let st = createSearch(config.search, space, seed);
 *     while (!isDone(st)) st = submitFitness(st, await evaluate(nextCandidates(st)));
 *     const result = searchResult(st);
 *
 * Steps: (init) score every triple of every level by its mean fitness over N random admissible bases and
 * pick σ_1..σ_L along the chain; then R rounds of (a) a base GA with σ fixed — fitness of a base is the
 * weighted mean accuracy of its versions scaled by σ_1..σ_L — seeded with earlier rounds' best bases, and
 * (b) re-choosing σ_s level by level among triples feasible for the new best base that do not shrink any
 * multiplier relative to σ_{s−1}; (final) evaluate the best base at level 0.
 * Candidates are memoised by architecture: nothing is asked twice. Infeasible ones (outside the FLOPs
 * tolerance) are never asked; they score {@link penaltyFitness}.
 */
import { architectureKey, baseKey, type Base, type Multipliers } from './arch';
import { SearchConfigSchema, type SearchConfig } from './config';
import { breed } from './evolution';
import { architectureMacs, baseMacs, isBaseAdmissible, isSearchableBase, levelTriples } from './feasibility';
import { Rng } from './rng';
import { randomAdmissibleBase } from './sampler';
import type { SearchSpace } from './space';
import type { Candidate, FitnessResult, SearchParams, SearchState, StrategyChoice } from './search-state';
import { maxLevel } from './space';

export type * from './search-state';

/**
 * Fitness of an infeasible candidate: below −1, so below any accuracy, and lower the further the MACs
 * are from the target (so selection still moves towards feasibility). `excess` is |ΔMACs| relative to
 * the level's target.
 */
export function penaltyFitness(relativeExcess: number): number {
  return -1 - Math.abs(relativeExcess);
}

/** Thrown by {@link submitFitness} for answers that do not fit the pending candidates. */
export class SearchProtocolError extends Error {
  override readonly name = 'SearchProtocolError';
}

function normaliseParams(space: SearchSpace, c: SearchConfig): SearchParams {
  const L = maxLevel(space);
  if (L < 1) throw new RangeError('the search needs at least one scaling level above level 0');
  const raw = c.fitnessWeights === 'uniform' ? Array.from({ length: L }, () => 1) : c.fitnessWeights;
  if (raw.length !== L) throw new RangeError(`search.fitnessWeights: expected ${L} weights (levels 1..${L}), got ${raw.length}`);
  const total = raw.reduce((a, b) => a + b, 0);
  if (!(total > 0)) throw new RangeError('search.fitnessWeights: at least one weight must be positive');
  return {
    initBases: c.initBases, rounds: c.rounds, population: c.population, generations: c.generations,
    tournamentSize: c.tournamentSize, mutationProb: c.mutationProb, crossoverProb: c.crossoverProb,
    elites: c.elites, fitnessWeights: raw.map((w) => w / total),
  };
}

/** Draws up to `n` distinct searchable bases (fewer only if the space has fewer). */
function distinctBases(space: SearchSpace, rng: Rng, n: number, exclude: Set<string>): Base[] {
  const out: Base[] = [];
  for (let tries = 0; out.length < n && tries < n * 50; tries++) {
    const b = randomAdmissibleBase(space, rng);
    const k = baseKey(b);
    if (exclude.has(k) || !isSearchableBase(space, b)) continue;
    exclude.add(k);
    out.push(b);
  }
  return out;
}

/**
 * Creates a search. `config` is the run config's `search` section (partial: defaults are applied);
 * `space` the resolved search space; `seed` fixes every random choice. The returned state already holds
 * the first batch of candidates.
 */
export function createSearch(config: Partial<SearchConfig>, space: SearchSpace, seed: number): SearchState {
  const params = normaliseParams(space, SearchConfigSchema.parse(config));
  const rng = new Rng(seed);
  const initBases = distinctBases(space, rng, params.initBases, new Set());
  const st: SearchState = {
    version: 1, seed, space: JSON.parse(JSON.stringify(space)) as SearchSpace, params,
    rng: rng.state(), phase: { kind: 'init' }, pending: [], memo: {}, evaluations: 0, initBases,
    strategies: space.levels.map(() => ({ depth: 1, width: 1, resolution: space.resolution })),
    members: [], population: [], hallOfFame: [], generations: [], choices: [],
  };
  advance(st);
  return st;
}

/** The candidates to evaluate now, in a deterministic order; [] when done. Does not change the state. */
export function nextCandidates(state: SearchState): readonly Candidate[] {
  return state.pending;
}

/** True when the search has finished; then {@link searchResult} may be called. */
export function isDone(state: SearchState): boolean {
  return state.phase.kind === 'done';
}

/**
 * Records fitness for pending candidates (any subset; the state advances once all are answered) and
 * returns the new state; the input state is not modified. Throws {@link SearchProtocolError} for an id
 * that is not pending or a fitness outside [0, 1].
 */
export function submitFitness(state: SearchState, results: readonly FitnessResult[]): SearchState {
  const st = JSON.parse(JSON.stringify(state)) as SearchState;
  for (const r of results) {
    const i = st.pending.findIndex((c) => c.id === r.id);
    if (i < 0) throw new SearchProtocolError(`candidate "${r.id}" is not pending (already answered, or never asked)`);
    if (typeof r.fitness !== 'number' || !(r.fitness >= 0 && r.fitness <= 1)) {
      throw new SearchProtocolError(`candidate "${r.id}": fitness must be an accuracy in [0, 1], got ${r.fitness}`);
    }
    st.memo[r.id] = r.fitness;
    st.pending.splice(i, 1);
    st.evaluations++;
  }
  if (st.pending.length === 0) advance(st);
  return st;
}

// ---------------------------------------------------------------------------------------------------
// The state machine. `advance` runs phases until one needs fitness that is not memoised yet.

type Lookup = { known: true; value: number } | { known: false; candidate: Candidate };

/** Fitness of `base` scaled by `m` at `level`: memoised, penalty when infeasible, or a candidate to ask. */
function lookup(st: SearchState, base: Base, level: number, m: Multipliers): Lookup {
  const { space } = st;
  const m0 = baseMacs(space, base);
  if (!isBaseAdmissible(space, base, m0)) return { known: true, value: penaltyFitness((m0 - space.flops.target) / space.flops.target) };
  const arch = { stages: base, depth: m.depth, width: m.width, resolution: m.resolution };
  const macs = level === 0 ? m0 : architectureMacs(space, arch);
  const k = 2 ** level;
  if (Math.abs(macs - k * m0) > space.flops.scaleTolerance * k) return { known: true, value: penaltyFitness((macs - k * m0) / (k * m0)) };
  const id = architectureKey(arch);
  const value = st.memo[id];
  if (value !== undefined) return { known: true, value };
  return { known: false, candidate: { id, level, arch: { ...arch, stages: base.map((s) => s.slice()) }, macs } };
}

/** Resolves many lookups; returns the values, or null after queueing the unknown ones as pending. */
function resolveAll(st: SearchState, asks: readonly (readonly [Base, number, Multipliers])[]): number[] | null {
  const values: number[] = [];
  const seen = new Set<string>();
  for (const [b, s, m] of asks) {
    const r = lookup(st, b, s, m);
    if (r.known) values.push(r.value);
    else if (!seen.has(r.candidate.id)) {
      seen.add(r.candidate.id);
      st.pending.push(r.candidate);
    }
  }
  return st.pending.length > 0 ? null : values;
}

/** Weighted base fitness under the current σ; all lookups must be known. */
function baseFitness(st: SearchState, base: Base): number {
  let f = 0;
  st.params.fitnessWeights.forEach((w, i) => {
    const r = lookup(st, base, i + 1, st.strategies[i + 1] as Multipliers);
    if (!r.known) throw new Error('internal: base fitness asked before its candidates were evaluated');
    f += w * r.value;
  });
  return f;
}

function notShrinking(m: Multipliers, prev: Multipliers): boolean {
  return m.depth >= prev.depth && m.width >= prev.width && m.resolution >= prev.resolution;
}

/** Best-scoring triple; ties go to the first in grid order. */
function argmax<T extends { score: number }>(xs: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const x of xs) if (best === undefined || x.score > best.score) best = x;
  return best;
}

function advance(st: SearchState): void {
  for (;;) {
    if (st.pending.length > 0) return;
    const ph = st.phase;
    if (ph.kind === 'done') return;
    if (ph.kind === 'init') { if (!stepInit(st)) return; }
    else if (ph.kind === 'evolve') { if (!stepEvolve(st, ph.round, ph.generation)) return; }
    else if (ph.kind === 'rechoose') { if (!stepRechoose(st, ph.round, ph.level)) return; }
    else if (ph.kind === 'final') {
      const best = st.population[0];
      if (!best || resolveAll(st, [[best.base, 0, st.strategies[0] as Multipliers]]) === null) return;
      st.phase = { kind: 'done' };
    }
  }
}

/** Initial scoring: every triple of every level, averaged over the init bases; then the chain σ_1..σ_L. */
function stepInit(st: SearchState): boolean {
  const L = maxLevel(st.space);
  const asks: [Base, number, Multipliers][] = [];
  for (let s = 1; s <= L; s++) for (const m of levelTriples(st.space, s)) for (const b of st.initBases) asks.push([b, s, m]);
  if (resolveAll(st, asks) === null) return false;
  for (let s = 1; s <= L; s++) {
    const scored = levelTriples(st.space, s).map((m) => ({
      multipliers: m,
      score: st.initBases.reduce((a, b) => a + (lookup(st, b, s, m) as { value: number }).value, 0) / st.initBases.length,
    }));
    const prev = st.strategies[s - 1] as Multipliers;
    const mono = scored.filter((c) => notShrinking(c.multipliers, prev));
    const pick = argmax(mono.length > 0 ? mono : scored);
    if (!pick) throw new Error(`internal: level ${s} has no triples`);
    st.strategies[s] = pick.multipliers;
    st.choices.push({ round: -1, level: s, candidates: scored, chosen: pick.multipliers, relaxed: mono.length > 0 ? 'none' : 'monotone' });
  }
  enterRound(st, 0);
  return true;
}

function enterRound(st: SearchState, round: number): void {
  const rng = Rng.fromState(st.rng);
  const elites = st.hallOfFame.slice(0, Math.min(st.params.elites, st.params.population)).map((e) => e.base);
  const exclude = new Set(elites.map(baseKey));
  st.members = [...elites, ...distinctBases(st.space, rng, st.params.population - elites.length, exclude)];
  st.population = [];
  st.rng = rng.state();
  st.phase = { kind: 'evolve', round, generation: 0 };
}

/** One GA generation: wait for the members' fitness, select survivors, record, breed the next members. */
function stepEvolve(st: SearchState, round: number, generation: number): boolean {
  const L = maxLevel(st.space);
  const asks: [Base, number, Multipliers][] = [];
  for (const b of st.members) for (let s = 1; s <= L; s++) asks.push([b, s, st.strategies[s] as Multipliers]);
  if (resolveAll(st, asks) === null) return false;
  const scored = st.members.map((base) => ({ base, fitness: baseFitness(st, base) }));
  // (μ + λ) survival; the stable sort keeps parents ahead of equally fit children.
  st.population = [...st.population, ...scored].sort((a, b) => b.fitness - a.fitness).slice(0, st.params.population);
  st.generations.push({
    round, generation, evaluated: scored.length,
    population: st.population.map((p) => ({ base: p.base, fitness: p.fitness, macs: baseMacs(st.space, p.base) })),
    strategies: st.strategies.slice(1),
  });
  const hof = new Map(st.hallOfFame.map((h) => [baseKey(h.base), h]));
  for (const p of scored) {
    const k = baseKey(p.base);
    const old = hof.get(k);
    if (!old || p.fitness > old.fitness) hof.set(k, p);
  }
  st.hallOfFame = [...hof.values()].sort((a, b) => b.fitness - a.fitness).slice(0, st.params.population);
  st.members = [];
  if (generation < st.params.generations) {
    const rng = Rng.fromState(st.rng);
    st.members = breed(st.space, st.population, rng, {
      count: st.params.population, tournamentSize: st.params.tournamentSize,
      crossoverProb: st.params.crossoverProb, mutationProb: st.params.mutationProb,
      exclude: new Set(st.population.map((p) => baseKey(p.base))),
      admissible: (b) => isSearchableBase(st.space, b),
    });
    st.rng = rng.state();
  }
  st.phase = st.members.length > 0
    ? { kind: 'evolve', round, generation: generation + 1 }
    : { kind: 'rechoose', round, level: 1 };
  return true;
}

/** Candidate triples for σ_s of `base`: feasible and not shrinking relative to σ_{s−1}, with fallbacks. */
function rechooseCandidates(st: SearchState, base: Base, level: number): { triples: Multipliers[]; relaxed: StrategyChoice['relaxed'] } {
  const prev = st.strategies[level - 1] as Multipliers;
  const feasible = levelTriples(st.space, level).filter((m) => {
    const r = lookup(st, base, level, m);
    return !r.known || r.value >= 0; // a memoised value ≥ 0 is an accuracy; penalties are < −1
  });
  const mono = feasible.filter((m) => notShrinking(m, prev));
  if (mono.length > 0) return { triples: mono, relaxed: 'none' };
  if (feasible.length > 0) return { triples: feasible, relaxed: 'monotone' };
  return { triples: [], relaxed: 'kept' };
}

/** Re-choose σ_level for the round's best base (the chain's transition from σ_{level−1}). */
function stepRechoose(st: SearchState, round: number, level: number): boolean {
  const best = st.population[0];
  if (!best) throw new Error('internal: empty population');
  const { triples, relaxed } = rechooseCandidates(st, best.base, level);
  if (resolveAll(st, triples.map((m) => [best.base, level, m] as const)) === null) return false;
  const scored = triples.map((m) => ({ multipliers: m, score: (lookup(st, best.base, level, m) as { value: number }).value }));
  const pick = argmax(scored);
  const chosen = pick ? pick.multipliers : (st.strategies[level] as Multipliers);
  st.strategies[level] = chosen;
  st.choices.push({ round, level, candidates: scored, chosen, relaxed });
  const L = maxLevel(st.space);
  if (level < L) st.phase = { kind: 'rechoose', round, level: level + 1 };
  else {
    // The round's best keeps its place; its fitness is now measured under the new σ.
    st.population[0] = { base: best.base, fitness: baseFitness(st, best.base) };
    if (round + 1 < st.params.rounds) enterRound(st, round + 1);
    else st.phase = { kind: 'final' };
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------
// Result and synchronous driver.

/** One member of the found family. */
export interface FamilyMember {
  readonly level: number;
  readonly multipliers: Multipliers;
  readonly macs: number;
  /** Fitness (minival accuracy) read off the shared weights; a penalty (< −1) if infeasible. */
  readonly accuracy: number;
  readonly feasible: boolean;
}

/** What the search found, plus its audit trail. */
export interface SearchResult {
  /** The base network b (S0's per-stage kernels). */
  readonly base: Base;
  /** σ_0..σ_L (σ_0 = (1, 1, base resolution)). */
  readonly strategies: readonly Multipliers[];
  /** S0..S_L with MACs and accuracy. */
  readonly family: readonly FamilyMember[];
  /** Weighted mean accuracy of the base over levels 1..L: the GA's objective. */
  readonly fitness: number;
  /** Distinct architectures evaluated (the search cost in evaluations). */
  readonly evaluations: number;
  readonly generations: SearchState['generations'];
  readonly choices: SearchState['choices'];
  readonly initBases: Base[];
}

/** The result of a finished search; throws if it is not done. */
export function searchResult(state: SearchState): SearchResult {
  if (!isDone(state)) throw new SearchProtocolError(`search is not done (phase ${state.phase.kind}); keep calling submitFitness`);
  const best = state.population[0];
  if (!best) throw new Error('internal: empty population at the end of the search');
  const family = state.strategies.map((m, level): FamilyMember => {
    const r = lookup(state, best.base, level, m);
    const value = r.known ? r.value : Number.NaN;
    return {
      level, multipliers: m, accuracy: value, feasible: value >= 0,
      macs: architectureMacs(state.space, { stages: best.base, ...m }),
    };
  });
  return {
    base: best.base.map((s) => s.slice()),
    strategies: state.strategies.map((m) => ({ ...m })),
    family,
    fitness: baseFitness(state, best.base),
    evaluations: state.evaluations,
    generations: state.generations,
    choices: state.choices,
    initBases: state.initBases,
  };
}

/**
 * Runs a search to the end against a synchronous fitness function (tests, the CLI, quick experiments).
 * `onBatch` sees every batch before it is evaluated (e.g. to record a trace or to checkpoint the state).
 */
export function runSearchSync(state: SearchState, fitness: (c: Candidate) => number,
  onBatch?: (batch: readonly Candidate[], state: SearchState) => void): { state: SearchState; result: SearchResult } {
  let st = state;
  while (!isDone(st)) {
    const batch = nextCandidates(st);
    if (batch.length === 0) throw new Error('internal: search is not done but asks for nothing');
    onBatch?.(batch, st);
    st = submitFitness(st, batch.map((c) => ({ id: c.id, fitness: fitness(c) })));
  }
  return { state: st, result: searchResult(st) };
}
