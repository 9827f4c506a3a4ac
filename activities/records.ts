/**
 * Light activities that keep a run's records in the store: the search state after every batch (what a
 * resumed search continues from), stage records, and at the end the results table and the run manifest
 * that lists every artifact with its sha256 and the stage that produced it (DESIGN §4).
 */
import type { CalibrationReport } from '../core/calibration';
import { imagesProcessed, type ImagesProcessed } from '../core/cost';
import { LINEAGE_RECORD_FORMAT, type SupernetLineage } from '../core/lineage';
import type { Family } from '../core/family';
import type { DataRef, RetrainResult, RunContext, StageName } from '../core/pipeline';
import type { ObjectRef } from '../core/refs';
import type { SearchResult, SearchState } from '../core/search';
import { isDamagedObject } from '../storage/errors';
import { recordReference } from '../storage/references';
import { objectKey, type ArtifactStore } from '../storage/store';
import type { SearchSummary, TrainSupernetResult } from '../core/stage-results';

export const RESULTS_FORMAT = 'scalenet.results/v1';
export const RUN_MANIFEST_FORMAT = 'scalenet.run-manifest/v1';

/** One row of the family table (`scalenet results`). */
export interface ResultRow {
  model: string;
  kind: 'searched' | 'extrapolated' | 'baseline';
  level: number;
  depth: number;
  width: number;
  resolution: number;
  macs: number;
  params: number;
  /** Minival accuracy read off the shared weights (searched members). */
  supernetAccuracy: number | null;
  /** Test accuracy after retraining from scratch. */
  retrainedAccuracy: number | null;
  /** One test accuracy per seed when `retraining.seeds` > 1 (retrainedAccuracy is their mean). */
  retrainedAccuracies?: number[] | null;
  /** Test accuracy of the compound-scaling baseline at the same level (searched/extrapolated rows). */
  baselineAccuracy: number | null;
  /** The baseline's accuracy per seed (searched/extrapolated rows, when `retraining.seeds` > 1). */
  baselineAccuracies?: number[] | null;
  /** Searched/extrapolated rows: MACs of their baseline B_s. Baseline rows: MACs of their partner S_s. */
  partnerMacs: number | null;
  /** Baseline MACs ÷ searched MACs of the pair (within 1 % of 1 when the budgets match); null without a pair. */
  macsRatio: number | null;
  /** Baseline rows: the member compared with (`S2` for `B2`). */
  partner: string | null;
  /** Why a model has no retrained accuracy (e.g. not in `retraining.levels`); null when it was retrained. */
  skipped: string | null;
  /** Set when this model is the very same network as another (named) model: trained once, results shared. Absent in older results. */
  sameNetworkAs?: string | null;
  latencyMs: number | null;
  model_json: ObjectRef | null;
  /** The committed export manifest of the model (storage/exports.ts); absent in results of older runs. */
  export?: ObjectRef | null;
}

export interface RunResults {
  format: typeof RESULTS_FORMAT;
  runId: string;
  configHash: string;
  config: RunContext['config'];
  base: number[][];
  family: ResultRow[];
  extrapolation: Family['extrapolation'];
  /** Compound coefficients the baselines used. */
  compound: Family['compound'];
  /** Supernet trust score (calibration stage); null when the stage was off. */
  calibration: CalibrationReport | null;
  supernet: { epochs: { epoch: number; meanLoss: number; resumedFromStep: number | null; fallbacks: number }[]; lossLogs: ObjectRef[] };
  search: { evaluations: number; fitness: number; record: ObjectRef };
  computeSeconds: Record<string, number>;
  stageTimes: Partial<Record<StageName, { start: number; end?: number }>>;
  /** Images through the network per stage (core/cost.ts); absent in results of older runs. */
  imagesProcessed?: ImagesProcessed;
  /** Set when the run reused another run's super-supernet (`supernet.from`); null otherwise. */
  lineage?: SupernetLineage | null;
  backend: string | null;
  /** The prepared data: images per split and, for image folders, files left out under `onBadImage: skip` (the first 100). Absent in older results. */
  data?: { counts: DataRef['counts']; skippedCount: number; skipped: { file: string; reason: string }[] };
}

