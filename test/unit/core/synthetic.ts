/**
 * A synthetic fitness with a known optimum on the `tiny` space, for testing the search without a
 * network: accuracy is a smooth function of the base (per-stage kernel preferences and a preferred depth)
 * and of the multipliers (more width, resolution and depth help, with diminishing returns), so the
 * FLOPs constraint makes the joint choice of base and scaling a real trade-off.
 */
import type { Architecture, Base, Multipliers } from '../../../core/arch';
import { isScaledFeasible, isSearchableBase, levelTriples } from '../../../core/feasibility';
import type { SearchSpace } from '../../../core/space';

const PREFERRED_KERNEL = [3, 5, 5, 3];
const PREFERRED_DEPTH = [1, 2, 2, 1];

/** Accuracy in [0, 1] of an architecture of `tiny`. */
export function syntheticAccuracy(arch: Architecture): number {
  let k = 0;
  arch.stages.forEach((layers, i) => {
    const match = layers.filter((x) => x === PREFERRED_KERNEL[i]).length / layers.length;
    k += match - 0.15 * Math.abs(layers.length - (PREFERRED_DEPTH[i] ?? 1));
  });
  const m = 0.5 * Math.log(arch.width) + 0.35 * Math.log(arch.resolution / 28) + 0.25 * Math.log(arch.depth);
  return Math.min(1, Math.max(0, 0.35 + 0.08 * k + 0.5 * m));
}

/** Every base of a space (all depths × kernels); fine for `tiny` (1,008 bases). */
export function allBases(space: SearchSpace): Base[] {
  let out: Base[] = [[]];
  for (const stage of space.stages) {
    const lists: number[][] = [];
    const grow = (prefix: number[]): void => {
      if (prefix.length > 0) lists.push(prefix);
      if (prefix.length < stage.maxDepth) for (const k of stage.kernels) grow([...prefix, k]);
    };
    grow([]);
    out = out.flatMap((b) => lists.map((l) => [...b, l]));
  }
  return out;
}

/**
 * The exact optimum of the search objective: max over searchable bases b and chains σ_1 ≤ … ≤ σ_L
 * (componentwise, each feasible for b) of the mean accuracy over levels 1..L — by dynamic programming
 * over the chain for every base.
 */
export function exactOptimum(space: SearchSpace, acc: (a: Architecture) => number): { fitness: number; base: Base; strategies: Multipliers[] } {
  const L = space.levels.length - 1;
  let best = { fitness: -Infinity, base: [] as Base, strategies: [] as Multipliers[] };
  const leq = (a: Multipliers, b: Multipliers) => a.depth <= b.depth && a.width <= b.width && a.resolution <= b.resolution;
  for (const base of allBases(space)) {
    if (!isSearchableBase(space, base)) continue;
    // value[s] = list of {m, total, chain}: best total over levels 1..s ending in m.
    let prev = [{ m: { depth: 1, width: 1, resolution: space.resolution }, total: 0, chain: [] as Multipliers[] }];
    for (let s = 1; s <= L; s++) {
      const next: typeof prev = [];
      for (const m of levelTriples(space, s)) {
        if (!isScaledFeasible(space, base, s, m)) continue;
        const from = prev.filter((p) => leq(p.m, m));
        if (from.length === 0) continue;
        const p = from.reduce((a, b) => (b.total > a.total ? b : a));
        next.push({ m, total: p.total + acc({ stages: base, ...m }), chain: [...p.chain, m] });
      }
      prev = next;
    }
    for (const p of prev) if (p.total / L > best.fitness) best = { fitness: p.total / L, base, strategies: p.chain };
  }
  return best;
}
