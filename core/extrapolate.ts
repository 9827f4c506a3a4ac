/**
 * extrapolateScaling (DESIGN §3.8): continue the searched family S0..S_L to levels the super-supernet
 * does not cover, by following the trend of the searched multipliers rather than a fixed rule.
 */
import type { Base, Multipliers } from './arch';
import { architectureMacs } from './feasibility';
import type { SearchSpace } from './space';
import { fitLogLinear, solveAlongTrend, type RoundingOptions, type ScalingTrend, type SolvedPoint } from './trend';

/** Options of {@link extrapolateScaling}. */
export interface ExtrapolationOptions extends RoundingOptions {
  /** K: levels to add after the last given one (default 2). */
  readonly extraLevels?: number;
}

/** The fitted trend and the new family members. */
export interface Extrapolation {
  /** ln m_s = a + b·s per dimension, fitted over the given levels (resolution in pixels). */
  readonly coefficients: ScalingTrend;
  /** MACs of S0, the base at σ_0. */
  readonly baseMacs: number;
  /** Levels L+1 .. L+K; each targets 2^s · MACs(S0). */
  readonly levels: readonly (SolvedPoint & { readonly level: number })[];
}

/**
 * Fits ln m_s = a + b·s per dimension over σ_0..σ_L (`strategies[s]` is level s), then for each new
 * level s > L solves for the point t along the fitted line where `base` scaled costs 2^s · MACs(S0)
 * (resolution rounded to a multiple of `resolutionMultiple`, default 8; depth becomes layers through
 * `up`). The solved t is reported: it is close to s when the family's MACs double per level.
 */
export function extrapolateScaling(space: SearchSpace, base: Base, strategies: readonly Multipliers[],
  options: ExtrapolationOptions = {}): Extrapolation {
  if (strategies.length < 2) throw new RangeError('extrapolateScaling: need σ for at least two levels');
  const levels = strategies.map((_, s) => s);
  const coefficients: ScalingTrend = {
    depth: fitLogLinear(levels, strategies.map((m) => m.depth)),
    width: fitLogLinear(levels, strategies.map((m) => m.width)),
    resolution: fitLogLinear(levels, strategies.map((m) => m.resolution)),
  };
  const s0 = strategies[0] as Multipliers;
  const baseMacs = architectureMacs(space, { stages: base, ...s0 });
  const out: (SolvedPoint & { level: number })[] = [];
  const L = strategies.length - 1;
  let tPrev = L;
  for (let k = 1; k <= (options.extraLevels ?? 2); k++) {
    const level = L + k;
    const point = solveAlongTrend(space, base, coefficients, 2 ** level * baseMacs, tPrev, options);
    out.push({ level, ...point });
    tPrev = point.t;
  }
  return { coefficients, baseMacs, levels: out };
}
