/**
 * The report's plots as Vega-Lite specs built from {@link ReportData} (pure: report/render.ts compiles
 * and renders them to SVG). Each chart carries its data inline (`data.values`), so a rendered SVG needs
 * nothing from the network.
 */
import type { TopLevelSpec } from 'vega-lite' with { 'resolution-mode': 'import' };
import { STAGES } from '../core/pipeline';
import {
  generationFitness, paretoFront, thinLoss,
  type ReportData, type Tradeoff,
} from './model';

export interface Chart {
  /** Stable id (the figure's `data-plot` attribute). */
  id: string;
  title: string;
  /** What the plot shows and how to read it (shown under it). */
  caption: string;
  spec: TopLevelSpec;
  /** Rows the data marks are drawn from; 0 means the plot would be empty. */
  rows: number;
}

const WIDTH = 640;
const HEIGHT = 320;

/** Accuracy as a percentage with two decimals (Vega formats; values stay in [0, 1]). */
const pctAxis = { format: '.1~%' } as const;

// Series of the accuracy-vs-MACs plot, in legend order.
const SERIES = {
  evaluated: 'evaluated sub-networks (minival, shared weights)',
  pareto: 'Pareto front of the evaluated sub-networks',
  supernet: 'searched family S0..SL (minival, shared weights)',
  retrained: 'searched + extrapolated family (test, retrained)',
  baseline: 'compound-scaling baseline (test, retrained)',
} as const;
const SERIES_COLORS: Record<keyof typeof SERIES, string> = {
  evaluated: '#9ecae1', pareto: '#08519c', supernet: '#31a354', retrained: '#e6550d', baseline: '#756bb1',
};

interface TradeoffRow extends Tradeoff {
  series: string;
  label: string;
  /** Draw order of connected series (by MACs). */
  order: number;
}

/** Accuracy against MACs: every evaluated sub-network, its Pareto front, the family and the baselines. */
export function accuracyVsMacsChart(d: ReportData): Chart {
  const evaluated = d.evaluated;
  const rows: TradeoffRow[] = [];
  for (const e of evaluated) rows.push({ macs: e.macs, accuracy: e.accuracy, series: SERIES.evaluated, label: `${e.id} (level ${e.level})`, order: 0 });
  paretoFront(evaluated).forEach((e, i) => rows.push({ macs: e.macs, accuracy: e.accuracy, series: SERIES.pareto, label: e.id, order: i }));
  const family = [...d.results.family].sort((a, b) => a.macs - b.macs);
  family.forEach((f, i) => {
    if (f.kind === 'searched' && f.supernetAccuracy !== null && f.supernetAccuracy >= 0) {
      rows.push({ macs: f.macs, accuracy: f.supernetAccuracy, series: SERIES.supernet, label: f.model, order: i });
    }
    if (f.retrainedAccuracy !== null) {
      rows.push({ macs: f.macs, accuracy: f.retrainedAccuracy, series: f.kind === 'baseline' ? SERIES.baseline : SERIES.retrained, label: f.model, order: i });
    }
  });
  const keys = Object.keys(SERIES) as (keyof typeof SERIES)[];
  const color = {
    field: 'series', type: 'nominal', title: null,
    scale: { domain: keys.map((k) => SERIES[k]), range: keys.map((k) => SERIES_COLORS[k]) },
    legend: { orient: 'bottom', columns: 2 },
  } as const;
  const x = { field: 'macs', type: 'quantitative', title: 'MACs (log scale)', scale: { type: 'log' }, axis: { format: '~s' } } as const;
  const y = { field: 'accuracy', type: 'quantitative', title: 'accuracy', scale: { zero: false }, axis: pctAxis } as const;
  const tooltip = [{ field: 'label' }, { field: 'series' }, { field: 'macs', format: ',' }, { field: 'accuracy', format: '.2%' }];
  const connected = [SERIES.pareto, SERIES.supernet, SERIES.retrained, SERIES.baseline];
  const spec: TopLevelSpec = {
    width: WIDTH, height: HEIGHT,
    data: { values: rows },
    layer: [
      {
        transform: [{ filter: { field: 'series', oneOf: connected } }],
        mark: { type: 'line', strokeWidth: 1.5 },
        encoding: { x, y, color, detail: { field: 'series' }, order: { field: 'order' } },
      },
      {
        mark: { type: 'point', filled: true, size: 45, opacity: 0.85 },
        encoding: {
          x, y, color, tooltip,
          shape: { condition: { test: `datum.series === '${SERIES.evaluated}'`, value: 'circle' }, value: 'diamond' },
          size: { condition: { test: `datum.series === '${SERIES.evaluated}'`, value: 30 }, value: 80 },
        },
      },
      {
        transform: [{ filter: { field: 'series', oneOf: [SERIES.retrained, SERIES.baseline] } }],
        mark: { type: 'text', dy: -10, fontSize: 10 },
        encoding: { x, y, text: { field: 'label' }, color },
      },
    ],
  };
  return {
    id: 'accuracy-vs-macs',
    title: 'Accuracy against MACs',
    caption: d.evaluatedSource === 'search-state'
      ? 'Every sub-network the search evaluated with the shared weights (minival accuracy at its true MACs), their Pareto front, the searched family as read off the super-supernet, and the family and compound-scaling baselines after retraining from scratch (test accuracy).'
      : 'The search state was not available: each searched base is shown at its level-0 MACs with its GA fitness (mean minival accuracy of its scaled versions); the family and baselines as in a full report.',
    spec, rows: rows.length,
  };
}

