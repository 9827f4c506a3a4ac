/**
 * The FLOPs constraint of the search (DESIGN §3.7, reference code `check_flops`): a base must be near
 * the space's target, and a base scaled to level s must cost about 2^s times the base. All quantities
 * are MACs as counted by `countNetwork`.
 */
import type { Architecture, Base, Multipliers } from './arch';
import { countNetwork } from './flops';
import { scaleNetwork } from './scaling';
import type { SearchSpace } from './space';

/** MACs of `arch` in `space`. */
export function architectureMacs(space: SearchSpace, arch: Architecture): number {
  return countNetwork(scaleNetwork(space, arch)).macs;
}

/** MACs of a base at level 0 (d = w = 1, base resolution). */
export function baseMacs(space: SearchSpace, stages: Base): number {
  return architectureMacs(space, { stages, depth: 1, width: 1, resolution: space.resolution });
}

/** True when |MACs(base) − target| ≤ tolerance: the base may be part of the search. */
export function isBaseAdmissible(space: SearchSpace, stages: Base, macs = baseMacs(space, stages)): boolean {
  return Math.abs(macs - space.flops.target) <= space.flops.tolerance;
}

/**
 * The scaled-FLOPs error of `m` for `base` at `level`: |MACs(b scaled by m) − 2^s·MACs(b)| − scaleTolerance·2^s.
 * ≤ 0 means feasible; the magnitude says how far off a candidate is (used for penalty fitness).
 */
export function scaledExcess(space: SearchSpace, stages: Base, level: number, m: Multipliers,
  macsOfBase = baseMacs(space, stages)): number {
  const scaled = architectureMacs(space, { stages, depth: m.depth, width: m.width, resolution: m.resolution });
  const k = 2 ** level;
  return Math.abs(scaled - k * macsOfBase) - space.flops.scaleTolerance * k;
}

/** True when `base` scaled by `m` is feasible at `level`: |MACs(scaled) − 2^s·MACs(b)| ≤ scaleTolerance·2^s. */
export function isScaledFeasible(space: SearchSpace, stages: Base, level: number, m: Multipliers,
  macsOfBase = baseMacs(space, stages)): boolean {
  return scaledExcess(space, stages, level, m, macsOfBase) <= 0;
}

/** Every (d, w, r) triple of level s's grid, in grid order (depth outermost, resolution innermost). */
export function levelTriples(space: SearchSpace, level: number): Multipliers[] {
  const l = space.levels[level];
  if (!l) throw new RangeError(`level ${level} does not exist (levels 0..${space.levels.length - 1})`);
  const out: Multipliers[] = [];
  for (const depth of l.depth) for (const width of l.width) for (const resolution of l.resolution) {
    out.push({ depth, width, resolution });
  }
  return out;
}

/** The triples of level s that are feasible for `base` (grid order). Level 0's single triple is always feasible. */
export function feasibleTriples(space: SearchSpace, stages: Base, level: number): Multipliers[] {
  const m0 = baseMacs(space, stages);
  return levelTriples(space, level).filter((m) => isScaledFeasible(space, stages, level, m, m0));
}

/**
 * True when a base can take part in the search: it meets the FLOPs target and every level 1..L has at
 * least one feasible triple for it (otherwise some family member could not exist at all).
 */
export function isSearchableBase(space: SearchSpace, stages: Base): boolean {
  const m0 = baseMacs(space, stages);
  if (!isBaseAdmissible(space, stages, m0)) return false;
  for (let s = 1; s < space.levels.length; s++) {
    if (!levelTriples(space, s).some((m) => isScaledFeasible(space, stages, s, m, m0))) return false;
  }
  return true;
}

/** A canonical key of a triple. */
export function tripleKey(m: Multipliers): string {
  return `d${m.depth}|w${m.width}|r${m.resolution}`;
}
