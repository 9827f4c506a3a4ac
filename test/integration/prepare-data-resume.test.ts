/**
 * prepare-data of an image folder survives a killed worker (issue 13: "resumable after a kill; nothing
 * half-written is left as if complete"). A worker is SIGKILLed between two training shards (it holds there,
 * seen by polling the store), a new worker takes the activity over after its heartbeat timeout, and the
 * prepared shards and index are byte-identical to an uninterrupted preparation of the same folder.
 *
 * S3 writes are atomic, so a kill cannot itself leave a cut-short object under a shard's key; the test plants
 * two (one with a sha256 that matches its cut-short bytes, one with none) where the killed attempt stopped,
 * to prove that a resumed attempt verifies what it finds rather than trusting a key's existence.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createDataActivities } from '../../activities/data';
import { runHistory } from '../../cli/history';
import { parseConfigObject, type RunConfig } from '../../core/config';
import type { DataRef } from '../../core/pipeline';
import type { ArtifactStore } from '../../storage/store';
import type { RunInput } from '../../workflows/run';
import { RUN_ID } from '../../workflows/search-attributes';
import { eventually, skipWithoutServers, spawnWorker, testClient, testStore, uniqueId, type WorkerProcess } from '../helpers/env';
import { writeFashionFolder } from '../helpers/image-folder';
import { tinyConfig } from '../helpers/pipeline';

/** The training shard the first worker stands still before (0-based): four are written when it is killed. */
const HOLD_AT = 4;

describe('prepare-data of an image folder after a killed worker', { skip: skipWithoutServers, timeout: 10 * 60_000 }, () => {
  let client: Client;
  let close: () => Promise<void>;
  let store: ArtifactStore;
  let root: string;
  const workers: WorkerProcess[] = [];
  const queue = uniqueId('q-prep-resume');

  before(async () => {
    ({ client, close } = await testClient());
    store = await testStore();
    root = mkdtempSync(join(tmpdir(), 'scalenet-prep-resume-'));
    await writeFashionFolder(join(root, 'train'), { split: 'train', count: 300, colourPerClass: 1 });
    await writeFashionFolder(join(root, 'test'), { split: 'test', count: 40 });
  });
  after(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    await close();
    rmSync(root, { recursive: true, force: true });
  });

  function config(): RunConfig {
    const c = tinyConfig(queue);
    return parseConfigObject({
      ...c,
      // 32 images per shard: ten training shards, so the kill falls between shards of the same split.
      dataset: { kind: 'image-folder', train: join(root, 'train'), test: join(root, 'test'), channels: 3, imagesPerShard: 32 },
      space: { preset: 'tiny', overrides: { classes: 10 } },
      search: { ...c.search, minivalSize: 20 },
    });
  }

  /** Every object of a run's prepare-data, by its name below the run's prefix. */
  async function prepared(runId: string): Promise<Map<string, Buffer>> {
    const prefix = `runs/${runId}/prepare-data/`;
    const out = new Map<string, Buffer>();
    for (const o of await store.list(prefix)) out.set(o.key.slice(prefix.length), await store.getVerified(await store.refOf(o.key)));
    return out;
  }

  it('resumes at the first missing shard, rewrites cut-short ones, and ends byte-identical to an uninterrupted preparation', async () => {
    const cfg = config();
    const reference = uniqueId('prep-ref');
    await new MockActivityEnvironment().run(createDataActivities(store).prepareData, { runId: reference, config: cfg, configHash: 'test' });
    const expected = await prepared(reference);
    const shardNames = [...expected.keys()].filter((k) => /\/train-\d+\.snef$/.test(k));
    assert.equal(shardNames.length, 10, 'ten training shards of at most 32 (290 images after minival)');
    const indexName = [...expected.keys()].find((k) => k.startsWith('data-'))!;

    const first = spawnWorker({ queue, identity: 'prep-1', env: { SCALENET_TEST_HOLD_PREPARE_AT_SHARD: String(HOLD_AT) } });
    workers.push(first);
    await first.ready;
    const runId = uniqueId('prep-resume');
    const input: RunInput = { runId, config: cfg, tuning: { heartbeatTimeoutSeconds: 5 } };
    const handle = await client.workflow.start('scaleNetRun', { workflowId: runId, taskQueue: queue, args: [input], typedSearchAttributes: [{ key: RUN_ID, value: runId }] });
    const key = (name: string) => `runs/${runId}/prepare-data/${name}`;
    await eventually('the first worker to write four training shards', async () => store.exists(key(shardNames[HOLD_AT - 1]!)), 5 * 60_000);
    first.child.kill('SIGKILL');
    await first.exited;

    const left = await prepared(runId);
    assert.deepEqual([...left.keys()].sort(), shardNames.slice(0, HOLD_AT).sort(), 'the killed attempt left four shards and no index');
    for (const [name, bytes] of left) assert.ok(bytes.equals(expected.get(name)!), `${name} as written before the kill`);

    // Cut-short objects where the next shards go: one whose recorded sha256 matches its bytes, one with none.
    const [next, later] = [shardNames[HOLD_AT]!, shardNames[HOLD_AT + 1]!];
    await store.putBuffer(key(next), expected.get(next)!.subarray(0, expected.get(next)!.length >> 1));
    await store.client.putObject(store.bucket, key(later), expected.get(later)!.subarray(0, 1000));

    const second = spawnWorker({ queue, identity: 'prep-2' });
    workers.push(second);
    await second.ready;
    const entry = await eventually('prepare-data to complete on the second worker', async () => {
      const h = await runHistory(client, runId);
      return h.entries.find((e) => e.activity === 'prepareData' && e.outcome === 'completed');
    }, 5 * 60_000);
    await handle.terminate('the test needs prepare-data only');
    assert.equal(entry.worker, 'prep-2');
    assert.equal(entry.attempts, 2, 'the second attempt finished the preparation');

    const got = await prepared(runId);
    assert.deepEqual([...got.keys()].sort(), [...expected.keys()].sort());
    for (const [name, bytes] of got) {
      if (name === indexName) continue;
      assert.ok(bytes.equals(expected.get(name)!), `${name} is byte-identical to the uninterrupted preparation`);
    }
    const index = JSON.parse(got.get(indexName)!.toString()) as DataRef;
    const refIndex = JSON.parse(expected.get(indexName)!.toString()) as DataRef;
    assert.equal(JSON.stringify(index).replaceAll(runId, 'RUN'), JSON.stringify(refIndex).replaceAll(reference, 'RUN'), 'the same index (but for the run id in its keys)');
  });
});
