/**
 * Wall time of finished runs split by stage, side by side, from their Temporal histories (the local servers of
 * `scalenet up` / `scalenet demo`, or SCALENET_* / TEMPORAL_* settings). The first run is the reference; the
 * other columns carry their ratio to it. Never part of the test run.
 *
 *   npx tsx bench/demo-stages.ts <runId> [<runId> …] [--json]
 *
 * Per stage: wall span from its first activity's start to its last activity's end (stages run one after the
 * other in a ScaleNet run, so the spans add up to about the run's wall time), plus the whole run.
 */
import { runHistory, type RunHistory } from '../cli/history';
import { withClients } from '../cli/client';

const STAGES = ['prepare-data', 'train-supernet', 'search', 'extrapolate', 'retrain', 'report'] as const;

/** Seconds from the first start to the last end of the entries of each stage, and of the whole run. */
export function stageSpans(h: RunHistory): Record<string, number> {
  const out: Record<string, number> = {};
  let first = Infinity;
  let last = -Infinity;
  for (const stage of STAGES) {
    const entries = h.entries.filter((e) => e.stage === stage && e.end !== null);
    if (entries.length === 0) continue;
    const start = Math.min(...entries.map((e) => Date.parse(e.start)));
    const end = Math.max(...entries.map((e) => Date.parse(e.end as string)));
    out[stage] = (end - start) / 1000;
    first = Math.min(first, start);
    last = Math.max(last, end);
  }
  if (Number.isFinite(first)) out.total = (last - first) / 1000;
  return out;
}

async function main(): Promise<void> {
  const ids = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  if (ids.length === 0) throw new Error('usage: npx tsx bench/demo-stages.ts <runId> [<runId> …] [--json]');
  const spans = await withClients(async ({ client }) => Promise.all(ids.map(async (id) => stageSpans(await runHistory(client, id)))));
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(Object.fromEntries(ids.map((id, i) => [id, spans[i]]))));
    return;
  }
  const ref = spans[0] as Record<string, number>;
  console.log(`| stage | ${ids.map((id, i) => (i === 0 ? `${id} (s)` : `${id} (s, ratio)`)).join(' | ')} |`);
  console.log(`| --- | ${ids.map(() => '---:').join(' | ')} |`);
  for (const stage of [...STAGES, 'total']) {
    if (!spans.some((s) => s[stage] !== undefined)) continue;
    const cells = spans.map((s, i) => {
      const v = s[stage];
      if (v === undefined) return 'n/a';
      const r = ref[stage];
      return i === 0 || r === undefined || r === 0 ? v.toFixed(1) : `${v.toFixed(1)} (${(v / r).toFixed(2)}×)`;
    });
    console.log(`| ${stage} | ${cells.join(' | ')} |`);
  }
}

main().catch((err) => {
  console.error((err as Error).message);
  process.exit(1);
});
