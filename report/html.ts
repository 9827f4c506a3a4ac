/**
 * The run report as one self-contained HTML page: inline CSS, plots as inline SVG (report/render.ts),
 * tables as HTML. It loads nothing (no script, font, image or stylesheet URL), so it opens offline and
 * can be mailed or archived as one file.
 */
import { reportCharts, type Chart } from './charts';
import { accuracyText, pairComparisons, sameNetworkText, spreadText, type ReportData } from './model';
import { renderSvg } from './render';
import { runCost } from '../core/cost';

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const pct = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : `${(x * 100).toFixed(2)}%`);
const num = (x: number) => x.toLocaleString('en-US');
const secs = (x: number) => (x >= 120 ? `${(x / 60).toFixed(1)} min` : `${x.toFixed(1)} s`);

export function table(head: string[], rows: string[][], numeric: boolean[] = []): string {
  const th = head.map((h, i) => `<th${numeric[i] ? ' class="num"' : ''}>${escapeHtml(h)}</th>`).join('');
  const tr = rows.map((r) => `<tr>${r.map((c, i) => `<td${numeric[i] ? ' class="num"' : ''}>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${tr}\n</tbody></table>`;
}

function familySection(d: ReportData): string {
  const r = d.results;
  const rows = r.family.map((f) => [
    f.model, f.kind, String(f.level), f.depth.toFixed(3), f.width.toFixed(3), String(f.resolution), num(f.macs), num(f.params),
    pct(f.supernetAccuracy), f.skipped ? 'not retrained' : accuracyText(f.retrainedAccuracy, f.retrainedAccuracies),
    f.kind === 'baseline' ? '' : accuracyText(f.baselineAccuracy, f.baselineAccuracies),
    f.partnerMacs === null || f.partnerMacs === undefined ? '' : num(f.partnerMacs),
    f.macsRatio === null || f.macsRatio === undefined ? '' : `${f.macsRatio.toFixed(3)}×`,
    f.latencyMs === null ? '—' : f.latencyMs.toFixed(2),
  ]);
  const head = ['model', 'kind', 'level', 'depth', 'width', 'resolution', 'MACs', 'params', 'supernet acc (minival)', 'retrained acc (test)', 'baseline acc (test)', 'MACs of the pair', 'B/S MACs', 'latency ms'];
  const numeric = head.map((_, i) => i >= 2);
  const ex = r.extrapolation;
  const coeff = ex.coefficients
    ? `Fitted trend ln m = a + b·s: depth b = ${ex.coefficients.depth.b.toFixed(4)}, width b = ${ex.coefficients.width.b.toFixed(4)}, resolution b = ${ex.coefficients.resolution.b.toFixed(4)}.`
    : '';
  const exText = ex.levels.length === 0
    ? 'No levels beyond the searched ones were requested.'
    : `Levels ${ex.levels.map((l) => l.level).join(', ')} were placed by ${ex.method === 'trend' ? 'extrapolating the searched scaling trend' : 'the compound-scaling direction (fallback)'}. ${coeff}${ex.note ? ` ${ex.note}` : ''}`;
  return `<section id="family"><h2>The family</h2>
<p>Base network S0 (kernel sizes per stage): <code>${escapeHtml(JSON.stringify(r.base))}</code>. Searched models read their accuracy
off the shared weights (minival split, held out from training); every model was then retrained from scratch and scored on the test split.
Baselines B<i>s</i> scale the same S0 by EfficientNet's compound rule${r.compound ? ` (α = ${r.compound.alpha}, β = ${r.compound.beta}, γ = ${r.compound.gamma})` : ''}, each solved for the MACs
of the member S<i>s</i> it is compared with (the B/S MACs column: within 1 % of 1), so an accuracy difference is the scaling rule's, not the budget's.</p>
${table(head, rows, numeric)}
${skippedNote(d)}
${pairsSection(d)}
<p>${escapeHtml(exText)}</p></section>`;
}

/** S_s against B_s at equal MACs, with the seed spread: the comparison the run exists to make. */
function pairsSection(d: ReportData): string {
  const pairs = pairComparisons(d.results);
  if (pairs.length === 0) return '';
  const rows = pairs.map((p) => [`${p.searched} vs ${p.baseline}`, num(p.searchedMacs), num(p.baselineMacs), `${p.macsRatio.toFixed(3)}×`,
    spreadText(p.searchedAccuracy), spreadText(p.baselineAccuracy), `${p.difference >= 0 ? '+' : ''}${(p.difference * 100).toFixed(2)}`]);
  const seeds = Math.max(...pairs.map((p) => p.searchedAccuracy.seeds));
  const identical = d.results.family.filter((f) => f.kind === 'baseline' && f.sameNetworkAs).map((f) => `${f.model} is the same network as ${f.sameNetworkAs}: that pair's difference is zero by construction, not a finding. `);
  return `<h3>Searched scaling against compound scaling at equal MACs</h3>
${table(['pair', 'MACs S', 'MACs B', 'B/S', 'S test acc', 'B test acc', 'S − B (points)'], rows, [false, true, true, true, true, true, true])}
<p>${escapeHtml(identical.join(''))}${seeds > 1 ? `Mean ± half the range over ${seeds} seeds. ` : 'One seed per model: a difference smaller than the seed-to-seed spread (unknown here; set retraining.seeds) is not evidence. '}Both models of a pair had the same recipe and the same budget.</p>`;
}

function skippedNote(d: ReportData): string {
  const skipped = d.results.family.filter((f) => f.skipped);
  const same = d.results.family.filter((f) => f.sameNetworkAs);
  return [
    skipped.length === 0 ? '' : `<p>Not retrained: ${skipped.map((f) => `${escapeHtml(f.model)} (${escapeHtml(f.skipped!.replace(/^not retrained: /, ''))})`).join('; ')}.</p>`,
    ...same.map((f) => `<p>${escapeHtml(f.model)}: ${escapeHtml(sameNetworkText(f.sameNetworkAs!))}</p>`),
  ].filter(Boolean).join('\n');
}

function calibrationSection(d: ReportData, figure: string): string {
  const cal = d.results.calibration;
  if (!cal) return '';
  const rows = cal.points.map((p) => [p.name, String(p.level), `${p.arch.depth} / ${p.arch.width} / ${p.arch.resolution}`, num(p.macs), pct(p.supernetAccuracy), pct(p.retrainedAccuracy)]);
  const fmt = (x: number | null) => (x === null ? 'undefined' : x.toFixed(3));
  return `<section id="calibration"><h2>Can this supernet's ranking be trusted?</h2>
<p>Kendall's τ = <strong>${fmt(cal.kendallTau)}</strong>, Spearman's ρ = <strong>${fmt(cal.spearmanRho)}</strong> between the accuracy the shared weights gave
${cal.points.length} sampled sub-networks and their accuracy after training each alone for ${num(cal.steps)} steps.</p>
${table(['sub-network', 'level', 'depth / width / resolution', 'MACs', 'supernet acc (minival)', 'retrained acc (test)'], rows, [false, true, false, true, true, true])}
${figure}</section>`;
}

function failuresSection(d: ReportData): string {
  const notable = d.history.filter((e) => e.attempts > 1 || e.lastFailure || e.notes.length > 0 || e.outcome !== 'completed');
  const retried = d.history.filter((e) => e.attempts > 1).length;
  const body = notable.length === 0
    ? '<p>Every activity completed on its first attempt.</p>'
    : table(
      ['stage', 'activity', 'attempts', 'outcome', 'worker', 'last failure', 'notes'],
      notable.map((e) => [e.stage, e.activity, String(e.attempts), e.outcome, e.worker ?? '', e.lastFailure ?? '', e.notes.join('; ')]),
      [false, false, true],
    );
  return `<section id="failures"><h2>Attempts and failures</h2>
<p>${num(d.history.length)} activity executions; ${num(retried)} needed more than one attempt.</p>
${body}</section>`;
}

function computeSection(d: ReportData): string {
  const entries = Object.entries(d.results.computeSeconds);
  const total = entries.reduce((a, [, s]) => a + s, 0);
  const search = (d.results.computeSeconds['train-supernet'] ?? 0) + (d.results.computeSeconds.search ?? 0);
  const cost = runCost(d.results, d.history);
  const orNone = (x: number | null, f: (v: number) => string) => (x === null ? '—' : f(x));
  const stages = table(['stage', 'compute', 'wall time', 'images processed'],
    cost.stages.map((s) => [s.stage, secs(s.computeSeconds), orNone(s.wallSeconds, secs), orNone(s.images, num)]), [false, true, true, true]);
  const workers = table(['worker', 'activities', 'busy', 'by stage'],
    cost.workers.map((w) => [w.worker, String(w.activities), secs(w.busySeconds), Object.entries(w.byStage).map(([k, v]) => `${k} ${secs(v)}`).join(', ')]), [false, true, true, false]);
  const reused = cost.avoided
    ? `<p id="reused">This run reused the super-supernet of run <code>${escapeHtml(cost.avoided.sourceRunId)}</code> (checkpoint <code>${escapeHtml(d.results.lineage?.checkpoint.key ?? '')}</code>): ${escapeHtml(secs(cost.avoided.computeSeconds))} of supernet training avoided.</p>`
    : '';
  return `<p>Total compute ${escapeHtml(secs(total))}; the search itself (super-supernet training + evolutionary search) took ${escapeHtml(secs(search))}${
    d.results.search.evaluations ? `, with ${num(d.results.search.evaluations)} distinct sub-networks evaluated` : ''}.</p>
${reused}
<div id="cost">${stages}
${workers}</div>`;
}

async function figure(c: Chart): Promise<string> {
  const body = c.rows > 0 ? await renderSvg(c.spec) : '<p class="empty">No data recorded for this plot.</p>';
  return `<figure class="plot" id="plot-${escapeHtml(c.id)}" data-plot="${escapeHtml(c.id)}" data-rows="${c.rows}">
<h3>${escapeHtml(c.title)}</h3>
${body}
<figcaption>${escapeHtml(c.caption)}</figcaption></figure>`;
}

const CSS = `
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; margin: 2rem auto; max-width: 1100px; padding: 0 1rem; color: #222; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #ddd; } h3 { font-size: 1.05rem; }
.meta { color: #555; font-size: .9rem; } code { font-size: .85rem; background: #f4f4f4; padding: 0 .2rem; }
table { border-collapse: collapse; font-size: .85rem; margin: .6rem 0; } th, td { padding: .25rem .55rem; border-bottom: 1px solid #e5e5e5; text-align: left; vertical-align: top; }
th { background: #f7f7f7; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
figure.plot { margin: 1.2rem 0 2rem; } figure.plot svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: .85rem; max-width: 800px; } .empty { color: #a50f15; }
`;

/** The report page for a run. Renders every plot; resolves to the HTML text. */
export async function buildReportHtml(d: ReportData): Promise<string> {
  const r = d.results;
  const charts = reportCharts(d);
  const figures: string[] = [];
  for (const c of charts) figures.push(await figure(c));
  const byId = new Map(charts.map((c, i) => [c.id, figures[i] as string]));
  const fig = (id: string) => byId.get(id) ?? '';
  const [tradeoff, latency, fitness, strategies, loss, timeline, compute] = ['accuracy-vs-macs', 'accuracy-vs-latency', 'fitness', 'strategies', 'supernet-loss', 'timeline', 'compute'].map(fig);
  const space = typeof r.config.space === 'string' ? r.config.space : JSON.stringify(r.config.space);
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ScaleNet run ${escapeHtml(d.runId)}</title>
<style>${CSS}</style></head>
<body>
<h1>ScaleNet run <code>${escapeHtml(d.runId)}</code></h1>
<p class="meta">config <code>${escapeHtml(r.config.name)}</code> (hash <code>${escapeHtml(r.configHash)}</code>) · dataset ${escapeHtml(r.config.dataset.kind)} ·
space ${escapeHtml(space)} · seed ${escapeHtml(String(r.config.seed))} · backend ${escapeHtml(r.backend ?? 'unknown')} · report built ${escapeHtml(d.generatedAt)}</p>
${familySection(d)}
<section id="tradeoff"><h2>Accuracy and cost</h2>
${tradeoff}
${latency}</section>
${calibrationSection(d, fig('calibration'))}
<section id="search"><h2>The search</h2>
<p>${num(r.search.evaluations)} distinct sub-networks evaluated; final fitness of the base ${escapeHtml(pct(r.search.fitness))}.</p>
${fitness}
${strategies}</section>
<section id="supernet"><h2>Super-supernet training</h2>
${loss}</section>
<section id="stages"><h2>Stages</h2>
${timeline}
${compute}
${computeSection(d)}</section>
${failuresSection(d)}
</body></html>
`;
}
