/**
 * The parent workflow of a ScaleNet run (workflow ID = run id): prepare data → train the super-supernet →
 * search → extrapolate → retrain the family and the compound-scaling baselines → report (DESIGN §4).
 *
 * Every stage is idempotent against the artifact store (checkpoints, saved search state, finished
 * retraining results), so `scalenet resume` simply starts this workflow again with the same ID and input:
 * finished work is found in MinIO and not redone.
 */
import {
  ApplicationFailure,
  executeChild,
  isCancellation,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { configHash as hashConfig, type RunConfig, type RunConfigInput } from '../core/config';
import { InvalidInputError } from '../core/errors';
import { buildFamily } from '../core/family';
import { STAGES, type FamilyModel, type RetrainResult, type StageName } from '../core/pipeline';
import { validateRunConfig } from '../core/validate';
import type { ObjectRef } from '../core/refs';
import { lightActivities, type ActivityTuning } from './activities';
import { childProgressSignal, progressQuery, type RunProgress } from './progress';
import { retrainFamilyMember } from './retrain';
import { searchScaling, type SearchSummary } from './search';
import { CONFIG_HASH, RUN_ID, STAGE } from './search-attributes';
import { trainSupernet, type TrainSupernetResult } from './supernet';

export interface RunInput {
  runId: string;
  /** The run config (validated again here; the CLI validated it before starting). */
  config: RunConfigInput | RunConfig;
  tuning?: ActivityTuning;
}

export interface RunSummary {
  runId: string;
  configHash: string;
  results: ObjectRef;
  manifest: ObjectRef;
  family: { name: string; kind: FamilyModel['kind']; macs: number; params: number; supernetAccuracy: number | null; testAccuracy: number | null }[];
  computeSeconds: Record<string, number>;
}

export async function scaleNetRun(input: RunInput): Promise<RunSummary> {
  let config: RunConfig;
  try {
    // The CLI's check, repeated: a config that cannot run fails the run (not just this workflow task).
    config = validateRunConfig(input.config);
  } catch (err) {
    if (err instanceof InvalidInputError) throw ApplicationFailure.nonRetryable(err.message, 'InvalidInput');
    throw ApplicationFailure.nonRetryable(`config check failed: ${(err as Error).message}`, 'InvalidInput');
  }
  const runId = input.runId;
  const configHash = hashConfig(config);
  const ctx = { runId, config, configHash };
  const light = lightActivities(config);

  const progress: RunProgress = {
    runId,
    stage: 'prepare-data',
    stages: Object.fromEntries(STAGES.map((s) => [s, 'pending'])) as RunProgress['stages'],
    times: {},
    supernet: null,
    search: null,
    retrain: null,
    etaSeconds: null,
  };
  setHandler(progressQuery, () => ({ ...progress, etaSeconds: estimateEta(progress) }));
  setHandler(childProgressSignal, (p) => {
    if (p.kind === 'supernet') progress.supernet = p.value;
    else progress.search = p.value;
  });
  upsertSearchAttributes([
    { key: RUN_ID, value: runId },
    { key: CONFIG_HASH, value: configHash },
  ]);

  const computeSeconds: Record<string, number> = {};
  async function stage<T>(name: StageName, body: () => Promise<T>): Promise<T> {
    progress.stage = name;
    progress.stages[name] = 'running';
    progress.times[name] = { start: Date.now() };
    upsertSearchAttributes([{ key: STAGE, value: name }]);
    try {
      const out = await body();
      progress.stages[name] = 'done';
      return out;
    } catch (err) {
      progress.stages[name] = isCancellation(err) ? 'cancelled' : 'failed';
      throw err;
    } finally {
      progress.times[name]!.end = Date.now();
    }
  }
  const childOptions = (stageName: StageName, suffix = '') => ({
    workflowId: `${runId}.${stageName}${suffix}`,
    taskQueue: workflowInfo().taskQueue,
    typedSearchAttributes: [
      { key: RUN_ID, value: runId },
      { key: STAGE, value: stageName },
      { key: CONFIG_HASH, value: configHash },
    ],
  });

  const data = await stage('prepare-data', () => light.prepareData(ctx));
  const stepsPerEpoch = config.supernet.stepsPerEpoch ?? Math.ceil(data.counts.train / config.supernet.batchSize);

  const supernet: TrainSupernetResult = await stage('train-supernet', () =>
    executeChild(trainSupernet, {
      ...childOptions('train-supernet'),
      args: [{ ...ctx, data, stepsPerEpoch, tuning: input.tuning, parentId: workflowInfo().workflowId }],
    }),
  );
  computeSeconds['train-supernet'] = supernet.computeSeconds;

  const search: SearchSummary = await stage('search', () =>
    executeChild(searchScaling, {
      ...childOptions('search'),
      args: [{ ...ctx, data, supernet: supernet.checkpoint, tuning: input.tuning, parentId: workflowInfo().workflowId }],
    }),
  );
  computeSeconds.search = search.computeSeconds;

  const family = await stage('extrapolate', async () => {
    let models;
    try {
      models = buildFamily(config, search.result);
    } catch (err) {
      // Deterministic code: retrying the workflow task could never succeed, so fail the run with the reason.
      throw ApplicationFailure.nonRetryable(`extrapolation failed: ${(err as Error).message}`, 'ExtrapolationError');
    }
    await light.saveStageRecord({ ...ctx, stage: 'extrapolate', record: models });
    return models;
  });

  const retrained = await stage('retrain', async () => {
    const chosen = family.models.filter((m) => (config.retraining.baselines || m.kind !== 'baseline') && (config.retraining.levels === null || config.retraining.levels.includes(m.level)));
    progress.retrain = { done: 0, total: chosen.length, models: Object.fromEntries(chosen.map((m) => [m.name, null])) };
    const results = await Promise.all(
      chosen.map(async (model) => {
        const r = await executeChild(retrainFamilyMember, {
          ...childOptions('retrain', `.${model.name}`),
          args: [{ ...ctx, data, model, tuning: input.tuning }],
        });
        progress.retrain!.done += 1;
        progress.retrain!.models[model.name] = { testAccuracy: r.testAccuracy };
        return r;
      }),
    );
    return new Map<string, RetrainResult>(results.map((r) => [r.name, r]));
  });
  computeSeconds.retrain = [...retrained.values()].reduce((a, r) => a + r.computeSeconds, 0);

  const report = await stage('report', () =>
    light.writeRunResults({
      ...ctx,
      data,
      supernet,
      search,
      family,
      retrained: [...retrained.values()],
      computeSeconds,
      stageTimes: progress.times,
    }),
  );
  progress.stage = 'done';
  return {
    runId,
    configHash,
    results: report.results,
    manifest: report.manifest,
    family: family.models.map((m) => ({
      name: m.name,
      kind: m.kind,
      macs: m.macs,
      params: m.params,
      supernetAccuracy: m.supernetAccuracy,
      testAccuracy: retrained.get(m.name)?.testAccuracy ?? null,
    })),
    computeSeconds,
  };
}

/** Seconds left in the current stage, from the pace so far (epochs or evaluations). */
function estimateEta(p: RunProgress): number | null {
  const t = p.times[p.stage as StageName];
  if (!t) return null;
  const elapsed = (Date.now() - t.start) / 1000;
  if (p.stage === 'train-supernet' && p.supernet && p.supernet.epoch > 0) {
    return (elapsed / p.supernet.epoch) * (p.supernet.epochs - p.supernet.epoch);
  }
  if (p.stage === 'retrain' && p.retrain && p.retrain.done > 0) {
    return (elapsed / p.retrain.done) * (p.retrain.total - p.retrain.done);
  }
  return null;
}
