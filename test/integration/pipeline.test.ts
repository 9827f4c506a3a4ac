/**
 * A ScaleNet run end to end on real servers (tiny preset, Fashion-MNIST), and the same run under faults:
 * killed workers (during supernet training and during evaluation), two workers sharing the evaluations,
 * a restarted Temporal server, MinIO down for 30 s, MinIO stalled (SIGSTOP) for 3 minutes during evaluation,
 * a corrupt checkpoint, and a run terminated mid-search and resumed. Every faulty run must produce exactly the
 * numbers of the uninterrupted one (runs whose faults all come before retraining retrain S0 only).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Worker } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { RunResults } from '../../activities/records';
import { runFailure } from '../../cli/client';
import { runHistory, HISTORY_FORMAT, type RunHistory } from '../../cli/history';
import { startMinio, startTemporal, stopMinio, stopTemporal } from '../../infra/local';
import { readPidfile } from '../../infra/processes';
import type { SupernetEpochResult } from '../../core/pipeline';
import { CheckpointStore } from '../../storage/checkpoints';
import type { ArtifactStore } from '../../storage/store';
import type { RunConfig } from '../../core/config';
import { eventually, repoRoot, skipWithoutServers, spawnWorker, testClient, testStore, uniqueId } from '../helpers/env';
import { threadEnv } from '../../nn/backend';
import { comparable, runResults, startTinyRun, TestFleet } from '../helpers/pipeline';

const stateDir = process.env.SCALENET_TEST_STATE_DIR ?? '';
const portOf = (addr: string | undefined) => Number((addr ?? '').split(':').pop());

async function supernetSteps(store: ArtifactStore, runId: string): Promise<number[]> {
  return new CheckpointStore(store, runId, 'train-supernet').steps();
}

async function searchStates(store: ArtifactStore, runId: string): Promise<number> {
  return (await store.list(`runs/${runId}/search/state/`)).length;
}

/** The step in the last heartbeat of the running activity of a workflow. */
async function heartbeatStep(client: Client, workflowId: string): Promise<number> {
  const desc = await client.workflow.getHandle(workflowId).describe();
  const payload = desc.raw.pendingActivities?.[0]?.heartbeatDetails?.payloads?.[0];
  return payload ? (defaultPayloadConverter.fromPayload(payload as Payload) as { step: number }).step : 0;
}

/** The running evaluation activities of a run's search (pending: started, or waiting for a retry). */
async function pendingEvaluations(client: Client, runId: string) {
  const desc = await client.workflow.getHandle(`${runId}.search`).describe();
  return (desc.raw.pendingActivities ?? []).filter((a) => a.activityType?.name === 'evaluateCandidates');
}

/** Histories of every workflow of a run, for replay. */
async function histories(client: Client, runId: string) {
  const out = [];
  for await (const w of client.workflow.list({ query: `ScaleNetRunId = '${runId}'` })) {
    out.push({ workflowId: w.workflowId, history: await client.workflow.getHandle(w.workflowId, w.runId).fetchHistory() });
  }
  return out;
}

/** Everything up to the family, which a fault before retraining must not change: supernet, search, extrapolation. */
function searchPart(r: RunResults) {
  const { base, search, extrapolation, supernet } = comparable(r);
  return { base, search, extrapolation, supernet };
}

/** The S0 row as `comparable` gives it. */
function s0Row(r: RunResults) {
  return comparable(r).family.find((f) => f.model === 'S0');
}

/** Retraining of S0 alone: the faults these runs test come before retraining, whose fan-out the reference run covers. */
const s0Only = (c: RunConfig): RunConfig => ({ ...c, retraining: { ...c.retraining, levels: [0] } });

