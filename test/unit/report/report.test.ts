/** The run report built from fixture data: derivations, plot specs rendered to SVG, and the page. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { architectureKey } from '../../../core/arch';
import { architectureMacs, baseMacs, levelTriples } from '../../../core/feasibility';
import { getPreset } from '../../../core/presets';
import { laneOf, reportCharts, type Chart } from '../../../report/charts';
import { buildReportHtml, escapeHtml } from '../../../report/html';
import {
  evaluatedFromGenerations, evaluatedFromMemo, generationFitness, paretoFront, parseArchitectureKey, thinLoss,
  type ReportData, type Tradeoff,
} from '../../../report/model';
import { renderSvg } from '../../../report/render';
import { reportFixture } from './fixture';

const dominates = (a: Tradeoff, b: Tradeoff) =>
  a.macs <= b.macs && a.accuracy >= b.accuracy && (a.macs < b.macs || a.accuracy > b.accuracy);

/** Shape elements drawn inside each data-mark group of a Vega SVG (axes, legends and titles excluded). */
function dataMarks(svg: string): { mark: string; items: number }[] {
  const out: { mark: string; items: number }[] = [];
  for (const m of svg.matchAll(/<g class="mark-([a-z]+) role-mark[^"]*"[^>]*>(.*?)<\/g>/gs)) {
    out.push({ mark: m[1]!, items: (m[2]!.match(/<(path|line|text|rect)\b/g) ?? []).length });
  }
  return out;
}

describe('paretoFront', () => {
  it('keeps the points no other point beats on both MACs and accuracy, by MACs', () => {
    const pts = [
      { macs: 10, accuracy: 0.5 }, { macs: 20, accuracy: 0.4 }, { macs: 20, accuracy: 0.6 }, { macs: 30, accuracy: 0.6 },
      { macs: 40, accuracy: 0.8 }, { macs: 5, accuracy: 0.1 }, { macs: 40, accuracy: 0.7 },
    ];
    assert.deepEqual(paretoFront(pts), [{ macs: 5, accuracy: 0.1 }, { macs: 10, accuracy: 0.5 }, { macs: 20, accuracy: 0.6 }, { macs: 40, accuracy: 0.8 }]);
    assert.deepEqual(paretoFront([]), []);
  });

  it('on random points: the front is non-dominated, increasing, and dominates or equals every other point', () => {
    const point = fc.record({ macs: fc.integer({ min: 1, max: 50 }), accuracy: fc.integer({ min: 0, max: 20 }).map((x) => x / 20) });
    fc.assert(fc.property(fc.array(point, { maxLength: 60 }), (pts) => {
      const front = paretoFront(pts);
      for (const f of front) assert.ok(!pts.some((p) => dominates(p, f)), `front point ${JSON.stringify(f)} is dominated`);
      for (let i = 1; i < front.length; i++) {
        assert.ok(front[i]!.macs > front[i - 1]!.macs && front[i]!.accuracy > front[i - 1]!.accuracy, 'front strictly increases');
      }
      for (const p of pts) {
        assert.ok(front.some((f) => dominates(f, p) || (f.macs === p.macs && f.accuracy === p.accuracy)), `${JSON.stringify(p)} is neither on the front nor dominated by it`);
      }
    }));
  });
});

describe('evaluated sub-networks from the search memo', () => {
  const space = getPreset('tiny');
  const base = [[3], [5, 3], [3, 5], [5]];

  it('parses every architecture key core writes, and rejects other strings', () => {
    for (const m of [...levelTriples(space, 1), ...levelTriples(space, 2)]) {
      const arch = { stages: base, ...m };
      assert.deepEqual(parseArchitectureKey(architectureKey(arch)), arch);
    }
    for (const bad of ['', '3-5|d1|w1', '3-x|d1|w1|r28', '3-5|d0|w1|r28', 'a|d1|w1|r28']) assert.equal(parseArchitectureKey(bad), null, bad);
  });

  it('recovers each sub-network\'s level and true MACs; skips unparseable keys and non-accuracies', () => {
    const memo: Record<string, number> = { junk: 0.5 };
    const expected = new Map<string, { level: number; macs: number }>();
    for (const level of [1, 2]) {
      for (const m of levelTriples(space, level)) {
        const arch = { stages: base, ...m };
        const macs = architectureMacs(space, arch);
        if (Math.abs(macs - 2 ** level * baseMacs(space, base)) > space.flops.scaleTolerance * 2 ** level) continue; // the search never asks these
        memo[architectureKey(arch)] = 0.5;
        expected.set(architectureKey(arch), { level, macs });
      }
    }
    memo[architectureKey({ stages: base, depth: 1, width: 1, resolution: 28 })] = 1.5;
    const got = evaluatedFromMemo(space, memo);
    assert.equal(got.length, expected.size);
    for (const e of got) assert.deepEqual({ level: e.level, macs: e.macs }, expected.get(e.id), e.id);
    assert.ok(got.every((e, i) => i === 0 || got[i - 1]!.macs <= e.macs), 'sorted by MACs');
  });

  it('falls back to the recorded populations: distinct feasible bases at their level-0 MACs', () => {
    const gens = [
      { round: 0, generation: 0, evaluated: 2, strategies: [], population: [{ base: [[3]], fitness: 0.5, macs: 10 }, { base: [[5]], fitness: -1.2, macs: 30 }] },
      { round: 0, generation: 1, evaluated: 1, strategies: [], population: [{ base: [[3]], fitness: 0.5, macs: 10 }, { base: [[3, 3]], fitness: 0.6, macs: 20 }] },
    ];
    assert.deepEqual(evaluatedFromGenerations(gens).map((e) => [e.id, e.macs, e.accuracy]), [['3', 10, 0.5], ['3.3', 20, 0.6]]);
  });
});