/**
 * Accuracy against measured latency (the retrain stage's batch-1 figure in ONNX Runtime on the CPU, one
 * thread): the family and the baselines after retraining. Rows only for models that measured latency.
 */
export function accuracyVsLatencyChart(d: ReportData): Chart {
  const family = d.results.family.filter((f) => f.latencyMs !== null && f.retrainedAccuracy !== null).sort((a, b) => a.latencyMs! - b.latencyMs!);
  const rows = family.map((f, i) => ({ latencyMs: f.latencyMs!, accuracy: f.retrainedAccuracy!, series: f.kind === 'baseline' ? SERIES.baseline : SERIES.retrained, label: f.model, order: i }));
  const color = { field: 'series', type: 'nominal', title: null, scale: { domain: [SERIES.retrained, SERIES.baseline], range: [SERIES_COLORS.retrained, SERIES_COLORS.baseline] }, legend: { orient: 'bottom' } } as const;
  const x = { field: 'latencyMs', type: 'quantitative', title: 'latency, ms (batch 1, ONNX Runtime CPU, 1 thread)', scale: { zero: false } } as const;
  const y = { field: 'accuracy', type: 'quantitative', title: 'test accuracy', scale: { zero: false }, axis: pctAxis } as const;
  const spec: TopLevelSpec = {
    width: WIDTH, height: HEIGHT,
    data: { values: rows },
    layer: [
      { mark: { type: 'line', strokeWidth: 1.5 }, encoding: { x, y, color, detail: { field: 'series' }, order: { field: 'order' } } },
      { mark: { type: 'point', filled: true, size: 80 }, encoding: { x, y, color, tooltip: [{ field: 'label' }, { field: 'latencyMs', format: '.3f' }, { field: 'accuracy', format: '.2%' }] } },
      { mark: { type: 'text', dy: -10, fontSize: 10 }, encoding: { x, y, text: { field: 'label' }, color } },
    ],
  };
  return {
    id: 'accuracy-vs-latency',
    title: 'Accuracy against latency',
    caption: 'Test accuracy after retraining against the exported model\'s median batch-1 latency in ONNX Runtime (CPU, one thread), as measured by the retrain stage on its worker.',
    spec, rows: rows.length,
  };
}

