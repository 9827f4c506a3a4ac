/**
 * Runs that used to hang "running" forever now fail with their reason in bounded time, and a run id whose
 * store prefix belongs to another config is refused. No training happens here: each run fails (or is refused)
 * in its first stage, so the file takes well under a minute of CPU.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { runFailure } from '../../cli/client';
import { runHistory } from '../../cli/history';
import { configHash, type RunConfig } from '../../core/config';
import { claimRunPrefix, runOwner } from '../../storage/run-owner';
import type { ArtifactStore } from '../../storage/store';
import type { RunInput } from '../../workflows/run';
import { RUN_ID } from '../../workflows/search-attributes';
import { eventually, repoRoot, skipWithoutServers, testClient, testSettings, testStore, uniqueId } from '../helpers/env';
import { tinyConfig } from '../helpers/pipeline';

describe('hardening: bounded failures and run-id fencing', { skip: skipWithoutServers, timeout: 10 * 60_000 }, () => {
  let client: Client;
  let close: () => Promise<void>;
  let store: ArtifactStore;
  let worker: Worker;
  let connection: NativeConnection;
  let running: Promise<void>;
  const queue = uniqueId('q-hardening');

  before(async () => {
    ({ client, close } = await testClient());
    store = await testStore();
    connection = await NativeConnection.connect({ address: (await testSettings()).temporalAddress });
    const real = createActivities({ store });
    worker = await Worker.create({
      connection,
      taskQueue: queue,
      workflowsPath: require.resolve('../../workflows'),
      activities: {
        ...real,
        // Storage that never comes back, for runs named "down-…": a transient error on every attempt.
        async prepareData(ctx: Parameters<typeof real.prepareData>[0]) {
          if (ctx.runId.startsWith('down-')) throw new Error('connect ECONNREFUSED 127.0.0.1:9 (test: storage gone)');
          return real.prepareData(ctx);
        },
      },
    });
    running = worker.run();
  });
  after(async () => {
    worker?.shutdown();
    await running;
    await connection?.close();
    await close();
  });

  async function start(runId: string, config: unknown): Promise<void> {
    const input: RunInput = { runId, config: config as RunConfig, tuning: { heartbeatTimeoutSeconds: 10 } };
    await client.workflow.start('scaleNetRun', { workflowId: runId, taskQueue: queue, args: [input], typedSearchAttributes: [{ key: RUN_ID, value: runId }] });
  }

  async function failed(runId: string): Promise<string> {
    await assert.rejects(client.workflow.getHandle(runId).result());
    return (await runFailure(client, runId)) ?? '';
  }

  it('a config that cannot run (all-zero level weights) fails the run with the path instead of looping its workflow task', async () => {
    const runId = uniqueId('zero');
    const c = tinyConfig(queue);
    await start(runId, { ...c, supernet: { ...c.supernet, levelWeights: [0, 0, 0] } });
    const reason = await failed(runId);
    assert.match(reason, /supernet\.levelWeights: weights are all zero/);
    assert.equal((await client.workflow.getHandle(runId).describe()).status.name, 'FAILED');
  });

  it('an activity that spends its retry budget fails the run with the reason, visible in status and history', async () => {
    const runId = uniqueId('down');
    const c = tinyConfig(queue);
    await start(runId, { ...c, resources: { ...c.resources, retries: { ...c.resources.retries, light: { maximumAttempts: 2, scheduleToCloseSeconds: 120 } } } });
    const reason = await failed(runId);
    assert.match(reason, /activity prepareData \(retry budget spent: maximum attempts reached\): .*ECONNREFUSED/);
    const entry = (await runHistory(client, runId)).entries.find((e) => e.activity === 'prepareData');
    assert.equal(entry?.outcome, 'failed');
    assert.equal(entry?.attempts, 2);
    assert.match(entry?.lastFailure ?? '', /ECONNREFUSED/);
    const status = spawnSync(process.execPath, [join(repoRoot, 'bin', 'scalenet.js'), 'status', runId, '--json'], { encoding: 'utf8', env: process.env });
    assert.equal(status.status, 0, status.stderr);
    assert.match((JSON.parse(status.stdout) as { failure: string }).failure, /maximum attempts reached/);
  });

  it('a run id whose store prefix belongs to another config is refused by the CLI (exit 2) unless --force, and by the workflow', async () => {
    const c = tinyConfig(queue);
    const runId = uniqueId('reuse');
    // The prefix holds an older run of another config (as after a Temporal database reset).
    await claimRunPrefix(store, runId, 'f'.repeat(64));
    await store.putJson(`runs/${runId}/train-supernet/checkpoints/step-0000000004/manifest.json`, { stale: true });
    const dir = mkdtempSync(join(tmpdir(), 'scalenet-reuse-'));
    const file = join(dir, 'config.json');
    // Queues nobody polls: the started run only has to exist.
    writeFileSync(file, JSON.stringify({ ...c, resources: { ...c.resources, taskQueues: { compute: `${queue}-idle`, light: `${queue}-idle` } } }));
    const cli = (...args: string[]) => spawnSync(process.execPath, [join(repoRoot, 'bin', 'scalenet.js'), 'run', file, '--id', runId, '--detach', ...args], { encoding: 'utf8', env: process.env });
    const refused = cli();
    assert.equal(refused.status, 2, refused.stderr);
    assert.match(refused.stderr, /belongs to another run/);
    assert.equal((await runOwner(store, runId))?.configHash, 'f'.repeat(64));
    const forced = cli('--force');
    assert.equal(forced.status, 0, forced.stderr);
    assert.deepEqual((await store.list(`runs/${runId}/train-supernet/`)).length, 0, 'the old run\'s objects are gone');
    await client.workflow.getHandle(runId).terminate('test done');

    // A workflow started without the CLI meets the same check in its first activity.
    const other = uniqueId('reuse-wf');
    await claimRunPrefix(store, other, 'e'.repeat(64));
    await start(other, c);
    const reason = await failed(other);
    assert.match(reason, /ConfigMismatchError: .*belongs to another run/);
    assert.notEqual(configHash(c), 'e'.repeat(64));
  });

  it('fails within a bounded time: no run of this file is left running', async () => {
    await eventually('no running workflow on the test queue', async () => {
      for await (const w of client.workflow.list({ query: `TaskQueue = '${queue}' AND ExecutionStatus = 'Running'` })) if (w) return false;
      return true;
    }, 60_000);
  });
});
