/** Reading and printing a run's results (`scalenet results`). */
import type { Client } from '@temporalio/client';
import type { RunResults } from '../activities/records';
import type { ArtifactStore } from '../storage/store';
import type { RunSummary } from '../workflows/run';
import { describeRun, runState } from './client';
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

/** The family table as text: model, multipliers, resolution, MACs, params, and the three accuracies. */
export function familyTable(r: RunResults): string {
  const head = ['model', 'depth', 'width', 'res', 'MACs', 'params', 'supernet acc', 'retrained acc', 'baseline acc'];
  const rows = r.family.map((f) => [
    f.model, f.depth.toFixed(3), f.width.toFixed(3), String(f.resolution), num(f.macs), num(f.params),
    pct(f.supernetAccuracy), pct(f.retrainedAccuracy), f.kind === 'baseline' ? '' : pct(f.baselineAccuracy),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
