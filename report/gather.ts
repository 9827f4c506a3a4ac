/**
 * Reads what a report shows from a completed run: results.json (verified against the run's result), the
 * search record, the final search state's memo (every evaluated sub-network), the supernet loss logs,
 * and the activity history from Temporal. All I/O of the report lives here.
 */
import type { Client } from '@temporalio/client';
import type { RunResults } from '../activities/records';
import { runHistory } from '../cli/history';
import { loadResults } from '../cli/results';
import { resolveSpace } from '../core/config';
import type { SearchResult, SearchState } from '../core/search';
import { objectKey, type ArtifactStore } from '../storage/store';
import { evaluatedFromGenerations, evaluatedFromMemo, type LossPoint, type ReportData } from './model';

interface LossLog {
  epoch: number;
  columns: string[];
  rows: number[][];
}

/** Rows of the per-epoch loss logs, in step order. Columns are looked up by name (the log says which). */
export async function readLossLogs(store: ArtifactStore, results: RunResults): Promise<LossPoint[]> {
  const out: LossPoint[] = [];
  for (const ref of results.supernet.lossLogs) {
    const log = await store.getJson<LossLog>(ref);
    const [s, l, v] = ['step', 'loss', 'level'].map((c) => log.columns.indexOf(c));
    if (s === undefined || l === undefined || s < 0 || l < 0) throw new Error(`${ref.key}: loss log without step/loss columns (${log.columns.join(', ')})`);
    for (const row of log.rows) out.push({ epoch: log.epoch, step: row[s]!, loss: row[l]!, level: v !== undefined && v >= 0 ? row[v]! : 0 });
  }
  return out.sort((a, b) => a.step - b.step);
}

/** The memo of the run's newest saved search state of this config, or null when none is readable. */
export async function readSearchMemo(store: ArtifactStore, results: RunResults): Promise<Record<string, number> | null> {
  const listed = await store.list(`${objectKey('runs', results.runId, 'search', 'state')}/`);
  for (const o of listed.reverse()) {
    try {
      const saved = await store.getJson<{ configHash: string; state: SearchState }>(await store.refOf(o.key));
      if (saved.configHash === results.configHash) return saved.state.memo;
    } catch {
      // A corrupt or foreign state: the previous one still holds most of the memo.
    }
  }
  return null;
}

/** Everything the report of `runId` shows. Throws UsageError (via loadResults) unless the run completed. */
export async function gatherReportData(client: Client, store: ArtifactStore, runId: string, now = new Date()): Promise<ReportData> {
  const results = await loadResults(client, store, runId);
  const record = await store.getJson<SearchResult>(results.search.record);
  const memo = await readSearchMemo(store, results);
  const evaluated = memo ? evaluatedFromMemo(resolveSpace(results.config), memo) : evaluatedFromGenerations(record.generations);
  return {
    runId,
    generatedAt: now.toISOString(),
    results,
    search: { generations: record.generations, choices: record.choices },
    evaluated,
    evaluatedSource: memo ? 'search-state' : 'generations',
    loss: await readLossLogs(store, results),
    history: (await runHistory(client, runId)).entries,
  };
}