export interface WriteResultsInput extends RunContext {
  calibration?: CalibrationReport | null;
  /** Why members were not retrained, by model name. */
  skipped?: Record<string, string>;
  data: DataRef;
  supernet: TrainSupernetResult;
  search: SearchSummary;
  family: Family;
  retrained: RetrainResult[];
  computeSeconds: Record<string, number>;
  stageTimes: RunResults['stageTimes'];
  lineage?: SupernetLineage | null;
}

const stateKey = (runId: string, n: number) => objectKey('runs', runId, 'search', 'state', `batch-${String(n).padStart(6, '0')}.json`);

export function buildResults(i: WriteResultsInput): RunResults {
  const retrained = new Map(i.retrained.map((r) => [r.name, r]));
  const byName = new Map(i.family.models.map((m) => [m.name, m]));
  const family: ResultRow[] = i.family.models.map((m) => {
    const r = retrained.get(m.name);
    const baseline = m.kind === 'baseline' ? null : retrained.get(`B${m.level}`);
    const pair = m.kind === 'baseline' ? byName.get(m.budget?.partner ?? `S${m.level}`) : byName.get(`B${m.level}`);
    const [sMacs, bMacs] = m.kind === 'baseline' ? [pair?.macs, m.macs] : [m.macs, pair?.macs];
    return {
      model: m.name, kind: m.kind, level: m.level,
      depth: m.arch.depth, width: m.arch.width, resolution: m.arch.resolution,
      macs: m.macs, params: m.params,
      supernetAccuracy: m.supernetAccuracy,
      retrainedAccuracy: r?.testAccuracy ?? null,
      retrainedAccuracies: r?.testAccuracies ?? null,
      baselineAccuracy: baseline?.testAccuracy ?? null,
      baselineAccuracies: baseline?.testAccuracies ?? null,
      partnerMacs: pair?.macs ?? null,
      macsRatio: sMacs !== undefined && bMacs !== undefined ? bMacs / sMacs : null,
      partner: m.kind === 'baseline' ? (m.budget?.partner ?? null) : null,
      skipped: r ? null : (i.skipped?.[m.name] ?? 'not retrained'),
      sameNetworkAs: r?.sameNetworkAs ?? null,
      latencyMs: r?.latencyMs ?? null,
      model_json: r?.modelJson ?? null,
      export: r?.exportManifest ?? null,
    };
  });
  return {
    format: RESULTS_FORMAT,
    runId: i.runId,
    configHash: i.configHash,
    config: i.config,
    base: i.search.result.base,
    family,
    extrapolation: i.family.extrapolation,
    compound: i.family.compound,
    calibration: i.calibration ?? null,
    supernet: {
      epochs: i.supernet.epochs.map((e) => ({ epoch: e.epoch, meanLoss: e.meanLoss, resumedFromStep: e.resumedFromStep, fallbacks: e.fallbacks.length })),
      lossLogs: i.supernet.epochs.map((e) => e.lossLog),
    },
    search: { evaluations: i.search.result.evaluations, fitness: i.search.result.fitness, record: i.search.record },
    computeSeconds: i.computeSeconds,
    stageTimes: i.stageTimes,
    imagesProcessed: imagesProcessed({
      config: i.config, counts: i.data.counts,
      supernetSteps: i.lineage ? 0 : (i.supernet.epochs.at(-1)?.step ?? 0),
      evaluations: i.search.result.evaluations,
      // A model that is the same network as another was not trained again: its images are counted once.
      retrained: i.retrained.filter((r) => !r.sameNetworkAs).map((r) => ({ steps: r.steps, repeats: r.testAccuracies?.length ?? 1 })),
      calibrationSubnets: i.calibration?.points.length ?? 0,
    }),
    lineage: i.lineage ?? null,
    backend: i.supernet.epochs[0]?.backend ?? null,
    data: { counts: i.data.counts, skippedCount: i.data.imageFolder?.skippedCount ?? 0, skipped: i.data.imageFolder?.skipped ?? [] },
  };
}

