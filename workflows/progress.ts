/** Progress of a run: what the `progress` query returns and what child stages signal to their parent. */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { StageName } from '../core/pipeline';

export type StageStatus = 'pending' | 'running' | 'done' | 'failed' | 'cancelled';

export interface SupernetProgress {
  epoch: number;
  epochs: number;
  step: number;
  totalSteps: number;
  meanLoss: number | null;
}

export interface SearchProgress {
  phase: string;
  round: number | null;
  generation: number | null;
  rounds: number;
  generations: number;
  evaluations: number;
  bestFitness: number | null;
}

export interface RetrainProgress {
  done: number;
  total: number;
  models: Record<string, { testAccuracy: number } | null>;
}

export interface RunProgress {
  runId: string;
  stage: StageName | 'done';
  stages: Record<StageName, StageStatus>;
  /** Epoch milliseconds (workflow time) when each stage started and ended. */
  times: Partial<Record<StageName, { start: number; end?: number }>>;
  supernet: SupernetProgress | null;
  search: SearchProgress | null;
  retrain: RetrainProgress | null;
  /** Rough seconds left in the current stage, from the pace so far; null when unknown. */
  etaSeconds: number | null;
}

export type ChildProgress =
  | { kind: 'supernet'; value: SupernetProgress }
  | { kind: 'search'; value: SearchProgress };

export const progressQuery = defineQuery<RunProgress>('progress');
/** Children report their progress to the parent run, so one query answers for the whole run. */
export const childProgressSignal = defineSignal<[ChildProgress]>('childProgress');
