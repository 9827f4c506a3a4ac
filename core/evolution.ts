/**
 * Evolutionary operators on base architectures (DESIGN §3.7 (a)): tournament selection, stage-wise
 * crossover of kernel lists, mutation of one kernel or one stage depth, and breeding of a deduplicated,
 * admissible offspring. All randomness comes from the {@link Rng} passed in.
 */
import { baseKey, type Base } from './arch';
import { baseMacs, isBaseAdmissible } from './feasibility';
import type { Rng } from './rng';
import type { SearchSpace } from './space';

/** A base with its fitness (higher is better). */
export interface ScoredBase {
  readonly base: Base;
  readonly fitness: number;
}

/**
 * Tournament selection: draws `size` members uniformly (with replacement) and returns the fittest;
 * ties go to the earlier draw, so the result depends only on the RNG stream.
 */
export function tournamentSelect(population: readonly ScoredBase[], size: number, rng: Rng): ScoredBase {
  let best = rng.choice(population);
  for (let i = 1; i < size; i++) {
    const c = rng.choice(population);
    if (c.fitness > best.fitness) best = c;
  }
  return best;
}

/** Stage-wise uniform crossover: each stage's whole kernel list comes from parent a or b with equal chance. */
export function crossover(a: Base, b: Base, rng: Rng): Base {
  return a.map((stage, i) => (rng.bool() ? stage : (b[i] ?? stage)).slice());
}

/**
 * Mutation: with equal chance, changes one kernel (a random layer gets a different allowed kernel) or one
 * stage depth (a random stage gets a different depth in 1..maxDepth; new layers take random kernels).
 * Falls back to the other kind when one is impossible (single-kernel space, or all maxDepth = 1); returns
 * an unchanged copy when neither is possible.
 */
export function mutate(space: SearchSpace, base: Base, rng: Rng): Base {
  const out = base.map((s) => s.slice());
  const kernelStages = space.stages.map((s, i) => i).filter((i) => (space.stages[i]?.kernels.length ?? 0) > 1);
  const depthStages = space.stages.map((s, i) => i).filter((i) => (space.stages[i]?.maxDepth ?? 1) > 1);
  let kind: 'kernel' | 'depth' = rng.bool() ? 'kernel' : 'depth';
  if (kind === 'kernel' && kernelStages.length === 0) kind = 'depth';
  if (kind === 'depth' && depthStages.length === 0) kind = 'kernel';
  if (kind === 'kernel') {
    if (kernelStages.length === 0) return out;
    const si = rng.choice(kernelStages);
    const stage = out[si] as number[];
    const j = rng.int(0, stage.length - 1);
    stage[j] = rng.choice((space.stages[si]?.kernels ?? []).filter((k) => k !== stage[j]));
  } else {
    if (depthStages.length === 0) return out;
    const si = rng.choice(depthStages);
    const spec = space.stages[si]!;
    const stage = out[si] as number[];
    const depths = Array.from({ length: spec.maxDepth }, (_, i) => i + 1).filter((d) => d !== stage.length);
    const d = rng.choice(depths);
    if (d < stage.length) stage.length = d;
    else while (stage.length < d) stage.push(rng.choice(spec.kernels));
  }
  return out;
}

/** Parameters of {@link breed}. */
export interface BreedOptions {
  readonly count: number;
  readonly tournamentSize: number;
  readonly crossoverProb: number;
  readonly mutationProb: number;
  /** Keys (see `baseKey`) of bases that must not be produced again (the current population). */
  readonly exclude: ReadonlySet<string>;
  /** Attempts per requested child before giving up on filling the offspring (default 50). */
  readonly triesPerChild?: number;
  /** Which children may join; default: bases within the FLOPs target ({@link isBaseAdmissible}). */
  readonly admissible?: (base: Base) => boolean;
}

/**
 * Breeds up to `count` new, distinct, FLOPs-admissible children from `population`: tournament-select a
 * parent, with probability crossoverProb cross it with a second one, then with probability mutationProb
 * mutate. A child that duplicates an excluded or already bred base is mutated again (a duplicate is
 * wasted evaluation budget); one outside the FLOPs target is dropped. May return fewer than `count`
 * children when the space is nearly exhausted.
 */
export function breed(space: SearchSpace, population: readonly ScoredBase[], rng: Rng, o: BreedOptions): Base[] {
  const seen = new Set(o.exclude);
  const out: Base[] = [];
  const maxTries = o.count * (o.triesPerChild ?? 50);
  for (let tries = 0; out.length < o.count && tries < maxTries; tries++) {
    const a = tournamentSelect(population, o.tournamentSize, rng);
    let child = a.base.map((s) => s.slice());
    if (rng.bool(o.crossoverProb)) child = crossover(a.base, tournamentSelect(population, o.tournamentSize, rng).base, rng);
    if (rng.bool(o.mutationProb)) child = mutate(space, child, rng);
    for (let k = 0; k < 3 && seen.has(baseKey(child)); k++) child = mutate(space, child, rng);
    const key = baseKey(child);
    const ok = o.admissible ? o.admissible(child) : isBaseAdmissible(space, child, baseMacs(space, child));
    if (seen.has(key) || !ok) continue;
    seen.add(key);
    out.push(child);
  }
  return out;
}
