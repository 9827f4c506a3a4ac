/**
 * Image-folder datasets end to end (issue 13): a tiny search on Fashion-MNIST written out as PNG/JPEG
 * class folders (plus colour images of mixed sizes), once from a local directory and once from an
 * s3:// prefix in the test MinIO. prepare-data runs on one worker; everything else on a compute worker
 * with its own HOME that cannot see the source folder (a mount namespace hides it), so the compute side
 * needs nothing but the object store. Both runs use the same seed and the same images: same family.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import type { RunResults } from '../../activities/records';
import { runHistory } from '../../cli/history';
import { parseConfigObject, type RunConfig } from '../../core/config';
import type { DataRef } from '../../core/pipeline';
import type { ArtifactStore } from '../../storage/store';
import type { RunInput } from '../../workflows/run';
import { RUN_ID } from '../../workflows/search-attributes';
import { repoRoot, skipWithoutServers, spawnWorker, testClient, testStore, uniqueId, type WorkerProcess } from '../helpers/env';
import { writeFashionFolder } from '../helpers/image-folder';
import { comparable, runResults, tinyConfig } from '../helpers/pipeline';

const canUnshare = spawnSync('unshare', ['--mount', 'true']).status === 0;

/** A worker in its own mount namespace where `hide` is an empty tmpfs, with its own HOME. */
function hiddenWorker(queue: string, identity: string, hide: string, home: string): WorkerProcess {
  const args = ['--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs tmpfs "$0" && exec "$@"', hide,
    process.execPath, join(repoRoot, 'bin', 'scalenet.js'), 'worker', '--queue', queue, '--identity', identity];
  const env = { ...process.env, HOME: home, SCALENET_HEARTBEAT_THROTTLE_MS: '200', SCALENET_EXIT_WITH_PARENT: '1' };
  const child = spawn('unshare', args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes(' polling ')) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before polling:\n${out}`)));
  });
  ready.catch(() => undefined);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, ready, exited };
}

async function upload(store: ArtifactStore, dir: string, prefix: string): Promise<void> {
  for (const cls of readdirSync(dir)) {
    for (const f of readdirSync(join(dir, cls))) await store.client.fPutObject(store.bucket, `${prefix}/${cls}/${f}`, join(dir, cls, f));
  }
}

describe('image-folder datasets', { skip: skipWithoutServers, timeout: 15 * 60_000 }, () => {
  let client: Client;
  let close: () => Promise<void>;
  let store: ArtifactStore;
  let root: string;
  let hide: string;
  const workers: WorkerProcess[] = [];
  const light = uniqueId('q-if-light');
  const compute = uniqueId('q-if-compute');
  let local: RunResults | undefined;

  function config(train: string, test: string): RunConfig {
    const c = tinyConfig(light);
    return parseConfigObject({
      ...c,
      dataset: { kind: 'image-folder', train, test, channels: 3 },
      space: { preset: 'tiny', overrides: { classes: 10 } },
      supernet: { ...c.supernet, epochs: 1, stepsPerEpoch: 8 },
      search: { ...c.search, minivalSize: 40, evalBatchSize: 64, generations: 1 },
      retraining: { ...c.retraining, stepsPerEpoch: 2, testImages: 60 },
      resources: { ...c.resources, taskQueues: { light, compute } },
    });
  }

  async function run(runId: string, cfg: RunConfig): Promise<RunResults> {
    const input: RunInput = { runId, config: cfg, tuning: { heartbeatTimeoutSeconds: 10 } };
    await client.workflow.start('scaleNetRun', { workflowId: runId, taskQueue: light, args: [input], typedSearchAttributes: [{ key: RUN_ID, value: runId }] });
    return runResults(client, store, runId);
  }

  before(async () => {
    ({ client, close } = await testClient());
    store = await testStore();
    // The source lives under its own folder, which the compute worker's mount namespace replaces by an empty one.
    root = mkdtempSync(join(tmpdir(), 'scalenet-if-it-'));
    hide = join(root, 'sources');
    mkdirSync(hide);
    await writeFashionFolder(join(hide, 'train'), { split: 'train', count: 300, colourPerClass: 1 });
    await writeFashionFolder(join(hide, 'test'), { split: 'test', count: 100 });
    const home = join(root, 'home');
    mkdirSync(home);
    const a = spawnWorker({ queue: light, identity: 'if-light' });
    workers.push(a);
    if (canUnshare) {
      const b = hiddenWorker(compute, 'if-compute', hide, home);
      workers.push(b);
      await b.ready;
    } else {
      workers.push(spawnWorker({ queue: compute, identity: 'if-compute', env: { HOME: home } }));
    }
    await Promise.all(workers.map((w) => w.ready));
  });
  after(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    await close();
    rmSync(root, { recursive: true, force: true });
  });

  it('runs a tiny search from a local folder; only prepare-data reads the folder, the compute worker cannot see it', { skip: canUnshare ? false : 'needs `unshare --mount` (root in a namespace-capable container)' }, async () => {
    const probe = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs tmpfs "$0" && ls "$0"', hide], { encoding: 'utf8' });
    assert.equal(probe.stdout.trim(), '', 'the namespace hides the source folder');
    const runId = uniqueId('if-local');
    local = await run(runId, config(join(hide, 'train'), join(hide, 'test')));
    assert.deepEqual(local.family.map((f) => f.model), ['S0', 'S1', 'S2', 'S3', 'B1', 'B2', 'B3']);
    for (const f of local.family) assert.ok(f.retrainedAccuracy !== null && f.retrainedAccuracy >= 0 && f.retrainedAccuracy <= 1, `${f.model} has a test accuracy`);

    const h = await runHistory(client, runId);
    const where = (a: string) => new Set(h.entries.filter((e) => e.activity === a).map((e) => e.worker));
    assert.deepEqual([...where('prepareData')], ['if-light']);
    for (const a of ['trainSupernetEpoch', 'evaluateCandidates', 'retrainModel']) assert.deepEqual([...where(a)], ['if-compute'], `${a} ran on the compute worker only`);

    const [index] = (await store.list(`runs/${runId}/prepare-data/data-`)).map((o) => o.key);
    const ref = await store.getJson<DataRef>(await store.refOf(index!));
    assert.deepEqual(ref.imageFolder?.classNames, ['ankle-boot', 'bag', 'coat', 'dress', 'pullover', 'sandal', 'shirt', 'sneaker', 'trouser', 'tshirt']);
    assert.deepEqual(ref.counts, { train: 270, minival: 40, test: 100 });
    assert.equal(ref.imageFolder?.skippedCount, 0);
  });

  it('runs the same search from an s3:// prefix and finds the same family (same seed, same images)', async () => {
    const prefix = `datasets/${uniqueId('fashion')}`;
    await upload(store, join(hide, 'train'), `${prefix}/train`);
    await upload(store, join(hide, 'test'), `${prefix}/test`);
    const s3 = await run(uniqueId('if-s3'), config(`s3://${store.bucket}/${prefix}/train`, `s3://${store.bucket}/${prefix}/test/`));
    assert.deepEqual(s3.family.map((f) => f.model), ['S0', 'S1', 'S2', 'S3', 'B1', 'B2', 'B3']);
    if (local) assert.deepEqual(comparable(s3), comparable(local), 'same numbers as the run from the local folder');
  });
});
