/**
 * `scalenet compare A B [C…]` (issue 15): several completed runs side by side — their families' accuracy
 * against MACs on shared axes, latency where it was measured, per-stage cost, and the differences between
 * their resolved configs. Pure: cli/commands/compare.ts reads the runs; this builds the JSON, the text table
 * and the self-contained page (plots rendered to inline SVG by report/render.ts, as the run report).
 */
import type { TopLevelSpec } from 'vega-lite' with { 'resolution-mode': 'import' };
import type { RunResults } from '../activities/records';
import { costLines, type RunCost } from '../core/cost';
import { diffConfigs } from '../core/lineage';
import { STAGES } from '../core/pipeline';
import type { Chart } from './charts';
import { escapeHtml, table } from './html';
import { accuracyText } from './model';
import { renderSvg } from './render';

export const COMPARE_FORMAT = 'scalenet.compare/v1';

export interface ComparedRun {
  runId: string;
  results: RunResults;
  cost: RunCost;
}

/** `compare --json`: one entry per run (family and cost) and every config path whose values differ. */
export interface Comparison {
  format: typeof COMPARE_FORMAT;
  runs: {
    runId: string;
    configName: string;
    configHash: string;
    /** Run whose super-supernet this one reused, if any. */
    supernetFrom: string | null;
    family: { model: string; kind: string; macs: number; params: number; supernetAccuracy: number | null; retrainedAccuracy: number | null; latencyMs: number | null }[];
    cost: RunCost;
  }[];
  /** Paths of the resolved configs (dotted) whose values differ, with each run's value in run order. */
  configDiff: { path: string; values: unknown[] }[];
}

function valueAt(obj: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), obj);
}

export function comparison(runs: readonly ComparedRun[]): Comparison {
  const first = runs[0]?.results.config;
  const paths = [...new Set(runs.slice(1).flatMap((r) => diffConfigs(first, r.results.config).map((d) => d.path)))].sort();
  return {
    format: COMPARE_FORMAT,
    runs: runs.map((r) => ({
      runId: r.runId,
      configName: r.results.config.name,
      configHash: r.results.configHash,
      supernetFrom: r.results.lineage?.sourceRunId ?? null,
      family: r.results.family.map((f) => ({
        model: f.model, kind: f.kind, macs: f.macs, params: f.params,
        supernetAccuracy: f.supernetAccuracy, retrainedAccuracy: f.retrainedAccuracy, latencyMs: f.latencyMs,
      })),
      cost: r.cost,
    })),
    configDiff: paths.map((path) => ({ path, values: runs.map((r) => valueAt(r.results.config, path)) })),
  };
}

const shown = (v: unknown) => (v === undefined ? '(unset)' : JSON.stringify(v));

/** The comparison as text: one line per model of each run, each run's cost, then the config differences. */
export function comparisonText(c: Comparison): string {
  const out: string[] = [];
  for (const r of c.runs) {
    out.push(`${r.runId} (config ${r.configName}, hash ${r.configHash.slice(0, 12)}${r.supernetFrom ? `, supernet from ${r.supernetFrom}` : ''})`);
    for (const f of r.family) {
      out.push(`  ${f.model.padEnd(4)} ${f.kind.padEnd(12)} ${f.macs.toLocaleString('en-US').padStart(14)} MACs  retrained ${accuracyText(f.retrainedAccuracy)}`);
    }
    out.push(...costLines(r.cost).map((l) => `  ${l}`), '');
  }
  if (c.configDiff.length === 0) out.push('the resolved configs are identical');
  else {
    out.push(`config differences (${c.runs.map((r) => r.runId).join(' | ')}):`);
    for (const d of c.configDiff) out.push(`  ${d.path}: ${d.values.map(shown).join(' | ')}`);
  }
  return out.join('\n');
}

const WIDTH = 640;
const HEIGHT = 320;