// Each run takes a few minutes on 2 cores; the timeout turns a hang into a failure, never a stuck CI.
describe('ScaleNet run on the tiny preset', { skip: skipWithoutServers, timeout: 45 * 60_000 }, () => {
  let client: Client;
  let close: () => Promise<void>;
  let store: ArtifactStore;
  const fleets: TestFleet[] = [];
  let reference: RunResults;
  let referenceId: string;

  before(async () => {
    ({ client, close } = await testClient());
    store = await testStore();
  });
  after(async () => {
    for (const f of fleets) await f.killAll();
    await close();
  });

  it('completes end to end: family S0…S3, baselines B1…B3, results table and run manifest', async () => {
    const fleet = new TestFleet();
    fleets.push(fleet);
    await fleet.add();
    referenceId = uniqueId('tiny-ref');
    await startTinyRun(client, fleet, referenceId);
    reference = await runResults(client, store, referenceId);

    assert.deepEqual(reference.family.map((f) => f.model), ['S0', 'S1', 'S2', 'S3', 'B1', 'B2', 'B3']);
    assert.deepEqual(reference.family.map((f) => f.kind), ['searched', 'searched', 'searched', 'extrapolated', 'baseline', 'baseline', 'baseline']);
    const s0 = reference.family[0]!;
    for (const f of reference.family.slice(1)) {
      assert.ok(f.macs > s0.macs, `${f.model} costs more than S0`);
      assert.ok(f.retrainedAccuracy !== null && f.retrainedAccuracy >= 0 && f.retrainedAccuracy <= 1, `${f.model} has a test accuracy`);
    }
    // The tiny run trains its supernet for 24 steps only: its accuracies are real numbers, not yet good ones.
    for (const f of reference.family.filter((m) => m.kind === 'searched')) assert.ok(f.supernetAccuracy! >= 0 && f.supernetAccuracy! <= 1, `${f.model} has a minival accuracy`);
    assert.equal(reference.family[1]!.baselineAccuracy, reference.family[4]!.retrainedAccuracy, 'S1 row shows B1 accuracy');
    // Budget-matched baselines: each B_s costs its S_s's MACs within 1 % (searched and extrapolated alike).
    for (const b of reference.family.filter((f) => f.kind === 'baseline')) {
      const partner = reference.family.find((f) => f.model === b.partner)!;
      assert.equal(partner.model, `S${b.level}`);
      assert.ok(Math.abs(b.macs / partner.macs - 1) <= 0.01, `${b.model} ${b.macs} MACs vs ${partner.model} ${partner.macs}`);
      assert.equal(partner.macsRatio, b.macsRatio);
    }
    assert.deepEqual(reference.compound, { alpha: 1.2, beta: 1.1, gamma: 1.15 });
    assert.equal(reference.calibration, null, 'calibration is off in tiny');

    const summary = await client.workflow.getHandle(referenceId).result();
    const manifest = await store.getJson<{ artifacts: { stage: string; key: string; sha256: string; bytes: number }[] }>(summary.manifest);
    const stages = new Set(manifest.artifacts.map((a) => a.stage));
    for (const s of ['prepare-data', 'train-supernet', 'search', 'extrapolate', 'retrain', 'report']) assert.ok(stages.has(s), `manifest lists ${s} artifacts`);
    const weights = manifest.artifacts.find((a) => /\/tensors\.bin\.[0-9a-f]{16}$/.test(a.key))!;
    await store.getVerified({ bucket: store.bucket, key: weights.key, sha256: weights.sha256, bytes: weights.bytes });

    const h = await runHistory(client, referenceId);
    assert.equal(h.format, HISTORY_FORMAT);
    const kinds = new Set(h.entries.map((e) => e.activity));
    for (const a of ['prepareData', 'trainSupernetEpoch', 'evaluateCandidates', 'retrainModel', 'writeRunResults']) assert.ok(kinds.has(a), `history has ${a}`);
    assert.ok(h.entries.every((e) => e.outcome === 'completed' && e.worker === 'test-worker-1'));

    // Replay every workflow history of this run against today's workflow code: no nondeterminism.
    const hs = await histories(client, referenceId);
    assert.ok(hs.length >= 4, 'parent, supernet, search and retrain children');
    for (const { workflowId, history } of hs) {
      await Worker.runReplayHistory({ workflowsPath: require.resolve('../../workflows') }, history, workflowId);
    }
    await fleet.killAll('SIGTERM');
  });

  it('calibration stage, two retraining seeds, one worker with --concurrency 4 and evaluationConcurrency 4: τ and ρ from K retrained sub-networks, mean ± range per model, skipped levels say why, every evaluation first time, same search', async () => {
    assert.ok(reference, 'needs the reference run');
    const fleet = new TestFleet();
    fleets.push(fleet);
    await fleet.add({ concurrency: 4 });
    // The supernet on a queue of its own, served by a one-thread worker: its epochs run there and nowhere else.
    const supernetQueue = `${fleet.queue}-supernet`;
    const trainer = spawnWorker({ queue: supernetQueue, identity: 'test-supernet-worker', env: threadEnv(1) });
    fleet.workers.push(trainer);
    await trainer.ready;
    const runId = uniqueId('tiny-calibration');
    await startTinyRun(client, fleet, runId, (c) => ({
      ...c,
      retraining: { ...c.retraining, seeds: 2, levels: [0, 1] },
      calibration: { subnets: 3, steps: 4, testImages: 128 },
      resources: { ...c.resources, taskQueues: { ...c.resources.taskQueues, supernet: supernetQueue }, evaluationConcurrency: 4, checkpointsKept: 1 },
    }));
    const r = await runResults(client, store, runId);
    assert.deepEqual(searchPart(r), searchPart(reference));
    const refS0 = reference.family.find((f) => f.model === 'S0')!;
    assert.equal(r.family.find((f) => f.model === 'S0')!.retrainedAccuracies![0], refS0.retrainedAccuracy, 'seed 1 of S0 is the reference run\'s S0');
    const cal = r.calibration!;
    assert.deepEqual(cal.points.map((p) => [p.name, p.level]), [['C1', 0], ['C2', 1], ['C3', 2]]);
    for (const p of cal.points) {
      assert.ok(p.supernetAccuracy >= 0 && p.supernetAccuracy <= 1 && p.retrainedAccuracy >= 0 && p.retrainedAccuracy <= 1, `${p.name} has both accuracies`);
    }
    assert.ok(cal.kendallTau === null || (cal.kendallTau >= -1 && cal.kendallTau <= 1));
    assert.ok(cal.spearmanRho === null || (cal.spearmanRho >= -1 && cal.spearmanRho <= 1));
    assert.ok(r.computeSeconds.calibration! > 0);
    const byName = new Map(r.family.map((f) => [f.model, f]));
    for (const name of ['S0', 'S1', 'B1']) {
      const f = byName.get(name)!;
      assert.equal(f.retrainedAccuracies!.length, 2, `${name} retrained with two seeds`);
      assert.ok(Math.abs(f.retrainedAccuracy! - (f.retrainedAccuracies![0]! + f.retrainedAccuracies![1]!) / 2) < 1e-12);
    }
    for (const name of ['S2', 'S3', 'B2', 'B3']) assert.match(byName.get(name)!.skipped!, /not in retraining\.levels/);
    const h = await runHistory(client, runId);
    const children = new Set(h.entries.map((e) => e.workflowId));
    for (const id of ['calibration.C1', 'calibration.C3', 'retrain.S1', 'retrain.S1.seed2']) assert.ok(children.has(`${runId}.${id}`), `history has ${id}`);
    const workersOf = (activity: string) => [...new Set(h.entries.filter((e) => e.activity === activity).map((e) => e.worker))];
    assert.deepEqual(workersOf('trainSupernetEpoch'), ['test-supernet-worker']);
    assert.deepEqual(workersOf('evaluateCandidates'), ['test-worker-1']);
    // Four evaluations at once in one worker process: none fails or times out.
    const evaluations = h.entries.filter((e) => e.activity === 'evaluateCandidates');
    assert.ok(evaluations.length >= 4, `only ${evaluations.length} evaluation activities`);
    for (const e of evaluations) {
      assert.equal(e.outcome, 'completed', `${e.workflowId}: ${e.lastFailure ?? ''}`);
      assert.equal(e.attempts, 1, `an evaluation needed ${e.attempts} attempts: ${e.lastFailure ?? ''}`);
    }
    // Bounded growth: checkpoints name their step-log segments instead of repeating the epoch's log, and only
    // the newest intermediate checkpoint (checkpointsKept: 1) and each epoch's final one are kept
    // (tiny: 12 steps per epoch, a checkpoint every 4).
    const ck = new CheckpointStore(store, runId, 'train-supernet');
    const latest = await ck.loadLatestValid();
    assert.ok(Array.isArray(latest?.manifest.meta.segments) && !('log' in latest.manifest.meta), JSON.stringify(latest?.manifest.meta));
    assert.deepEqual(await ck.steps(), [24, 20, 12, 8]);
    await fleet.killAll('SIGTERM');
  });

  it('a zombie training worker (SIGSTOP past its heartbeat timeout, SIGCONT after another took over) changes nothing', async () => {
    assert.ok(reference, 'needs the reference run');
    const fleet = new TestFleet();
    fleets.push(fleet);
    const zombie = await fleet.add({ holdAtStep: 6 });
    const runId = uniqueId('tiny-zombie');
    await startTinyRun(client, fleet, runId, s0Only);
    const wf = `${runId}.train-supernet`;
    // Mid-epoch, one checkpoint (step 4) behind: stop the process as a hung machine would be.
    await eventually('the first worker at step 6', async () => (await heartbeatStep(client, wf)) === 6 || undefined, 240_000);
    zombie.child.kill('SIGSTOP');
    try {
      await fleet.add();
      // The heartbeat timeout (10 s) hands the epoch to the second worker, which resumes from step 4 and moves on.
      await eventually('the second worker past step 8', async () => (await heartbeatStep(client, wf)) > 8 || undefined, 240_000);
    } finally {
      // The zombie wakes up still believing it owns the epoch: it learns otherwise at its next heartbeat and
      // commits what it has on the way out. Its writes must not disturb the run.
      zombie.child.kill('SIGCONT');
    }
    const r = await runResults(client, store, runId);
    assert.deepEqual(searchPart(r), searchPart(reference));
    assert.deepEqual(s0Row(r), s0Row(reference));
    const h = await runHistory(client, runId);
    const notes = h.entries.flatMap((e) => e.notes);
    assert.deepEqual(notes, [], 'no checkpoint was skipped as corrupt or foreign');
    assert.ok(h.entries.some((e) => e.activity === 'trainSupernetEpoch' && e.attempts > 1), 'the epoch was taken over by a second attempt');
  });

  it('MinIO stalled by SIGSTOP for 3 minutes during evaluation: the attempt fails over on its heartbeat timeout and the run completes', async () => {
    assert.ok(reference, 'needs the reference run');
    const NO_PROGRESS_SECONDS = 5;
    const HEARTBEAT_TIMEOUT_SECONDS = 10; // startTinyRun's
    const fleet = new TestFleet();
    fleets.push(fleet);
    // Evaluations on their own queue, held before their first store read until `release` exists: the stall
    // must meet an evaluation that still has to read (once loaded, a supernet is evaluated from memory).
    const work = mkdtempSync(join(tmpdir(), 'scalenet-stall-'));
    const release = join(work, 'release');
    const compute = `${fleet.queue}-compute`;
    const evaluator = spawnWorker({ queue: compute, identity: 'test-evaluator', concurrency: 4, env: { SCALENET_TEST_HOLD_EVALUATION_UNTIL: release } });
    fleet.workers.push(evaluator);
    await Promise.all([fleet.add(), evaluator.ready]); // fleet.add: workflows and light activities
    const runId = uniqueId('tiny-stall');
    // The reference run's super-supernet (no training here) and S0 alone retrained: the stall is the test, not the run.
    await startTinyRun(client, fleet, runId, (c) => ({
      ...c,
      supernet: { ...c.supernet, from: referenceId },
      retraining: { ...c.retraining, levels: [0] },
      resources: { ...c.resources, taskQueues: { compute, light: fleet.queue }, noProgressSeconds: NO_PROGRESS_SECONDS },
    }));
    await eventually('an evaluation started and held', async () => (await pendingEvaluations(client, runId))
      .some((a) => a.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED), 240_000);

    const minio = await readPidfile(join(stateDir, 'run', 'minio.pid'));
    assert.ok(minio, 'the test MinIO has a pidfile');
    process.kill(minio.pid, 'SIGSTOP');
    const stoppedAt = Date.now();
    let failedOverAfterMs = 0;
    try {
      writeFileSync(release, '');
      // No step completes while the store stalls, so the attempt stops heartbeating after noProgressSeconds and
      // Temporal hands it to a new attempt after the heartbeat timeout: well inside the stall, not after it.
      const retried = await eventually('an evaluation attempt timed out on its heartbeat', async () => (await pendingEvaluations(client, runId)).find((a) =>
        (a.attempt ?? 1) > 1 && a.lastFailure?.timeoutFailureInfo?.timeoutType === temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_HEARTBEAT),
      (NO_PROGRESS_SECONDS + HEARTBEAT_TIMEOUT_SECONDS + 60) * 1000);
      failedOverAfterMs = Date.now() - stoppedAt;
      assert.match(retried.lastFailure?.message ?? '', /heartbeat/i);
      await new Promise((r) => setTimeout(r, Math.max(0, stoppedAt + 180_000 - Date.now()))); // the stall itself, not a synchronisation
    } finally {
      process.kill(minio.pid, 'SIGCONT');
    }
    console.log(`stalled store: an evaluation attempt failed over ${(failedOverAfterMs / 1000).toFixed(1)} s after MinIO stopped (no-progress ${NO_PROGRESS_SECONDS} s + heartbeat timeout ${HEARTBEAT_TIMEOUT_SECONDS} s)`);

    const r = await runResults(client, store, runId)
      .catch(async (err: Error) => { throw new Error(`the run failed: ${await runFailure(client, runId)}`, { cause: err }); })
      .finally(() => rmSync(work, { recursive: true, force: true }));
    assert.deepEqual(searchPart(r), searchPart(reference), 'the reference run\'s super-supernet, the same search');
    assert.deepEqual(s0Row(r), s0Row(reference), 'S0 retrained as in the uninterrupted run');
    const evaluations = (await runHistory(client, runId)).entries.filter((e) => e.activity === 'evaluateCandidates');
    assert.ok(evaluations.every((e) => e.outcome === 'completed'), 'every evaluation completed in the end');
    assert.ok(evaluations.some((e) => e.attempts > 1 && /heartbeat/i.test(e.lastFailure ?? '')), 'history shows the retried evaluation and its heartbeat timeout');
  });

  it('gives identical results when workers are killed in training and evaluation, Temporal restarts and MinIO is down for 30 s', async () => {
    const fleet = new TestFleet();
    fleets.push(fleet);
    // Both hold their supernet training at step 6, so the kill below lands there whatever the engine's speed.
    await fleet.add({ holdAtStep: 6 });
    await fleet.add({ holdAtStep: 6 });
    const runId = uniqueId('tiny-chaos');
    await startTinyRun(client, fleet, runId);

    // 1. SIGKILL every worker while the supernet trains (after the first checkpoint), then bring two back.
    // Kill two steps past the first checkpoint (step 4): the work lost should be those two steps.
    const stepAtKill = await eventually('step 6 of the supernet', async () => {
      const s = await heartbeatStep(client, `${runId}.train-supernet`);
      return s >= 6 ? s : undefined;
    }, 180_000);
    assert.equal(stepAtKill, 6, 'the worker held at step 6');
    await fleet.killAll();
    await fleet.add();
    await fleet.add();

    // 2. SIGKILL one of the two workers while candidates are being evaluated; the other carries on.
    await eventually('the search under way', async () => (await searchStates(store, runId)) > 0, 240_000);
    fleet.live()[0]!.child.kill('SIGKILL');

    // 3. Restart the Temporal server while the search runs.
    assert.equal(await stopTemporal(stateDir), true);
    await startTemporal({ stateDir, port: portOf(process.env.TEMPORAL_ADDRESS) });
    const { client: c2, close: close2 } = await testClient();
    try {
      // 4. MinIO down for 30 s during retraining: activities fail, retry with backoff, and succeed.
      await eventually('retraining under way', async () => (await c2.workflow.getHandle(runId).query<{ stage: string }>('progress')).stage === 'retrain', 300_000);
      await stopMinio(stateDir);
      await new Promise((r) => setTimeout(r, 30_000)); // the outage itself, not a synchronisation
      await startMinio({ stateDir, port: portOf(process.env.SCALENET_S3_ENDPOINT) });

      const chaos = await runResults(c2, store, runId);
      assert.deepEqual(comparable(chaos), comparable(reference), 'same numbers as the uninterrupted run');

      const h = await runHistory(c2, runId);
      const evalWorkers = new Set(h.entries.filter((e) => e.activity === 'evaluateCandidates').map((e) => e.worker));
      assert.ok(evalWorkers.size >= 2, `two workers shared the evaluations (${[...evalWorkers].join(', ')})`);
      const epochs = h.entries.filter((e) => e.activity === 'trainSupernetEpoch');
      assert.ok(epochs.some((e) => e.attempts >= 2), 'the killed supernet epoch was retried');
      const chaosEpochs = (await c2.workflow.getHandle(`${runId}.train-supernet`).result()).epochs as SupernetEpochResult[];
      const killedEpoch = chaosEpochs.find((e) => e.epoch === Math.floor((stepAtKill - 1) / 12))!;
      assert.ok(killedEpoch.resumedFromStep !== null, 'the killed epoch was resumed from a checkpoint, not restarted');
      const lost = Math.max(0, stepAtKill - killedEpoch.resumedFromStep);
      console.log(`work lost to the kill: ${lost} steps (last heartbeat at step ${stepAtKill}, resumed from step ${killedEpoch.resumedFromStep}; checkpoint interval 4 steps)`);
      assert.ok(lost <= 4, 'at most one checkpoint interval of work was lost');
    } finally {
      await close2();
    }
  });
  it('falls back from a corrupt checkpoint visibly, and `resume` finishes a terminated run without retraining the supernet', async () => {
    const fleet = new TestFleet();
    fleets.push(fleet);
    await fleet.add({ holdAtStep: 18 });
    const runId = uniqueId('tiny-resume');
    await startTinyRun(client, fleet, runId, s0Only);

    // Kill the worker in epoch 1 (held at step 18, after checkpoints at 4, 8, 12, 16), corrupt the newest
    // checkpoint, restart.
    await eventually('step 18 of the supernet', async () => (await heartbeatStep(client, `${runId}.train-supernet`)) >= 18 || undefined, 240_000);
    await fleet.killAll();
    const ck = new CheckpointStore(store, runId, 'train-supernet');
    const [newest] = await ck.steps();
    const loaded = (await ck.loadLatestValid())!;
    assert.equal(loaded.manifest.step, newest);
    await store.client.putObject(store.bucket, loaded.manifest.objects['tensors.bin']!.key, Buffer.from('corrupted'));
    await fleet.add();

    // Terminate the run while it searches, then resume it through the CLI.
    await eventually('the search under way', async () => (await searchStates(store, runId)) > 0, 240_000);
    await client.workflow.getHandle(runId).terminate('test: terminated mid-search');
    const supernetManifests = await ck.steps();
    const cli = spawnSync(process.execPath, [join(repoRoot, 'bin', 'scalenet.js'), 'resume', runId, '--detach'], { encoding: 'utf8', env: process.env });
    assert.equal(cli.status, 0, cli.stderr);
    assert.match(cli.stderr, /resumed run .* \(was terminated\)/);
    const resumed = await runResults(client, store, runId);
    assert.deepEqual(searchPart(resumed), searchPart(reference), 'same search as the uninterrupted run');
    assert.deepEqual(s0Row(resumed), s0Row(reference), 'same S0 as the uninterrupted run');
    assert.deepEqual(await ck.steps(), supernetManifests, 'no supernet checkpoint was written after the resume');

    const again = spawnSync(process.execPath, [join(repoRoot, 'bin', 'scalenet.js'), 'resume', runId], { encoding: 'utf8', env: process.env });
    assert.equal(again.status, 0);
    assert.match(again.stdout, /already completed; nothing to resume/);

    const h = JSON.parse(spawnSync(process.execPath, [join(repoRoot, 'bin', 'scalenet.js'), 'history', runId, '--json'], { encoding: 'utf8', env: process.env }).stdout) as RunHistory;
    assert.equal(h.format, HISTORY_FORMAT);
    const notes = h.entries.flatMap((e) => e.notes);
    assert.ok(notes.some((n) => n.includes(`step-${String(newest).padStart(10, '0')}`) && n.includes('sha256')), `history shows the skipped checkpoint: ${notes.join(' | ')}`);

    const status = JSON.parse(spawnSync(process.execPath, [join(repoRoot, 'bin', 'scalenet.js'), 'status', runId, '--json'], { encoding: 'utf8', env: process.env }).stdout) as { state: string; stage: string };
    assert.equal(status.state, 'completed');
    assert.equal(status.stage, 'report');
    const results = JSON.parse(spawnSync(process.execPath, [join(repoRoot, 'bin', 'scalenet.js'), 'results', runId, '--json'], { encoding: 'utf8', env: process.env }).stdout) as RunResults;
    assert.equal(results.format, 'scalenet.results/v1');
    assert.deepEqual(results.family.map((f) => f.model), reference.family.map((f) => f.model));
    await fleet.killAll('SIGTERM');
  });
});
