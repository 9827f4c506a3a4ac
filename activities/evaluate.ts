/**
 * Stage 3 activity: score a chunk of candidates with the shared weights of the trained super-supernet
 * (DESIGN §3.6): BN recalibrated for each exact sub-network on training batches, BN folded, top-1 on the
 * minival split. Deterministic: the recalibration batches are the same for every candidate and worker,
 * so any worker (or a retry) gives the same fitness.
 */
import { Context, CancelledFailure } from '@temporalio/activity';
import { resolveSpace } from '../core/config';
import type { EvaluateInput, EvaluateResult } from '../core/pipeline';
import type { ObjectRef } from '../core/refs';
import { evaluateSubnetwork, EvaluationCache } from '../nn/evaluate';
import { SupernetTrainer } from '../nn/trainer';
import { CheckpointStore } from '../storage/checkpoints';
import type { ArtifactStore } from '../storage/store';
import { decodeTrainer } from './checkpointing';
import { datasetFromRef, ensureBackend, keepAlive } from './runtime';

/**
 * The supernet last loaded by this process, with its memo of evaluations (evaluation chunks of one run
 * reuse both). The memo lives and dies with the weights it was computed from.
 */
let loaded: { sha256: string; trainer: SupernetTrainer; cache: EvaluationCache } | undefined;

async function supernetAt(store: ArtifactStore, input: EvaluateInput, manifest: ObjectRef): Promise<NonNullable<typeof loaded>> {
  if (loaded?.sha256 === manifest.sha256) return loaded;
  const data = await datasetFromRef(store, input.data, input.config.dataset);
  const ck = await new CheckpointStore(store, input.runId, 'train-supernet').load(manifest);
  loaded?.trainer.dispose();
  loaded = undefined;
  const trainer = SupernetTrainer.restore({ space: resolveSpace(input.config), data }, decodeTrainer(ck.objects));
  loaded = { sha256: manifest.sha256, trainer, cache: new EvaluationCache() };
  return loaded;
}

export function createEvaluationActivities(store: ArtifactStore) {
  return {
    async evaluateCandidates(input: EvaluateInput): Promise<EvaluateResult> {
      await ensureBackend();
      const ctx = Context.current();
      const t0 = Date.now();
      const { trainer, cache } = await keepAlive(supernetAt(store, input, input.supernet));
      const data = await keepAlive(datasetFromRef(store, input.data, input.config.dataset));
      const s = input.config.search;
      const results: EvaluateResult['results'] = [];
      for (const c of input.candidates) {
        if (ctx.cancellationSignal.aborted) throw new CancelledFailure(`evaluation stopped after ${results.length} of ${input.candidates.length} candidates`);
        const r = await keepAlive(evaluateSubnetwork(trainer, c.arch as typeof c.arch & { stages: number[][] }, data, {
          bn: s.bnRecalibrationBatches > 0 ? 'recalibrate' : 'batch',
          recalibration: { batches: s.bnRecalibrationBatches, batchSize: s.bnRecalibrationBatchSize, seed: input.config.seed },
          split: 'minival',
          batchSize: s.evalBatchSize,
          cache,
        }), { done: results.length });
        results.push({ id: c.id, fitness: r.accuracy });
        ctx.heartbeat({ done: results.length });
      }
      return { results, computeSeconds: (Date.now() - t0) / 1000 };
    },
  };
}
