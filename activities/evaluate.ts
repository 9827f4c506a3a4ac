/**
 * Stage 3 activity: score a chunk of candidates with the shared weights of the trained super-supernet
 * (DESIGN §3.6): BN recalibrated for each exact sub-network on training batches, BN folded, top-1 on the
 * minival split. Deterministic: the recalibration batches are the same for every candidate and worker,
 * so any worker (or a retry) gives the same fitness.
 */
import { existsSync } from 'node:fs';
import { ApplicationFailure, Context, CancelledFailure } from '@temporalio/activity';
import { resolveSpace } from '../core/config';
import type { EvaluateInput, EvaluateResult } from '../core/pipeline';
import type { ObjectRef } from '../core/refs';
import { DEFAULT_PREFIX_BYTES, evaluateSubnetworks, EvaluationCache } from '../nn/evaluate';
import { SupernetTrainer } from '../nn/trainer';
import { CheckpointStore } from '../storage/checkpoints';
import { ownerRunOf } from '../storage/references';
import type { ArtifactStore } from '../storage/store';
import { decodeTrainer } from './checkpointing';
import { datasetFromRef, DEFAULT_NO_PROGRESS_SECONDS, ensureBackend, keepAlive, noteProgress } from './runtime';

interface LoadedSupernet {
  trainer: SupernetTrainer;
  cache: EvaluationCache;
}

/** A supernet of this process: loaded once, shared by the evaluations that hold it, disposed when none does. */
interface SupernetEntry {
  users: number;
  loaded: Promise<LoadedSupernet>;
}

/**
 * Supernets by manifest sha256, with their memo of evaluations (evaluation chunks of one run reuse both; the
 * memo lives and dies with the weights it was computed from). Reference-counted: with `worker --concurrency
 * > 1` several evaluations run at once, and one must never dispose a trainer another is using. The newest one
 * stays loaded while idle (the next chunk of the run needs it); older idle ones are disposed.
 */
const supernets = new Map<string, SupernetEntry>();
let newest: string | undefined;

function disposeIdle(): void {
  for (const [sha, e] of supernets) {
    if (e.users > 0 || sha === newest) continue;
    supernets.delete(sha);
    e.loaded.then((l) => l.trainer.dispose(), () => undefined);
  }
}

/** Takes a reference to the supernet of `manifest` (loading it unless loaded or loading); pair with {@link releaseSupernet}. */
function acquireSupernet(store: ArtifactStore, input: EvaluateInput, manifest: ObjectRef): SupernetEntry {
  let e = supernets.get(manifest.sha256);
  if (!e) {
    const loaded = (async () => {
      const data = await datasetFromRef(store, input.data, input.config.dataset);
      // This run's own checkpoint must be of this run's config (fencing). A reused one (supernet.from) was written
      // for the source run's config: the workflow accepted it after comparing the configs, and its reference's
      // sha256 pins exactly that manifest, so there is no config hash of this run to check it against.
      const own = ownerRunOf(manifest.key) === input.runId;
      const ck = await new CheckpointStore(store, input.runId, 'train-supernet').load(manifest, own ? input.configHash : undefined);
      const trainer = SupernetTrainer.restore({ space: resolveSpace(input.config), data }, decodeTrainer(ck.objects));
      return { trainer, cache: new EvaluationCache() };
    })();
    const entry: SupernetEntry = { users: 0, loaded };
    loaded.catch(() => {
      if (supernets.get(manifest.sha256) === entry) supernets.delete(manifest.sha256);
    });
    supernets.set(manifest.sha256, entry);
    e = entry;
  }
  // Counted before any await, so no other evaluation can see it idle and dispose it in between.
  e.users += 1;
  newest = manifest.sha256;
  disposeIdle();
  return e;
}

function releaseSupernet(e: SupernetEntry): void {
  e.users -= 1;
  disposeIdle();
}

/** Supernets this process holds now (for tests). */
export function loadedSupernets(): { sha256: string; users: number }[] {
  return [...supernets].map(([sha256, e]) => ({ sha256, users: e.users }));
}