/** Best and mean fitness of the surviving population, per generation and round. */
export function fitnessChart(d: ReportData): Chart {
  const gens = generationFitness(d.search.generations);
  const rows = gens.flatMap((g) => [
    { index: g.index, label: g.label, round: `round ${g.round}`, statistic: 'best', fitness: g.best, feasible: `${g.feasible}/${g.size}` },
    { index: g.index, label: g.label, round: `round ${g.round}`, statistic: 'mean', fitness: g.mean, feasible: `${g.feasible}/${g.size}` },
  ]).filter((r) => Number.isFinite(r.fitness));
  const spec: TopLevelSpec = {
    width: WIDTH, height: 240,
    data: { values: rows },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'index', type: 'quantitative', title: 'generation (over all rounds)', axis: { tickMinStep: 1, format: 'd' } },
      y: { field: 'fitness', type: 'quantitative', title: 'fitness (minival accuracy)', scale: { zero: false }, axis: pctAxis },
      color: { field: 'statistic', type: 'nominal', title: null, scale: { domain: ['best', 'mean'], range: ['#08519c', '#9ecae1'] } },
      strokeDash: { field: 'round', type: 'nominal', title: null },
      tooltip: [{ field: 'label' }, { field: 'statistic' }, { field: 'fitness', format: '.2%' }, { field: 'feasible', title: 'feasible members' }],
    },
  };
  return {
    id: 'fitness',
    title: 'Search: fitness per generation',
    caption: 'Best and mean fitness of the population surviving each generation of the base GA: the weighted mean minival accuracy of the base scaled by σ_1..σ_L (σ fixed within a round; rounds are drawn with different dashes). The mean leaves out infeasible members.',
    spec, rows: rows.length,
  };
}

/** Scores of the scaling strategies considered for each level, the chosen one marked. */
export function strategyChart(d: ReportData): Chart {
  const rows = d.search.choices.flatMap((c) =>
    c.candidates.filter((k) => k.score >= 0).map((k) => {
      const m = k.multipliers;
      const chosen = m.depth === c.chosen.depth && m.width === c.chosen.width && m.resolution === c.chosen.resolution;
      return {
        step: `${c.round < 0 ? 'init' : `round ${c.round}`} · level ${c.level}`,
        score: k.score,
        triple: `d ${m.depth}, w ${m.width}, r ${m.resolution}`,
        status: chosen ? 'chosen' : 'candidate',
        relaxed: c.relaxed,
      };
    }),
  );
  const spec: TopLevelSpec = {
    width: WIDTH, height: 220,
    data: { values: rows },
    mark: { type: 'point', filled: true },
    encoding: {
      x: { field: 'step', type: 'ordinal', title: null, sort: null, axis: { labelAngle: 0 } },
      y: { field: 'score', type: 'quantitative', title: 'score (minival accuracy)', scale: { zero: false }, axis: pctAxis },
      color: { field: 'status', type: 'nominal', title: null, scale: { domain: ['chosen', 'candidate'], range: ['#e6550d', '#bdbdbd'] } },
      size: { condition: { test: "datum.status === 'chosen'", value: 120 }, value: 40 },
      tooltip: [{ field: 'step' }, { field: 'triple' }, { field: 'score', format: '.2%' }, { field: 'status' }, { field: 'relaxed' }],
    },
  };
  return {
    id: 'strategies',
    title: 'Search: scaling strategy choices',
    caption: 'For each level, the (depth, width, resolution) triples scored in the initial scoring and in each round, and the one the Markov chain chose (it may not shrink any multiplier relative to the level below).',
    spec, rows: rows.length,
  };
}

/** Supernet training loss over steps, with a moving average. */
export function lossChart(d: ReportData): Chart {
  const rows = thinLoss(d.loss).map((p) => ({ ...p, levelName: `level ${p.level}` }));
  const x = { field: 'step', type: 'quantitative', title: 'training step' } as const;
  const spec: TopLevelSpec = {
    width: WIDTH, height: 240,
    data: { values: rows },
    layer: [
      {
        mark: { type: 'point', filled: true, size: 14, opacity: 0.6 },
        encoding: {
          x, y: { field: 'loss', type: 'quantitative', title: 'training loss', scale: { zero: false } },
          color: { field: 'levelName', type: 'nominal', title: 'sampled level' },
          tooltip: [{ field: 'step' }, { field: 'epoch' }, { field: 'levelName', title: 'level' }, { field: 'loss', format: '.4f' }],
        },
      },
      {
        transform: [{ window: [{ op: 'mean', field: 'loss', as: 'smoothed' }], frame: [-10, 10], sort: [{ field: 'step' }] }],
        mark: { type: 'line', color: '#252525', strokeWidth: 2 },
        encoding: { x, y: { field: 'smoothed', type: 'quantitative' } },
      },
    ],
  };
  return {
    id: 'supernet-loss',
    title: 'Super-supernet training loss',
    caption: `Training loss (label-smoothed cross-entropy) of the sub-network sampled at each step (hierarchical sampling: colour = its scaling level) and its moving average over 21 steps${d.loss.length > rows.length ? `; ${d.loss.length} steps averaged into ${rows.length} points` : ''}. Accuracy during training is not logged; the searched family's minival accuracy is in the table.`,
    spec, rows: rows.length,
  };
}

