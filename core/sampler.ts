/**
 * Sampling sub-networks of the super-supernet for training (DESIGN §3.4) and random bases for the search.
 * Every function takes an {@link Rng}; the order in which it draws is part of the contract (a resumed
 * run must draw the same numbers), so change it only together with a note in the changelog.
 */
import type { Architecture, Base } from './arch';
import { baseMacs, isBaseAdmissible } from './feasibility';
import type { Rng } from './rng';
import type { SearchSpace } from './space';

/**
 * How the level of a training step is drawn:
 * - `gridSize` (default, the reference code's choice): p_s ∝ the number of width multipliers of level s
 *   (1 : 4 : 5 : 7 for `paper`), so larger levels, which hold more sub-networks, are trained more often;
 * - `triples`: p_s ∝ the number of (d, w, r) triples of level s;
 * - `uniform`: every level equally often;
 * - an explicit list of non-negative weights, one per level.
 */
export type LevelWeighting = 'gridSize' | 'triples' | 'uniform' | readonly number[];

/** Normalised level probabilities for a weighting; throws on a list of the wrong length or with no mass. */
export function levelProbabilities(space: SearchSpace, weighting: LevelWeighting = 'gridSize'): number[] {
  let w: number[];
  if (weighting === 'gridSize') w = space.levels.map((l) => l.width.length);
  else if (weighting === 'triples') w = space.levels.map((l) => l.depth.length * l.width.length * l.resolution.length);
  else if (weighting === 'uniform') w = space.levels.map(() => 1);
  else {
    if (weighting.length !== space.levels.length) {
      throw new RangeError(`levelWeights: expected ${space.levels.length} weights (one per level), got ${weighting.length}`);
    }
    w = weighting.slice();
  }
  const total = w.reduce((a, b) => a + b, 0);
  if (!(total > 0) || w.some((x) => !(x >= 0) || !Number.isFinite(x))) {
    throw new RangeError('levelWeights: weights must be finite, non-negative and not all zero');
  }
  return w.map((x) => x / total);
}

/** A random base: per stage a depth uniform in 1..maxDepth, then per layer a kernel uniform in the allowed set. */
export function randomBase(space: SearchSpace, rng: Rng): Base {
  return space.stages.map((stage) => {
    const n = rng.int(1, stage.maxDepth);
    return Array.from({ length: n }, () => rng.choice(stage.kernels));
  });
}

/**
 * A random base that satisfies the FLOPs target (rejection sampling, as the reference code's
 * `get_init_basenet`). Throws after `maxTries` draws: the space's target or tolerance is then unreachable.
 */
export function randomAdmissibleBase(space: SearchSpace, rng: Rng, maxTries = 100_000): Base {
  for (let i = 0; i < maxTries; i++) {
    const b = randomBase(space, rng);
    if (isBaseAdmissible(space, b, baseMacs(space, b))) return b;
  }
  throw new RangeError(`no base within ${space.flops.target} ± ${space.flops.tolerance} MACs after ${maxTries} draws; ` +
    `widen flops.tolerance or move flops.target into the space's range`);
}

/** One training path: the sampled level (null for the `uniform` ablation) and the architecture. */
export interface SampledSubnet {
  readonly level: number | null;
  readonly arch: Architecture;
}

/** Options of {@link hierarchicalSampler}. */
export interface HierarchicalSamplerOptions {
  /** Level distribution; default `gridSize`. */
  readonly levelWeights?: LevelWeighting;
}

/**
 * Hierarchical sampling (DESIGN §3.4): level s ~ Categorical(p); then d, w, r uniform in level s's grids
 * (in that order); then a random base ({@link randomBase}). Draw order: level, d, w, r, base.
 */
export function hierarchicalSampler(space: SearchSpace, rng: Rng, options: HierarchicalSamplerOptions = {}): SampledSubnet {
  const p = levelProbabilities(space, options.levelWeights ?? 'gridSize');
  const level = rng.weightedIndex(p);
  const l = space.levels[level];
  if (!l) throw new RangeError(`level ${level} missing`);
  const depth = rng.choice(l.depth);
  const width = rng.choice(l.width);
  const resolution = rng.choice(l.resolution);
  return { level, arch: { stages: randomBase(space, rng), depth, width, resolution } };
}

/** The union of every level's grid per dimension, sorted ascending. */
export function unionGrids(space: SearchSpace): { depth: number[]; width: number[]; resolution: number[] } {
  const u = (f: (l: SearchSpace['levels'][number]) => number[]) =>
    [...new Set(space.levels.flatMap(f))].sort((a, b) => a - b);
  return { depth: u((l) => l.depth), width: u((l) => l.width), resolution: u((l) => l.resolution) };
}

/**
 * The `uniform` ablation sampler: d, w, r each uniform over the union of all levels' grids (ignoring
 * levels), then a random base. Draw order: d, w, r, base.
 */
export function uniformSampler(space: SearchSpace, rng: Rng): SampledSubnet {
  const g = unionGrids(space);
  const depth = rng.choice(g.depth);
  const width = rng.choice(g.width);
  const resolution = rng.choice(g.resolution);
  return { level: null, arch: { stages: randomBase(space, rng), depth, width, resolution } };
}