export function createRecordActivities(store: ArtifactStore) {
  return {
    /** Saves the search state after a batch; states are numbered by answered evaluations (monotone). */
    async saveSearchState(input: RunContext & { state: SearchState }): Promise<ObjectRef> {
      return store.putJson(stateKey(input.runId, input.state.evaluations), { configHash: input.configHash, state: input.state });
    },

    /** The newest saved search state of this run and config, or null (fresh search). */
    async loadSearchState(ctx: RunContext): Promise<SearchState | null> {
      const listed = await store.list(`${objectKey('runs', ctx.runId, 'search', 'state')}/`);
      for (const o of listed.reverse()) {
        try {
          const saved = await store.getJson<{ configHash: string; state: SearchState }>(await store.refOf(o.key));
          if (saved.configHash === ctx.configHash) return saved.state;
        } catch (err) {
          // Corrupt or gone: try the previous one. Anything else (storage unreachable) is rethrown: falling back
          // to an older state on a transient error would silently redo finished evaluations.
          if (!isDamagedObject(err)) throw err;
        }
      }
      return null;
    },

    async saveSearchResult(input: RunContext & { result: SearchResult }): Promise<ObjectRef> {
      return store.putJson(objectKey('runs', input.runId, 'search', 'result.json'), input.result);
    },

    async saveStageRecord(input: RunContext & { stage: StageName; record: unknown }): Promise<ObjectRef> {
      // A lineage record (supernet.from) is saved once the workflow accepted the source: from then on the source's
      // checkpoint is this run's too, and the source's retention must keep it. Recorded here rather than by an
      // activity of its own, so the workflow's history (and the replay of recorded runs) stays as it was.
      const lineage = input.record as Partial<SupernetLineage> & { format?: string };
      if (lineage.format === LINEAGE_RECORD_FORMAT && lineage.checkpoint) await recordReference(store, input.runId, lineage.checkpoint.key);
      return store.putJson(objectKey('runs', input.runId, input.stage, 'record.json'), input.record);
    },

    /** Writes results.json, then the run manifest (every object of the run, its sha256 and stage). */
    async writeRunResults(input: WriteResultsInput): Promise<{ results: ObjectRef; manifest: ObjectRef }> {
      const results = await store.putJson(objectKey('runs', input.runId, 'report', 'results.json'), buildResults(input));
      const prefix = `${objectKey('runs', input.runId)}/`;
      const manifestKey = objectKey('runs', input.runId, 'manifest.json');
      const artifacts = [];
      for (const o of await store.list(prefix)) {
        if (o.key === manifestKey) continue;
        const stage = o.key.slice(prefix.length).split('/')[0];
        // The hash recorded when the store wrote the object. An object altered behind the store's back
        // (no recorded hash) is listed as such rather than hiding it or failing the run's report.
        const ref = await store.refOf(o.key).catch(() => null);
        artifacts.push(ref
          ? { stage, key: o.key, sha256: ref.sha256, bytes: ref.bytes }
          : { stage, key: o.key, sha256: null, bytes: o.bytes, note: 'no sha256 recorded: not written by the artifact store (altered or foreign)' });
      }
      const manifest = await store.putJson(manifestKey, {
        format: RUN_MANIFEST_FORMAT, runId: input.runId, configHash: input.configHash, createdAt: new Date().toISOString(), results, artifacts,
        // The source's objects this run used but does not own (never listed as its artifacts, never modified).
        ...(input.lineage ? { lineage: input.lineage } : {}),
      });
      return { results, manifest };
    },
  };
}
