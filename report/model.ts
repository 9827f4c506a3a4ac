/**
 * What a run report shows, as plain data, and the pure derivations the plots need (Pareto front,
 * per-generation fitness, the evaluated sub-networks recovered from the search memo). No I/O here:
 * report/gather.ts reads a run into a {@link ReportData}; report/charts.ts and report/html.ts turn one
 * into a page, so both can be tested on fixture data.
 */
import type { RunResults } from '../activities/records';
import type { HistoryEntry } from '../cli/history';
import type { Architecture } from '../core/arch';
import { architectureMacs, baseMacs } from '../core/feasibility';
import type { GenerationRecord, StrategyChoice } from '../core/search-state';
import type { SearchSpace } from '../core/space';

/** One sub-network the search evaluated with the shared weights. */
export interface EvaluatedSubnet {
  /** Its memo key (architecture and multipliers). */
  id: string;
  /** Scaling level it belongs to (MACs ≈ 2^level × its base's MACs). */
  level: number;
  macs: number;
  /** Minival accuracy read off the super-supernet's shared weights. */
  accuracy: number;
}

/** One row of a supernet loss log (`runs/<run>/train-supernet/loss/epoch-*.json`). */
export interface LossPoint {
  epoch: number;
  step: number;
  loss: number;
  level: number;
}

export interface ReportData {
  runId: string;
  /** When the report was built (ISO time); shown, never used for layout. */
  generatedAt: string;
  results: RunResults;
  search: {
    generations: readonly GenerationRecord[];
    choices: readonly StrategyChoice[];
  };
  /**
   * Every sub-network evaluated during the search. `search-state`: from the memo of the search's final
   * saved state (true MACs and minival accuracy of each scaled sub-network); `generations`: fallback when
   * that state is gone — population members at their level-0 MACs with their (weighted, levels 1..L) fitness.
   */
  evaluated: EvaluatedSubnet[];
  evaluatedSource: 'search-state' | 'generations';
  loss: LossPoint[];
  history: HistoryEntry[];
}

/** An accuracy over seeds: the mean, with ± half the range when there were several (`88.10% ± 0.25`). */
export interface SeedSpread { mean: number; halfRange: number; seeds: number }

/** `mean` (fraction) as points with two decimals, `± halfRange` when there were several seeds; `unit` follows the mean. */
export function spreadText(a: SeedSpread, unit = '%'): string {
  const pts = (x: number) => `${(x * 100).toFixed(2)}${unit}`;
  return a.seeds > 1 ? `${pts(a.mean)} ± ${(a.halfRange * 100).toFixed(2)}` : pts(a.mean);
}

/** Why a model's row repeats another's numbers: it is the very same network (workflows/run.ts identicalNetworks). */
export function sameNetworkText(trainedAs: string): string {
  return `the same network as ${trainedAs} (its multipliers round to identical layers): retrained once, as ${trainedAs}; same weights, accuracy and export`;
}

/** An accuracy, with ± half the range over seeds when there were several (`88.10% ± 0.25`). */
export function accuracyText(mean: number | null, perSeed?: number[] | null): string {
  if (mean === null || !Number.isFinite(mean)) return '—';
  return spreadText(spread(mean, perSeed));
}

/** One S_s / B_s pair at equal MACs: the comparison a ScaleNet run exists to make. */
export interface PairComparison {
  level: number;
  searched: string;
  baseline: string;
  searchedMacs: number;
  baselineMacs: number;
  /** Baseline MACs ÷ searched MACs (within 1 % of 1). */
  macsRatio: number;
  searchedAccuracy: SeedSpread;
  baselineAccuracy: SeedSpread;
  /** Searched minus baseline mean test accuracy. */
  difference: number;
}

function spread(mean: number, perSeed: readonly number[] | null | undefined): SeedSpread {
  const all = perSeed && perSeed.length > 0 ? perSeed : [mean];
  return { mean, halfRange: (Math.max(...all) - Math.min(...all)) / 2, seeds: all.length };
}

/** Every pair of the results where both S_s and B_s were retrained, by level. */
export function pairComparisons(r: RunResults): PairComparison[] {
  const out: PairComparison[] = [];
  for (const b of r.family.filter((f) => f.kind === 'baseline')) {
    const s = r.family.find((f) => f.model === (b.partner ?? `S${b.level}`));
    if (!s || s.retrainedAccuracy === null || b.retrainedAccuracy === null) continue;
    out.push({
      level: b.level, searched: s.model, baseline: b.model, searchedMacs: s.macs, baselineMacs: b.macs, macsRatio: b.macs / s.macs,
      searchedAccuracy: spread(s.retrainedAccuracy, s.retrainedAccuracies), baselineAccuracy: spread(b.retrainedAccuracy, b.retrainedAccuracies),
      difference: s.retrainedAccuracy - b.retrainedAccuracy,
    });
  }
  return out.sort((a, b) => a.level - b.level);
}

/** A point on an accuracy-vs-MACs plane. */
export interface Tradeoff {
  macs: number;
  accuracy: number;
}

