/**
 * What a run cost (issue 15; DESIGN §3.9: compute seconds per stage are the search cost behind the paper's
 * "≥ 2.53× cheaper" claim): compute and wall seconds per stage, busy seconds per worker, images through the
 * network, and for a run that reused a super-supernet the training it did not pay for. Pure: the workflow
 * counts images when it writes results, the CLI and the report add the per-worker view from the history.
 */
import type { RunConfig } from './config';
import type { StageName } from './pipeline';

export const COST_FORMAT = 'scalenet.cost/v1';

/** Images through the network per stage: training examples (steps × batch) plus evaluation and BN-recalibration images. */
export type ImagesProcessed = Partial<Record<StageName, number>> & { total: number };

export interface ImageCountInput {
  config: RunConfig;
  counts: { train: number; minival: number; test: number };
  /** Supernet steps trained by this run (0 when it reused one). */
  supernetSteps: number;
  /** Distinct sub-networks the search evaluated (each: BN recalibration, then minival). */
  evaluations: number;
  /** Each retrained model: its training steps and how many seeds ran it. */
  retrained: { steps: number; repeats: number }[];
  /** Calibration sub-networks retrained (0 when the stage was off). */
  calibrationSubnets: number;
}

export function imagesProcessed(i: ImageCountInput): ImagesProcessed {
  const { config: c, counts } = i;
  const perEvaluation = counts.minival + c.search.bnRecalibrationBatches * c.search.bnRecalibrationBatchSize;
  const retrainTest = c.retraining.testImages === null ? counts.test : Math.min(counts.test, c.retraining.testImages);
  const calTest = c.calibration.testImages === null ? counts.test : Math.min(counts.test, c.calibration.testImages);
  const out: ImagesProcessed = {
    'train-supernet': i.supernetSteps * c.supernet.batchSize,
    search: i.evaluations * perEvaluation,
    retrain: i.retrained.reduce((a, r) => a + r.repeats * (r.steps * c.retraining.batchSize + retrainTest), 0),
    total: 0,
  };
  if (i.calibrationSubnets > 0) {
    out.calibration = i.calibrationSubnets * (c.calibration.steps * c.retraining.batchSize + calTest + perEvaluation);
  }
  out.total = Object.entries(out).reduce((a, [k, v]) => (k === 'total' ? a : a + (v ?? 0)), 0);
  return out;
}

/** The fields of a history entry (cli/history.ts) the cost view reads. */
export interface CostHistoryEntry {
  stage: string;
  activity: string;
  worker: string | null;
  durationSeconds: number | null;
  attempts: number;
}

export interface StageCost {
  stage: string;
  /** Compute seconds the stage's activities reported (tensor work; summed over parallel work). */
  computeSeconds: number;
  /** Wall time from the stage's start to its end in the parent workflow. */
  wallSeconds: number | null;
  images: number | null;
}

export interface WorkerCost {
  worker: string;
  /** Seconds the worker spent in activities (scheduled → closed, last attempt), by stage and in all. */
  busySeconds: number;
  byStage: Record<string, number>;
  activities: number;
}

export interface RunCost {
  format: typeof COST_FORMAT;
  stages: StageCost[];
  workers: WorkerCost[];
  totalComputeSeconds: number;
  /** First stage start to last stage end. */
  wallSeconds: number | null;
  images: number | null;
  /** Set when the run reused a super-supernet: the source run and its supernet compute seconds. */
  avoided: { sourceRunId: string; computeSeconds: number } | null;
}

export interface CostInput {
  computeSeconds: Record<string, number>;
  stageTimes: Partial<Record<string, { start: number; end?: number }>>;
  imagesProcessed?: ImagesProcessed | null;
  lineage?: { sourceRunId: string; avoidedComputeSeconds: number } | null;
}

/** The cost of a run from its results (compute, stage times, images) and its activity history (workers). */
export function runCost(r: CostInput, history: readonly CostHistoryEntry[]): RunCost {
  const names = [...new Set([...Object.keys(r.stageTimes), ...Object.keys(r.computeSeconds)])];
  const stages: StageCost[] = names.map((stage) => {
    const t = r.stageTimes[stage];
    return {
      stage,
      computeSeconds: r.computeSeconds[stage] ?? 0,
      wallSeconds: t && t.end !== undefined ? (t.end - t.start) / 1000 : null,
      images: (r.imagesProcessed as Record<string, number> | null | undefined)?.[stage] ?? null,
    };
  });
  const workers = new Map<string, WorkerCost>();
  for (const e of history) {
    const name = e.worker ?? '(unknown)';
    const w = workers.get(name) ?? { worker: name, busySeconds: 0, byStage: {}, activities: 0 };
    const s = e.durationSeconds ?? 0;
    w.busySeconds += s;
    w.byStage[e.stage] = (w.byStage[e.stage] ?? 0) + s;
    w.activities += 1;
    workers.set(name, w);
  }
  const times = Object.values(r.stageTimes).filter((t): t is { start: number; end?: number } => t !== undefined);
  const ends = times.map((t) => t.end).filter((e): e is number => e !== undefined);
  return {
    format: COST_FORMAT,
    stages,
    workers: [...workers.values()].sort((a, b) => a.worker.localeCompare(b.worker)),
    totalComputeSeconds: stages.reduce((a, s) => a + s.computeSeconds, 0),
    wallSeconds: times.length && ends.length ? (Math.max(...ends) - Math.min(...times.map((t) => t.start))) / 1000 : null,
    images: r.imagesProcessed?.total ?? null,
    avoided: r.lineage ? { sourceRunId: r.lineage.sourceRunId, computeSeconds: r.lineage.avoidedComputeSeconds } : null,
  };
}

/** The cost as text lines (the `results` command and `compare` print it). */
export function costLines(c: RunCost): string[] {
  const s = (x: number | null) => (x === null ? '—' : `${x.toFixed(1)} s`);
  const out = ['stage            compute      wall      images'];
  for (const st of c.stages) out.push(`${st.stage.padEnd(15)} ${s(st.computeSeconds).padStart(9)} ${s(st.wallSeconds).padStart(9)} ${(st.images === null ? '—' : st.images.toLocaleString('en-US')).padStart(11)}`);
  out.push(`${'total'.padEnd(15)} ${s(c.totalComputeSeconds).padStart(9)} ${s(c.wallSeconds).padStart(9)} ${(c.images === null ? '—' : c.images.toLocaleString('en-US')).padStart(11)}`);
  for (const w of c.workers) out.push(`worker ${w.worker}: ${w.activities} activities, busy ${s(w.busySeconds)} (${Object.entries(w.byStage).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ')})`);
  if (c.avoided) out.push(`reused the super-supernet of run ${c.avoided.sourceRunId}: ${s(c.avoided.computeSeconds)} of supernet training avoided`);
  return out;
}
