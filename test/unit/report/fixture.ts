/**
 * A complete {@link ReportData} without servers: a real Markov-chain search on the `tiny` space driven
 * by the synthetic fitness of the core tests, the family built from it, and made-up but well-formed
 * retraining results, loss logs and activity history (one retried activity, one skipped checkpoint).
 */
import { RESULTS_FORMAT, type ResultRow, type RunResults } from '../../../activities/records';
import type { HistoryEntry } from '../../../cli/history';
import { configHash, parseConfigObject, resolveSpace } from '../../../core/config';
import { calibrationReport, sampleCalibrationSubnets } from '../../../core/calibration';
import { buildFamily } from '../../../core/family';
import { createSearch, runSearchSync } from '../../../core/search';
import { evaluatedFromMemo, type LossPoint, type ReportData } from '../../../report/model';
import { syntheticAccuracy } from '../core/synthetic';

const ref = (key: string) => ({ bucket: 'scalenet-test', key, sha256: 'a'.repeat(64), bytes: 100 });

function entry(stage: string, activity: string, start: number, seconds: number, extra: Partial<HistoryEntry>): HistoryEntry {
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  return {
    stage, workflowId: '', activity, attempts: 1, worker: 'worker-1',
    start: new Date(t0 + start * 1000).toISOString(), end: new Date(t0 + (start + seconds) * 1000).toISOString(),
    durationSeconds: seconds, outcome: 'completed', lastFailure: null, artifacts: [], notes: [], ...extra,
  };
}

export interface FixtureOptions {
  runId?: string;
  /** Extra history entries (e.g. hostile text). */
  history?: HistoryEntry[];
}

export function reportFixture(o: FixtureOptions = {}): ReportData {
  const runId = o.runId ?? 'fixture-run';
  const config = parseConfigObject({
    name: 'fixture', space: 'tiny', seed: 3,
    search: { initBases: 2, rounds: 2, population: 6, generations: 3, tournamentSize: 2, elites: 2 },
    extrapolation: { extraLevels: 1 },
    retraining: { testImages: 256 },
  });
  const space = resolveSpace(config);
  const { state, result } = runSearchSync(createSearch(config.search, space, config.seed), (c) => syntheticAccuracy(c.arch));
  const family = buildFamily(config, result);
  const byName = new Map(family.models.map((m) => [m.name, m]));
  const rows: ResultRow[] = family.models.map((m, i) => ({
    partner: m.budget?.partner ?? null,
    partnerMacs: byName.get(m.kind === 'baseline' ? m.budget!.partner : `B${m.level}`)?.macs ?? null,
    macsRatio: m.kind === 'baseline' ? m.macs / byName.get(m.budget!.partner)!.macs : m.level > 0 ? byName.get(`B${m.level}`)!.macs / m.macs : null,
    skipped: null,
    model: m.name, kind: m.kind, level: m.level,
    depth: m.arch.depth, width: m.arch.width, resolution: m.arch.resolution, macs: m.macs, params: m.params,
    supernetAccuracy: m.supernetAccuracy,
    retrainedAccuracy: 0.7 + 0.03 * m.level - (m.kind === 'baseline' ? 0.02 : 0),
    baselineAccuracy: m.kind === 'baseline' ? null : 0.68 + 0.03 * m.level,
    latencyMs: 1 + i,
    model_json: ref(`runs/${runId}/retrain/${m.name}/model/model.json`),
  }));
  const loss: LossPoint[] = Array.from({ length: 60 }, (_, step) => ({
    epoch: Math.floor(step / 20), step: step + 1, loss: 2.3 * Math.exp(-step / 40) + 0.05 * Math.sin(step), level: step % 3,
  }));
  const results: RunResults = {
    format: RESULTS_FORMAT, runId, configHash: configHash(config), config, base: result.base, family: rows,
    extrapolation: family.extrapolation,
    compound: family.compound,
    calibration: calibrationReport(100, sampleCalibrationSubnets(space, 4, 1).map((c, i) => ({
      ...c, macs: 3e6 * 2 ** c.level, supernetAccuracy: [0.61, 0.7, 0.66, 0.64][i]!, retrainedAccuracy: [0.8, 0.86, 0.84, 0.83][i]!,
    }))),
    supernet: { epochs: [0, 1, 2].map((epoch) => ({ epoch, meanLoss: 2 - epoch / 3, resumedFromStep: null, fallbacks: 0 })), lossLogs: [] },
    search: { evaluations: result.evaluations, fitness: result.fitness, record: ref(`runs/${runId}/search/result.json`) },
    computeSeconds: { 'train-supernet': 120.5, search: 64.25, retrain: 300 },
    stageTimes: {},
    backend: 'wasm',
  };
  const at = (stage: string, activity: string, start: number, seconds: number, extra: Partial<HistoryEntry> = {}) =>
    entry(stage, activity, start, seconds, { workflowId: `${runId}.${stage}`, ...extra });
  const history = [
    at('prepare-data', 'prepareData', 0, 3, { workflowId: runId }),
    at('train-supernet', 'trainSupernetEpoch', 3, 40),
    at('train-supernet', 'trainSupernetEpoch', 43, 55, { attempts: 2, worker: 'worker-2', lastFailure: 'activity Heartbeat timeout', notes: [`skipped checkpoint runs/${runId}/train-supernet/ckpt/000040/manifest.json: sha256 mismatch`] }),
    at('search', 'evaluateCandidates', 98, 20),
    at('search', 'evaluateCandidates', 118, 25),
    at('extrapolate', 'saveStageRecord', 143, 0.2, { workflowId: runId }),
    ...family.models.map((m, i) => at('retrain', 'retrainModel', 144 + 10 * i, 30, { workflowId: `${runId}.retrain.${m.name}` })),
    at('report', 'writeRunResults', 250, 1, { workflowId: runId }),
    ...(o.history ?? []),
  ];
  return {
    runId, generatedAt: '2026-01-01T01:00:00.000Z', results,
    search: { generations: result.generations, choices: result.choices },
    evaluated: evaluatedFromMemo(space, state.memo), evaluatedSource: 'search-state',
    loss, history,
  };
}
