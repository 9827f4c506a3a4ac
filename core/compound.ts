/**
 * compoundScaling: the EfficientNet baseline (Tan & Le 2019) for the same S0 (DESIGN §3.9): depth α^φ,
 * width β^φ, resolution r0·γ^φ with α = 1.2, β = 1.1, γ = 1.15, and φ solved per level so the network
 * costs the same 2^s · MACs(S0) as the searched family — so any accuracy difference is the scaling rule's.
 */
import type { Base, Multipliers } from './arch';
import { architectureMacs } from './feasibility';
import type { SearchSpace } from './space';
import { solveAlongTrend, type RoundingOptions, type ScalingTrend, type SolvedPoint } from './trend';

/** EfficientNet's compound coefficients (α·β²·γ² ≈ 2, so φ ≈ s for level s). */
export const EFFICIENTNET_COEFFICIENTS = { alpha: 1.2, beta: 1.1, gamma: 1.15 } as const;

/** Options of {@link compoundScaling}. */
export interface CompoundOptions extends RoundingOptions {
  readonly alpha?: number;
  readonly beta?: number;
  readonly gamma?: number;
}

/** One member of the compound-scaled family; `t` is φ. */
export type CompoundMember = SolvedPoint & { readonly level: number; readonly phi: number };

/**
 * The compound-scaled family of `base` (at σ_0 = `s0`, default d = w = 1 at the space's resolution) for
 * levels 1..maxLevel, each targeting 2^s · MACs(S0). Resolution is rounded as in the extrapolation.
 */
export function compoundScaling(space: SearchSpace, base: Base, maxLevel: number, options: CompoundOptions = {},
  s0: Multipliers = { depth: 1, width: 1, resolution: space.resolution }): CompoundMember[] {
  const { alpha, beta, gamma } = { ...EFFICIENTNET_COEFFICIENTS, ...options };
  const trend: ScalingTrend = {
    depth: { a: Math.log(s0.depth), b: Math.log(alpha) },
    width: { a: Math.log(s0.width), b: Math.log(beta) },
    resolution: { a: Math.log(s0.resolution), b: Math.log(gamma) },
  };
  const m0 = architectureMacs(space, { stages: base, ...s0 });
  const out: CompoundMember[] = [];
  let phi = 0;
  for (let level = 1; level <= maxLevel; level++) {
    const p = solveAlongTrend(space, base, trend, 2 ** level * m0, phi, options);
    out.push({ level, phi: p.t, ...p });
    phi = p.t;
  }
  return out;
}
