/** Reading and printing a run's results (`scalenet results`). */
import type { Client } from '@temporalio/client';
import type { RunResults } from '../activities/records';
import { costLines, type RunCost } from '../core/cost';
import type { ArtifactStore } from '../storage/store';
import type { RunSummary } from '../workflows/run';
import { describeRun, runState } from './client';
import { accuracyText, sameNetworkText } from '../report/model';
import { UsageError } from './errors';

/** The results.json of a completed run, verified against the reference in the run's result. */
export async function loadResults(client: Client, store: ArtifactStore, runId: string): Promise<RunResults> {
  const desc = await describeRun(client, runId);
  const state = runState(desc);
  if (state !== 'completed') {
    throw new UsageError(`run ${runId} is ${state}; results exist once it completes${state === 'running' ? ' (follow it with `scalenet watch`)' : ' (continue it with `scalenet resume`)'}`);
  }
  const summary = await client.workflow.getHandle(runId).result() as RunSummary;
  return store.getJson<RunResults>(summary.results);
}

const pct = (x: number | null) => (x === null || !Number.isFinite(x) ? '—' : `${(x * 100).toFixed(2)}%`);
const num = (x: number) => x.toLocaleString('en-US');


/**
 * The family table as text: model, multipliers, resolution, MACs, params, the three accuracies, and for
 * each S_s/B_s pair the baseline's MACs as a ratio of the member's (budgets match within 1 %). Models that
 * were not retrained say why below the table; the calibration stage's τ and ρ follow when it ran.
 */
export function familyTable(r: RunResults): string {
  const head = ['model', 'depth', 'width', 'res', 'MACs', 'params', 'supernet acc', 'retrained acc', 'baseline acc', 'B/S MACs'];
  const rows = r.family.map((f) => [
    f.model, f.depth.toFixed(3), f.width.toFixed(3), String(f.resolution), num(f.macs), num(f.params),
    pct(f.supernetAccuracy), f.skipped ? 'skipped' : accuracyText(f.retrainedAccuracy, f.retrainedAccuracies),
    f.kind === 'baseline' ? '' : accuracyText(f.baselineAccuracy, f.baselineAccuracies),
    f.macsRatio === null || f.macsRatio === undefined ? '' : `${f.macsRatio.toFixed(3)}×`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  const c = r.compound;
  if (c) out.push('', `baselines B_s: compound scaling of S0 (α=${c.alpha}, β=${c.beta}, γ=${c.gamma}), each solved for the MACs of its S_s`);
  for (const f of r.family) if (f.skipped) out.push(`${f.model}: ${f.skipped}`);
  for (const f of r.family) if (f.sameNetworkAs) out.push(`${f.model}: ${sameNetworkText(f.sameNetworkAs)}`);
  const cal = r.calibration;
  if (cal) {
    const fmt = (x: number | null) => (x === null ? 'undefined' : x.toFixed(3));
    out.push('', `supernet trust (calibration, ${cal.points.length} sub-networks retrained ${num(cal.steps)} steps each): Kendall τ ${fmt(cal.kendallTau)}, Spearman ρ ${fmt(cal.spearmanRho)}`);
    for (const p of cal.points) out.push(`  ${p.name} (level ${p.level}, ${num(p.macs)} MACs): supernet ${pct(p.supernetAccuracy)}, retrained ${pct(p.retrainedAccuracy)}`);
  }
  return out.join('\n');
}

/** The cost of a run as text: per stage compute, wall time and images, per worker busy time, supernet reuse. */
export function costTable(c: RunCost): string {
  return ['cost', ...costLines(c)].join('\n');
}