/**
 * The timeline row of an activity: its stage, split per model where a stage fans out into one child
 * workflow per model (`<run>.retrain.S1` → `retrain S1`), so parallel executions do not hide each other.
 */
export function laneOf(runId: string, stage: string, workflowId: string): string {
  if (!workflowId.startsWith(`${runId}.`)) return stage;
  const parts = workflowId.slice(runId.length + 1).split('.');
  return parts.length > 1 ? `${stage} ${parts.slice(1).join('.')}` : stage;
}

/** When each stage's activities ran, on how many attempts, and how they ended. */
export function timelineChart(d: ReportData): Chart {
  const t0 = Math.min(...d.history.map((e) => Date.parse(e.start)));
  const rows = d.history.map((e) => {
    const start = (Date.parse(e.start) - t0) / 1000;
    const end = e.end ? (Date.parse(e.end) - t0) / 1000 : start;
    return {
      lane: laneOf(d.runId, e.stage, e.workflowId), stage: e.stage, activity: e.activity, start, end: Math.max(end, start + 0.05),
      attempts: e.attempts, outcome: e.attempts > 1 && e.outcome === 'completed' ? 'completed after retry' : e.outcome,
      worker: e.worker ?? '', failure: e.lastFailure ?? '', notes: e.notes.join('; '),
    };
  });
  const stageRank = (stage: string) => { const i = (STAGES as readonly string[]).indexOf(stage); return i < 0 ? STAGES.length : i; };
  // Per-model lanes in family order (S0, S1, …, B1, …), as in the table.
  const models = d.results.family.map((f) => f.model);
  const modelRank = (lane: string) => { const i = models.indexOf(lane.split(' ')[1] ?? ''); return i < 0 ? models.length : i; };
  const order = [...new Map(rows.map((r) => [r.lane, r.stage])).entries()]
    .sort(([la, sa], [lb, sb]) => stageRank(sa) - stageRank(sb) || modelRank(la) - modelRank(lb) || la.localeCompare(lb, 'en', { numeric: true }))
    .map(([lane]) => lane);
  const y = { field: 'lane', type: 'nominal', title: null, sort: order } as const;
  const spec: TopLevelSpec = {
    width: WIDTH, height: { step: 26 },
    data: { values: rows },
    layer: [
      {
        mark: { type: 'bar', height: 14, cornerRadius: 2 },
        encoding: {
          y, x: { field: 'start', type: 'quantitative', title: 'seconds since the run started' }, x2: { field: 'end' },
          color: {
            field: 'outcome', type: 'nominal', title: null,
            scale: { domain: ['completed', 'completed after retry', 'failed', 'timed_out', 'cancelled', 'running'], range: ['#74c476', '#fd8d3c', '#de2d26', '#a50f15', '#969696', '#6baed6'] },
          },
          tooltip: [
            { field: 'lane', title: 'stage' }, { field: 'activity' }, { field: 'attempts' }, { field: 'outcome' }, { field: 'worker' },
            { field: 'start', format: '.1f', title: 'start (s)' }, { field: 'end', format: '.1f', title: 'end (s)' },
            { field: 'failure', title: 'last failure' }, { field: 'notes' },
          ],
        },
      },
      {
        transform: [{ filter: 'datum.attempts > 1' }],
        mark: { type: 'text', align: 'left', dx: 3, fontSize: 10, color: '#a50f15' },
        encoding: { y, x: { field: 'end', type: 'quantitative' }, text: { field: 'attempts', format: 'd' } },
      },
    ],
  };
  return {
    id: 'timeline',
    title: 'Stage timeline',
    caption: 'One bar per activity execution, from when it was scheduled to when it ended, coloured by outcome; a number after a bar is its attempt count (a retry after a lost worker, a storage outage or a corrupt checkpoint). The failures are listed below.',
    spec, rows: rows.length,
  };
}