/**
 * Test hook, for the stalled-store test that must stop the store exactly while an evaluation is about to read
 * it (once its supernet is loaded an evaluation reads nothing more): with SCALENET_TEST_HOLD_EVALUATION_UNTIL=FILE,
 * evaluations of this process stand still before their first store read (heartbeating, cancellable) until FILE
 * exists. Once released, never again in this process: a retry that only gets a slot later must not wait for a
 * file that may be gone by then. Unset in normal use.
 */
let evaluationsReleased = false;
async function holdUntilReleased(ctx: Context): Promise<void> {
  const file = process.env.SCALENET_TEST_HOLD_EVALUATION_UNTIL;
  while (file && !evaluationsReleased) {
    if (existsSync(file)) {
      evaluationsReleased = true;
      break;
    }
    if (ctx.cancellationSignal.aborted) throw new CancelledFailure('evaluation cancelled while held by SCALENET_TEST_HOLD_EVALUATION_UNTIL');
    noteProgress(); // held on purpose: not a stall
    ctx.heartbeat();
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Memory one evaluation may hold in shared prefixes while it runs its chunk: SCALENET_EVAL_PREFIX_MB (a worker's
 * resource, like its threads, not part of a run's config: it changes the time an evaluation takes, never its result).
 */
function prefixMemoryBytes(): number {
  const raw = process.env.SCALENET_EVAL_PREFIX_MB;
  if (raw === undefined || raw === '') return DEFAULT_PREFIX_BYTES;
  const mb = Number(raw);
  if (!Number.isFinite(mb) || mb < 0) throw ApplicationFailure.nonRetryable(`SCALENET_EVAL_PREFIX_MB must be a number of megabytes ≥ 0 (0 turns prefix sharing off), got "${raw}"`, 'InvalidWorkerSetting');
  return mb * 2 ** 20;
}

export function createEvaluationActivities(store: ArtifactStore) {
  return {
    async evaluateCandidates(input: EvaluateInput): Promise<EvaluateResult> {
      await ensureBackend();
      const ctx = Context.current();
      await holdUntilReleased(ctx);
      const t0 = Date.now();
      const entry = acquireSupernet(store, input, input.supernet);
      try {
        // Configs of runs started before the field existed lack it.
        const stall = { noProgressSeconds: (input.config.resources.noProgressSeconds as number | undefined) ?? DEFAULT_NO_PROGRESS_SECONDS };
        const { trainer, cache } = await keepAlive(entry.loaded, undefined, stall);
        const data = await keepAlive(datasetFromRef(store, input.data, input.config.dataset), undefined, stall);
        const s = input.config.search;
        // One pass over the chunk: candidates that share their first layers share that work (nn/evaluate.ts);
        // every fitness is what the candidate would get alone. Answers go back in the order asked.
        const archs = input.candidates.map((c) => c.arch as typeof c.arch & { stages: number[][] });
        const evaluations = evaluateSubnetworks(trainer, archs, data, {
          bn: s.bnRecalibrationBatches > 0 ? 'recalibrate' : 'batch',
          recalibration: { batches: s.bnRecalibrationBatches, batchSize: s.bnRecalibrationBatchSize, seed: input.config.seed },
          split: 'minival',
          batchSize: s.evalBatchSize,
          cache,
        }, prefixMemoryBytes());
        const fitness = new Map<number, number>();
        try {
          for (;;) {
            if (ctx.cancellationSignal.aborted) throw new CancelledFailure(`evaluation stopped after ${fitness.size} of ${input.candidates.length} candidates`);
            const next = await keepAlive(evaluations.next(), { done: fitness.size }, stall);
            if (next.done) break;
            fitness.set(next.value.index, next.value.result.accuracy);
            noteProgress();
            ctx.heartbeat({ done: fitness.size });
          }
        } finally {
          // Frees the prefixes it holds when stopped early. Not awaited: after a stall its current step may never end,
          // and the return is queued behind it.
          void evaluations.return(undefined).catch(() => undefined);
        }
        const results: EvaluateResult['results'] = input.candidates.map((c, i) => ({ id: c.id, fitness: fitness.get(i) as number }));
        return { results, computeSeconds: (Date.now() - t0) / 1000 };
      } finally {
        releaseSupernet(entry);
      }
    },
  };
}
