/**
 * Reusing an earlier run's super-supernet (issue 15, "train once, search many"). The light activity below
 * finds the source run's final supernet checkpoint and prepared data, verifies both against the sha256s the
 * source's run manifest recorded, and hands them to the new run with the source's config, so the workflow can
 * refuse a source trained with other settings (core/lineage.ts). It only reads: the workflow saves the
 * lineage record under the new run's own prefix once the check passed.
 */
import { parseConfigObject, type RunConfig } from '../core/config';
import { InvalidInputError } from '../core/errors';
import type { SupernetLineage } from '../core/lineage';
import type { DataRef, RunContext, SupernetEpochResult } from '../core/pipeline';
import type { ObjectRef } from '../core/refs';
import { CheckpointStore } from '../storage/checkpoints';
import { objectKey, type ArtifactStore } from '../storage/store';
import type { TrainSupernetResult } from '../core/stage-results';
import { dataHash } from './data';
import type { RunResults } from './records';
import { keepAlive, nonRetryableInput } from './runtime';

export interface SupernetSource {
  /** The source run's config (the workflow diffs it against its own before using anything). */
  sourceConfig: RunConfig;
  lineage: SupernetLineage;
  data: DataRef;
  /** The source's supernet epochs, as the report shows them; compute 0 (this run spent none). */
  supernet: TrainSupernetResult;
}

const refused = (sourceRunId: string, message: string): never =>
  nonRetryableInput(new InvalidInputError('config', [{ path: 'supernet.from', message: `run ${sourceRunId}: ${message}` }]));

/** Where an object of the source must be, per the source's run manifest (key → sha256). */
function checkAgainstManifest(sourceRunId: string, recorded: Map<string, string | null>, ref: ObjectRef, what: string): void {
  const sha = recorded.get(ref.key);
  if (sha === undefined) refused(sourceRunId, `${what} ${ref.key} is not listed in its run manifest`);
  if (sha !== ref.sha256) refused(sourceRunId, `${what} ${ref.key} has sha256 ${ref.sha256}, its run manifest recorded ${sha ?? 'none'}`);
}

export function createLineageActivities(store: ArtifactStore) {
  return {
    /** Finds and verifies the super-supernet and prepared data of `config.supernet.from` (a completed run). */
    async loadSupernetSource(ctx: RunContext): Promise<SupernetSource> {
      const from = ctx.config.supernet.from;
      if (!from) return refused('(none)', 'supernet.from is not set');
      const resultsKey = objectKey('runs', from, 'report', 'results.json');
      const manifestKey = objectKey('runs', from, 'manifest.json');
      if (!(await store.exists(resultsKey)) || !(await store.exists(manifestKey))) {
        return refused(from, 'has no results in the store; only a completed run\'s super-supernet can be reused (see `scalenet list --state completed`)');
      }
      const results = await store.getJson<RunResults>(await store.refOf(resultsKey));
      const manifest = await store.getJson<{ artifacts: { key: string; sha256: string | null }[] }>(await store.refOf(manifestKey));
      const recorded = new Map(manifest.artifacts.map((a) => [a.key, a.sha256]));
      let sourceConfig: RunConfig;
      try {
        sourceConfig = parseConfigObject(results.config);
      } catch (err) {
        return refused(from, `its config no longer parses (${(err as Error).message})`);
      }

      let checkpoint: ObjectRef;
      let dataIndex: ObjectRef;
      if (results.lineage) {
        // The source reused a supernet itself: point at the run that trained it (its objects were verified then,
        // and are verified again below by loading).
        ({ checkpoint, data: dataIndex } = results.lineage);
      } else {
        const ck = new CheckpointStore(store, from, 'train-supernet');
        const [newest] = await ck.steps();
        if (newest === undefined) return refused(from, 'has no supernet checkpoint');
        checkpoint = await store.refOf(ck.manifestKey(newest));
        checkAgainstManifest(from, recorded, checkpoint, 'supernet checkpoint');
        dataIndex = await store.refOf(objectKey('runs', from, 'prepare-data', `data-${dataHash(sourceConfig)}.json`)).catch(() => refused(from, 'has no prepared-data index'));
        checkAgainstManifest(from, recorded, dataIndex, 'prepared-data index');
      }
      // Loading verifies the manifest and every tensor object against its sha256.
      const loaded = await keepAlive(new CheckpointStore(store, from, 'train-supernet').load(checkpoint)).catch((err: Error) => refused(from, `supernet checkpoint ${checkpoint.key} does not verify: ${err.message}`));
      const data = await store.getJson<DataRef>(dataIndex);
      if (!results.lineage) for (const ref of [...data.train, ...data.minival, ...data.test]) checkAgainstManifest(from, recorded, ref, 'data shard');

      const stepsPerEpoch = loaded.manifest.step / Math.max(1, results.supernet.epochs.length);
      const epochs: SupernetEpochResult[] = results.supernet.epochs.map((e, i) => ({
        epoch: e.epoch, step: (e.epoch + 1) * stepsPerEpoch, checkpoint, meanLoss: e.meanLoss,
        lossLog: results.supernet.lossLogs[i] as ObjectRef, resumedFromStep: e.resumedFromStep, fallbacks: [],
        computeSeconds: 0, backend: results.backend ?? 'unknown',
      }));
      const lineage: SupernetLineage = {
        sourceRunId: results.lineage?.sourceRunId ?? from,
        sourceConfigHash: results.configHash,
        checkpoint,
        data: dataIndex,
        avoidedComputeSeconds: results.lineage?.avoidedComputeSeconds ?? results.computeSeconds['train-supernet'] ?? 0,
      };
      return { sourceConfig, lineage, data, supernet: { checkpoint, epochs, computeSeconds: 0 } };
    },
  };
}