/** Accuracy against MACs of every run's family on one pair of axes (colour = run, shape = searched or baseline). */
export function familiesChart(c: Comparison): Chart {
  const rows = c.runs.flatMap((r) => r.family
    .filter((f) => f.retrainedAccuracy !== null)
    .sort((a, b) => a.macs - b.macs)
    .map((f, order) => ({ run: r.runId, model: f.model, kind: f.kind === 'baseline' ? 'baseline (compound scaling)' : 'searched family', macs: f.macs, accuracy: f.retrainedAccuracy as number, order })));
  const x = { field: 'macs', type: 'quantitative', title: 'MACs (log scale)', scale: { type: 'log' }, axis: { format: '~s' } } as const;
  const y = { field: 'accuracy', type: 'quantitative', title: 'test accuracy (retrained)', scale: { zero: false }, axis: { format: '.1~%' } } as const;
  const color = { field: 'run', type: 'nominal', title: 'run', legend: { orient: 'bottom', columns: 1 } } as const;
  const spec: TopLevelSpec = {
    width: WIDTH, height: HEIGHT, data: { values: rows },
    layer: [
      { mark: { type: 'line', strokeWidth: 1.5 }, encoding: { x, y, color, detail: { field: 'kind' }, strokeDash: { field: 'kind', type: 'nominal', title: null }, order: { field: 'order' } } },
      { mark: { type: 'point', filled: true, size: 60 }, encoding: { x, y, color, shape: { field: 'kind', type: 'nominal', title: null }, tooltip: [{ field: 'run' }, { field: 'model' }, { field: 'macs', format: ',' }, { field: 'accuracy', format: '.2%' }] } },
      { mark: { type: 'text', dy: -9, fontSize: 10 }, encoding: { x, y, text: { field: 'model' }, color } },
    ],
  };
  return { id: 'families', title: 'Accuracy against MACs, every run', caption: 'Each run\'s retrained family (solid) and compound-scaling baselines (dashed) on shared axes: a family above and to the left of another is the better trade-off.', spec, rows: rows.length };
}

/** Test accuracy against batch-1 latency, where the retrain stage measured it. */
export function latencyChart(c: Comparison): Chart {
  const rows = c.runs.flatMap((r) => r.family
    .filter((f) => f.retrainedAccuracy !== null && f.latencyMs !== null)
    .map((f) => ({ run: r.runId, model: f.model, latencyMs: f.latencyMs as number, accuracy: f.retrainedAccuracy as number })));
  const spec: TopLevelSpec = {
    width: WIDTH, height: HEIGHT, data: { values: rows },
    mark: { type: 'point', filled: true, size: 60 },
    encoding: {
      x: { field: 'latencyMs', type: 'quantitative', title: 'latency at batch 1 (ms)' },
      y: { field: 'accuracy', type: 'quantitative', title: 'test accuracy (retrained)', scale: { zero: false }, axis: { format: '.1~%' } },
      color: { field: 'run', type: 'nominal', title: 'run', legend: { orient: 'bottom', columns: 1 } },
      tooltip: [{ field: 'run' }, { field: 'model' }, { field: 'latencyMs', format: '.2f' }, { field: 'accuracy', format: '.2%' }],
    },
  };
  return { id: 'latency', title: 'Accuracy against latency', caption: 'Batch-1 latency of each retrained model on the worker that trained it.', spec, rows: rows.length };
}

/** Compute seconds per stage, one bar per run, stages in pipeline order. */
export function costChart(c: Comparison): Chart {
  const order = [...STAGES] as string[];
  const rows = c.runs.flatMap((r) => r.cost.stages.map((s) => ({ run: r.runId, stage: s.stage, seconds: s.computeSeconds })))
    .sort((a, b) => (order.indexOf(a.stage) + 1 || 99) - (order.indexOf(b.stage) + 1 || 99));
  const spec: TopLevelSpec = {
    width: WIDTH, height: { step: 14 }, data: { values: rows },
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'stage', type: 'nominal', title: null, sort: order },
      yOffset: { field: 'run', type: 'nominal' },
      x: { field: 'seconds', type: 'quantitative', title: 'compute seconds' },
      color: { field: 'run', type: 'nominal', title: 'run', legend: { orient: 'bottom', columns: 1 } },
      tooltip: [{ field: 'run' }, { field: 'stage' }, { field: 'seconds', format: ',.1f' }],
    },
  };
  return { id: 'cost', title: 'Compute per stage, side by side', caption: 'A run that reused a super-supernet spends nothing on train-supernet: the cost it avoided is listed below.', spec, rows: rows.length };
}