/**
 * The Pareto front of `points` (fewer MACs and higher accuracy are better): the points no other point
 * beats on both, ordered by MACs. Of points with equal MACs only the most accurate can be on the front;
 * a point equal to another on both counts appears once (the first).
 */
export function paretoFront<T extends Tradeoff>(points: readonly T[]): T[] {
  const sorted = points
    .map((p, i) => ({ p, i }))
    .filter(({ p }) => Number.isFinite(p.macs) && Number.isFinite(p.accuracy))
    .sort((a, b) => a.p.macs - b.p.macs || b.p.accuracy - a.p.accuracy || a.i - b.i);
  const front: T[] = [];
  let best = -Infinity;
  for (const { p } of sorted) {
    if (p.accuracy > best) {
      front.push(p);
      best = p.accuracy;
    }
  }
  return front;
}

/** Inverse of core's `architectureKey` (`5.3-7.7|d1.2|w1|r32`); null when `key` is not one. */
export function parseArchitectureKey(key: string): Architecture | null {
  const m = /^([0-9.-]+)\|d([0-9.e+-]+)\|w([0-9.e+-]+)\|r([0-9]+)$/.exec(key);
  if (!m) return null;
  const stages = m[1]!.split('-').map((s) => s.split('.').map(Number));
  if (stages.some((s) => s.length === 0 || s.some((k) => !Number.isInteger(k) || k <= 0))) return null;
  const [depth, width, resolution] = [Number(m[2]), Number(m[3]), Number(m[4])];
  if (!(depth > 0 && width > 0 && resolution > 0)) return null;
  return { stages, depth, width, resolution };
}

/**
 * The evaluated sub-networks from a search memo (architecture key → minival accuracy). The level is
 * recovered from the MACs ratio to the base (the search only asks for sub-networks within its FLOPs
 * tolerance of 2^level × the base). Keys that do not parse, or fitness outside [0, 1], are skipped.
 */
export function evaluatedFromMemo(space: SearchSpace, memo: Readonly<Record<string, number>>): EvaluatedSubnet[] {
  const out: EvaluatedSubnet[] = [];
  for (const [id, accuracy] of Object.entries(memo)) {
    const arch = parseArchitectureKey(id);
    if (!arch || !(accuracy >= 0 && accuracy <= 1)) continue;
    const macs = architectureMacs(space, arch);
    const level = Math.max(0, Math.round(Math.log2(macs / baseMacs(space, arch.stages))));
    out.push({ id, level, macs, accuracy });
  }
  return out.sort((a, b) => a.macs - b.macs || a.id.localeCompare(b.id));
}

/**
 * Fallback when the search memo is not available: each distinct base of the recorded populations at its
 * level-0 MACs, with its GA fitness (mean accuracy of its scaled versions). Infeasible (penalty) members
 * are left out.
 */
export function evaluatedFromGenerations(generations: readonly GenerationRecord[]): EvaluatedSubnet[] {
  const seen = new Map<string, EvaluatedSubnet>();
  for (const g of generations) {
    for (const m of g.population) {
      const id = m.base.map((s) => s.join('.')).join('-');
      if (m.fitness < 0 || seen.has(id)) continue;
      seen.set(id, { id, level: 0, macs: m.macs, accuracy: m.fitness });
    }
  }
  return [...seen.values()].sort((a, b) => a.macs - b.macs || a.id.localeCompare(b.id));
}

/** Best and mean fitness of one generation's surviving population. */
export interface GenerationFitness {
  round: number;
  generation: number;
  /** Position in the search (0, 1, …) over all rounds. */
  index: number;
  label: string;
  best: number;
  /** Mean over feasible members (fitness ≥ 0); infeasible ones score a penalty below −1. */
  mean: number;
  feasible: number;
  size: number;
}

export function generationFitness(generations: readonly GenerationRecord[]): GenerationFitness[] {
  return generations.map((g, index) => {
    const feasible = g.population.map((m) => m.fitness).filter((f) => f >= 0);
    return {
      round: g.round,
      generation: g.generation,
      index,
      label: `round ${g.round} · gen ${g.generation}`,
      best: feasible.length ? Math.max(...feasible) : Number.NaN,
      mean: feasible.length ? feasible.reduce((a, b) => a + b, 0) / feasible.length : Number.NaN,
      feasible: feasible.length,
      size: g.population.length,
    };
  });
}

/**
 * Thins a loss log to at most `maxPoints` by averaging consecutive steps in equal buckets (a long run
 * logs one row per step; an SVG with 10^5 points is too heavy for a page).
 */
export function thinLoss(points: readonly LossPoint[], maxPoints = 1500): LossPoint[] {
  if (points.length <= maxPoints) return points.slice();
  const per = Math.ceil(points.length / maxPoints);
  const out: LossPoint[] = [];
  for (let i = 0; i < points.length; i += per) {
    const chunk = points.slice(i, i + per);
    const last = chunk[chunk.length - 1]!;
    out.push({ epoch: last.epoch, step: last.step, loss: chunk.reduce((a, p) => a + p.loss, 0) / chunk.length, level: last.level });
  }
  return out;
}
