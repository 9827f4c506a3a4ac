/**
 * The EfficientNet compound-scaling baseline (Tan & Le 2019) of the same S0 (DESIGN §3.9): depth α^φ,
 * width β^φ, resolution r0·γ^φ, with α, β, γ from the run config (default 1.2 / 1.1 / 1.15).
 *
 * Two uses:
 * - {@link compoundScaling}: the compound family at 2^s · MACs(S0), the extrapolation's fallback direction;
 * - {@link budgetMatchedBaseline}: B_s solved for the MACs of the member S_s it is compared with (within
 *   1 %), so an accuracy difference between S_s and B_s is the scaling rule's and not the budget's.
 */
import type { Base, Multipliers } from './arch';
import { architectureMacs } from './feasibility';
import type { SearchSpace } from './space';
import { solveAlongTrend, type RoundingOptions, type ScalingTrend, type SolvedPoint } from './trend';

/** EfficientNet's compound coefficients (α·β²·γ² ≈ 2, so φ ≈ s for level s). */
export const EFFICIENTNET_COEFFICIENTS = { alpha: 1.2, beta: 1.1, gamma: 1.15 } as const;

/** The compound coefficients of a run (config `retraining.compound`). */
export interface CompoundCoefficients {
  readonly alpha: number;
  readonly beta: number;
  readonly gamma: number;
}

/** Options of {@link compoundScaling}. */
export interface CompoundOptions extends RoundingOptions, Partial<CompoundCoefficients> {}

/** One member of the compound-scaled family; `t` is φ. */
export type CompoundMember = SolvedPoint & { readonly level: number; readonly phi: number };

function compoundTrend(space: SearchSpace, options: CompoundOptions, s0: Multipliers): ScalingTrend {
  const { alpha, beta, gamma } = { ...EFFICIENTNET_COEFFICIENTS, ...options };
  for (const [name, v] of [['alpha', alpha], ['beta', beta], ['gamma', gamma]] as const) {
    if (!(v >= 1) || !Number.isFinite(v)) throw new RangeError(`compound coefficient ${name} must be a finite number ≥ 1, got ${v}`);
  }
  if (alpha * beta * gamma === 1) throw new RangeError('compound coefficients α, β, γ must not all be 1: the baseline would never grow');
  return {
    depth: { a: Math.log(s0.depth), b: Math.log(alpha) },
    width: { a: Math.log(s0.width), b: Math.log(beta) },
    resolution: { a: Math.log(s0.resolution), b: Math.log(gamma) },
  };
}

/**
 * The compound-scaled family of `base` (at σ_0 = `s0`, default d = w = 1 at the space's resolution) for
 * levels 1..maxLevel, each targeting 2^s · MACs(S0). Resolution is rounded as in the extrapolation.
 */
export function compoundScaling(space: SearchSpace, base: Base, maxLevel: number, options: CompoundOptions = {},
  s0: Multipliers = { depth: 1, width: 1, resolution: space.resolution }): CompoundMember[] {
  const trend = compoundTrend(space, options, s0);
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

/** Options of {@link budgetMatchedBaseline}. */
export interface BudgetMatchOptions extends CompoundOptions {
  /** Largest accepted |MACs − target| / target. Default 0.01 (1 %). */
  readonly tolerance?: number;
}

/** A baseline solved for a given MACs budget. */
export interface BudgetMatchedBaseline extends SolvedPoint {
  /** φ of the compound direction the baseline sits on. */
  readonly phi: number;
  /**
   * Width actually used ÷ width of the pure compound point at φ (1 = on the compound curve). Depth moves in
   * whole layers and resolution in steps of `resolutionMultiple` pixels, so the budget is met exactly by
   * trimming width, the one dimension that moves in single channels.
   */
  readonly widthTrim: number;
  /** True when |relativeError| ≤ tolerance. */
  readonly withinTolerance: boolean;
}

/**
 * B for a budget: the compound point of `base` (φ solved with resolution in whole pixels) whose MACs equal
 * `targetMacs`, then — keeping its depth, at the multiples of `resolutionMultiple` around its resolution —
 * the width (4 decimals) that meets the target most closely. Of the candidates within `tolerance` the one
 * nearest the compound curve (smallest |ln widthTrim| + |ln r/r_φ|) wins; if none is within tolerance, the
 * closest one is returned with `withinTolerance: false`, never hidden.
 */
export function budgetMatchedBaseline(space: SearchSpace, base: Base, targetMacs: number, options: BudgetMatchOptions = {},
  s0: Multipliers = { depth: 1, width: 1, resolution: space.resolution }): BudgetMatchedBaseline {
  if (!(targetMacs > 0) || !Number.isFinite(targetMacs)) throw new RangeError(`target MACs must be a positive finite number, got ${targetMacs}`);
  const tolerance = options.tolerance ?? 0.01;
  const step = options.resolutionMultiple ?? 8;
  const trend = compoundTrend(space, options, s0);
  const p = solveAlongTrend(space, base, trend, targetMacs, 0, { decimals: 3, resolutionMultiple: 1 });
  const onCurve = p.multipliers;
  const macsOf = (m: Multipliers) => architectureMacs(space, { stages: base, ...m });
  const q = 10_000;
  const candidates: BudgetMatchedBaseline[] = [];
  const lower = Math.max(step, Math.floor(onCurve.resolution / step) * step);
  // Resolutions on both sides of the compound point: at small image sizes a step of `resolutionMultiple`
  // pixels is a large MACs jump, and a neighbour sometimes meets the budget with a smaller width trim.
  for (const resolution of [lower - step, lower, lower + step, lower + 2 * step].filter((r) => r >= step)) {
    // MACs grow with width: bisect on integer thousandths of the width multiplier.
    let lo = Math.max(1, Math.floor(onCurve.width * q * 0.25));
    let hi = Math.ceil(onCurve.width * q * 4);
    const at = (w: number) => macsOf({ depth: onCurve.depth, width: w / q, resolution });
    if (at(lo) > targetMacs || at(hi) < targetMacs) continue;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (at(mid) < targetMacs) lo = mid;
      else hi = mid;
    }
    for (const w of [lo, hi]) {
      const multipliers = { depth: onCurve.depth, width: w / q, resolution };
      const macs = macsOf(multipliers);
      const relativeError = (macs - targetMacs) / targetMacs;
      candidates.push({ t: p.t, phi: p.t, multipliers, macs, targetMacs, relativeError, widthTrim: multipliers.width / onCurve.width, withinTolerance: Math.abs(relativeError) <= tolerance });
    }
  }
  if (candidates.length === 0) {
    return { ...p, phi: p.t, widthTrim: 1, withinTolerance: Math.abs(p.relativeError) <= tolerance };
  }
  const deviation = (c: BudgetMatchedBaseline) => Math.abs(Math.log(c.widthTrim)) + Math.abs(Math.log(c.multipliers.resolution / onCurve.resolution));
  const ok = candidates.filter((c) => c.withinTolerance);
  if (ok.length > 0) return ok.reduce((a, b) => (deviation(b) < deviation(a) ? b : a));
  return candidates.reduce((a, b) => (Math.abs(b.relativeError) < Math.abs(a.relativeError) ? b : a));
}