export function comparisonCharts(c: Comparison): Chart[] {
  return [familiesChart(c), latencyChart(c), costChart(c)];
}

const CSS = `
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; margin: 2rem auto; max-width: 1100px; padding: 0 1rem; color: #222; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #ddd; } h3 { font-size: 1.05rem; }
code { font-size: .85rem; background: #f4f4f4; padding: 0 .2rem; }
table { border-collapse: collapse; font-size: .85rem; margin: .6rem 0; } th, td { padding: .25rem .55rem; border-bottom: 1px solid #e5e5e5; text-align: left; vertical-align: top; }
th { background: #f7f7f7; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
figure.plot { margin: 1.2rem 0 2rem; } figure.plot svg { max-width: 100%; height: auto; } figcaption { color: #555; font-size: .85rem; } .empty { color: #a50f15; }
`;

/** The comparison page: everything inline (no script, font, image or stylesheet URL), so it opens offline. */
export async function buildComparisonHtml(c: Comparison, generatedAt: string): Promise<string> {
  const figures: string[] = [];
  for (const ch of comparisonCharts(c)) {
    const body = ch.rows > 0 ? await renderSvg(ch.spec) : '<p class="empty">Not measured in these runs.</p>';
    figures.push(`<figure class="plot" id="plot-${escapeHtml(ch.id)}" data-plot="${escapeHtml(ch.id)}" data-rows="${ch.rows}">
<h3>${escapeHtml(ch.title)}</h3>
${body}
<figcaption>${escapeHtml(ch.caption)}</figcaption></figure>`);
  }
  const secs = (x: number | null) => (x === null ? '—' : `${x.toFixed(1)} s`);
  const runsTable = table(['run', 'config', 'hash', 'supernet from', 'models', 'best retrained acc', 'compute', 'wall', 'images', 'supernet training avoided'],
    c.runs.map((r) => {
      const best = Math.max(...r.family.map((f) => f.retrainedAccuracy ?? -Infinity));
      return [r.runId, r.configName, r.configHash.slice(0, 12), r.supernetFrom ?? '', String(r.family.length), accuracyText(Number.isFinite(best) ? best : null),
        secs(r.cost.totalComputeSeconds), secs(r.cost.wallSeconds), r.cost.images === null ? '—' : r.cost.images.toLocaleString('en-US'), r.cost.avoided ? secs(r.cost.avoided.computeSeconds) : ''];
    }), [false, false, false, false, true, true, true, true, true, true]);
  const stages = [...new Set(c.runs.flatMap((r) => r.cost.stages.map((s) => s.stage)))];
  const costTable = table(['stage', ...c.runs.flatMap((r) => [`${r.runId} compute`, 'wall'])],
    stages.map((st) => [st, ...c.runs.flatMap((r) => { const s = r.cost.stages.find((x) => x.stage === st); return [secs(s?.computeSeconds ?? null), secs(s?.wallSeconds ?? null)]; })]),
    [false, ...c.runs.flatMap(() => [true, true])]);
  const diff = c.configDiff.length === 0
    ? '<p>The resolved configs are identical.</p>'
    : table(['config path', ...c.runs.map((r) => r.runId)], c.configDiff.map((d) => [d.path, ...d.values.map(shown)]));
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ScaleNet runs compared: ${escapeHtml(c.runs.map((r) => r.runId).join(', '))}</title>
<style>${CSS}</style></head>
<body>
<h1>ScaleNet runs compared</h1>
<p>Built ${escapeHtml(generatedAt)}.</p>
<section id="runs"><h2>Runs</h2>
${runsTable}</section>
<section id="tradeoff"><h2>Accuracy and cost</h2>
${figures.join('\n')}</section>
<section id="cost"><h2>Cost per stage</h2>
${costTable}</section>
<section id="config-diff"><h2>Config differences</h2>
${diff}</section>
</body></html>
`;
}
