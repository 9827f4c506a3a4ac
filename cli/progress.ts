/**
 * Live progress of a run (`run`, `watch`): a redrawn line on a TTY, plain lines otherwise, and one JSON
 * event per line with --json. Polls the run's `progress` query until the run closes.
 */
import type { Client } from '@temporalio/client';
import type { RunProgress } from '../workflows/progress';
import { runState, type RunState } from './client';

function bar(fraction: number, width = 24): string {
  const f = Math.max(0, Math.min(1, fraction));
  const full = Math.round(f * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}

function eta(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '';
  const m = Math.floor(s / 60);
  return ` ETA ${m > 0 ? `${m}m` : ''}${Math.round(s % 60)}s`;
}

/** One human line describing where a run is. */
export function describeProgress(p: RunProgress): string {
  switch (p.stage) {
    case 'train-supernet': {
      const s = p.supernet;
      if (!s) return 'train-supernet: starting';
      const loss = s.meanLoss === null ? '' : ` loss ${s.meanLoss.toFixed(3)}`;
      return `train-supernet ${bar(s.epoch / s.epochs)} epoch ${s.epoch}/${s.epochs} step ${s.step}/${s.totalSteps}${loss}${eta(p.etaSeconds)}`;
    }
    case 'search': {
      const s = p.search;
      if (!s) return 'search: starting';
      // Generation 0 is the initial population, then 1..G bred generations.
      const where = s.phase === 'evolve' ? `round ${(s.round ?? 0) + 1}/${s.rounds} generation ${s.generation ?? 0}/${s.generations}` : s.phase;
      const best = s.bestFitness === null ? '' : ` best ${(s.bestFitness * 100).toFixed(1)}%`;
      return `search ${where}, ${s.evaluations} evaluated${best}`;
    }
    case 'retrain': {
      const r = p.retrain;
      if (!r) return 'retrain: starting';
      return `retrain ${bar(r.done / Math.max(1, r.total))} ${r.done}/${r.total} models${eta(p.etaSeconds)}`;
    }
    default:
      return p.stage;
  }
}

export interface FollowOptions {
  json: boolean;
  /** Poll interval in ms. Default 1000. */
  intervalMs?: number;
  out?: NodeJS.WriteStream;
}

/** Follows a run until it closes; returns its final state. */
export async function followRun(client: Client, runId: string, o: FollowOptions): Promise<RunState> {
  const out = o.out ?? process.stdout;
  const tty = Boolean(out.isTTY) && !o.json;
  const handle = client.workflow.getHandle(runId);
  let last = '';
  for (;;) {
    const desc = await handle.describe();
    const state = runState(desc);
    if (state !== 'running') {
      if (tty) out.write('\n');
      if (o.json) out.write(JSON.stringify({ event: 'closed', runId, state }) + '\n');
      return state;
    }
    try {
      const p = await handle.query<RunProgress>('progress');
      const line = describeProgress(p);
      if (o.json) {
        const key = JSON.stringify({ ...p, etaSeconds: null });
        if (key !== last) out.write(JSON.stringify({ event: 'progress', ...p }) + '\n');
        last = key;
      } else if (tty) {
        out.write(`\r\x1b[2K${line}`);
      } else if (line !== last) {
        out.write(`${new Date().toISOString()} ${line}\n`);
        last = line;
      }
    } catch {
      // The workflow has not processed its first task yet, or a query raced a restart: try again.
    }
    await new Promise((r) => setTimeout(r, o.intervalMs ?? 1000));
  }
}