/** Compute seconds per stage: the search cost. */
export function computeChart(d: ReportData): Chart {
  const order = [...STAGES] as string[];
  const rows = Object.entries(d.results.computeSeconds)
    .filter(([, s]) => Number.isFinite(s))
    .map(([stage, seconds]) => ({ stage, seconds }))
    .sort((a, b) => (order.indexOf(a.stage) + 1 || 99) - (order.indexOf(b.stage) + 1 || 99));
  const spec: TopLevelSpec = {
    width: WIDTH, height: { step: 26 },
    data: { values: rows },
    layer: [
      {
        mark: { type: 'bar', color: '#6baed6' },
        encoding: {
          y: { field: 'stage', type: 'nominal', title: null, sort: null },
          x: { field: 'seconds', type: 'quantitative', title: 'compute seconds (all attempts that contributed)' },
          tooltip: [{ field: 'stage' }, { field: 'seconds', format: ',.1f' }],
        },
      },
      {
        mark: { type: 'text', align: 'left', dx: 3, fontSize: 10 },
        encoding: { y: { field: 'stage', type: 'nominal', sort: null }, x: { field: 'seconds', type: 'quantitative' }, text: { field: 'seconds', format: ',.0f' } },
      },
    ],
  };
  return {
    id: 'compute',
    title: 'Compute time per stage',
    caption: 'Seconds of computation each stage took, summed over workers and over the attempts whose work was kept: the search cost (supernet training + search) against the cost of retraining.',
    spec, rows: rows.length,
  };
}

/**
 * The supernet trust score: each calibration sub-network's accuracy with the shared weights (x) against its
 * accuracy after retraining alone (y). Points rising left to right mean the supernet ranks as training would.
 */
export function calibrationChart(d: ReportData): Chart {
  const cal = d.results.calibration ?? null;
  const rows = (cal?.points ?? []).map((p) => ({ name: p.name, level: `level ${p.level}`, macs: p.macs, supernet: p.supernetAccuracy, retrained: p.retrainedAccuracy }));
  const x = { field: 'supernet', type: 'quantitative', title: 'supernet accuracy (minival, shared weights, BN recalibrated)', scale: { zero: false }, axis: pctAxis } as const;
  const y = { field: 'retrained', type: 'quantitative', title: 'retrained accuracy (test)', scale: { zero: false }, axis: pctAxis } as const;
  const color = { field: 'level', type: 'nominal', title: 'scaling level', legend: { orient: 'bottom' } } as const;
  const fmt = (v: number | null | undefined) => (v === null || v === undefined ? 'undefined' : v.toFixed(3));
  const spec: TopLevelSpec = {
    width: WIDTH, height: HEIGHT,
    data: { values: rows },
    layer: [
      { mark: { type: 'point', filled: true, size: 80 }, encoding: { x, y, color, tooltip: [{ field: 'name' }, { field: 'level' }, { field: 'macs', format: ',' }, { field: 'supernet', format: '.2%' }, { field: 'retrained', format: '.2%' }] } },
      { mark: { type: 'text', dx: 12, align: 'left', fontSize: 10 }, encoding: { x, y, text: { field: 'name' } } },
    ],
  };
  return {
    id: 'calibration',
    title: `Supernet trust: shared-weight vs retrained accuracy (Kendall τ ${fmt(cal?.kendallTau)}, Spearman ρ ${fmt(cal?.spearmanRho)})`,
    caption: cal
      ? `${cal.points.length} sub-networks sampled across the scaling levels, each scored with the super-supernet's weights exactly as the search scores candidates and then trained alone for ${cal.steps} steps. τ and ρ near 1 mean the supernet orders architectures as training them would, so the search optimises something real; near 0 it optimises noise.`
      : 'The calibration stage was off for this run (calibration.subnets: 0).',
    spec, rows: rows.length,
  };
}

/** Every plot of the report, in page order. */
export function reportCharts(d: ReportData): Chart[] {
  const latency = accuracyVsLatencyChart(d);
  const calibration = calibrationChart(d);
  return [accuracyVsMacsChart(d), ...(latency.rows > 0 ? [latency] : []), fitnessChart(d), strategyChart(d), lossChart(d), timelineChart(d), computeChart(d),
    ...(calibration.rows > 0 ? [calibration] : [])];
}
