/**
 * `scalenet history`: the audit trail of a run, read from Temporal's event histories of the run and of
 * every child stage (found by the ScaleNetRunId search attribute). One entry per activity execution:
 * attempts, worker identity, times, outcome, the artifacts its result references, and notes such as a
 * checkpoint fallback.
 *
 * JSON shape (`--json`, stable): { format: "scalenet.history/v1", runId, entries: HistoryEntry[] }.
 */
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { SupernetLineage } from '../core/lineage';
import type { ObjectRef } from '../core/refs';

export const HISTORY_FORMAT = 'scalenet.history/v1';

export interface HistoryEntry {
  /** Stage (from the workflow id: `<run>.<stage>[.<model>]`; the parent's own activities name theirs). */
  stage: string;
  workflowId: string;
  /** Activity type, e.g. `trainSupernetEpoch`. */
  activity: string;
  attempts: number;
  /** Identity of the worker that ran the last attempt. */
  worker: string | null;
  start: string;
  end: string | null;
  durationSeconds: number | null;
  outcome: 'completed' | 'failed' | 'timed_out' | 'cancelled' | 'running';
  /** Failure message of the last failed attempt, if any (also for attempts that were later retried). */
  lastFailure: string | null;
  /** Object references found in the activity's result. */
  artifacts: ObjectRef[];
  /** Things an auditor should see, e.g. a corrupt checkpoint that was skipped. */
  notes: string[];
  /** `loadSupernetSource` only: the super-supernet this run reused instead of training one. */
  lineage?: SupernetLineage;
}

export interface RunHistory {
  format: typeof HISTORY_FORMAT;
  runId: string;
  /** Where the run's super-supernet came from when it reused another run's (`supernet.from`); else null. */
  lineage: SupernetLineage | null;
  entries: HistoryEntry[];
}

type Event = temporal.api.history.v1.IHistoryEvent;

const ACTIVITY_STAGE: Record<string, string> = {
  prepareData: 'prepare-data',
  loadSupernetSource: 'train-supernet',
  trainSupernetEpoch: 'train-supernet',
  evaluateCandidates: 'search',
  loadSearchState: 'search',
  saveSearchState: 'search',
  saveSearchResult: 'search',
  saveStageRecord: 'extrapolate',
  retrainModel: 'retrain',
  writeRunResults: 'report',
};

function decode(payloads: Payload[] | null | undefined): unknown {
  const p = payloads?.[0];
  return p ? defaultPayloadConverter.fromPayload(p) : undefined;
}

function time(t: { seconds?: unknown; nanos?: number | null } | null | undefined): Date | null {
  if (!t) return null;
  const s = Number(t.seconds ?? 0);
  return new Date(s * 1000 + Math.floor((t.nanos ?? 0) / 1e6));
}

/** Every {bucket, key, sha256, bytes} object inside a value. */
export function findRefs(value: unknown, out: ObjectRef[] = []): ObjectRef[] {
  if (Array.isArray(value)) value.forEach((v) => findRefs(v, out));
  else if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.bucket === 'string' && typeof o.key === 'string' && typeof o.sha256 === 'string' && typeof o.bytes === 'number') {
      out.push({ bucket: o.bucket, key: o.key, sha256: o.sha256, bytes: o.bytes });
    } else Object.values(o).forEach((v) => findRefs(v, out));
  }
  return out;
}

function lineageOf(result: unknown): SupernetLineage | undefined {
  const l = (result as { lineage?: SupernetLineage } | undefined)?.lineage;
  return l && typeof l.sourceRunId === 'string' ? l : undefined;
}

function notesOf(result: unknown): string[] {
  const notes: string[] = [];
  const r = result as { fallbacks?: { manifestKey: string; reason: string }[]; resumedFromStep?: number | null } | undefined;
  for (const f of r?.fallbacks ?? []) notes.push(`skipped checkpoint ${f.manifestKey}: ${f.reason}`);
  const l = lineageOf(result);
  if (l) notes.push(`reused the super-supernet of run ${l.sourceRunId}: checkpoint ${l.checkpoint.key} (sha256 ${l.checkpoint.sha256}); ${l.avoidedComputeSeconds.toFixed(1)} s of supernet training avoided`);
  return notes;
}

