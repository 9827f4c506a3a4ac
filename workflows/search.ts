/**
 * Stage 3: the Markov-chain evolutionary search (core/search.ts) driven one batch at a time. Each batch of
 * candidates is split into chunks evaluated by compute activities in parallel, so several workers share
 * the work and a lost worker only delays its chunk. The state is saved in MinIO after every batch, so a
 * resumed run continues from the last finished batch.
 */
import { continueAsNew, getExternalWorkflowHandle, workflowInfo } from '@temporalio/workflow';
import { evaluationConcurrency, resolveSpace } from '../core/config';
import type { DataRef, RunContext } from '../core/pipeline';
import { chunkBySharedPrefix } from '../core/prefix-sharing';
import type { ObjectRef } from '../core/refs';
import type { SearchSummary } from '../core/stage-results';
import { createSearch, isDone, nextCandidates, searchResult, submitFitness, type SearchResult, type SearchState } from '../core/search';
import { computeActivities, lightActivities, type ActivityTuning } from './activities';
import { deterministic } from './failures';
import { childProgressSignal } from './progress';

export interface SearchInput extends RunContext {
  data: DataRef;
  supernet: ObjectRef;
  tuning?: ActivityTuning;
  parentId?: string;
  /** Carried across continue-as-new. */
  state?: SearchState;
  computeSeconds?: number;
}

export type { SearchSummary };

/** Split `items` into at most `parts` chunks of near-equal size, keeping order. */
export function chunk<T>(items: readonly T[], parts: number): T[][] {
  const n = Math.max(1, Math.min(parts, items.length));
  const size = Math.ceil(items.length / n);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const MAX_HISTORY_BYTES = 8 << 20;

export async function searchScaling(input: SearchInput): Promise<SearchSummary> {
  const { config } = input;
  const ctx = { runId: input.runId, config, configHash: input.configHash };
  const { evaluateCandidates } = computeActivities(config, input.tuning, 'evaluation');
  const { loadSearchState, saveSearchState, saveSearchResult } = lightActivities(config);
  const parent = input.parentId ? getExternalWorkflowHandle(input.parentId) : undefined;
  let computeSeconds = input.computeSeconds ?? 0;
  const space = deterministic('search could not start', () => resolveSpace(config));
  let state: SearchState = input.state ?? (await loadSearchState(ctx)) ??
    deterministic('search could not start', () => createSearch(config.search, space, config.seed));

  const report = async () => {
    const p = state.phase;
    const best = state.hallOfFame[0]?.fitness ?? state.population[0]?.fitness ?? null;
    await parent?.signal(childProgressSignal, {
      kind: 'search',
      value: {
        phase: p.kind,
        round: 'round' in p ? p.round : null,
        generation: p.kind === 'evolve' ? p.generation : null,
        rounds: state.params.rounds,
        generations: state.params.generations,
        evaluations: state.evaluations,
        bestFitness: best,
      },
    });
  };

  await report();
  while (!isDone(state)) {
    const candidates = nextCandidates(state);
    // Chunks along the candidates' shared first layers, of near-equal cost (core/prefix-sharing.ts). As many as
    // `chunk` cuts (sometimes fewer than the concurrency), so a search recorded before replays the same commands.
    const parts = deterministic('search step failed', () => chunkBySharedPrefix(space, candidates, chunk(candidates, evaluationConcurrency(config)).length));
    const answers = await Promise.all(parts.map((c) => evaluateCandidates({ ...ctx, data: input.data, supernet: input.supernet, candidates: c })));
    computeSeconds += answers.reduce((a, r) => a + r.computeSeconds, 0);
    state = deterministic('search step failed', () => submitFitness(state, answers.flatMap((a) => a.results)));
    await saveSearchState({ ...ctx, state });
    await report();
    if (!isDone(state) && (workflowInfo().continueAsNewSuggested || workflowInfo().historySize > MAX_HISTORY_BYTES)) {
      await continueAsNew<typeof searchScaling>({ ...input, state, computeSeconds });
    }
  }
  const full = deterministic('search result failed', () => searchResult(state));
  const record = await saveSearchResult({ ...ctx, result: full });
  const { generations: _g, choices: _c, initBases: _i, ...result } = full;
  return { result, record, computeSeconds };
}