describe('generation fitness and loss thinning', () => {
  it('best and mean per generation leave out infeasible (penalty) members', () => {
    const g = generationFitness([{ round: 1, generation: 2, evaluated: 3, strategies: [], population: [
      { base: [[3]], fitness: 0.8, macs: 1 }, { base: [[5]], fitness: 0.4, macs: 1 }, { base: [[5, 5]], fitness: -1.5, macs: 1 },
    ] }]);
    assert.equal(g.length, 1);
    assert.equal(g[0]!.best, 0.8);
    assert.ok(Math.abs(g[0]!.mean - 0.6) < 1e-12);
    assert.deepEqual([g[0]!.feasible, g[0]!.size, g[0]!.label], [2, 3, 'round 1 · gen 2']);
  });

  it('thins a long loss log to at most maxPoints bucket means, keeping the step range', () => {
    const pts = Array.from({ length: 10_001 }, (_, i) => ({ epoch: 0, step: i + 1, loss: i % 2, level: 0 }));
    const thin = thinLoss(pts, 1000);
    assert.ok(thin.length <= 1000 && thin.length > 900, `${thin.length} points`);
    assert.equal(thin[thin.length - 1]!.step, 10_001);
    assert.ok(thin.slice(0, -1).every((p) => Math.abs(p.loss - 0.5) <= 0.1), 'bucket means of alternating 0/1');
    assert.equal(thinLoss(pts.slice(0, 10), 1000).length, 10);
  });
});

describe('report plots (Vega-Lite → SVG) on fixture data', () => {
  let data: ReportData;
  let charts: Chart[];
  const svgs = new Map<string, string>();
  before(async () => {
    data = reportFixture();
    charts = reportCharts(data);
    for (const c of charts) svgs.set(c.id, await renderSvg(c.spec));
  });

  it('has the plots the issues ask for, each with data rows', () => {
    assert.deepEqual(charts.map((c) => c.id), ['accuracy-vs-macs', 'accuracy-vs-latency', 'fitness', 'strategies', 'supernet-loss', 'timeline', 'compute', 'calibration']);
    for (const c of charts) {
      const values = (c.spec as { data: { values: unknown[] } }).data.values;
      assert.ok(c.rows > 0 && values.length === c.rows, `${c.id}: ${c.rows} rows, ${values.length} values`);
    }
  });

  it('renders every plot to an SVG whose data marks all hold drawn items', () => {
    for (const c of charts) {
      const svg = svgs.get(c.id)!;
      assert.match(svg, /^<svg [^>]*class="marks"/, c.id);
      const marks = dataMarks(svg);
      assert.ok(marks.length > 0, `${c.id}: no data marks`);
      for (const m of marks) assert.ok(m.items > 0, `${c.id}: empty ${m.mark} mark`);
    }
  });

  it('accuracy vs MACs: one symbol per evaluated sub-network, front point, and family accuracy; the front is that of the evaluated set', () => {
    const c = charts.find((x) => x.id === 'accuracy-vs-macs')!;
    const rows = (c.spec as { data: { values: { series: string; macs: number; accuracy: number }[] } }).data.values;
    const symbols = dataMarks(svgs.get(c.id)!).find((m) => m.mark === 'symbol')!;
    assert.equal(symbols.items, rows.length);
    const evaluated = rows.filter((r) => r.series.startsWith('evaluated'));
    assert.equal(evaluated.length, data.evaluated.length);
    const front = rows.filter((r) => r.series.startsWith('Pareto'));
    assert.deepEqual(front.map((r) => [r.macs, r.accuracy]), paretoFront(data.evaluated).map((e) => [e.macs, e.accuracy]));
    assert.ok(front.length >= 2, 'a real search has a front of several points');
    const familyWithAcc = data.results.family.filter((f) => f.retrainedAccuracy !== null).length;
    assert.equal(rows.filter((r) => r.series.includes('retrained')).length, familyWithAcc);
  });

  it('accuracy vs latency: one point per retrained model that measured latency, and no plot for a run without latency', () => {
    const c = charts.find((x) => x.id === 'accuracy-vs-latency')!;
    const symbols = dataMarks(svgs.get(c.id)!).find((m) => m.mark === 'symbol')!;
    const measured = data.results.family.filter((f) => f.latencyMs !== null && f.retrainedAccuracy !== null);
    assert.ok(measured.length > 0);
    assert.equal(symbols.items, measured.length);
    const none = { ...data, results: { ...data.results, family: data.results.family.map((f) => ({ ...f, latencyMs: null })) } };
    assert.ok(!reportCharts(none).some((x) => x.id === 'accuracy-vs-latency'));
  });

  it('timeline: one row per stage, and per model where a stage fans out, in stage and family order', () => {
    assert.equal(laneOf('r1', 'retrain', 'r1.retrain.S2'), 'retrain S2');
    assert.equal(laneOf('r1', 'search', 'r1.search'), 'search');
    assert.equal(laneOf('r1', 'report', 'r1'), 'report');
    const c = charts.find((x) => x.id === 'timeline')!;
    const y = (c.spec as { layer: { encoding: { y: { sort: string[] } } }[] }).layer[0]!.encoding.y;
    const models = data.results.family.map((f) => f.model);
    assert.deepEqual(y.sort, ['prepare-data', 'train-supernet', 'search', 'extrapolate', ...models.map((m) => `retrain ${m}`), 'report']);
  });

  it('fitness per generation covers every recorded generation of every round', () => {
    const c = charts.find((x) => x.id === 'fitness')!;
    const rows = (c.spec as { data: { values: { index: number; statistic: string }[] } }).data.values;
    assert.equal(rows.filter((r) => r.statistic === 'best').length, data.search.generations.length);
    assert.equal(new Set(data.search.generations.map((g) => g.round)).size, 2);
  });
});