/** Entries of one workflow execution's history. */
export function entriesOf(runId: string, workflowId: string, events: Event[]): HistoryEntry[] {
  const scheduled = new Map<string, { type: string; time: Date | null }>();
  const started = new Map<string, { attempt: number; identity: string | null; lastFailure: string | null }>();
  const entries: HistoryEntry[] = [];
  const stageFromId = workflowId.startsWith(`${runId}.`) ? workflowId.slice(runId.length + 1).split('.')[0] : undefined;
  const finish = (schedId: string, outcome: HistoryEntry['outcome'], end: Date | null, result: unknown, failure: string | null) => {
    const s = scheduled.get(schedId);
    if (!s) return;
    const st = started.get(schedId);
    scheduled.delete(schedId);
    entries.push({
      stage: stageFromId ?? ACTIVITY_STAGE[s.type] ?? s.type,
      workflowId,
      activity: s.type,
      attempts: st?.attempt ?? 1,
      worker: st?.identity ?? null,
      start: (s.time ?? new Date(0)).toISOString(),
      end: end?.toISOString() ?? null,
      durationSeconds: end && s.time ? (end.getTime() - s.time.getTime()) / 1000 : null,
      outcome,
      lastFailure: failure ?? st?.lastFailure ?? null,
      artifacts: findRefs(result),
      notes: notesOf(result),
      ...(lineageOf(result) ? { lineage: lineageOf(result) } : {}),
    });
  };
  for (const e of events) {
    const id = String(e.eventId ?? '');
    if (e.activityTaskScheduledEventAttributes) {
      scheduled.set(id, { type: e.activityTaskScheduledEventAttributes.activityType?.name ?? '?', time: time(e.eventTime) });
    } else if (e.activityTaskStartedEventAttributes) {
      const a = e.activityTaskStartedEventAttributes;
      started.set(String(a.scheduledEventId), { attempt: a.attempt ?? 1, identity: a.identity ?? null, lastFailure: a.lastFailure?.message ?? null });
    } else if (e.activityTaskCompletedEventAttributes) {
      const a = e.activityTaskCompletedEventAttributes;
      finish(String(a.scheduledEventId), 'completed', time(e.eventTime), decode(a.result?.payloads as Payload[]), null);
    } else if (e.activityTaskFailedEventAttributes) {
      const a = e.activityTaskFailedEventAttributes;
      finish(String(a.scheduledEventId), 'failed', time(e.eventTime), undefined, a.failure?.message ?? null);
    } else if (e.activityTaskTimedOutEventAttributes) {
      const a = e.activityTaskTimedOutEventAttributes;
      finish(String(a.scheduledEventId), 'timed_out', time(e.eventTime), undefined, a.failure?.message ?? null);
    } else if (e.activityTaskCanceledEventAttributes) {
      finish(String(e.activityTaskCanceledEventAttributes.scheduledEventId), 'cancelled', time(e.eventTime), undefined, null);
    }
  }
  for (const [schedId, s] of scheduled) {
    const st = started.get(schedId);
    entries.push({
      stage: stageFromId ?? ACTIVITY_STAGE[s.type] ?? s.type, workflowId, activity: s.type, attempts: st?.attempt ?? 1,
      worker: st?.identity ?? null, start: (s.time ?? new Date(0)).toISOString(), end: null, durationSeconds: null,
      outcome: 'running', lastFailure: st?.lastFailure ?? null, artifacts: [], notes: [],
    });
  }
  return entries;
}

/** The history of a run: its own workflow and every stage workflow carrying its run id. */
export async function runHistory(client: Client, runId: string): Promise<RunHistory> {
  const executions = new Map<string, { workflowId: string; runId: string }>();
  for await (const w of client.workflow.list({ query: `ScaleNetRunId = '${runId.replace(/'/g, "")}'` })) {
    executions.set(w.runId, { workflowId: w.workflowId, runId: w.runId });
  }
  // The parent by id too: its search attributes may not be indexed yet.
  const parent = await client.workflow.getHandle(runId).describe();
  executions.set(parent.runId, { workflowId: runId, runId: parent.runId });
  const entries: HistoryEntry[] = [];
  for (const ex of executions.values()) {
    const h = await client.workflow.getHandle(ex.workflowId, ex.runId).fetchHistory();
    entries.push(...entriesOf(runId, ex.workflowId, (h.events ?? []) as Event[]));
  }
  entries.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  return { format: HISTORY_FORMAT, runId, lineage: entries.find((e) => e.lineage)?.lineage ?? null, entries };
}
