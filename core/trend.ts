/**
 * Scaling along a direction in log-multiplier space, shared by the extrapolation (DESIGN §3.8) and the
 * compound-scaling baseline (§3.9): m(t) = exp(a + b·t) per dimension, with t solved so that the scaled
 * network costs a given number of MACs.
 */
import type { Base, Multipliers } from './arch';
import { architectureMacs } from './feasibility';
import type { SearchSpace } from './space';

/** ln m = a + b·t for one dimension. */
export interface LogLinear {
  readonly a: number;
  readonly b: number;
}

/** A direction for all three dimensions (resolution in pixels, so its `a` is ln of a pixel count). */
export interface ScalingTrend {
  readonly depth: LogLinear;
  readonly width: LogLinear;
  readonly resolution: LogLinear;
}

/** Options for turning a point of the trend into an architecture. */
export interface RoundingOptions {
  /** Resolutions are rounded to the nearest multiple of this (default 8). */
  readonly resolutionMultiple?: number;
  /** Depth and width multipliers are rounded to this many decimals (default 3, like the published 1.653). */
  readonly decimals?: number;
}

/** The multipliers at position t of a trend, rounded as the options say. */
export function trendAt(trend: ScalingTrend, t: number, o: RoundingOptions = {}): Multipliers {
  const q = 10 ** (o.decimals ?? 3);
  const step = o.resolutionMultiple ?? 8;
  const round = (x: number) => Math.round(x * q) / q;
  return {
    depth: round(Math.exp(trend.depth.a + trend.depth.b * t)),
    width: round(Math.exp(trend.width.a + trend.width.b * t)),
    resolution: Math.max(step, Math.round(Math.exp(trend.resolution.a + trend.resolution.b * t) / step) * step),
  };
}

/** Least-squares fit of ln y = a + b·x. */
export function fitLogLinear(xs: readonly number[], ys: readonly number[]): LogLinear {
  if (xs.length !== ys.length || xs.length < 2) throw new RangeError('fitLogLinear: need at least two (x, y) points');
  if (ys.some((y) => !(y > 0))) throw new RangeError('fitLogLinear: multipliers must be positive');
  const n = xs.length;
  const ly = ys.map(Math.log);
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ly.reduce((s, y) => s + y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  xs.forEach((x, i) => {
    sxx += (x - mx) ** 2;
    sxy += (x - mx) * ((ly[i] as number) - my);
  });
  if (sxx === 0) throw new RangeError('fitLogLinear: the x values must not all be equal');
  const b = sxy / sxx;
  return { a: my - b * mx, b };
}

/** A point of the trend that was solved for a MACs target. */
export interface SolvedPoint {
  /** Position along the trend (the continuous "level"). */
  readonly t: number;
  readonly multipliers: Multipliers;
  readonly macs: number;
  readonly targetMacs: number;
  /** (macs − target) / target. */
  readonly relativeError: number;
}

/**
 * Finds t ≥ tStart where `base` scaled by trendAt(t) costs `targetMacs`, as closely as rounding allows:
 * brackets the crossing by doubling the step, bisects to 1e-9, then takes whichever rounded
 * architecture on either side of the crossing is closer to the target. Requires the trend to grow MACs (b ≥ 0 in every
 * dimension, not all 0); throws a RangeError otherwise or when the target is below the start.
 */
export function solveAlongTrend(space: SearchSpace, base: Base, trend: ScalingTrend, targetMacs: number,
  tStart: number, o: RoundingOptions = {}): SolvedPoint {
  const b = [trend.depth.b, trend.width.b, trend.resolution.b];
  if (b.some((x) => x < 0) || b.every((x) => x === 0)) {
    throw new RangeError(`the scaling trend must not shrink any dimension (slopes: depth ${trend.depth.b}, width ${trend.width.b}, resolution ${trend.resolution.b})`);
  }
  const macsAt = (t: number) => architectureMacs(space, { stages: base, ...trendAt(trend, t, o) });
  let lo = tStart;
  if (macsAt(lo) > targetMacs) {
    // Already past the target at the start: walk back until below (the previous level may overshoot slightly).
    let step = 0.25;
    while (macsAt(lo) > targetMacs) {
      lo -= step;
      step *= 2;
      if (lo < tStart - 64) throw new RangeError(`target ${targetMacs} MACs lies far below the trend's start`);
    }
  }
  let step = 0.5;
  let hi = lo + step;
  while (macsAt(hi) < targetMacs) {
    lo = hi;
    step *= 2;
    hi = lo + step;
    if (step > 1e6) throw new RangeError('the scaling trend does not reach the target MACs');
  }
  while (hi - lo > 1e-9) {
    const mid = (lo + hi) / 2;
    if (macsAt(mid) < targetMacs) lo = mid;
    else hi = mid;
  }
  // Depth moves in whole layers and spatial sizes in whole pixels, so MACs jump at the crossing: take
  // the closer side. The residual error is reported (relativeError), never hidden.
  const pick = (t: number): SolvedPoint => {
    const multipliers = trendAt(trend, t, o);
    const macs = architectureMacs(space, { stages: base, ...multipliers });
    return { t, multipliers, macs, targetMacs, relativeError: (macs - targetMacs) / targetMacs };
  };
  const below = pick(lo);
  const above = pick(hi);
  return Math.abs(above.relativeError) < Math.abs(below.relativeError) ? above : below;
}
