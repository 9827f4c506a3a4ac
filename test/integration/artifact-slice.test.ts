/**
 * The vertical slice end to end on real servers: a workflow, an activity, a worker process, MinIO.
 * Includes the two durability proofs of the foundation: a SIGKILLed worker and a restarted Temporal server.
 */
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { destroyState, freePort, startTemporal, stopTemporal } from '../../infra/local';
import { sliceChunk } from '../../activities/artifact-slice';
import { objectKey, sha256Hex, type ArtifactStore } from '../../storage/store';
import type { ArtifactSliceInput } from '../../workflows/artifact-slice';
import { eventually, skipWithoutServers, spawnWorker, testClient, testStore, uniqueId, type WorkerProcess } from '../helpers/env';

const expectedSha = (i: ArtifactSliceInput) =>
  sha256Hex(Buffer.concat(Array.from({ length: i.chunks }, (_, k) => sliceChunk(i.seed, k, i.chunkBytes))));

async function activityAttempts(client: Awaited<ReturnType<typeof testClient>>['client'], workflowId: string): Promise<number[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 0);
}

describe('artifact slice: workflow → activity → MinIO', { skip: skipWithoutServers }, () => {
  let store: ArtifactStore;
  const workers: WorkerProcess[] = [];
  before(async () => {
    store = await testStore();
  });
  after(() => {
    for (const w of workers) w.child.kill('SIGKILL');
  });

  it('a new worker finishes the workflow after the first one is SIGKILLed mid-activity', async () => {
    const queue = uniqueId('q-kill');
    const runId = uniqueId('kill');
    const input: ArtifactSliceInput = { runId, chunks: 12, chunkBytes: 4096, seed: 7, paceMs: 300 };
    const { client, close } = await testClient();
    try {
      const first = spawnWorker({ queue, identity: 'first-worker' });
      workers.push(first);
      await first.ready;
      const handle = await client.workflow.start('artifactSlice', { taskQueue: queue, workflowId: runId, args: [input] });
      // Wait until the activity has really made progress, then kill the worker like a lost machine.
      await eventually('three chunks written', () => store.exists(objectKey('runs', runId, 'slice', 'part-00002')));
      first.child.kill('SIGKILL');
      assert.equal(await first.exited, null, 'the first worker died from the signal');

      const second = spawnWorker({ queue, identity: 'second-worker' });
      workers.push(second);
      await second.ready;
      const ref = await handle.result();

      assert.equal(ref.sha256, expectedSha(input), 'the artifact has exactly the expected content');
      assert.equal(ref.bytes, input.chunks * input.chunkBytes);
      assert.deepEqual(await store.getVerified(ref), Buffer.concat(Array.from({ length: 12 }, (_, k) => sliceChunk(7, k, 4096))));
      const attempts = await activityAttempts(client, runId);
      assert.ok(Math.max(...attempts) >= 2, `the activity was retried (attempts seen: ${attempts.join(', ')})`);
      const history = await handle.fetchHistory();
      const identities = (history.events ?? []).map((e) => e.activityTaskStartedEventAttributes?.identity).filter(Boolean);
      assert.deepEqual(identities, ['second-worker'], 'the retried attempt ran on the new worker');
      second.child.kill('SIGTERM');
      await second.exited;
    } finally {
      await close();
    }
  });

  it('completes a workflow across a restart of the Temporal server (SQLite state survives)', async () => {
    // A private Temporal server, so restarting it disturbs no other test.
    const stateDir = await mkdtemp(join(tmpdir(), 'scalenet-restart-'));
    const port = await freePort();
    try {
      const address = await startTemporal({ stateDir, port });
      const queue = uniqueId('q-restart');
      const runId = uniqueId('restart');
      const input: ArtifactSliceInput = { runId, chunks: 10, chunkBytes: 1024, seed: 3, paceMs: 300 };
      const worker = spawnWorker({ queue, env: { TEMPORAL_ADDRESS: address } });
      workers.push(worker);
      await worker.ready;
      {
        const { client, close } = await testClient(address);
        await client.workflow.start('artifactSlice', { taskQueue: queue, workflowId: runId, args: [input] });
        await close();
      }
      await eventually('two chunks written', () => store.exists(objectKey('runs', runId, 'slice', 'part-00001')));
      assert.equal(await stopTemporal(stateDir), true, 'the server was running and is now stopped');
      await startTemporal({ stateDir, port });

      const { client, close } = await testClient(address);
      try {
        const ref = await client.workflow.getHandle(runId).result();
        assert.equal(ref.sha256, expectedSha(input));
        const desc = await client.workflow.getHandle(runId).describe();
        assert.equal(desc.status.name, 'COMPLETED');
      } finally {
        await close();
        worker.child.kill('SIGTERM');
        await worker.exited;
      }
    } finally {
      await destroyState(stateDir);
    }
  });
});