describe('the report page', () => {
  it('is one self-contained page: no URL, script, external resource; every plot inline', async () => {
    const html = await buildReportHtml(reportFixture());
    assert.doesNotMatch(html, /http/i);
    assert.doesNotMatch(html, /<script|<link|<img|<iframe|\bsrc=|\bhref=|url\(|@import/i);
    for (const id of ['accuracy-vs-macs', 'accuracy-vs-latency', 'fitness', 'strategies', 'supernet-loss', 'timeline', 'compute', 'calibration']) {
      assert.match(html, new RegExp(`<figure class="plot" id="plot-${id}" data-plot="${id}" data-rows="[1-9]\\d*">\\s*<h3>[^<]+</h3>\\s*<svg `), id);
    }
    assert.match(html, /<table>/);
    assert.match(html, /skipped checkpoint/);
  });

  it('shows each baseline pair\'s MACs ratio, the compound coefficients used, and the calibration τ and ρ', async () => {
    const d = reportFixture();
    const html = await buildReportHtml(d);
    assert.match(html, /α = 1\.2, β = 1\.1, γ = 1\.15/);
    const b1 = d.results.family.find((f) => f.model === 'B1')!;
    assert.ok(b1.macsRatio !== null && Math.abs(b1.macsRatio - 1) <= 0.01);
    assert.ok(html.includes(`${b1.macsRatio.toFixed(3)}×`));
    assert.match(html, /Kendall's τ = <strong>1\.000<\/strong>/);
    assert.match(html, /id="calibration"/);
  });

  it('escapes text from the run (ids, failure messages) so none of it becomes markup', async () => {
    const hostile = '<script>alert("x")</script> & <img onerror=1>';
    const d = reportFixture({ runId: 'r<b>1', history: [{
      stage: 'search', workflowId: 'w', activity: 'evaluateCandidates', attempts: 3, worker: '<w>', start: '2026-01-01T00:05:00.000Z',
      end: '2026-01-01T00:06:00.000Z', durationSeconds: 60, outcome: 'failed', lastFailure: hostile, artifacts: [], notes: [],
    }] });
    const html = await buildReportHtml(d);
    assert.doesNotMatch(html, /<script|<img|<b>/i);
    assert.ok(html.includes(escapeHtml(hostile)));
    assert.ok(html.includes('r&lt;b&gt;1'));
  });

  it('says so instead of drawing an empty plot when a run recorded no data for it', async () => {
    const d = reportFixture();
    d.loss = [];
    const html = await buildReportHtml(d);
    assert.match(html, /data-plot="supernet-loss" data-rows="0">\s*<h3>[^<]+<\/h3>\s*<p class="empty">/);
  });
});
