/**
 * The run lifecycle through the `scalenet` command: run --detach, a second run with the same id refused,
 * status/list, cancel (the run stops cleanly, keeping its checkpoints), and resume of the cancelled run.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { CheckpointStore } from '../../storage/checkpoints';
import { eventually, repoRoot, skipWithoutServers, testClient, testStore, uniqueId } from '../helpers/env';
import { TestFleet, tinyConfig } from '../helpers/pipeline';

function cli(...args: string[]) {
  return spawnSync(process.execPath, [join(repoRoot, 'bin', 'scalenet.js'), ...args], { encoding: 'utf8', env: process.env });
}

describe('run lifecycle through the CLI', { skip: skipWithoutServers, timeout: 20 * 60_000 }, () => {
  const fleet = new TestFleet();
  after(() => fleet.killAll());

  it('starts detached, refuses a duplicate id, cancels cleanly and resumes the cancelled run', async () => {
    await fleet.add({ holdAtStep: 6 }); // the supernet stands still after its first checkpoint until the cancel
    const dir = await mkdtemp(join(tmpdir(), 'scalenet-cfg-'));
    const file = join(dir, 'tiny.yaml');
    await writeFile(file, stringify(tinyConfig(fleet.queue)));
    const runId = uniqueId('tiny-life');

    const started = cli('run', file, '--id', runId, '--detach');
    assert.equal(started.status, 0, started.stderr);
    assert.equal(started.stdout.trim(), runId);

    const dup = cli('run', file, '--id', runId, '--detach');
    assert.equal(dup.status, 2, 'a running id is bad input');
    assert.match(dup.stderr, /is already running/);

    const bad = cli('run', file, '--id', 'no/slashes');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--id/);

    const store = await testStore();
    const ck = new CheckpointStore(store, runId, 'train-supernet');
    await eventually('a supernet checkpoint', async () => (await ck.steps()).length > 0, 180_000);
    const listed = cli('list', '--json');
    assert.ok(listed.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { runId: string; state: string }).some((r) => r.runId === runId && r.state === 'running'));

    const cancel = cli('cancel', runId);
    assert.equal(cancel.status, 0, cancel.stderr);
    const { client, close } = await testClient();
    try {
      await eventually('the run to stop', async () => (await client.workflow.getHandle(runId).describe()).status.name !== 'RUNNING', 120_000);
      const status = JSON.parse(cli('status', runId, '--json').stdout) as { state: string; stage: string };
      assert.equal(status.state, 'cancelled');
      assert.equal(status.stage, 'train-supernet');
      const child = await client.workflow.getHandle(`${runId}.train-supernet`).describe();
      assert.equal(child.status.name, 'CANCELLED', 'the stage stopped with the run');
      assert.ok((await ck.steps()).includes(4), 'the checkpoints are kept');

      const resumed = cli('resume', runId, '--detach');
      assert.equal(resumed.status, 0, resumed.stderr);
      assert.match(resumed.stderr, /was cancelled/);
      const summary = await client.workflow.getHandle(runId).result();
      assert.deepEqual(summary.family.map((f: { name: string }) => f.name), ['S0', 'S1', 'S2', 'S3', 'B1', 'B2', 'B3']);
      const table = cli('results', runId);
      assert.equal(table.status, 0);
      assert.match(table.stdout, /^model\s+depth\s+width\s+res\s+MACs\s+params\s+supernet acc\s+retrained acc\s+baseline acc/m);
    } finally {
      await close();
    }
  });
});
