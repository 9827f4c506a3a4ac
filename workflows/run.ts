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
  type ChildWorkflowOptions,
  executeChild,
  isCancellation,
  patched,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { calibrationReport, sampleCalibrationSubnets, type CalibrationReport } from '../core/calibration';
import { configHash as hashConfig, parseConfigObject, resolveSpace, retrainConcurrency, type RunConfig, type RunConfigInput } from '../core/config';
import { countNetwork } from '../core/flops';
import { networkKey, scaleNetwork } from '../core/scaling';
import { InvalidInputError } from '../core/errors';
import { buildFamily } from '../core/family';
import { LINEAGE_RECORD_FORMAT, supernetMismatches, supernetReuseError } from '../core/lineage';
import { STAGES, type FamilyModel, type RetrainResult, type StageName } from '../core/pipeline';
import { validateRunConfig } from '../core/validate';
import type { ObjectRef } from '../core/refs';
import { computeActivities, lightActivities, prepareDataActivity, type ActivityTuning } from './activities';
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
    config = validateRunConfig(withoutRemovedFields(input.config));
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

  // supernet.from (issue 15): the source run's prepared data and super-supernet, verified; no training here.
  const reused = config.supernet.from ? await stage('prepare-data', () => reuseSupernet(light, ctx)) : null;
  const data = reused ? reused.data : await stage('prepare-data', () => prepareDataActivity(config, input.tuning)(ctx));
  const stepsPerEpoch = config.supernet.stepsPerEpoch ?? Math.ceil(data.counts.train / config.supernet.batchSize);

  const supernet: TrainSupernetResult = await stage('train-supernet', async () => reused ? reused.supernet :
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

  const { chosen, skipped } = retrainPlan(config, family.models);
  // Calibration and retraining are independent children: started together, they keep every worker busy.
  const calibrating = config.calibration.subnets > 0
    ? stage('calibration', () => calibrateSupernet({ ctx, data, supernet: supernet.checkpoint, childOptions, tuning: input.tuning }))
    : Promise.resolve(null);
  const retraining = stage('retrain', async () => {
    progress.retrain = { done: 0, total: chosen.length, models: Object.fromEntries(chosen.map((m) => [m.name, null])) };
    const seeds = config.retraining.seeds;
    // Runs started before this existed trained every chosen model, identical or not, all children at once, in
    // family order: their histories replay so.
    const planned = patched('retrain-once-largest-first');
    const sameAs = planned ? identicalNetworks(config, chosen) : new Map<string, string>();
    const trained = chosen.filter((m) => !sameAs.has(m.name));
    const jobs = trained.flatMap((model) => Array.from({ length: seeds }, (_, repeat) => ({ model, repeat })));
    const runs = new Map<string, RetrainResult[]>();
    const results = new Map<string, RetrainResult>();
    await runAtMost(planned ? largestFirst(jobs) : jobs, planned ? retrainConcurrency(config) : jobs.length, async ({ model, repeat }) => {
      // Repeat r > 0 is its own child and model name (`S1.seed2`), so its checkpoints and exports are its own.
      const name = repeat === 0 ? model.name : `${model.name}.seed${repeat + 1}`;
      const r = await executeChild(retrainFamilyMember, {
        ...childOptions('retrain', `.${name}`),
        args: [{ ...ctx, data, model: { ...model, name }, ...(repeat > 0 ? { repeat } : {}), tuning: input.tuning }],
      });
      const done = runs.get(model.name) ?? new Array<RetrainResult>(seeds);
      done[repeat] = r;
      runs.set(model.name, done);
      if (done.filter(Boolean).length < seeds) return;
      const combined = combineRepeats(model.name, done);
      results.set(model.name, combined);
      progress.retrain!.done += 1;
      progress.retrain!.models[model.name] = { testAccuracy: combined.testAccuracy };
    });
    const byName = new Map<string, RetrainResult>(trained.map((m) => [m.name, results.get(m.name)!]));
    for (const [name, first] of sameAs) {
      const r = byName.get(first)!;
      // Nothing was computed for this name: the copy carries no compute time and no checkpoint fallbacks of its own.
      byName.set(name, { ...r, name, sameNetworkAs: first, computeSeconds: 0, fallbacks: [] });
      progress.retrain!.done += 1;
      progress.retrain!.models[name] = { testAccuracy: r.testAccuracy };
    }
    return byName;
  });
  const [calibration, retrained] = await Promise.all([calibrating, retraining]);
  computeSeconds.retrain = [...retrained.values()].reduce((a, r) => a + r.computeSeconds, 0);
  if (calibration) computeSeconds.calibration = calibration.computeSeconds;

  const report = await stage('report', () =>
    light.writeRunResults({
      ...ctx,
      data,
      supernet,
      search,
      family,
      retrained: [...retrained.values()],
      calibration: calibration?.report ?? null,
      skipped,
      computeSeconds,
      stageTimes: progress.times,
      lineage: reused?.lineage ?? null,
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

/**
 * Loads the super-supernet named by `supernet.from` and refuses it, non-retryably and naming every field,
 * when the source run's config differs in anything that decides the supernet's weights (the CLI checked
 * the same before submitting; the source may have been replaced since).
 */
async function reuseSupernet(light: ReturnType<typeof lightActivities>, ctx: { runId: string; config: RunConfig; configHash: string }) {
  const source = await light.loadSupernetSource(ctx);
  const diffs = supernetMismatches(source.sourceConfig, ctx.config);
  if (diffs.length > 0) throw ApplicationFailure.nonRetryable(supernetReuseError(ctx.config.supernet.from!, diffs).message, 'InvalidInput');
  await light.saveStageRecord({ ...ctx, stage: 'train-supernet', record: { format: LINEAGE_RECORD_FORMAT, viaRunId: ctx.config.supernet.from, ...source.lineage } });
  return source;
}

/**
 * Runs started before `supernet.slicing` was removed carry `slicing: "left"`, the only slicing there ever
 * was: drop it so they resume (and their histories replay). Any other value still fails validation.
 */
export function withoutRemovedFields(config: RunInput['config']): RunInput['config'] {
  const supernet = (config as { supernet?: Record<string, unknown> }).supernet;
  if (supernet?.slicing !== 'left') return config;
  const { slicing: _removed, ...rest } = supernet;
  return { ...config, supernet: rest } as RunInput['config'];
}

/** One result for a model retrained with several seeds: the first seed's model, the mean accuracy, every accuracy. */
export function combineRepeats(name: string, runs: RetrainResult[]): RetrainResult {
  const first = runs[0] as RetrainResult;
  if (runs.length === 1) return first;
  const accuracies = runs.map((r) => r.testAccuracy);
  return {
    ...first,
    name,
    testAccuracy: accuracies.reduce((a, b) => a + b, 0) / accuracies.length,
    testAccuracies: accuracies,
    computeSeconds: runs.reduce((a, r) => a + r.computeSeconds, 0),
    fallbacks: runs.flatMap((r) => r.fallbacks),
  };
}

/** Which family members the retrain stage trains, and why each other one is not retrained. */
export function retrainPlan(config: RunConfig, models: readonly FamilyModel[]): { chosen: FamilyModel[]; skipped: Record<string, string> } {
  const chosen: FamilyModel[] = [];
  const skipped: Record<string, string> = {};
  const levels = config.retraining.levels;
  for (const m of models) {
    if (m.kind === 'baseline' && !config.retraining.baselines) skipped[m.name] = 'not retrained: retraining.baselines is false';
    else if (levels !== null && !levels.includes(m.level)) skipped[m.name] = `not retrained: level ${m.level} is not in retraining.levels [${levels.join(', ')}]`;
    else chosen.push(m);
  }
  return { chosen, skipped };
}

/**
 * Chosen models that are the very same network as an earlier chosen one (core/scaling.ts networkKey), by name,
 * with the name of that earlier model. On small spaces a compound baseline often rounds to exactly its searched
 * partner's layers; retraining it with the same recipe and seed would reproduce the partner bit for bit, so it is
 * trained once. Members come before baselines in the family, so the searched model is the one trained.
 */
export function identicalNetworks(config: RunConfig, chosen: readonly FamilyModel[]): Map<string, string> {
  const space = resolveSpace(config);
  const firstOf = new Map<string, string>();
  const sameAs = new Map<string, string>();
  for (const m of chosen) {
    const key = networkKey(space, m.arch);
    const first = firstOf.get(key);
    if (first === undefined) firstOf.set(key, m.name);
    else sameAs.set(m.name, first);
  }
  return sameAs;
}

/**
 * Retraining jobs, the most expensive first (MACs per image; stable, so equal costs keep family order). With
 * fewer workers than jobs, the long ones then start at once and the short ones fill in behind them, instead of a
 * long one starting last and running alone at the end (3 models on 2 workers: up to a third of the stage).
 */
export function largestFirst<T extends { model: { macs: number } }>(jobs: readonly T[]): T[] {
  return [...jobs].sort((a, b) => b.model.macs - a.model.macs);
}

/** Runs `f` on every item in order, at most `limit` at a time; resolves when all have. */
async function runAtMost<T>(items: readonly T[], limit: number, f: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await f(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
}

interface CalibrationArgs {
  ctx: { runId: string; config: RunConfig; configHash: string };
  data: Awaited<ReturnType<ReturnType<typeof lightActivities>['prepareData']>>;
  supernet: ObjectRef;
  childOptions: (stage: StageName, suffix?: string) => Pick<ChildWorkflowOptions, 'workflowId' | 'taskQueue' | 'typedSearchAttributes'>;
  tuning: ActivityTuning | undefined;
}

/**
 * The calibration stage (supernet trust score): K sub-networks sampled across the levels are scored with
 * the shared weights exactly as the search scores candidates, and retrained alone (children
 * `<run>.calibration.C<i>`); Kendall's τ and Spearman's ρ between the two accuracies say whether the
 * supernet's ranking can be trusted on this data.
 */
async function calibrateSupernet(a: CalibrationArgs): Promise<{ report: CalibrationReport; computeSeconds: number }> {
  const { config } = a.ctx;
  const space = resolveSpace(config);
  const subnets = sampleCalibrationSubnets(space, config.calibration.subnets, config.seed);
  const models = subnets.map((c) => {
    const count = countNetwork(scaleNetwork(space, c.arch));
    return { ...c, kind: 'calibration' as const, macs: count.macs, params: count.params, supernetAccuracy: null };
  });
  const { evaluateCandidates } = computeActivities(config, a.tuning);
  const schedule = { steps: config.calibration.steps, testImages: config.calibration.testImages };
  const [scored, ...retrained] = await Promise.all([
    evaluateCandidates({ ...a.ctx, data: a.data, supernet: a.supernet, candidates: models.map((m) => ({ id: m.name, level: m.level, arch: m.arch, macs: m.macs })) }),
    ...models.map((model) => executeChild(retrainFamilyMember, {
      ...a.childOptions('calibration', `.${model.name}`),
      args: [{ ...a.ctx, data: a.data, model, schedule, tuning: a.tuning }],
    })),
  ]);
  const fitness = new Map(scored.results.map((r) => [r.id, r.fitness]));
  const points = models.map((m, i) => ({
    name: m.name, level: m.level, arch: m.arch, macs: m.macs,
    supernetAccuracy: fitness.get(m.name) as number,
    retrainedAccuracy: (retrained[i] as RetrainResult).testAccuracy,
  }));
  const computeSeconds = scored.computeSeconds + retrained.reduce((s, r) => s + r.computeSeconds, 0);
  return { report: calibrationReport(config.calibration.steps, points), computeSeconds };
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
