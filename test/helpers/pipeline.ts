/**
 * Helpers for end-to-end runs of the tiny config in integration tests: worker processes on a private
 * task queue, starting a run with a short heartbeat timeout, and reading its results and records.
 */
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { RunResults } from '../../activities/records';
import { loadConfigFile } from '../../cli/config-file';
import type { RunConfig } from '../../core/config';
import type { ArtifactStore } from '../../storage/store';
import type { RunInput, RunSummary } from '../../workflows/run';
import { RUN_ID } from '../../workflows/search-attributes';
import { repoRoot, spawnWorker, uniqueId, type WorkerProcess } from './env';

/** examples/tiny.yaml with every task queue pointed at `queue` (so tests never share workers). */
export function tinyConfig(queue: string): RunConfig {
  const c = loadConfigFile(join(repoRoot, 'examples', 'tiny.yaml'));
  return { ...c, resources: { ...c.resources, taskQueues: { compute: queue, light: queue } } };
}

export class TestFleet {
  readonly queue = uniqueId('q-pipeline');
  readonly workers: WorkerProcess[] = [];
  private n = 0;

  /** Starts one more worker; `holdAtStep`: its supernet training stands still at that step (see activities/checkpointing.ts). */
  async add(opts: { holdAtStep?: number; concurrency?: number } = {}): Promise<WorkerProcess> {
    const env = opts.holdAtStep === undefined ? {} : { SCALENET_TEST_HOLD_AT_STEP: String(opts.holdAtStep) };
    const w = spawnWorker({ queue: this.queue, identity: `test-worker-${++this.n}`, env, concurrency: opts.concurrency });
    this.workers.push(w);
    await w.ready;
    return w;
  }

  live(): WorkerProcess[] {
    return this.workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
  }

  async killAll(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const live = this.live();
    for (const w of live) w.child.kill(signal);
    await Promise.all(live.map((w) => w.exited));
  }
}

export async function startTinyRun(client: Client, fleet: TestFleet, runId: string, edit: (c: RunConfig) => RunConfig = (c) => c): Promise<void> {
  const config = edit(tinyConfig(fleet.queue));
  const input: RunInput = { runId, config, tuning: { heartbeatTimeoutSeconds: 10 } };
  await client.workflow.start('scaleNetRun', {
    workflowId: runId,
    taskQueue: fleet.queue,
    args: [input],
    typedSearchAttributes: [{ key: RUN_ID, value: runId }],
  });
}

export async function runResults(client: Client, store: ArtifactStore, runId: string): Promise<RunResults> {
  const summary = (await client.workflow.getHandle(runId).result()) as RunSummary;
  return store.getJson<RunResults>(summary.results);
}

/** The numbers that must not depend on interruptions: everything but object keys and timings. */
export function comparable(r: RunResults) {
  return {
    base: r.base,
    // The export manifest records its run id, attempt and time: the files' hashes are what must agree.
    family: r.family.map(({ export: _manifest, ...f }) => ({ ...f, latencyMs: null, model_json: f.model_json ? f.model_json.sha256 : null })),
    extrapolation: r.extrapolation,
    supernet: r.supernet.epochs.map((e) => e.meanLoss),
    search: { evaluations: r.search.evaluations, fitness: r.search.fitness, record: r.search.record.sha256 },
  };
}
