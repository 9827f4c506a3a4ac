/**
 * The supernet trust score (issue 11): K sub-networks sampled across the scaling levels are retrained from
 * scratch, and the rank agreement between the accuracy the shared weights gave them and their retrained
 * accuracy answers "can I trust this supernet's ranking on my data?". Pure: sampling takes a seed, the
 * rank correlations take two arrays.
 */
import type { Architecture } from './arch';
import { architectureKey } from './arch';
import { isScaledFeasible, levelTriples } from './feasibility';
import { Rng } from './rng';
import { randomAdmissibleBase } from './sampler';
import type { SearchSpace } from './space';

/** A sub-network chosen for calibration. */
export interface CalibrationSubnet {
  /** `C1`, `C2`, …: the retraining child of each is `<run>.calibration.C<i>`. */
  name: string;
  level: number;
  arch: Architecture;
}

/** One calibration point: the same sub-network scored with shared weights and after retraining. */
export interface CalibrationPoint extends CalibrationSubnet {
  macs: number;
  /** Minival accuracy with the super-supernet's weights (BN recalibrated), as the search scores candidates. */
  supernetAccuracy: number;
  /** Test accuracy after training the sub-network alone for `steps` steps. */
  retrainedAccuracy: number;
}

/** What the calibration stage reports (results.json `calibration`). */
export interface CalibrationReport {
  steps: number;
  points: CalibrationPoint[];
  /** Kendall's τ-b between supernet and retrained accuracy (ties handled); null when undefined (all tied). */
  kendallTau: number | null;
  /** Spearman's ρ (Pearson correlation of average ranks); null when undefined. */
  spearmanRho: number | null;
}

/**
 * K sub-networks spread over the levels (level i mod (L+1) for the i-th), each a random admissible base
 * with a random feasible triple of its level, distinct by architecture. Deterministic in `seed`.
 */
export function sampleCalibrationSubnets(space: SearchSpace, count: number, seed: number): CalibrationSubnet[] {
  const rng = new Rng(`calibration:${seed}`);
  const out: CalibrationSubnet[] = [];
  const seen = new Set<string>();
  for (let tries = 0; out.length < count; tries++) {
    if (tries > 1000 * count) throw new RangeError(`could not find ${count} distinct feasible calibration sub-networks; lower calibration.subnets`);
    const level = out.length % space.levels.length;
    const base = randomAdmissibleBase(space, rng);
    const feasible = levelTriples(space, level).filter((m) => isScaledFeasible(space, base, level, m));
    if (feasible.length === 0) continue;
    const arch: Architecture = { stages: base, ...rng.choice(feasible) };
    const key = architectureKey(arch);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ name: `C${out.length + 1}`, level, arch });
  }
  return out;
}

function checkPaired(x: readonly number[], y: readonly number[]): void {
  if (x.length !== y.length) throw new RangeError(`rank correlation needs paired samples, got ${x.length} and ${y.length} values`);
  if ([...x, ...y].some((v) => !Number.isFinite(v))) throw new RangeError('rank correlation needs finite values');
}

/**
 * Kendall's τ-b: (concordant − discordant) / √((n0 − tx)(n0 − ty)), where n0 = n(n−1)/2 and tx, ty count
 * the pairs tied in x and in y. A pair tied in either is neither concordant nor discordant. Null when the
 * denominator is 0 (fewer than 2 values, or all values of one side tied).
 */
export function kendallTau(x: readonly number[], y: readonly number[]): number | null {
  checkPaired(x, y);
  const n = x.length;
  let concordant = 0;
  let discordant = 0;
  let tiedX = 0;
  let tiedY = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const dx = Math.sign((x[j] as number) - (x[i] as number));
      const dy = Math.sign((y[j] as number) - (y[i] as number));
      if (dx === 0) tiedX++;
      if (dy === 0) tiedY++;
      if (dx !== 0 && dy !== 0) {
        if (dx === dy) concordant++;
        else discordant++;
      }
    }
  }
  const n0 = (n * (n - 1)) / 2;
  const denominator = Math.sqrt((n0 - tiedX) * (n0 - tiedY));
  return denominator === 0 ? null : (concordant - discordant) / denominator;
}

/** Ranks 1..n, ties getting the mean of the ranks they span. */
export function averageRanks(values: readonly number[]): number[] {
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
  const ranks = new Array<number>(values.length);
  for (let start = 0; start < order.length;) {
    let end = start;
    while (end + 1 < order.length && order[end + 1]!.v === order[start]!.v) end++;
    const rank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) ranks[order[k]!.i] = rank;
    start = end + 1;
  }
  return ranks;
}

/** Spearman's ρ: the Pearson correlation of the average ranks. Null when either side has no variance. */
export function spearmanRho(x: readonly number[], y: readonly number[]): number | null {
  checkPaired(x, y);
  const rx = averageRanks(x);
  const ry = averageRanks(y);
  const n = rx.length;
  if (n < 2) return null;
  const mean = (n + 1) / 2;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const a = (rx[i] as number) - mean;
    const b = (ry[i] as number) - mean;
    sxy += a * b;
    sxx += a * a;
    syy += b * b;
  }
  return sxx === 0 || syy === 0 ? null : sxy / Math.sqrt(sxx * syy);
}

/** The report of a finished calibration: points and both rank correlations. */
export function calibrationReport(steps: number, points: CalibrationPoint[]): CalibrationReport {
  const s = points.map((p) => p.supernetAccuracy);
  const r = points.map((p) => p.retrainedAccuracy);
  return { steps, points, kendallTau: kendallTau(s, r), spearmanRho: spearmanRho(s, r) };
}
