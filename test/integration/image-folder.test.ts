/**
 * Image-folder datasets end to end (issue 13): a tiny search on Fashion-MNIST written out as PNG/JPEG
 * class folders (plus colour images of mixed sizes and one corrupt file, skipped) from a local directory.
 * prepare-data runs on one worker; everything else on a compute worker with its own HOME that cannot see
 * the source folder (a mount namespace hides it), so the compute side needs nothing but the object store.
 * The same folder uploaded to an s3:// prefix of the test MinIO runs the whole tiny search again on the
 * same two workers: it prepares into byte-identical shards and index, and the same seed finds the same
 * family (architectures, MACs, accuracies) as from the local folder. The finished local run's S0 is
 * exported: its metadata names the class folders.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import type { RunResults } from '../../activities/records';
import { runHistory } from '../../cli/history';
import { parseConfigObject, type RunConfig } from '../../core/config';
import type { DataRef } from '../../core/pipeline';
import { exportRunModel } from '../../report/model-export';
import type { ArtifactStore } from '../../storage/store';
import type { RunInput } from '../../workflows/run';
import { RUN_ID } from '../../workflows/search-attributes';
import { repoRoot, skipWithoutServers, spawnWorker, testClient, testStore, uniqueId, type WorkerProcess } from '../helpers/env';
import { FASHION_CLASSES, writeFashionFolder } from '../helpers/image-folder';
import { runResults, tinyConfig } from '../helpers/pipeline';

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
  let localRef: DataRef | undefined;
  let localResults: RunResults | undefined;

  function config(train: string, test: string): RunConfig {
    const c = tinyConfig(light);
    return parseConfigObject({
      ...c,
      // Small shards: several per split, so streaming crosses shard boundaries.
      dataset: { kind: 'image-folder', train, test, channels: 3, onBadImage: 'skip', imagesPerShard: 64 },
      space: { preset: 'tiny', overrides: { classes: 10 } },
      supernet: { ...c.supernet, epochs: 1, stepsPerEpoch: 4 },
      search: { ...c.search, minivalSize: 20, evalBatchSize: 64, generations: 1 },
      // S0 alone: the data path is the test; retraining's fan-out is pipeline.test.ts's.
      retraining: { ...c.retraining, stepsPerEpoch: 1, testImages: 32, levels: [0] },
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
    await writeFashionFolder(join(hide, 'train'), { split: 'train', count: 150, colourPerClass: 1 });
    writeFileSync(join(hide, 'train', 'bag', 'truncated.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5, 6, 7, 8]));
    await writeFashionFolder(join(hide, 'test'), { split: 'test', count: 40 });
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
    const local = await run(runId, config(join(hide, 'train'), join(hide, 'test')));
    localResults = local;
    assert.deepEqual(local.family.map((f) => f.model), ['S0', 'S1', 'S2', 'S3', 'B1', 'B2', 'B3']);
    const s0 = local.family.find((f) => f.model === 'S0')!;
    assert.ok(s0.retrainedAccuracy !== null && s0.retrainedAccuracy >= 0 && s0.retrainedAccuracy <= 1, 'S0 has a test accuracy');
    for (const f of local.family.slice(1)) assert.match(f.skipped ?? '', /not in retraining\.levels/, `${f.model} is skipped`);

    const h = await runHistory(client, runId);
    const where = (a: string) => new Set(h.entries.filter((e) => e.activity === a).map((e) => e.worker));
    assert.deepEqual([...where('prepareData')], ['if-light']);
    for (const a of ['trainSupernetEpoch', 'evaluateCandidates', 'retrainModel']) assert.deepEqual([...where(a)], ['if-compute'], `${a} ran on the compute worker only`);

    const [index] = (await store.list(`runs/${runId}/prepare-data/data-`)).map((o) => o.key);
    const ref = await store.getJson<DataRef>(await store.refOf(index!));
    localRef = ref;
    assert.deepEqual(ref.imageFolder?.classNames, FASHION_CLASSES);
    assert.deepEqual(ref.counts, { train: 140, minival: 20, test: 40 });
    assert.ok(ref.train.length > 1, 'the training split spans several shards');
    const skipped = [{ file: join(hide, 'train', 'bag', 'truncated.jpg'), reason: ref.imageFolder!.skipped[0]!.reason }];
    assert.deepEqual(ref.imageFolder?.skipped, skipped);
    assert.equal(ref.imageFolder?.skippedCount, 1);
    assert.deepEqual(local.data, { counts: ref.counts, skippedCount: 1, skipped }, 'results.json counts the skipped file');

    // The exported S0 (checked against the engine on test images decoded as the workers evaluate them) names the class folders.
    const out = join(root, 'S0');
    const exported = await exportRunModel(client, store, { runId, model: 'S0', outDir: out, formats: ['tfjs', 'onnx'] });
    assert.deepEqual(exported.metadata.output.labels, FASHION_CLASSES);
    assert.deepEqual(exported.metadata.input.decode, { shorterSide: Math.round(s0.resolution / 0.875), crop: s0.resolution });
    assert.deepEqual(exported.metadata.input.normalization, { ...ref.imageFolder!.normalization, source: exported.metadata.input.normalization.source });
    for (const d of Object.values(exported.metadata.equivalence.maxAbsDiff)) assert.ok(d <= 1e-4);
  });

  it('runs the same tiny search from an s3:// prefix: same shards and index, and the same seed finds the same family', { skip: canUnshare ? false : 'compares with the local run, which needs `unshare --mount`' }, async () => {
    assert.ok(localRef && localResults, 'the local run finished');
    const prefix = `datasets/${uniqueId('fashion')}`;
    await upload(store, join(hide, 'train'), `${prefix}/train`);
    await upload(store, join(hide, 'test'), `${prefix}/test`);
    const runId = uniqueId('if-s3');
    const fromS3 = await run(runId, config(`s3://${store.bucket}/${prefix}/train`, `s3://${store.bucket}/${prefix}/test/`));
    assert.deepEqual(fromS3.family.map((f) => f.model), ['S0', 'S1', 'S2', 'S3', 'B1', 'B2', 'B3']);

    const [index] = (await store.list(`runs/${runId}/prepare-data/data-`)).map((o) => o.key);
    const s3 = await store.getJson<DataRef>(await store.refOf(index!));
    const sums = (r: DataRef) => ({ ...r, train: r.train.map((x) => x.sha256), minival: r.minival.map((x) => x.sha256), test: r.test.map((x) => x.sha256), imageFolder: { ...r.imageFolder, skipped: r.imageFolder?.skipped.map((x) => x.file.split(/[/\\]/).slice(-2).join('/')) } });
    assert.deepEqual(sums(s3), sums(localRef), 'identical shards (sha256), counts, classes, normalisation and skipped files');
    assert.equal(fromS3.data?.skipped[0]?.file, `s3://${store.bucket}/${prefix}/train/bag/truncated.jpg`, 'the skipped file is named by its s3:// path');

    const family = (r: RunResults) => ({
      base: r.base,
      members: r.family.map((f) => ({ ...f, latencyMs: null, model_json: null, export: null })), // export: refs under each run's own prefix
      extrapolation: r.extrapolation,
      supernetLosses: r.supernet.epochs.map((e) => e.meanLoss),
      search: { evaluations: r.search.evaluations, fitness: r.search.fitness },
    });
    assert.deepEqual(family(fromS3), family(localResults), 'same architectures, MACs, params and accuracies from either source');
    const h = await runHistory(client, runId);
    const where = (a: string) => new Set(h.entries.filter((e) => e.activity === a).map((e) => e.worker));
    assert.deepEqual([...where('prepareData')], ['if-light']);
    for (const a of ['trainSupernetEpoch', 'evaluateCandidates', 'retrainModel']) assert.deepEqual([...where(a)], ['if-compute'], `${a} ran on the compute worker only`);
  });
});
